"""Calls whose values carry no gradient (shapes, counts, fresh arrays) and value-preserving casts."""
import builtins
import math

import numpy as np

from .helpers import unbroadcast
from .table import define, primitive, tangent

# shapes and counts
define("Shape", np.shape, kind="nondiff", role="tuple", native="shape")
define("Size", np.size, kind="nondiff", role="int", native="size")
define("Rank", np.ndim, kind="nondiff", role="int", native="size")
define("Len", len, kind="nondiff", role="int")
define("Int", int, kind="nondiff", role="int")
define("Bool", bool, kind="nondiff")
define("IsInstance", isinstance, kind="nondiff")
define("Print", print, kind="nondiff", role="none")
define("Range", range, kind="nondiff")
define("ArgMax", np.argmax, kind="nondiff", role="int")
define("ArgMin", np.argmin, kind="nondiff", role="int")
define("CountNonzero", np.count_nonzero, kind="nondiff", role="int")
define("All", np.all, kind="nondiff")
define("Any", np.any, kind="nondiff")

# fresh arrays: their values do not depend on any input's value
define("Zeros", np.zeros, kind="nondiff", role="shape", native="creation")
define("Ones", np.ones, kind="nondiff", role="shape", native="creation")
define("Empty", np.empty, kind="nondiff", role="shape", native="creation")

define("ZerosLike", np.zeros_like, kind="nondiff", role="shape", native="like")
define("OnesLike", np.ones_like, kind="nondiff", role="shape", native="like")
define("EmptyLike", np.empty_like, kind="nondiff", role="shape", native="like")


# filled with a value that may be differentiable: the fill's adjoint is the sum over the array
@primitive("Fill", np.full, n_inputs=2, role="shape", native="full",
           grid=(((3, 4), "s"), ((3, 4), "v")))
def d_full(g, ans, shape, fill_value):
    return None, unbroadcast(g, fill_value)


@tangent("Fill")
def f_full(shape_dot, fill_value_dot, ans, shape, fill_value):
    return None, np.broadcast_to(fill_value_dot, np.shape(ans))


@primitive("FullLike", np.full_like, n_inputs=2, role="shape", native="full_like",
           grid=(("m", "s"),))
def d_full_like(g, ans, like, fill_value):
    return None, unbroadcast(g, fill_value)


@tangent("FullLike")
def f_full_like(like_dot, fill_value_dot, ans, like, fill_value):
    return None, np.broadcast_to(fill_value_dot, np.shape(ans))

define("Eye", np.eye, np.identity, kind="nondiff", role="shape", native="eye")


# start + i * step: differentiable in start and step. One positional is the stop (a constant
# for the values): then the first value, 0, is not the argument, and its adjoint is 0
@primitive("Range1d", np.arange, n_inputs=3, role="shape", native="arange",
           grid=(("s", "s+"), ("s", "s+", 0.5)))
def d_arange(g, ans, start, stop=None, step=None):
    return (np.sum(g) * np.any(ans[:1] == start), None,
            np.sum(g * np.arange(np.size(ans))))


@tangent("Range1d")
def f_arange(start_dot, stop_dot, step_dot, ans, start, stop=None, step=None):
    # the stop only decides how many values there are: no term
    return (start_dot * np.any(ans[:1] == start), None,
            step_dot * np.arange(np.size(ans)))



# start + (stop - start) * t for fixed weights t; t comes from linspace itself on zero-based ends
# shaped like start + stop, so array ends and any axis get weights of the result's shape
@primitive("LinSpace", np.linspace, n_inputs=2, role="shape",
           grid=(("s", "s", 5), ("s", "s", 1), ("s", "s", 4, {"endpoint": False}), ("v", "s", 3),
                 ("v", "v", 3, {"axis": 1})))
def d_linspace(g, ans, start, stop, num=50, endpoint=True, axis=0):
    zero = 0.0 * (start + stop)
    t = np.linspace(zero, zero + 1.0, num, endpoint=endpoint, axis=axis)
    return (unbroadcast(np.sum(g * (1.0 - t), axis=axis), start),
            unbroadcast(np.sum(g * t, axis=axis), stop))


@tangent("LinSpace")
def f_linspace(start_dot, stop_dot, ans, start, stop, num=50, endpoint=True, axis=0):
    # linear in the ends jointly: each end's term is linspace with the other end at zero
    zero = 0.0 * (start + stop)
    return (np.linspace(start_dot + zero, zero, num, endpoint=endpoint, axis=axis),
            np.linspace(zero, stop_dot + zero, num, endpoint=endpoint, axis=axis))


# the value of their argument, converted (the gradient passes through unchanged)
define("ToFloat", float, kind="identity")
define("Float64", np.float64, kind="identity", native="scalar_cast")
define("Float32", np.float32, kind="identity", native="scalar_cast")
define("Int64", np.int64, kind="nondiff", role="int", native="scalar_cast")
define("AsArray", np.asarray, np.array, np.ascontiguousarray, methods=("astype",),
       kind="identity", native="array")
define("Copy", np.copy, methods=("copy",), kind="identity", native="copy")

# array attributes that are plain facts about the array
for _attr in ("shape", "ndim", "size", "dtype"):
    define("Attribute." + _attr, attributes=(_attr,), kind="nondiff")
del builtins, math
