"""The traced stand-ins a function's copy sees while the tape backend runs it: ``math`` as a module
whose functions take Tensors, numpy with the creators and joins that numpy's own functions would
turn into plain arrays (np.zeros as a writable Buffer, lists of traced values stacked first).
"""
import math
import types

import numpy as np

from . import rules as _rules
from . import tensor as _tensor
from .tensor import Tensor
from .buffers import Buffer, TraceEscape, _plain, _where_in_user_code, is_traced



_MATH_NONDIFF = {"floor", "ceil", "trunc", "isnan", "isfinite", "isinf", "isclose"}
# math functions that work on Tensors through Python's operators (math.prod multiplies its items).
_MATH_BY_OPERATORS = {"prod"}


def _number(value):
    value = _plain(value)
    return value._v if isinstance(value, Tensor) else value


def _log(x, base=None):
    # math.log's second argument is a base (np.log's would be out=)
    return np.log(x) if base is None else np.log(x) / np.log(base)


def _traced_math():
    m = types.ModuleType("math", "math for traced values")
    m.__dict__.update({k: v for k, v in vars(math).items() if not k.startswith("__")})
    table = {"sin": np.sin, "cos": np.cos, "tan": np.tan, "exp": np.exp, "log": _log,
             "sqrt": np.sqrt, "tanh": np.tanh, "sinh": np.sinh, "cosh": np.cosh,
             "asin": np.arcsin, "acos": np.arccos, "atan": np.arctan, "fabs": np.abs,
             "log1p": np.log1p, "expm1": np.expm1, "pow": np.power, "log10": np.log10,
             "log2": np.log2, "atan2": np.arctan2}

    def lift(name, np_fn, scalar_fn):
        def fn(*args):
            if any(isinstance(a, Tensor) or hasattr(a, "read_value") for a in args):
                return np_fn(*args)
            return scalar_fn(*args)
        fn.__name__ = name
        return fn

    def on_numbers(name, scalar_fn):
        def fn(*args, **kwargs):
            return scalar_fn(*[_number(a) for a in args], **kwargs)
        fn.__name__ = name
        return fn

    def refusing(name, scalar_fn):
        # Python's math converts a Tensor with float(): the result would be a plain number, the
        # gradient through it lost. Under strict tracing that is an error naming the function.
        def fn(*args, **kwargs):
            if _tensor.strict.guard is not None and (is_traced(args) or is_traced(kwargs)):
                raise TraceEscape(f"{_where_in_user_code()}math.{name} has no derivative rule in "
                                  f"tapeflow: its result would be a plain number and the gradient "
                                  f"through it lost; write it with operations that have rules")
            return scalar_fn(*args, **kwargs)
        fn.__name__ = name
        return fn

    for name, value in vars(math).items():
        if name.startswith("_") or not callable(value) or name in _MATH_BY_OPERATORS:
            continue
        if name in table:
            setattr(m, name, lift(name, table[name], value))
        elif name in _MATH_NONDIFF:
            setattr(m, name, on_numbers(name, value))
        else:
            setattr(m, name, refusing(name, value))
    # the other math functions of the primitive table (asinh, hypot, erf...): the entry's numpy
    # twin when it has one, else the math function itself, recorded from its entry
    from . import rules
    for entry in rules.ENTRIES:
        if entry.reverse is None:
            continue
        twins = [c for c in entry.callables if isinstance(c, np.ufunc)]
        for c in entry.callables:
            name = getattr(c, "__name__", None)
            if getattr(math, name or "", None) is c and name not in table:
                setattr(m, name, lift(name, twins[0] if twins else _from_entry(entry, c), c))
    return m


def _from_entry(entry, fn):
    def run(*args):
        from .numpy_dispatch import from_entry
        return from_entry(entry, fn, args, {})
    return run


TRACED_MATH = _traced_math()


def _traced_numpy():
    m = types.ModuleType("numpy", "numpy for traced values")
    m.__dict__.update({k: getattr(np, k) for k in dir(np) if not k.startswith("__")})

    def creator(fn):
        def make(*args, **kwargs):
            return Buffer(fn(*[_plain(a).numpy() if isinstance(_plain(a), Tensor) else a
                               for a in args], **kwargs))
        return make

    for name in ("zeros", "ones", "empty", "full", "zeros_like", "ones_like", "empty_like",
                 "eye", "identity"):
        setattr(m, name, creator(getattr(np, name)))

    def filled(fn, shape_of):
        # a traced fill value is differentiable (the table's rule): filled by broadcasting it
        plain = creator(fn)

        def make(a, fill_value, *args, **kwargs):
            fill = _plain(fill_value)
            if isinstance(fill, Tensor) and not args and set(kwargs) <= {"dtype"}:
                return np.broadcast_to(fill, shape_of(a)) + np.zeros(shape_of(a))
            return plain(a, fill_value, *args, **kwargs)
        return make
    m.full = filled(np.full, lambda shape: shape)
    m.full_like = filled(np.full_like, lambda like: np.shape(_plain(like)))

    def array(obj, dtype=None, copy=True):
        obj = _join_traced(_plain(obj))
        if isinstance(obj, Tensor):
            return obj
        return np.array(obj, dtype=dtype)
    m.array = array

    def asarray(a, dtype=None, **kwargs):
        # np.asarray(x) at the top of a function is common; on a Tensor it is the Tensor itself
        # (as the compiler reads it, an identity), where numpy would convert it to plain numbers
        if isinstance(a, Buffer) and (dtype is None or np.dtype(dtype) == a.t.numpy().dtype):
            return a      # the same array, as numpy gives
        a = _join_traced(_plain(a))
        if isinstance(a, Tensor):
            if dtype is None or np.dtype(dtype) == a._v.dtype:
                return a
            from .math_ops import cast
            return cast(a, np.dtype(dtype))
        return np.asarray(a, dtype=dtype, **kwargs)
    m.asarray = m.asanyarray = m.ascontiguousarray = asarray
    m.copy = lambda a: _plain(a) if isinstance(_plain(a), Tensor) else np.copy(a)
    m.r_, m.c_ = _Joiner(np.r_, 0), _Joiner(np.c_, -1)

    def arange(*args, **kwargs):
        # numpy's values are start + i * step: a traced start or step is recorded that way
        plain = [_plain(a) for a in args]
        if not any(isinstance(a, Tensor) for a in plain):
            return np.arange(*args, **kwargs)
        values = [a.numpy() if isinstance(a, Tensor) else a for a in plain]
        i = np.arange(np.size(np.arange(*values, **kwargs))).astype(np.float64)
        if len(plain) == 1:
            return np.arange(*values, **kwargs)     # the stop only decides how many
        step = plain[2] if len(plain) > 2 else 1.0
        return plain[0] + i * step
    m.arange = arange
    # the table's functions given a list of traced values where an array goes (np.mean([x, y]),
    # np.sum([1, x * x])): the list made one array first, as numpy would
    for name in dir(np):
        fn = getattr(np, name)
        if m.__dict__.get(name) is fn and callable(fn) and not isinstance(fn, type) and \
                _rules.entry_of(fn) is not None and id(fn) not in _SEQUENCE_FIRST:
            # (not the scalar types: np.float64 is also a dtype)
            setattr(m, name, _joining_first(fn))
    return m


# functions whose first argument is a sequence of arrays, not an array
_SEQUENCE_FIRST = frozenset(id(f) for f in (
    np.concatenate, np.stack, np.vstack, np.hstack, np.dstack, np.column_stack, np.block,
    np.einsum, np.select, np.broadcast_arrays, np.meshgrid))


class _joining_first:
    """``fn`` with a first argument that is a list of traced values stacked first. Anything else
    (a ufunc's .reduce, .outer, ...) is fn's own; the source transform reads it as fn."""

    def __init__(self, fn):
        self.__name__, self.__wrapped__, self.__tapeflow_primitive__ = fn.__name__, fn, fn

    def __call__(self, a, *args, **kwargs):
        if isinstance(a, (list, tuple)):
            a = _join_traced(a)
        return self.__wrapped__(a, *args, **kwargs)

    def __getattr__(self, attr):
        return getattr(self.__wrapped__, attr)


def _join_traced(obj):
    """A (nested) list or tuple holding traced values as one Tensor (np.stack of its items,
    numbers taken in the traced values' dtype); anything else unchanged."""
    if not isinstance(obj, (list, tuple)):
        return obj
    items = [_join_traced(_plain(o)) for o in obj]
    traced = [i for i in items if isinstance(i, Tensor)]
    if not traced:
        return obj
    dtype = traced[0]._v.dtype
    return np.stack([i if isinstance(i, Tensor) else np.asarray(i, dtype=dtype) for i in items])


class _Joiner:
    """np.r_ / np.c_ on traced items: each item made an array (a slice: its arange; a scalar: one
    element; for c_, 1-d items become columns), joined by np.concatenate, which records. A
    string directive ('0,2', 'r') or no traced item: numpy's own object."""

    def __init__(self, plain, axis):
        self.plain, self.axis = plain, axis

    def __getitem__(self, key):
        items = key if isinstance(key, tuple) else (key,)
        items = tuple(_plain(i) for i in items)
        if not any(isinstance(i, Tensor) for i in items) or any(isinstance(i, str) for i in items):
            return self.plain[key]
        parts = []
        for i in items:
            if isinstance(i, slice):
                i = self.plain[i]
            if np.ndim(i) == 0:
                i = np.reshape(i, (1,))
            if self.axis == -1 and np.ndim(i) == 1:
                i = np.reshape(i, (-1, 1))
            parts.append(i)
        return np.concatenate(parts, axis=self.axis)


TRACED_NUMPY = _traced_numpy()
