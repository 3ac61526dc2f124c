"""Variable: mutable state whose reads are recorded on tapes (each read with the value it had then)."""
import itertools

import numpy as np

from . import dtypes as _dt
from .rules import RULES
from .recording import state, record
from .tensor import Tensor, TensorShape, _numpy_text, _python_value_to_numpy, _scalarize

__all__ = ["Variable"]

_uids = itertools.count()
_READ = RULES["Identity"]  # a read passes the gradient straight to the variable's handle
_EMPTY = {}


class _Handle:
    """The variable's storage. Assignment replaces ``value`` (never mutates it in place), so a
    value recorded by an earlier read stays what it was."""
    __slots__ = ("value", "__weakref__")

    def __init__(self, value):
        self.value = value


class Variable:
    """``tf.Variable``: ``assign``/``assign_add``/``assign_sub``, auto-watched when trainable."""
    __slots__ = ("_handle", "_name", "_trainable", "_uid", "__weakref__")
    __array_priority__ = 100

    def __init__(self, initial_value=None, trainable=None, validate_shape=True, caching_device=None,
                 name=None, variable_def=None, dtype=None, import_scope=None, constraint=None,
                 synchronization=None, aggregation=None, shape=None, **kwargs):
        if initial_value is None:
            raise ValueError("initial_value must be specified.")
        if callable(initial_value):
            initial_value = initial_value()
        if isinstance(initial_value, Variable):
            initial_value = initial_value._handle.value
        if isinstance(initial_value, Tensor):
            v = np.asarray(initial_value._v)
            if dtype is not None:
                v = v.astype(_dt.np_dtype(dtype))
        else:
            v = _python_value_to_numpy(initial_value, dtype)
        self._handle = _Handle(_scalarize(np.array(v)))
        self._name = "Variable:0" if name is None else f"{name}:0"
        self._trainable = True if trainable is None else bool(trainable)
        self._uid = next(_uids)

    @classmethod
    def _view(cls, var, name):
        """Another Variable object on the same storage (what assign returns: 'UnreadVariable')."""
        v = cls.__new__(cls)
        v._handle = var._handle
        v._name = name
        v._trainable = var._trainable
        v._uid = var._uid
        return v

    # --- reading ------------------------------------------------------------------------------
    def _read(self):
        """A Tensor of the current value; recorded on tapes that watch this variable."""
        h = self._handle
        t = Tensor(h.value)
        tapes = state.tapes
        if tapes:
            for tape in tapes:
                if self._trainable and tape._watch_accessed_variables:
                    tape._watch_variable(self, accessed=True)
            record(_READ, t, (h,), (h.value,), _EMPTY)
        return t

    def read_value(self):
        return self._read()

    def value(self):
        return self._read()

    def numpy(self):
        v = self._handle.value
        return v.copy() if type(v) is np.ndarray else v

    def __array__(self, dtype=None, copy=None):
        v = np.asarray(self._handle.value)
        return v if dtype is None else v.astype(dtype, copy=False)

    # --- metadata -----------------------------------------------------------------------------
    @property
    def name(self):
        return self._name

    @property
    def trainable(self):
        return self._trainable

    @property
    def shape(self):
        return TensorShape(self._handle.value.shape)

    def get_shape(self):
        return self.shape

    @property
    def dtype(self):
        return _dt.as_dtype(self._handle.value.dtype)

    @property
    def ndim(self):
        return self._handle.value.ndim

    @property
    def device(self):
        return "/job:localhost/replica:0/task:0/device:CPU:0"

    # --- assignment (not differentiable: the new value comes in as a constant) ----------------
    def _coerce(self, value):
        cur = self._handle.value
        if isinstance(value, Variable):
            value = value._handle.value
        elif isinstance(value, Tensor):
            value = value._v
        elif cur.dtype.kind in "iub":
            from .tensor import _check_integral
            _check_integral(value, self.dtype)
            if isinstance(value, (float, np.floating)) and not float(value).is_integer():
                raise TypeError(f"Cannot convert {value!r} to EagerTensor of dtype {self.dtype.name}")
        new = np.array(value, dtype=cur.dtype)
        if new.shape != cur.shape:
            raise ValueError(f"Cannot assign value to variable ' {self._name}': Shape mismatch."
                             f"The variable shape {cur.shape}, and the assigned value shape "
                             f"{new.shape} are incompatible.")
        return _scalarize(new)

    def assign(self, value, use_locking=None, name=None, read_value=True):
        self._handle.value = self._coerce(value)
        return Variable._view(self, "UnreadVariable") if read_value else None

    def assign_add(self, delta, use_locking=None, name=None, read_value=True):
        cur = self._handle.value
        self._handle.value = _scalarize(np.asarray(cur + self._coerce_delta(delta), dtype=cur.dtype))
        return Variable._view(self, "UnreadVariable") if read_value else None

    def assign_sub(self, delta, use_locking=None, name=None, read_value=True):
        cur = self._handle.value
        self._handle.value = _scalarize(np.asarray(cur - self._coerce_delta(delta), dtype=cur.dtype))
        return Variable._view(self, "UnreadVariable") if read_value else None

    def _coerce_delta(self, delta):
        if isinstance(delta, Variable):
            return delta._handle.value
        if isinstance(delta, Tensor):
            return delta._v
        return self._coerce(np.broadcast_to(delta, self._handle.value.shape)
                            if np.shape(delta) != self._handle.value.shape else delta)

    # --- printing -----------------------------------------------------------------------------
    def __repr__(self):
        v = self._handle.value
        return (f"<tf.Variable '{self._name}' shape={self.shape} dtype={self.dtype.name}, "
                f"numpy={_numpy_text(v, True)}>")

    def __str__(self):
        return repr(self)

    # --- Python protocol: a read then the Tensor's behaviour ------------------------------------
    __hash__ = object.__hash__

    def __bool__(self):
        return bool(self._handle.value)

    def __float__(self):
        return float(self._handle.value)

    def __int__(self):
        return int(self._handle.value)

    def __index__(self):
        return self._handle.value.__index__()

    def __len__(self):
        return len(self._handle.value)

    def __iter__(self):
        return iter(self._read())

    def __format__(self, spec):
        return format(self._read(), spec)

    def __getitem__(self, index):
        t = self._read()[index]
        s = _VariableSlice(t._v)
        s._var, s._index = self, index
        if state.tapes:
            # the slice is what the user holds: record it as the same value as the read slice
            record(_READ, s, (t,), (t._v,), _EMPTY)
        return s

    def __getattr__(self, name):
        # Tensor methods not defined here (reshape, T, sum...) act on a read of the variable.
        if name.startswith("__"):
            raise AttributeError(name)
        if hasattr(Tensor, name):
            return getattr(self._read(), name)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        inputs = tuple(i._read() if isinstance(i, Variable) else i for i in inputs)
        return Tensor.__array_ufunc__(self._read(), ufunc, method, *inputs, **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        from .numpy_dispatch import unwrap_variables
        args, kwargs = unwrap_variables(args), unwrap_variables(kwargs)
        return Tensor.__array_function__(self._read(), func, (Tensor,), args, kwargs)


def _binop(name):
    def method(self, other):
        return getattr(self._read(), name)(other)
    method.__name__ = name
    return method


for _n in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
           "__rtruediv__", "__floordiv__", "__rfloordiv__", "__mod__", "__rmod__", "__pow__",
           "__rpow__", "__matmul__", "__rmatmul__", "__lt__", "__le__", "__gt__", "__ge__",
           "__eq__", "__ne__", "__and__", "__rand__", "__or__", "__ror__", "__xor__", "__rxor__"):
    setattr(Variable, _n, _binop(_n))
Variable.__neg__ = lambda self: -self._read()
Variable.__pos__ = lambda self: self._read()
Variable.__abs__ = lambda self: abs(self._read())
Variable.__invert__ = lambda self: ~self._read()


class _VariableSlice(Tensor):
    """``v[index]``: a Tensor that can also be assigned into the variable (``v[0].assign(1.)``)."""
    __slots__ = ("_var", "_index")

    def assign(self, value, use_locking=None, name=None, read_value=True):
        from .array_ops import _index_value
        new = np.array(self._var._handle.value, copy=True)
        new[_index_value(self._index)] = value._v if isinstance(value, Tensor) else \
            np.asarray(value.numpy() if isinstance(value, Variable) else value)
        return self._var.assign(new, read_value=read_value)

    def assign_add(self, delta, use_locking=None, name=None, read_value=True):
        return self.assign(self._v + np.asarray(delta), read_value=read_value)

    def assign_sub(self, delta, use_locking=None, name=None, read_value=True):
        return self.assign(self._v - np.asarray(delta), read_value=read_value)
