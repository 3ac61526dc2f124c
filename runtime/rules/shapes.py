"""Shape operations: reshape, transpose, joins, tiling, subscripts."""
import numpy as np
import operator

from .helpers import sum_to_shape, unbroadcast, unconcat, unslice, untile, untranspose
from .table import define, linear, primitive, tangent

# slice(...) builds an index: a plain value
define("Slice", slice, kind="nondiff")


@primitive("Transpose", np.transpose, methods=("transpose",), role="shape", native="transpose")
def d_transpose(g, ans, x, axes=None):
    return untranspose(g, axes)


linear("Transpose")


@primitive("Reshape", np.reshape, methods=("reshape",), role="shape", native="reshape",
           grid=(("m", (4, 3)), ("m", (-1,)), ("v", (2, 2)), ("t", (6, 4))))
def d_reshape(g, ans, x, shape=None):
    return np.reshape(g, np.shape(x))


linear("Reshape")


@primitive("Squeeze", np.squeeze, methods=("squeeze",), role="shape",
           grid=(("r",), ("c",), ("c", {"axis": 1})))
def d_squeeze(g, ans, x, axis=None):
    return np.reshape(g, np.shape(x))


linear("Squeeze")


@primitive("ExpandDims", np.expand_dims, role="shape",
           grid=(("v", 0), ("m", -1), ("m", (0, 2)), ("s", 0)))
def d_expand_dims(g, ans, x, axis=None):
    return np.reshape(g, np.shape(x))


linear("ExpandDims")


@primitive("BroadcastTo", np.broadcast_to, role="shape", native="broadcast_to",
           grid=(("r", (3, 4)), ("c", (3, 4)), ("v", (2, 3, 4)), ("s", (2, 2))))
def d_broadcast_to(g, ans, x, shape=None):
    # sum_to_shape, not unbroadcast: the template simplifier drops unbroadcast(g, x) when x is
    # the only array input, assuming the result has x's shape, which broadcast_to breaks
    return sum_to_shape(g, np.shape(x))


linear("BroadcastTo")


@primitive("Cast")
def d_cast(g, ans, x, dtype=None):
    return g


linear("Cast")


# a fancy index that repeats a position must accumulate: x[[0, 0]] gives 2 at 0 (np.add.at)
@primitive("StridedSlice", operator.getitem,
           grid=(("v", 1), ("v", slice(1, 3)), ("v", np.array([0, 0, 2])), ("m", (slice(None), 1)),
                 ("m", (1, slice(0, 3, 2))), ("m", np.array([2, 0, 2]))))
def d_getitem(g, ans, x, index=None):
    return unslice(g, x, index)


linear("StridedSlice")


# Variadic primitives (n_inputs=-1): one adjoint per input, returned as a tuple.
@primitive("ConcatV2", np.concatenate, n_inputs=-1,
           grid=((["v", "v"],), (["m", "m"], {"axis": 1}), (["m", "r"],), (["m", "v"], {"axis": None})))
def d_concat(g, ans, *xs, axis=0):
    return unconcat(g, axis, *xs)


linear("ConcatV2")   # jointly in its inputs: the concatenation of their tangents


@primitive("Pack", np.stack, n_inputs=-1,
           grid=((["v", "v"],), (["m", "m", "m"], {"axis": 1}), (["m", "m"], {"axis": -1})))
def d_pack(g, ans, *xs, axis=0):
    return tuple(np.moveaxis(g, axis, 0))


linear("Pack")


@primitive("Tile", np.tile, grid=(("v", 2), ("v", (2, 1)), ("m", (2, 3)), ("m", 2)))
def d_tile(g, ans, x, reps=None, multiples=None):
    # numpy calls the repetitions reps, TensorFlow's tile op (array_ops) multiples
    return untile(g, x, reps, multiples)


linear("Tile")


@primitive("TensorScatterAdd", n_inputs=2)
def d_scatter_add(g, ans, x, updates, index=None):
    # out = x with updates added at index (np.add.at): g flows to x, and g[index] to the updates
    return g, unbroadcast(g[index], updates)


@tangent("TensorScatterAdd")
def f_scatter_add(x_dot, updates_dot, ans, x, updates, index=None):
    # the updates' tangent added at index into zeros (repeated positions accumulate, as in
    # the primal); broadcast to the indexed part's shape first, as np.add.at does
    return x_dot, unslice(updates_dot + 0.0 * ans[index], ans, index)
