"""numpy's protocols on Tensor: ``np.sin(t)``, ``np.sum(t, axis=..)`` run tapeflow ops (recorded).

This is what makes derivative rules (numpy code) differentiable again: called on Tensors while a
tape records, each numpy call inside a rule lands here and is recorded like any op.
Where TensorFlow has an op with its own conversion rules, the call runs that op (``UFUNCS``,
``FUNCTIONS``); any other callable of the primitive table runs from its entry: a rule's primitive
computes on the values and is recorded with the entry's rule, a composite runs its definition on
the Tensors, a non-differentiable one gives a constant.
"""
import inspect
import sys

import numpy as np

from . import array_ops as A
from . import math_ops as M
from . import rules
from .opdef import OPS, as_tensor, wrap
from .recording import record, state
from .tensor import Tensor, strict

def _ufunc_ops():
    """A view of the table: each numpy ufunc of an entry that has a TF-style op runs that op."""
    out = {}
    for entry in rules.ENTRIES:
        op = OPS.get(entry.name)
        if op is not None:
            for c in entry.callables:
                if isinstance(c, np.ufunc):
                    out.setdefault(c, op)
    return out


UFUNCS = _ufunc_ops()


def _unwrap(x):
    if isinstance(x, Tensor):
        return x._v
    if hasattr(x, "_handle"):
        return x._handle.value
    if isinstance(x, (list, tuple)):
        return type(x)(_unwrap(v) for v in x)
    return x


def unwrap_variables(x):
    """Variables in args become reads (Tensors), so handlers see only Tensors."""
    if hasattr(x, "_read"):
        return x._read()
    if isinstance(x, tuple):
        return tuple(unwrap_variables(v) for v in x)
    if isinstance(x, list):
        return [unwrap_variables(v) for v in x]
    if isinstance(x, dict):
        return {k: unwrap_variables(v) for k, v in x.items()}
    return x


def _wrap_result(r):
    if isinstance(r, (np.ndarray, np.generic)) and not isinstance(r, (np.dtype,)):
        return wrap(r)
    if isinstance(r, tuple):
        return tuple(_wrap_result(v) for v in r)
    if isinstance(r, list):
        return [_wrap_result(v) for v in r]
    return r


def _user_call():
    """A numpy call on Tensors from user code (not tapeflow's rules or helpers, not strict
    tracing): as in TF, numpy computes on the values and the result leaves the tape."""
    if strict.guard is not None:
        return False
    frame = sys._getframe(2)
    if frame.f_code.co_name in ("__array_ufunc__", "__array_function__"):
        frame = frame.f_back   # a Variable's protocol methods forward to the Tensor's
    return not frame.f_globals.get("__name__", "").startswith("tapeflow.")


def _numpy_detour(func, method, args, kwargs):
    call = func if method == "__call__" else getattr(func, method)
    return call(*_unwrap(args), **{k: _unwrap(v) for k, v in kwargs.items()})


def array_ufunc(self, ufunc, method, *inputs, **kwargs):
    # a numpy value on the left of an operator (np.float32(2) * t) is TF's reflected operator:
    # a Tensor op, so only calls with a Tensor first take the detour; np.add.at writes (below)
    if method != "at" and (isinstance(inputs[0], Tensor) or hasattr(inputs[0], "_read")) \
            and _user_call():
        return _numpy_detour(ufunc, method, inputs, kwargs)
    inputs = unwrap_variables(inputs)
    if method == "__call__" and "out" not in kwargs:
        op = UFUNCS.get(ufunc)
        if op is not None and not kwargs:
            return op(*inputs)
        entry = rules.entry_of(ufunc)
        if entry is not None and not kwargs:
            return from_entry(entry, ufunc, inputs, {})
    if method == "reduce" and ufunc is np.add and "out" not in kwargs:
        return M.reduce_sum(inputs[0], kwargs.get("axis", 0), kwargs.get("keepdims", False))
    if method == "at":
        # np.add.at(array, index, tensor) mutates a numpy array: no tape can see that.
        target = inputs[0]
        if isinstance(target, Tensor):
            if ufunc in (np.add, np.subtract) and len(inputs) == 3:
                upd = inputs[2] if ufunc is np.add else M.negative(inputs[2])
                return A.scatter_add_inplace(target, inputs[1], upd)
            raise TypeError("Tensors are immutable: np.%s.at cannot write into one" % ufunc.__name__)
        if strict.guard is not None:   # grad's tape: the write would drop the gradient; refused
            return _no_rule(ufunc, inputs, kwargs, method)
        return getattr(ufunc, method)(target, *[_unwrap(i) for i in inputs[1:]], **kwargs)
    return _no_rule(ufunc, inputs, kwargs, method)


# --- functions --------------------------------------------------------------------------------
def _sum(a, axis=None, dtype=None, out=None, keepdims=False, **kw):
    r = M.reduce_sum(a, axis, keepdims)
    return r if dtype is None else M.cast(r, dtype)


def _mean(a, axis=None, dtype=None, out=None, keepdims=False, **kw):
    if kw.get("where") is not None:
        raise NotImplementedError("np.mean(where=...) has no gradient rule; use "
                                  "np.sum(x * mask) / np.sum(mask)")
    return M.reduce_mean(a, axis, keepdims)


def _reshape(a, shape=None, order="C", **kw):
    if shape is None:
        shape = kw.pop("newshape")
    return A.reshape(a, shape)


def _where(condition, x=None, y=None):
    if x is None and y is None:
        return tuple(wrap(i) for i in np.nonzero(_unwrap(condition)))
    return M.where(condition, x, y)


def _select(condlist, choicelist, default=0):
    # the first true condition picks its choice: built from the last one back
    out = default
    for cond, choice in reversed(list(zip(condlist, choicelist))):
        out = M.where(_unwrap(cond), choice, out)
    return out


def _clip(a, a_min=None, a_max=None, out=None, **kw):
    lo = -np.inf if a_min is None else a_min
    hi = np.inf if a_max is None else a_max
    return M.clip_by_value(a, lo, hi)


def _outer(a, b, out=None):
    return M.multiply(A.reshape(a, (-1, 1)), A.reshape(b, (1, -1)))


def _concatenate(arrays, axis=0, out=None, **kw):
    if axis is None:
        return A.concat([A.reshape(x, (-1,)) for x in arrays], 0)
    return A.concat(list(arrays), axis)


def _stack(arrays, axis=0, out=None, **kw):
    return A.stack(list(arrays), axis)


def _splitter(np_split, axis_of=None):
    """np.split and its family on a Tensor: numpy splits the positions 0..n-1 along the axis
    (so its own rules decide the pieces: uneven sections, indices past the end, errors) and
    each piece is the slice of the Tensor it covers."""
    def run(ary, indices_or_sections, axis=0):
        ndim = np.ndim(_unwrap(ary))
        if axis_of is not None:
            axis = axis_of(ndim)
        axis = axis % max(ndim, 1)
        n = np.shape(_unwrap(ary))[axis]
        ios = _unwrap(indices_or_sections)
        pieces = np_split(np.arange(n), ios)
        pre = (slice(None),) * axis
        return [A.getitem(ary, pre + (slice(int(p[0]), int(p[-1]) + 1) if p.size else
                                      slice(0, 0),)) for p in pieces]
    return run


def _split_axis(name, axis, least):
    def axis_of(ndim):
        if ndim < least:
            raise ValueError(f"{name} only works on arrays of {least} or more dimensions")
        return axis if ndim > 1 or name != "hsplit" else 0
    return axis_of


_split = _splitter(np.split)


def _append(arr, values, axis=None):
    if axis is None:
        return _concatenate([A.reshape(arr, (-1,)), A.reshape(values, (-1,))], 0)
    return _concatenate([arr, values], axis)


def _gradient(f, *varargs, axis=None, edge_order=1):
    """np.gradient with unit spacing and first-order edges: central differences inside, one-sided
    at both ends, along each axis asked for (a list of them for several)."""
    if varargs or edge_order != 1:
        raise NotImplementedError("np.gradient with spacings or edge_order=2 has no gradient rule "
                                  "in tapeflow")
    ndim = np.ndim(_unwrap(f))
    axes = list(range(ndim)) if axis is None else \
        [a % ndim for a in (axis if isinstance(axis, (tuple, list)) else (axis,))]
    out = []
    for ax in axes:
        if np.shape(_unwrap(f))[ax] < 2:
            raise ValueError("Shape of array too small to calculate a numerical gradient, "
                             "at least (edge_order + 1) elements are required.")
        pre = (slice(None),) * ax
        inner = (A.getitem(f, pre + (slice(2, None),)) - A.getitem(f, pre + (slice(None, -2),))) / 2.0
        first = A.getitem(f, pre + (slice(1, 2),)) - A.getitem(f, pre + (slice(0, 1),))
        last = A.getitem(f, pre + (slice(-1, None),)) - A.getitem(f, pre + (slice(-2, -1),))
        out.append(_concatenate([first, inner, last], ax))
    return out[0] if len(out) == 1 else tuple(out)


def _result_type(*args):
    return np.result_type(*[_unwrap(a) if isinstance(a, Tensor) else a for a in args])


# Adapters where numpy's signature differs from what the entry's rule takes, or where TF's op
# conversion applies (dtype=, where=, newshape=, the one-argument np.where, open clip bounds, lists
# of arrays, flat take). Every other numpy function of the table runs from its entry (from_entry).
FUNCTIONS = {
    np.sum: _sum, np.mean: _mean, np.reshape: _reshape,
    np.where: _where, np.select: _select, np.clip: _clip, np.outer: _outer,
    np.concatenate: _concatenate, np.stack: _stack, np.split: _split,
    np.array_split: _splitter(np.array_split), np.append: _append, np.gradient: _gradient,
    np.hsplit: _splitter(np.split, _split_axis("hsplit", 1, 1)),
    np.vsplit: _splitter(np.split, _split_axis("vsplit", 0, 2)),
    np.dsplit: _splitter(np.split, _split_axis("dsplit", 2, 3)),
    np.take: lambda a, indices, axis=None, **kw: A.gather(a, indices, axis=axis) if axis is not None
    else A.gather(A.reshape(a, (-1,)), indices),
    np.result_type: _result_type,
    np.copy: lambda a, **kw: M.identity(a),
}


_PARAMS = {}


def _param_names(entry):
    """The names of a rule's parameters after its inputs (``axis``, ``keepdims``...)."""
    names = _PARAMS.get(entry.name)
    if names is None:
        sig = inspect.signature(entry.reverse)
        names = _PARAMS[entry.name] = [
            p.name for p in list(sig.parameters.values())[2 + entry.n_inputs:]
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    return names


def from_entry(entry, func, args, kwargs):
    """Run ``func`` (a callable of the primitive table) on Tensors, as its entry says."""
    if entry.kind == "composite":
        return entry.impl(*args, **kwargs)
    if entry.name in ("Real", "Copy") and len(args) == 1 and not kwargs and \
            isinstance(args[0], Tensor) and args[0]._v.dtype.kind == "f":
        return args[0]            # the value itself (np.real, np.conj of a real Tensor)
    if entry.kind == "nondiff":   # its value carries no gradient: values in, constant out
        return _wrap_result(func(*_unwrap(args), **{k: _unwrap(v) for k, v in kwargs.items()}))
    if entry.reverse is None or entry.n_inputs < 0:
        return _no_rule(func, args, kwargs)   # no rule the tape can record generically
    n = entry.n_inputs
    ins = tuple(as_tensor(a) for a in args[:n])
    params = dict(zip(_param_names(entry), _unwrap(args[n:])))
    params.update({k: _unwrap(v) for k, v in kwargs.items()})
    vals = tuple(t._v for t in ins)
    out = wrap(func(*vals, **params))
    if state.tapes:
        record(entry, out, ins, vals, params)
    return out


# joins whose first argument is a sequence: an array given there is the sequence of its rows
_JOINS = frozenset(id(f) for f in (np.concatenate, np.stack, np.vstack, np.hstack, np.dstack,
                                   np.column_stack))


def array_function(self, func, types, args, kwargs):
    if _user_call():
        return _numpy_detour(func, "__call__", args, kwargs)
    args, kwargs = unwrap_variables(args), unwrap_variables(kwargs)
    if id(func) in _JOINS and args and isinstance(args[0], Tensor) and args[0]._v.ndim:
        args = ([args[0][i] for i in range(args[0]._v.shape[0])],) + tuple(args[1:])
    h = FUNCTIONS.get(func)
    if h is not None:
        return h(*args, **kwargs)
    entry = rules.entry_of(func)
    if entry is not None:
        return from_entry(entry, func, args, kwargs)
    return _no_rule(func, args, kwargs)


# --- no tapeflow op ---------------------------------------------------------------------------
def _no_rule(func, args, kwargs, method="__call__"):
    """``func`` (a ufunc's ``method``) has no tapeflow op: computed on the values, its result is a
    constant. Under the GradientTape API that is TensorFlow's behaviour (numpy leaves the tape;
    the gradient through it is None). Under strict tracing (the tape backend of ``grad``) the
    guard decides instead: it refuses a traced input, unless the function has no derivative to
    lose (runtime/trace.py, ``Guard.no_rule``)."""
    def on_values():
        call = func if method == "__call__" else getattr(func, method)
        result = call(*_unwrap(args), **{k: _unwrap(v) for k, v in kwargs.items()})
        if isinstance(func, np.ufunc) and "out" in kwargs:
            return result   # numpy wrote into the caller's arrays, and returns them
        return _wrap_result(result)
    guard = strict.guard
    return on_values() if guard is None else guard.no_rule(func, method, args, kwargs, on_values)


Tensor.__array_ufunc__ = array_ufunc
Tensor.__array_function__ = array_function
