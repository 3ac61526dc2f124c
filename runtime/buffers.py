"""Arrays a traced function writes into, and what may not leave a trace.

A traced value that escapes (``float(t)``, stored into a numpy array, ``t.item()``) would silently
lose its gradient: the tape backend raises ``TraceEscape`` naming the user's line. ``np.zeros``
inside a traced function gives a ``Buffer``, whose element writes the tape records.
"""
import inspect

import numpy as np

from . import tensor as _tensor
from .tape import state as tape_state
from .tensor import Tensor, constant



class TraceEscape(RuntimeError):
    """A differentiable value left the trace, so its gradient would be lost."""


def _where_in_user_code():
    guard = _tensor.strict.guard
    if guard is None:
        return ""
    for frame in inspect.stack()[2:]:
        if guard.knows(frame.filename):
            return f"{frame.filename}, line {frame.lineno}: "
    return ""


def _escape(what):
    raise TraceEscape(f"{_where_in_user_code()}{what} turns a traced value into a plain number, "
                      f"so its gradient would be lost; keep it an array/tensor operation")


def is_traced(value):
    """Whether ``value`` (or a Tensor/Variable inside a list, tuple or dict) is known to a tape
    recording on this thread: a value the gradient is being taken through."""
    value = _plain(value)
    if isinstance(value, (list, tuple)):
        return any(is_traced(v) for v in value)
    if isinstance(value, dict):
        return any(is_traced(v) for v in value.values())
    handle = getattr(value, "_handle", None)
    if not isinstance(value, Tensor) and handle is None:
        return False
    key = id(handle) if handle is not None else id(value)
    return any(key in tape._known for tape in tape_state.tapes)


# numpy callables without a derivative that are right to compute on values, giving constants:
# their derivative is zero wherever it exists (the numpy entries of compiler/resolve.py's NONDIFF,
# except np.mod: d(x mod y)/dx = 1, so it is not a constant and is refused until it has a rule).
# Functions whose results are all integers or booleans (argsort, nonzero, isclose, shape
# queries) need no entry: no result of theirs can carry a gradient.


class Buffer:
    """A numpy array created inside a traced function, written element by element.

    Each write replaces the held Tensor by ``where(mask, value, old)``, a differentiable update,
    so reads and later array operations see the new values and gradients reach what was written.
    """
    __array_priority__ = 200

    def __init__(self, value):
        self.t = value if isinstance(value, Tensor) else constant(np.asarray(value))
        self.viewed = None   # how a view of it was taken that would not see later writes

    def __setitem__(self, index, value):
        if self.viewed is not None:
            raise TraceEscape(f"{_where_in_user_code()}writing into an array after taking a "
                              f"view of it ({self.viewed}): numpy's view sees the write, the tape's "
                              f"copy would not (the python backend handles this function)")
        mask = np.zeros(self.t.shape, dtype=bool)
        mask[_plain(index)] = True
        value = _plain(value)
        if not isinstance(value, Tensor):
            value = np.asarray(value, dtype=self.t.numpy().dtype)
        if np.ndim(value) and mask[_plain(index)].ndim:
            full = np.zeros(self.t.shape, dtype=self.t.numpy().dtype)
            value = np.where(mask, _place(value, mask, index, self.t.shape), full)
        self.t = np.where(mask, value, self.t)

    @property
    def __tapeflow_tensor__(self):   # Tensor arithmetic with a buffer operand reads its Tensor
        return self.t

    def __getitem__(self, index):
        index = _plain(index)
        if _is_view_index(index, self.t.ndim):
            return BufferView(self, index)   # numpy's view: it sees later writes
        return self.t[index]

    def __getattr__(self, name):
        if name in _VIEW_ATTRIBUTES:
            self.viewed = f".{name}"
        return getattr(self.t, name)

    def __len__(self):
        return len(self.t)

    def __iter__(self):
        return iter(self.t)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        out = kwargs.pop("out", None)
        result = getattr(ufunc, method)(*[_plain(a) for a in inputs], **kwargs)
        if out is None:
            return result
        # np.sin(x, out=buffer): the result written into the buffer, as a differentiable update
        # (passing the buffer on to numpy as out= would come back here without end)
        return _write_outputs(out, result)

    def __array_function__(self, func, types_, args, kwargs):
        if func.__name__ in _VIEW_FUNCTIONS and args and args[0] is self:
            self.viewed = f"np.{func.__name__}"
        if func is np.copyto and args and args[0] is self and len(args) == 2 and not kwargs:
            self[...] = args[1]    # a recorded write, as b[...] = src
            return None
        return func(*[_plain(a) for a in args], **{k: _plain(v) for k, v in kwargs.items()})

    def __array__(self, dtype=None, copy=None):
        # Tensor arithmetic converts its other operand with np.asarray: fine for a buffer whose
        # values are constants; one holding traced values would lose its gradient that way.
        if any(id(self.t) in tape._known for tape in tape_state.tapes):
            _escape("an operation with a traced numpy buffer on its right")
        value = np.asarray(self.t.numpy())
        return value if dtype is None else value.astype(dtype)

    def __repr__(self):
        return f"Buffer({self.t!r})"


class BufferView(Buffer):
    """``b[1:]``, ``b[i]`` of a buffer: reads its current values (numpy's view sees later
    writes into b) and writes through into it."""

    def __init__(self, base, index):
        self.base, self.index, self.viewed = base, index, None

    @property
    def t(self):
        return self.base.t[self.index]

    def __setitem__(self, index, value):
        # the view's elements as positions in its base, then one write into the base
        positions = np.arange(int(np.prod(self.base.t.shape))).reshape(self.base.t.shape)
        chosen = np.asarray(positions[self.index][_plain(index)])
        self.base[np.unravel_index(chosen, self.base.t.shape)] = value


# spellings that return a view of an array (which a later write would change)
_VIEW_ATTRIBUTES = {"T", "mT", "real", "imag", "flat", "reshape", "ravel", "transpose",
                    "swapaxes", "squeeze", "diagonal", "view", "__array_interface__"}
_VIEW_FUNCTIONS = {"reshape", "ravel", "transpose", "swapaxes", "moveaxis", "rollaxis", "squeeze",
                   "expand_dims", "atleast_1d", "atleast_2d", "atleast_3d", "broadcast_to",
                   "diagonal", "flip", "fliplr", "flipud", "rot90", "real", "imag", "asarray",
                   "asanyarray", "split", "array_split", "hsplit", "vsplit", "dsplit"}


def _is_view_index(index, ndim):
    """Whether numpy's basic indexing by ``index`` gives a view (not a scalar, not a copy)."""
    parts = index if isinstance(index, tuple) else (index,)
    ints = 0
    for p in parts:
        if isinstance(p, (slice, type(Ellipsis))) or p is None:
            return True
        if isinstance(p, (int, np.integer)) and not isinstance(p, bool):
            ints += 1
        else:
            return False    # fancy or boolean indexing copies
    return ints < ndim


def _write_outputs(out, result):
    """A ufunc's results written into its ``out`` arrays (Buffers: recorded writes); returns
    what numpy returns, the out arrays."""
    results = result if isinstance(result, tuple) else (result,)
    for target, value in zip(out, results):
        target[...] = value
    return out[0] if len(out) == 1 else out


def _plain(value):
    if isinstance(value, Buffer):
        return value.t
    if isinstance(value, (tuple, list)):
        return type(value)(_plain(v) for v in value)
    return value


def _place(value, mask, index, shape):
    """Scatter a traced block into a full-size traced array (zeros elsewhere)."""
    order = np.zeros(shape, dtype=np.int64)
    slot = np.shape(order[_plain(index)])
    order[_plain(index)] = np.arange(int(np.sum(mask))).reshape(slot)
    if np.shape(value) != slot:   # numpy broadcasts the value into the slot; so does the add
        value = value + np.zeros(slot)
    flat = np.reshape(value, (-1,))
    picked = flat[np.reshape(order, (-1,))]
    return np.reshape(picked, shape)


def _binary(name):
    def op(self, other):
        return getattr(self.t, name)(_plain(other))
    return op


for _name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__",
              "__truediv__", "__rtruediv__", "__pow__", "__rpow__", "__matmul__", "__rmatmul__",
              "__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__", "__neg__", "__abs__"):
    setattr(Buffer, _name, (lambda n: (lambda self, *o: getattr(self.t, n)(*map(_plain, o))))(
        _name))
