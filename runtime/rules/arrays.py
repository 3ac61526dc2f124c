"""Array functions whose adjoint moves ``g`` back to where each element came from: reshapes and
permutations of axes, flips and rolls, gathers (take, repeat, sort), padding, scans and diffs.

Each rule is inverse bookkeeping on ``g`` (a reshape back, the inverse permutation, a scatter-add
for gathers, so that repeated indices accumulate). They have no native lowering: the native
backend refuses them with that reason and ``auto`` falls back to the python backend.
"""
import numpy as np

from .tangent_helpers import cumprod_tangent
from .helpers import (sort_permutation, uncumprod, undiff, unpad, unrepeat, untake,
                      untake_along_axis)
from .table import define, linear, primitive, tangent

_IDX = np.array([2, 0, 2, 1])          # a gather that repeats a position (must accumulate)
_IDX_2D = np.array([[0, 2, 1, 1], [2, 2, 0, 1], [1, 0, 0, 2]])


# --- same elements, new shape: the adjoint is g reshaped back ---------------------------------
@primitive("Ravel", np.ravel, methods=("ravel", "flatten"), role="shape",
           grid=(("v",), ("m",), ("t",)))
def d_ravel(g, ans, x):
    return np.reshape(g, np.shape(x))


linear("Ravel")


@primitive("AtLeast1d", np.atleast_1d, role="shape", grid=(("s",), ("v",), ("m",)))
def d_atleast_1d(g, ans, x):
    return np.reshape(g, np.shape(x))


linear("AtLeast1d")


@primitive("AtLeast2d", np.atleast_2d, role="shape", grid=(("s",), ("v",), ("m",)))
def d_atleast_2d(g, ans, x):
    return np.reshape(g, np.shape(x))


linear("AtLeast2d")


@primitive("AtLeast3d", np.atleast_3d, role="shape", grid=(("s",), ("v",), ("m",), ("t",)))
def d_atleast_3d(g, ans, x):
    return np.reshape(g, np.shape(x))


linear("AtLeast3d")


# --- permutations of axes and of elements: the adjoint applies the inverse ----------------------
@primitive("SwapAxes", np.swapaxes, methods=("swapaxes",), role="shape",
           grid=(("m", 0, 1), ("t", 0, 2), ("t", -1, 1)))
def d_swapaxes(g, ans, x, axis1=None, axis2=None):
    return np.swapaxes(g, axis1, axis2)


linear("SwapAxes")


@primitive("MoveAxis", np.moveaxis, role="shape",
           grid=(("m", 0, 1), ("t", 0, -1), ("t", (0, 1), (2, 0))))
def d_moveaxis(g, ans, x, source=None, destination=None):
    return np.moveaxis(g, destination, source)


linear("MoveAxis")


# rollaxis(x, axis, start) is moveaxis(x, axis, start - 1 if axis < start else start)
@primitive("RollAxis", np.rollaxis, role="shape",
           grid=(("t", 2), ("t", 0, 2), ("t", 2, 1), ("t", -1, 0), ("t", 0, 3), ("m", 1, -2)))
def d_rollaxis(g, ans, x, axis=None, start=0):
    n = np.ndim(x)
    source = axis % n
    first = start + n * (start < 0)
    return np.moveaxis(g, first - (source < first), source)


linear("RollAxis")


@primitive("ReverseV2", np.flip, grid=(("v",), ("m",), ("m", 1), ("t", {"axis": (0, 2)})))
def d_flip(g, ans, x, axis=None):
    return np.flip(g, axis)


linear("ReverseV2")


@primitive("FlipUD", np.flipud, grid=(("v",), ("m",)))
def d_flipud(g, ans, x):
    return np.flipud(g)


linear("FlipUD")


@primitive("FlipLR", np.fliplr, grid=(("m",), ("t",)))
def d_fliplr(g, ans, x):
    return np.fliplr(g)


linear("FlipLR")


@primitive("Rot90", np.rot90, role="shape",
           grid=(("m",), ("m", 2), ("m", -1), ("t", 1, (1, 2))))
def d_rot90(g, ans, x, k=1, axes=(0, 1)):
    return np.rot90(g, -k, axes)


linear("Rot90")


@primitive("Roll", np.roll, grid=(("v", 1), ("m", -2), ("m", 1, 0), ("t", (1, 2), (0, 2))))
def d_roll(g, ans, x, shift=None, axis=None):
    return np.roll(g, np.negative(shift), axis)


linear("Roll")


# --- gathers: scatter g back, adding where an element was used more than once -------------------
@primitive("GatherV2", np.take, methods=("take",), role="shape",
           grid=(("v", _IDX), ("m", _IDX), ("m", _IDX, 1), ("m", np.array([[1, 1], [0, 2]]), 0)))
def d_take(g, ans, x, indices=None, axis=None):
    return untake(g, x, indices, axis)


linear("GatherV2")


@primitive("TakeAlongAxis", np.take_along_axis, role="shape",
           grid=(("m", _IDX_2D, 1), ("m", np.array([[2, 0, 0, 1]]), 0), ("v", _IDX, 0)))
def d_take_along_axis(g, ans, x, indices=None, axis=None):
    return untake_along_axis(g, x, indices, axis)


linear("TakeAlongAxis")


@primitive("Repeat", np.repeat, methods=("repeat",), role="shape",
           grid=(("v", 2), ("m", 3), ("m", 2, 1), ("m", np.array([1, 0, 2]), 0),
                 ("v", np.array([2, 1, 0, 3]))))
def d_repeat(g, ans, x, repeats=None, axis=None):
    return unrepeat(g, x, repeats, axis)


linear("Repeat")


# sorting is a permutation of the elements: g goes back through it. Ties are measure-zero for the
# values, and the stable order is the one np.sort's result is consistent with.
@primitive("Sort", np.sort, grid=(("v",), ("m",), ("m", 0), ("m", {"axis": None})))
def d_sort(g, ans, x, axis=-1, kind=None):
    return untake_along_axis(g, x, sort_permutation(x, axis), axis)


@tangent("Sort")
def f_sort(x_dot, ans, x, axis=-1, kind=None):
    return np.take_along_axis(x_dot, sort_permutation(x, axis), axis)


@primitive("Partition", np.partition, grid=(("v", 2), ("m", 1), ("m", 1, 0)))
def d_partition(g, ans, x, kth=None, axis=-1):
    return untake_along_axis(g, x, np.argpartition(x, kth, axis), axis)


@tangent("Partition")
def f_partition(x_dot, ans, x, kth=None, axis=-1):
    return np.take_along_axis(x_dot, np.argpartition(x, kth, axis), axis)


# --- padding, differences, cumulative products ----------------------------------------------------
@primitive("Pad", np.pad, role="shape",
           grid=(("v", 2), ("v", (1, 2)), ("m", ((1, 0), (2, 1))), ("m", 1, {"constant_values": 3.0}),
                 ("m", (2,))))
def d_pad(g, ans, x, pad_width=None, mode="constant", constant_values=0):
    # the constant mode's interior is x; other modes (reflect, edge...) are refused by unpad
    return unpad(g, x, pad_width, mode)


@tangent("Pad")
def f_pad(x_dot, ans, x, pad_width=None, mode="constant", constant_values=0):
    # the padding constants are constants: their tangent is 0 (the default of constant mode)
    return np.pad(x_dot, pad_width, mode=mode)


@primitive("Diff", np.diff, role="shape",
           grid=(("v",), ("v", 2), ("m", {"axis": 0}), ("t", 2, 1)))
def d_diff(g, ans, x, n=1, axis=-1):
    return undiff(g, n, axis)


linear("Diff")


@primitive("Cumprod", np.cumprod, methods=("cumprod",), role="shape",
           grid=(("v",), ("m",), ("m", {"axis": 1}), ("t", 0)))
def d_cumprod(g, ans, x, axis=None):
    # exact where x has zeros: no division by x
    return uncumprod(g, x, axis)


@tangent("Cumprod")
def f_cumprod(x_dot, ans, x, axis=None):
    return cumprod_tangent(x_dot, x, axis)


# --- nondifferentiable array functions ----------------------------------------------------------
define("ArgSort", np.argsort, kind="nondiff", role="shape")
define("ArgPartition", np.argpartition, kind="nondiff", role="shape")
