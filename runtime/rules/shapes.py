"""Shape operations: reshape, transpose, joins, tiling, subscripts."""
import numpy as np
import operator

from .helpers import unbroadcast, unconcat, unslice, untile, untranspose
from .table import primitive


@primitive("Transpose", np.transpose, methods=("transpose",), role="shape", native="transpose")
def d_transpose(g, ans, x, axes=None):
    return untranspose(g, axes)


@primitive("Reshape", np.reshape, methods=("reshape",), role="shape", native="reshape")
def d_reshape(g, ans, x, shape=None):
    return np.reshape(g, np.shape(x))


@primitive("Squeeze", np.squeeze, methods=("squeeze",), role="shape")
def d_squeeze(g, ans, x, axis=None):
    return np.reshape(g, np.shape(x))


@primitive("ExpandDims", np.expand_dims, role="shape")
def d_expand_dims(g, ans, x, axis=None):
    return np.reshape(g, np.shape(x))


@primitive("BroadcastTo", np.broadcast_to, role="shape", native="broadcast_to")
def d_broadcast_to(g, ans, x, shape=None):
    return unbroadcast(g, x)


@primitive("Cast")
def d_cast(g, ans, x, dtype=None):
    return g


@primitive("StridedSlice", operator.getitem)
def d_getitem(g, ans, x, index=None):
    return unslice(g, x, index)


# Variadic primitives (n_inputs=-1): one adjoint per input, returned as a tuple.
@primitive("ConcatV2", np.concatenate, n_inputs=-1)
def d_concat(g, ans, *xs, axis=0):
    return unconcat(g, axis, *xs)


@primitive("Pack", np.stack, n_inputs=-1)
def d_pack(g, ans, *xs, axis=0):
    return tuple(np.moveaxis(g, axis, 0))


@primitive("Tile", np.tile)
def d_tile(g, ans, x, multiples=None):
    return untile(g, x, multiples)


@primitive("TensorScatterAdd", n_inputs=2)
def d_scatter_add(g, ans, x, updates, index=None):
    # out = x with updates added at index (np.add.at): g flows to x, and g[index] to the updates
    return g, unbroadcast(g[index], updates)
