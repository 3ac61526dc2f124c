"""Tensor factories (zeros, ones, range, eye, one_hot...) and shape queries: constants, never
recorded."""
import numpy as np

from . import dtypes as _dt
from .opdef import as_tensor, wrap
from .tensor import Tensor, _python_value_to_numpy


_builtin_range = range   # this module defines TF's range()


def _shape_arg(shape):
    if isinstance(shape, Tensor):
        shape = shape._v.tolist()
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(-1 if s is None else int(s) for s in shape)


def _dtype_np(dtype, default=np.float32):
    return default if dtype is None else _dt.np_dtype(dtype)


def zeros(shape, dtype=_dt.float32, name=None):
    return wrap(np.zeros(_shape_arg(shape), dtype=_dtype_np(dtype)))


def ones(shape, dtype=_dt.float32, name=None):
    return wrap(np.ones(_shape_arg(shape), dtype=_dtype_np(dtype)))


def fill(dims, value, name=None):
    v = as_tensor(value)._v
    return wrap(np.full(_shape_arg(dims), v, dtype=v.dtype))


def zeros_like(input, dtype=None, name=None):
    v = _value(input)
    return wrap(np.zeros(np.shape(v), dtype=_dtype_np(dtype, v.dtype)))


def ones_like(input, dtype=None, name=None):
    v = _value(input)
    return wrap(np.ones(np.shape(v), dtype=_dtype_np(dtype, v.dtype)))


def _value(x):
    if isinstance(x, Tensor):
        return x._v
    if hasattr(x, "_handle"):
        return x._handle.value
    return _python_value_to_numpy(x, None)


def range(start, limit=None, delta=1, dtype=None, name="range"):  # noqa: A001 (TF's name)
    if limit is None:
        start, limit = 0, start
    vals = [_value(v) if isinstance(v, Tensor) else v for v in (start, limit, delta)]
    if dtype is None:
        kinds = [np.asarray(v).dtype.kind for v in vals]
        npd = np.float32 if "f" in kinds else np.int32
        if any(isinstance(v, np.ndarray) and v.dtype in (np.float64, np.int64) for v in vals):
            npd = np.result_type(*[np.asarray(v).dtype for v in vals])
    else:
        npd = _dt.np_dtype(dtype)
    return wrap(np.arange(vals[0], vals[1], vals[2]).astype(npd))


def linspace(start, stop, num, name=None, axis=0):
    s = as_tensor(start)._v
    dt = s.dtype if s.dtype.kind == "f" else np.float32
    return wrap(np.linspace(s, as_tensor(stop)._v, int(num), axis=axis).astype(dt))


def eye(num_rows, num_columns=None, batch_shape=None, dtype=_dt.float32, name=None):
    v = np.eye(num_rows, num_columns, dtype=_dtype_np(dtype))
    if batch_shape is not None:
        v = np.broadcast_to(v, tuple(batch_shape) + v.shape).copy()
    return wrap(v)


def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None, name=None):
    idx = np.asarray(as_tensor(indices)._v)
    npd = _dtype_np(dtype)
    on = 1 if on_value is None else _value(on_value)
    off = 0 if off_value is None else _value(off_value)
    hot = idx[..., None] == np.arange(int(depth))
    v = np.where(hot, on, off).astype(npd)
    if axis is not None and axis != -1:
        v = np.moveaxis(v, -1, axis)
    return wrap(v)


def shape(input, out_type=_dt.int32, name=None):
    return wrap(np.asarray(np.shape(_value(input)), dtype=_dt.np_dtype(out_type)))


def size(input, out_type=_dt.int32, name=None):
    return wrap(np.asarray(np.size(_value(input)), dtype=_dt.np_dtype(out_type)))


def rank(input, name=None):
    return wrap(np.int32(np.ndim(_value(input))))
