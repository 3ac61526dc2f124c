"""Tensor: an immutable wrapper of a numpy value, and conversion of Python/numpy values to it.

Operators and the numpy protocols are attached by ``ops``/``numpy_dispatch`` (they need the ops,
which need this class). A scalar Tensor holds a numpy scalar (np.float32...) rather than a 0-d
array: numpy scalar arithmetic is about ten times faster, which is what scalar code pays per op.
"""
import threading

import numpy as np

from . import dtypes as _dt

__all__ = ["Tensor", "TensorShape", "convert_to_tensor", "constant", "is_tensor",
           "InvalidArgumentError"]

_BY_NP = _dt._BY_NP
_TRAINABLE = _dt.TRAINABLE


class _Strict(threading.local):
    """Per thread: the guard of strict tracing (``trace_guard.Guard``) while the tape backend of ``grad``
    runs a function on this thread, else None.

    ``float(t)``, ``t.item()``, ``np.asarray(t)`` and ``t[i] = v`` ask the guard first, so a
    traced value that would leave the trace raises with its source line. Thread-local, so another
    thread's Tensors behave as always, even while this one traces (a patch of the class would
    change them too, and would outlive a trace that another thread was still running).
    """

    def __init__(self):
        self.guard = None


strict = _Strict()


class InvalidArgumentError(ValueError):
    """TF's error for ops given bad arguments (here a ValueError subclass)."""


class TensorShape(tuple):
    """A shape: a tuple of ints that prints like TF (``(2, 3)``, repr ``TensorShape([2, 3])``)."""
    __slots__ = ()

    def __repr__(self):
        return f"TensorShape({list(self)})"

    def __str__(self):
        return tuple.__repr__(self)

    @property
    def rank(self):
        return len(self)

    ndims = rank

    def as_list(self):
        return list(self)

    def num_elements(self):
        n = 1
        for d in self:
            n *= d
        return n

    def is_fully_defined(self):
        return True

    def __getitem__(self, i):
        r = tuple.__getitem__(self, i)
        return TensorShape(r) if isinstance(i, slice) else r


class Tensor:
    """An immutable value. Only ops create Tensors (``constant``, ``convert_to_tensor``, math ops)."""
    __slots__ = ("_v", "__weakref__")
    __array_priority__ = 100  # numpy defers binary operators to us

    def __init__(self, value):
        self._v = value

    # --- value and metadata ---------------------------------------------------------------------
    @property
    def shape(self):
        return TensorShape(self._v.shape)

    def get_shape(self):
        return self.shape

    @property
    def dtype(self):
        return _BY_NP.get(self._v.dtype) or _dt.as_dtype(self._v.dtype)

    @property
    def ndim(self):
        return self._v.ndim

    @property
    def size(self):
        return self._v.size

    @property
    def device(self):
        return "/job:localhost/replica:0/task:0/device:CPU:0"

    def numpy(self):
        v = self._v
        # 0-d values come back as numpy scalars (as TF does); arrays as a copy so callers cannot
        # mutate the immutable tensor.
        if type(v) is np.ndarray:
            return v[()] if v.ndim == 0 else v.copy()
        return v

    def item(self):
        guard = strict.guard
        if guard is not None:
            guard.converting(self, ".item()")
        return self._v.item()

    def __array__(self, dtype=None, copy=None):
        guard = strict.guard
        if guard is not None:
            guard.converting(self, "np.asarray() (a conversion to a numpy array)")
        v = np.asarray(self._v)
        return v if dtype is None else v.astype(dtype, copy=False)

    # --- Python protocol ------------------------------------------------------------------------
    def __len__(self):
        if self._v.ndim == 0:
            raise TypeError("len is not well defined for a rank-0 tensor")
        return self._v.shape[0]

    def __iter__(self):
        if self._v.ndim == 0:
            raise TypeError("Cannot iterate over a scalar tensor.")
        return (self[i] for i in range(self._v.shape[0]))

    def __bool__(self):
        return bool(self._v)

    def __float__(self):
        guard = strict.guard
        if guard is not None:
            guard.converting(self, "float() (or storing into a numpy array)")
        return float(self._v)

    def __int__(self):
        return int(self._v)

    def __index__(self):
        return self._v.__index__()

    def __complex__(self):
        return complex(self._v)

    def __setitem__(self, index, value):
        guard = strict.guard
        if guard is not None:
            guard.writing(self)   # says where, and what to do instead
        raise TypeError("'Tensor' object does not support item assignment (Tensors are immutable)")

    def __format__(self, spec):
        if self._v.ndim == 0:
            return format(self._v.item() if spec else self._v, spec)
        return format(str(self), spec)

    __hash__ = object.__hash__  # identity: tensors can key dicts and go through Python's max()

    def __reduce__(self):
        return Tensor, (self._v,)

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return Tensor(np.copy(self._v))

    # --- printing (TF's formats: str for print(), repr inside containers) ----------------------
    def __repr__(self):
        return f"<tf.Tensor: shape={self.shape}, dtype={self.dtype.name}, numpy={_numpy_text(self._v, True)}>"

    def __str__(self):
        return f"tf.Tensor({_numpy_text(self._v, False)}, shape={self.shape}, dtype={self.dtype.name})"


def _numpy_text(v, is_repr):
    """numpy's text for the value, scalars as ``9.0`` (not ``np.float32(9.0)``), multi-line on a new line."""
    if np.ndim(v) == 0:
        s = v[()] if type(v) is np.ndarray else v
        text = repr(s.item()) if isinstance(s, (np.bytes_, np.str_, np.object_)) or \
            getattr(s, "dtype", None) == object else str(s)
    else:
        text = repr(v) if is_repr else str(v)
    if "\n" in text:
        text = "\n" + text
    return text


def is_tensor(x):
    from .variable import Variable
    return isinstance(x, (Tensor, Variable))


# --- conversion -------------------------------------------------------------------------------
def _python_value_to_numpy(value, dtype):
    """Python scalars/lists default to float32/int32 as in TF; numpy values keep their dtype."""
    if dtype is not None:
        npd = _dt.np_dtype(dtype)
        if npd.kind in "iub":
            _check_integral(value, dtype)
        arr = np.asarray(value, dtype=npd if npd.kind != "O" else object)
        return arr
    if isinstance(value, (np.ndarray, np.generic)):
        return value
    arr = np.asarray(value)
    k = arr.dtype.kind
    if k == "f":
        arr = arr.astype(np.float32)
    elif k in "iu":
        if arr.size and (arr.max() > 2**31 - 1 or arr.min() < -2**31):
            arr = arr.astype(np.int64)
        else:
            arr = arr.astype(np.int32)
    elif k == "c":
        arr = arr.astype(np.complex128)
    elif k in "US":
        # TF strings are bytes
        arr = np.frompyfunc(lambda s: s.encode("utf-8") if isinstance(s, str) else s, 1, 1)(arr)
        arr = np.asarray(arr, dtype=object)
    return arr


def _check_integral(value, dtype):
    """TF refuses to truncate a float into an integer tensor."""
    if isinstance(value, float) and not value.is_integer():
        raise TypeError(f"Cannot convert {value!r} to EagerTensor of dtype {_dt.as_dtype(dtype).name}")
    if isinstance(value, (list, tuple)):
        for x in value:
            _check_integral(x, dtype)


def _scalarize(arr):
    """0-d arrays become numpy scalars (fast arithmetic); others stay arrays."""
    if type(arr) is np.ndarray and arr.ndim == 0 and arr.dtype.kind != "O":
        return arr[()]
    return arr


def _contains_tensor(value):
    from .variable import Variable
    if isinstance(value, (Tensor, Variable)):
        return True
    if isinstance(value, (list, tuple)):
        return any(_contains_tensor(v) for v in value)
    return False


def convert_to_tensor(value, dtype=None, dtype_hint=None, name=None):
    """A Tensor for ``value``; a Variable is read (and the read recorded), a Tensor is returned as is."""
    if type(value) is Tensor:
        if dtype is not None and _dt.as_dtype(dtype)._np != value._v.dtype:
            raise ValueError(f"Tensor conversion requested dtype {_dt.as_dtype(dtype).name} for "
                             f"Tensor with dtype {value.dtype.name}: {value!r}")
        return value
    from .variable import Variable
    if isinstance(value, Variable):
        t = value._read()
        if dtype is not None and _dt.as_dtype(dtype)._np != t._v.dtype:
            raise ValueError(f"Tensor conversion requested dtype {_dt.as_dtype(dtype).name} for "
                             f"Tensor with dtype {t.dtype.name}: {t!r}")
        return t
    if isinstance(value, Tensor):  # subclasses
        return value
    if hasattr(type(value), "__tapeflow_tensor__"):   # a traced numpy buffer: what it holds
        return convert_to_tensor(value.__tapeflow_tensor__, dtype)
    if hasattr(type(value), "_dense_value"):   # IndexedSlices: densified, as TF does
        return convert_to_tensor(value._dense(), dtype)
    if isinstance(value, (list, tuple)) and _contains_tensor(value):
        from .array_ops import stack
        t = stack([convert_to_tensor(v, dtype) for v in value])
        return t
    if value is None:
        raise ValueError("Attempt to convert a value (None) with an unsupported type "
                         "(<class 'NoneType'>) to a Tensor.")
    if dtype is None and dtype_hint is not None and not isinstance(value, (np.ndarray, np.generic)):
        try:
            return Tensor(_scalarize(_python_value_to_numpy(value, dtype_hint)))
        except (TypeError, ValueError):
            pass
    return Tensor(_scalarize(_python_value_to_numpy(value, dtype)))


def constant(value, dtype=None, shape=None, name="Const"):
    """A new constant Tensor (never recorded on a tape)."""
    from .variable import Variable
    if isinstance(value, (Tensor, Variable)):
        v = value._v if isinstance(value, Tensor) else value._handle.value
        if dtype is not None:
            v = np.asarray(v).astype(_dt.np_dtype(dtype))
        arr = np.array(v)
    elif isinstance(value, (list, tuple)) and _contains_tensor(value):
        arr = np.array(convert_to_tensor(value, dtype)._v)
    else:
        arr = np.array(_python_value_to_numpy(value, dtype))
    if shape is not None:
        shape = tuple(int(s) for s in shape)
        if arr.size == 1:
            arr = np.full(shape, arr.reshape(()), dtype=arr.dtype)
        elif arr.size == int(np.prod(shape)):
            arr = arr.reshape(shape)
        else:
            raise TypeError(f"Eager execution of tf.constant with unsupported shape. Tensor "
                            f"{arr} (converted from {value}) has {arr.size} elements, but got "
                            f"`shape` {shape} with {int(np.prod(shape))} elements).")
    return Tensor(_scalarize(arr))


def trainable(v):
    """Whether a numpy value's dtype carries gradients."""
    return v.dtype in _TRAINABLE
