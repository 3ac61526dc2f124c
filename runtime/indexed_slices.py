"""``tf.IndexedSlices``: the sparse gradient of a gather from a variable (rows ``indices`` of a
tensor of shape ``dense_shape`` hold ``values``; repeated indices add up).

The backward sweep produces one when a record gathers rows (axis 0) straight from a variable that
is a source; contributions concatenate, and anything else added to it makes it dense, as in TF.
"""
import numpy as np

from .tensor import Tensor

__all__ = ["IndexedSlices"]


class IndexedSlices:
    __array_ufunc__ = None   # numpy operators defer to ours (dense + slices -> __radd__)

    def __init__(self, values, indices, dense_shape=None):
        self._values = values if isinstance(values, Tensor) else Tensor(np.asarray(values))
        self._indices = indices if isinstance(indices, Tensor) else Tensor(np.asarray(indices))
        self._dense_shape = None if dense_shape is None else (
            dense_shape if isinstance(dense_shape, Tensor)
            else Tensor(np.asarray(dense_shape, dtype=np.int32)))

    values = property(lambda self: self._values)
    indices = property(lambda self: self._indices)
    dense_shape = property(lambda self: self._dense_shape)
    dtype = property(lambda self: self._values.dtype)

    @property
    def shape(self):
        from .tensor import TensorShape
        return TensorShape(int(n) for n in np.asarray(self._dense_shape._v))

    def __repr__(self):
        return (f"IndexedSlices(indices={self._indices!r}, values={self._values!r}, "
                f"dense_shape={self._dense_shape!r})")

    def _dense_value(self):
        """The dense numpy value (repeated indices accumulate)."""
        v = np.asarray(self._values._v)
        out = np.zeros(tuple(np.asarray(self._dense_shape._v)), dtype=v.dtype)
        np.add.at(out, np.asarray(self._indices._v), v)
        return out

    def _dense(self):
        """The dense Tensor (recorded, so a gradient of it can be differentiated again)."""
        from .array_ops import scatter_nd
        idx = np.asarray(self._indices._v).reshape(-1, 1)
        return scatter_nd(idx, self._values, tuple(np.asarray(self._dense_shape._v)))

    def __add__(self, other):
        if isinstance(other, IndexedSlices):
            from .array_ops import concat
            return IndexedSlices(concat([self._values, other._values], 0),
                                 np.concatenate([np.asarray(self._indices._v),
                                                 np.asarray(other._indices._v)]),
                                 self._dense_shape)
        if isinstance(other, Tensor):
            return self._dense() + other
        return self._dense_value() + other

    __radd__ = __add__

    def __neg__(self):
        return IndexedSlices(-self._values, self._indices, self._dense_shape)
