"""The tape backend: differentiate an unmodified Python function by running it on Tensors.

The function runs as a copy of itself whose globals see traced stand-ins: ``math`` becomes a
module whose functions accept Tensors (numpy needs nothing: Tensor implements
``__array_ufunc__``/``__array_function__``), and every user function it calls is copied the same
way, recursion included. A traced value that leaves the trace (``float(t)``, storing it into a
numpy array, ``t.item()``) would silently lose its gradient, so under this backend it raises
``TraceEscape`` naming the line instead.
"""
import builtins
import inspect
import math
import numbers
import sys
import types

import numpy as np

from .tape import GradientTape, state as tape_state
from .tensor import Tensor, constant
from .buffers import TraceEscape, _plain, _where_in_user_code, is_traced
from .trace_guard import NONDIFF_NUMPY, _check_aliasing, _strict
from .traced_modules import TRACED_MATH, TRACED_NUMPY



def _is_user_function(value):
    if not inspect.isfunction(value):
        return False
    module = (getattr(value, "__module__", "") or "").split(".")[0]
    return module not in ("numpy", "tapeflow", "math", "builtins")


class _Tracer:
    """Copies of user functions whose globals see the traced stand-ins."""

    def __init__(self):
        self.copies = {}
        self.files = set()

    def copy(self, fn, args=None):
        """The traced copy of ``fn``; ``args``: the call's arguments, for the top function."""
        if fn in self.copies:
            return self.copies[fn]
        _check_aliasing(fn, args)
        patched = _PatchedGlobals(fn.__globals__, self)
        new = types.FunctionType(fn.__code__, patched, fn.__name__, fn.__defaults__,
                                 self.closure(fn))
        new.__kwdefaults__ = fn.__kwdefaults__
        new.__tapeflow_traced_copy_of__ = fn   # a transform called on it reads the original
        self.copies[fn] = new
        self.files.add(fn.__code__.co_filename)
        return new

    def closure(self, fn):
        if not fn.__closure__:
            return fn.__closure__
        cells = []
        for cell in fn.__closure__:
            try:
                value = cell.cell_contents
            except ValueError:
                cells.append(cell)
                continue
            cells.append(types.CellType(self.copy(value) if _is_user_function(value) else
                                        TRACED_MATH if value is math else
                                        TRACED_NUMPY if value is np else value))
        return tuple(cells)


class _PatchedGlobals(dict):
    """A function's globals, with math traced and user functions replaced by traced copies."""

    def __init__(self, original, tracer):
        super().__init__(original)
        self.tracer = tracer
        for k, v in original.items():
            if v is math:
                self[k] = TRACED_MATH
            elif v is np:
                self[k] = TRACED_NUMPY
        self.setdefault("__builtins__", builtins)

    def __missing__(self, key):
        raise KeyError(key)

    def __getitem__(self, key):
        value = dict.__getitem__(self, key)
        if _is_user_function(value):
            value = self.tracer.copy(value)
            self[key] = value
        return value


def _traced_callable(fn, tracer, args=None):
    return tracer.copy(fn, args) if inspect.isfunction(fn) else fn


def _check_result(result, fn):
    """A gradient needs a real scalar result: None, a string, a generator, a tuple, a complex
    number or an array is a TypeError naming the function, never a zero gradient."""
    value = result.numpy() if isinstance(result, Tensor) else result
    if type(value) is float or isinstance(value, numbers.Real) and not isinstance(value, complex):
        return
    fname = getattr(fn, "__name__", "f")
    if isinstance(value, (np.ndarray, np.generic)) and value.dtype.kind in "biuf":
        if np.ndim(value) == 0:
            return
        raise TypeError(f"grad requires {fname} to return a scalar, "
                        f"got an array of shape {np.shape(value)}")
    kind = type(value.item()).__name__ if isinstance(value, (np.ndarray, np.generic)) and \
        np.ndim(value) == 0 else f"{value.dtype} array" if isinstance(value, np.ndarray) else \
        type(value).__name__
    raise TypeError(f"grad requires {fname} to return a real scalar, got {kind}")


def _function_name(fn):
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)
    code = getattr(fn, "__code__", None)
    return f"{name} ({code.co_filename}, line {code.co_firstlineno})" if code else name


def _checked_result(fn, result):
    """The traced function's result, which must be a real number or an array of real numbers.

    None, a string, a tuple, a generator or a complex number is a TypeError naming the function:
    silently giving zero gradients for those would hide the mistake. A number that does not
    depend on the inputs is fine (its gradient is zero)."""
    result = _plain(result)
    if hasattr(result, "_read"):   # a Variable the function returns: its value, read on the tape
        result = result._read()
    if isinstance(result, (Tensor, np.ndarray, np.generic)):
        dtype = result._v.dtype if isinstance(result, Tensor) else result.dtype
        if dtype.kind in "fiub":
            return result
        got = f"a {type(result).__name__} of dtype {dtype.name}"
    elif isinstance(result, (int, float)):   # bool is an int
        return result
    else:
        got = f"{type(result).__name__}"
    raise TypeError(f"grad requires {_function_name(fn)} to return a real number (or an array "
                    f"of them), but it returned {got}")


def traced_value_and_grad(fn, argnums, args):
    """(value, [gradients]) as Tensors, for arguments that may be Tensors an outer tape records:
    the gradient computation is then itself recorded (higher order through nested tapes)."""
    from .math_ops import identity
    tracer = _Tracer()
    traced = _traced_callable(fn, tracer)
    args = list(args)
    # Each differentiated argument is traced as a fresh Tensor, the identity of the one given
    # (recorded on the outer tapes, which so still reach the given one). Watching the given Tensor
    # itself would mix it up with the same Tensor reached another way: in
    #     def f(x): return x * tf.grad(lambda y: x * y)(x)
    # the inner tape would also differentiate through the x the lambda closes over, d(x*x)/dx = 2x
    # instead of d(x*y)/dy = x, and f's derivative would come out 4x instead of 2x.
    sources = []
    for i in argnums:
        args[i] = identity(args[i])
        sources.append(args[i])
    # strict for the backward sweep too: there the rules run on Tensors (an outer tape records),
    # and a numpy call inside a rule with no rule of its own would silently drop an order
    with _strict(tracer.files):
        with GradientTape() as tape:
            for t in sources:
                tape.watch(t)
            result = _checked_result(fn, traced(*args))
        _check_result(result, fn)
        if not isinstance(result, Tensor):   # a number that does not depend on the inputs
            return result, [np.zeros_like(s) * 0.0 for s in sources]
        from .backward import real_only
        before, real_only.on = getattr(real_only, "on", False), True
        try:
            grads = tape.gradient(result, sources, unconnected_gradients="zero")
        finally:
            real_only.on = before
    return result, grads


def reads_traced_values(fn):
    """Whether ``fn`` reaches a traced value (a Tensor or Variable a tape on this thread records)
    through its closure or the globals it names: ``lambda y: x * y`` inside a traced function
    whose x is traced. Differentiating such a function needs ``traced_value_and_grad`` even when
    its arguments are plain numbers, or the outer gradient would miss the path through x."""
    if not tape_state.tapes:
        return False
    code = getattr(fn, "__code__", None)
    if code is None:
        return False
    for cell in fn.__closure__ or ():
        try:
            value = cell.cell_contents
        except ValueError:   # a cell not yet bound
            continue
        if is_traced(value) or _will_be_watched(value) or (
                inspect.isfunction(value) and value is not fn and reads_traced_values(value)):
            return True
    names = set(code.co_names)
    for const in code.co_consts:   # names used by nested functions and lambdas
        if isinstance(const, types.CodeType):
            names |= set(const.co_names)
    globals_ = getattr(fn, "__globals__", {})
    return any(is_traced(globals_[n]) or _will_be_watched(globals_[n])
               for n in names if n in globals_)


def _will_be_watched(value):
    """A trainable Variable that a recording tape watches as soon as it is read (TensorFlow's
    watch_accessed_variables): traced, though not read yet."""
    return getattr(value, "_trainable", False) and hasattr(value, "_handle") and any(
        tape._watch_accessed_variables for tape in tape_state.tapes)


def run_traced(fn, args):
    """``fn(*args)`` with numpy and math bound to their traced stand-ins (strict: a call with
    no rule on a traced value raises), so an enclosing tape records through it: generated
    code (a tangent function) run on Tensors."""
    tracer = _Tracer()
    traced = _traced_callable(fn, tracer)
    with _strict(tracer.files):
        return traced(*args)


def value_and_grad_runner(fn, argnums):
    """A function of fn's arguments returning (value, gradient(s)) through the tape."""
    def run(*args):
        tracer = _Tracer()
        traced = _traced_callable(fn, tracer, args)
        args = list(args)
        sources = []
        for i in argnums:
            t = constant(np.asarray(args[i], dtype=np.float64))
            args[i] = t
            sources.append(t)
        with _strict(tracer.files):
            with GradientTape() as tape:
                for t in sources:
                    tape.watch(t)
                result = _checked_result(fn, traced(*args))
        _check_result(result, fn)
        if not isinstance(result, Tensor):   # does not depend on the inputs at all
            value = result
            grads = [np.zeros_like(np.asarray(s.numpy(), dtype=np.float64)) for s in sources]
        else:
            from .backward import real_only
            before, real_only.on = getattr(real_only, "on", False), True
            try:
                grads = tape.gradient(result, sources, unconnected_gradients="zero")
            finally:
                real_only.on = before
            if is_traced(result) or is_traced(grads):
                # An enclosing trace records through a value fn reads from outside its arguments
                # (a closure over a traced x): returned as numbers, the enclosing gradient would
                # lose the path through that value.
                raise TraceEscape(
                    f"{_where_in_user_code()}the gradient of {_function_name(fn)} depends on a "
                    f"traced value it reads from outside its arguments; returned as plain "
                    f"numbers, the enclosing gradient would lose that dependence. Pass the traced "
                    f"value to it as an argument")
            value = result.numpy()
            grads = [g.numpy() for g in grads]
        value = value.item() if isinstance(value, np.ndarray) and value.ndim == 0 else value
        grads = [g.item() if np.ndim(g) == 0 else g for g in grads]
        return value, (grads[0] if len(grads) == 1 else tuple(grads))
    return run


__all__ = ["value_and_grad_runner", "traced_value_and_grad", "run_traced", "reads_traced_values", "TraceEscape",
           "TRACED_MATH", "NONDIFF_NUMPY", "is_traced"]
del sys
