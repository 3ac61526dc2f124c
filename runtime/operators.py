"""Python operators and numpy-style methods on Tensor (a read then the op for Variables)."""
import numpy as np

from . import array_ops as A
from . import math_ops as M
from .rules import table as _table
from .tensor import Tensor


def _reflect(op):
    def rop(self, other):
        return op(other, self)
    return rop


def _bool_or_int_op(npfn):
    def op(self, other):
        return M.nondiff_binary(npfn)(self, other)
    return op


T = Tensor
T.__add__ = M.add
T.__radd__ = _reflect(M.add)
T.__sub__ = M.subtract
T.__rsub__ = _reflect(M.subtract)
T.__mul__ = M.multiply
T.__rmul__ = _reflect(M.multiply)
T.__truediv__ = M.divide
T.__rtruediv__ = _reflect(M.divide)
T.__pow__ = M.pow
T.__rpow__ = _reflect(M.pow)
T.__matmul__ = M.matmul
T.__rmatmul__ = _reflect(M.matmul)
T.__floordiv__ = M.floordiv
T.__rfloordiv__ = _reflect(M.floordiv)
T.__mod__ = M.floormod
T.__rmod__ = _reflect(M.floormod)
T.__neg__ = M.negative
T.__pos__ = M.identity
T.__abs__ = M.abs
T.__invert__ = M.logical_not
T.__lt__ = M.less
T.__le__ = M.less_equal
T.__gt__ = M.greater
T.__ge__ = M.greater_equal
T.__eq__ = M.equal      # elementwise, as in TF 2
T.__ne__ = M.not_equal
T.__and__ = M.logical_and
T.__rand__ = _reflect(M.logical_and)
T.__or__ = M.logical_or
T.__ror__ = _reflect(M.logical_or)
T.__xor__ = M.logical_xor
T.__rxor__ = _reflect(M.logical_xor)
T.__getitem__ = A.getitem
T.__hash__ = object.__hash__  # defining __eq__ would otherwise remove it


# numpy-style methods, so numpy code traced with Tensors (x.T, x.sum(), x.reshape) works.
def _T(self):
    return A.transpose(self)


T.T = property(_T)
T.sum = lambda self, axis=None, keepdims=False: M.reduce_sum(self, axis, keepdims)
T.mean = lambda self, axis=None, keepdims=False: M.reduce_mean(self, axis, keepdims)
T.max = lambda self, axis=None, keepdims=False: M.reduce_max(self, axis, keepdims)
T.min = lambda self, axis=None, keepdims=False: M.reduce_min(self, axis, keepdims)
T.prod = lambda self, axis=None, keepdims=False: M.reduce_prod(self, axis, keepdims)
T.dot = lambda self, other: np.dot(self, other)   # np.dot's rule: n-d operands are not matmul
T.transpose = lambda self, *axes: A.transpose(self, (axes[0] if len(axes) == 1 and
                                                     isinstance(axes[0], (tuple, list)) else axes) or None)
T.reshape = lambda self, *shape: A.reshape(self, shape[0] if len(shape) == 1 and
                                           isinstance(shape[0], (tuple, list)) else shape)
T.astype = lambda self, dtype: M.cast(self, dtype)
T.ravel = T.flatten = lambda self: A.reshape(self, (-1,))
T.squeeze = lambda self, axis=None: A.squeeze(self, axis)


# the other methods the primitive table spells (x.clip, x.copy, x.cumsum, x.var...): the numpy
# function they stand for, which dispatches on the Tensor
def _method(fn):
    return lambda self, *args, **kwargs: fn(self, *args, **kwargs)


for _name, _fn in _table.METHODS.items():
    if not hasattr(T, _name):
        setattr(T, _name, _method(_fn))
