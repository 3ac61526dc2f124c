"""User-defined gradients: ``custom_gradient``, ``RegisterGradient``, ``no_gradient``."""
import functools

import numpy as np

from . import nest
from .rules import Rule
from .tape import (GradientTape, GRADIENT_OVERRIDES, register_gradient_override, record, state,
                   stop_recording_all)
from .tensor import Tensor, convert_to_tensor

__all__ = ["custom_gradient", "RegisterGradient", "no_gradient", "NotDifferentiable",
           "unregister_gradient", "gradients", "grad_pass_through", "recompute_grad"]


class _Method:
    """What ``custom_gradient`` returns: a function that, as a class attribute, binds ``self``
    (so ``self`` is not an input of the op, as in TF)."""

    def __init__(self, f, decorate):
        functools.update_wrapper(self, f)
        self._f = f
        self._decorate = decorate
        self._call = decorate(f)

    def __call__(self, *args, **kwargs):
        return self._call(*args, **kwargs)

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        return self._decorate(self._f.__get__(obj, objtype))


def custom_gradient(f=None):
    """Decorate ``f(*x) -> (y, grad_fn)``: the tape records one op whose backward is ``grad_fn``."""
    if f is None:
        return custom_gradient
    return _Method(f, _custom_gradient)


def _custom_gradient(f):

    @functools.wraps(f)
    def decorated(*args, **kwargs):
        if not state.tapes:
            y, _ = f(*args, **kwargs)
            return y
        inputs = [a._handle if hasattr(a, "_handle") else convert_to_tensor(a) for a in args]
        # The forward runs with tapes paused (its inner ops are summarised by one record); a
        # private tape sees which variables it reads, which grad_fn must then cover.
        with stop_recording_all():
            spy = GradientTape()
            with spy:
                y, grad_fn = f(*args, **kwargs)
            arg_handles = {id(a._handle) for a in args if hasattr(a, "_handle")}
            variables = [v for v in spy.watched_variables() if id(v._handle) not in arg_handles]
        # The variables were read while the tapes were paused: let the tapes that auto-watch
        # see those reads, as they would have seen them without the pause.
        arg_variables = [a for a in args if hasattr(a, "_handle")]
        for tape in state.tapes:
            if tape._watch_accessed_variables:
                for v in variables + arg_variables:
                    if v.trainable:
                        tape._watch_variable(v, accessed=True)
        flat = nest.flatten(y)
        outs = tuple(Tensor(convert_to_tensor(o)._v) for o in flat)
        ins = tuple(inputs) + tuple(v._handle for v in variables)
        vals = tuple(i.value if hasattr(i, "value") and not isinstance(i, Tensor) else i._v
                     for i in ins)
        n_x = len(inputs)

        def adjoint(gs, out, *_):
            tensor_mode = bool(state.tapes)
            up = [g if isinstance(g, Tensor) else Tensor(g) for g in gs]
            if variables:
                try:
                    res = grad_fn(*up, variables=variables)
                except TypeError as e:
                    if "variables" not in str(e):
                        raise
                    raise TypeError("@tf.custom_gradient grad_fn must accept keyword argument "
                                    "'variables', since function uses variables: "
                                    f"{variables}") from None
                grad_xs, grad_vars = res
                if len(grad_vars) != len(variables):
                    raise ValueError("Must return gradient for each variable from "
                                     "@custom_gradient grad_fn.")
            else:
                grad_xs, grad_vars = grad_fn(*up), []
            grad_xs = list(grad_xs) if isinstance(grad_xs, (list, tuple)) else [grad_xs]
            if len(grad_xs) != n_x:
                raise ValueError(f"custom_gradient function expected to return {n_x} gradients, "
                                 f"but returned {len(grad_xs)} instead.")
            res = grad_xs + list(grad_vars)
            if tensor_mode:
                return [None if r is None else convert_to_tensor(r) for r in res]
            return [None if r is None else np.asarray(convert_to_tensor(r)._v) for r in res]

        rule = Rule("CustomGradient", adjoint, (), len(ins))
        record(rule, outs, ins, vals)
        return nest.pack_like(y, outs) if isinstance(y, (list, tuple, dict)) else outs[0]
    return decorated


class RegisterGradient:
    """``@RegisterGradient("Square")`` over ``fn(op, grad)``: used by tapes instead of the rule."""

    def __init__(self, op_type):
        if not isinstance(op_type, str):
            raise TypeError("op_type must be a string")
        self._op_type = op_type

    def __call__(self, fn):
        register_gradient_override(self._op_type, fn)
        return fn


def no_gradient(op_type):
    """Declare ``op_type`` non-differentiable: tapes return None for its inputs."""
    register_gradient_override(op_type, None)


NotDifferentiable = no_gradient


def unregister_gradient(op_type):
    """Remove a RegisterGradient/no_gradient entry (the rule table applies again)."""
    GRADIENT_OVERRIDES.pop(op_type, None)


def gradients(*args, **kwargs):
    raise RuntimeError("tf.gradients is not supported when eager execution is enabled. Use "
                       "tf.GradientTape instead.")


def grad_pass_through(f):
    """``f`` in the forward pass, the identity in the backward pass (e.g. for quantization)."""
    @functools.wraps(f)
    def wrapped(x):
        @custom_gradient
        def passthrough(x):
            return f(x), lambda dy: dy
        return passthrough(x)
    return wrapped


def recompute_grad(f):
    """TF recomputes ``f`` in the backward pass to save memory; here ``f`` runs once and is recorded
    (same values and gradients). The result wraps ``f`` (``__wrapped__``), as TF's does."""
    @functools.wraps(f)
    def recomputed(*args, **kwargs):
        return f(*args, **kwargs)
    return recomputed
