"""Derivative rules: the one place where a primitive's adjoint is written.

Each rule is a small numpy function ``d_<name>(g, ans, *inputs, **params)``: ``g`` is the adjoint of
the output, ``ans`` the output itself, ``inputs`` the primal inputs. It returns the adjoint of each
input (a tuple when the primitive has several; a single expression when it has one; ``None`` for an
input that carries no gradient).

Rules are written in the subset the compiler accepts, with ``np`` and the helpers of ``_helpers``
only, because the same text is used three ways:
  * the tape calls the function with values (with Tensors when an outer tape records, so the
    gradient computation is itself differentiable: numpy dispatches to Tensor's overrides);
  * the compiler inlines the function's source as a template into the generated Python;
  * the native backend lowers that generated code.
"""
import math
import operator

import numpy as np

from ._helpers import (einsum_adjoints, extremum_weights, prod_of_others, unbroadcast, unreduce, unreduce_extremum, unslice, untranspose, sum_to_shape,
                       unconcat, untile)

__all__ = ["Rule", "RULES", "BY_CALLABLE", "rule", "lookup", "einsum_adjoints", "extremum_weights", "prod_of_others", "unbroadcast", "unreduce",
           "unreduce_extremum", "unslice", "untranspose", "sum_to_shape", "unconcat", "untile"]


class Rule:
    """A primitive: its TensorFlow op name, the Python callables it stands for, its adjoint."""
    __slots__ = ("name", "adjoint", "callables", "n_inputs")

    def __init__(self, name, adjoint, callables, n_inputs):
        self.name = name
        self.adjoint = adjoint
        self.callables = callables
        self.n_inputs = n_inputs

    def __repr__(self):
        return f"Rule({self.name!r})"


RULES = {}        # op name -> Rule
BY_CALLABLE = {}  # id(callable) -> Rule (np.sin, math.sin, operator.mul, ...)


def rule(name, *callables, n_inputs=1):
    """Register ``adjoint`` as the derivative rule of op ``name`` and of each callable."""
    def register(adjoint):
        r = Rule(name, adjoint, callables, n_inputs)
        RULES[name] = r
        for c in callables:
            BY_CALLABLE[id(c)] = r
        return adjoint
    return register


def lookup(fn):
    """The rule of a Python callable (``np.sin``, ``math.exp``, ``operator.add``...), or None."""
    return BY_CALLABLE.get(id(fn))


# --- arithmetic ------------------------------------------------------------------------------
@rule("AddV2", np.add, operator.add, operator.iadd, n_inputs=2)
def d_add(g, ans, x, y):
    return unbroadcast(g, x), unbroadcast(g, y)


@rule("Sub", np.subtract, operator.sub, operator.isub, n_inputs=2)
def d_sub(g, ans, x, y):
    return unbroadcast(g, x), unbroadcast(-g, y)


@rule("Mul", np.multiply, operator.mul, operator.imul, n_inputs=2)
def d_mul(g, ans, x, y):
    return unbroadcast(g * y, x), unbroadcast(g * x, y)


@rule("RealDiv", np.divide, np.true_divide, operator.truediv, operator.itruediv, n_inputs=2)
def d_div(g, ans, x, y):
    return unbroadcast(g / y, x), unbroadcast(-g * ans / y, y)


@rule("Pow", np.power, operator.pow, operator.ipow, math.pow, n_inputs=2)
def d_pow(g, ans, x, y):
    # d/dy uses log(x), defined only for x > 0; elsewhere the term is taken as 0 (as TF does).
    safe_x = np.where(x > 0, x, 1.0)
    return (unbroadcast(g * y * np.power(x, y - 1), x),
            unbroadcast(g * ans * np.log(safe_x) * (x > 0), y))


@rule("Neg", np.negative, operator.neg)
def d_neg(g, ans, x):
    return -g


@rule("Identity", np.positive, operator.pos)
def d_identity(g, ans, x):
    return g


@rule("Square", np.square)
def d_square(g, ans, x):
    return g * 2.0 * x


@rule("Sqrt", np.sqrt, math.sqrt)
def d_sqrt(g, ans, x):
    return g * 0.5 / ans


@rule("Exp", np.exp, math.exp)
def d_exp(g, ans, x):
    return g * ans


@rule("Expm1", np.expm1, math.expm1)
def d_expm1(g, ans, x):
    return g * (ans + 1.0)


@rule("Log", np.log, math.log)
def d_log(g, ans, x):
    return g / x


@rule("Log1p", np.log1p, math.log1p)
def d_log1p(g, ans, x):
    return g / (x + 1.0)


@rule("Sin", np.sin, math.sin)
def d_sin(g, ans, x):
    return g * np.cos(x)


@rule("Cos", np.cos, math.cos)
def d_cos(g, ans, x):
    return -g * np.sin(x)


@rule("Tan", np.tan, math.tan)
def d_tan(g, ans, x):
    return g * (1.0 + ans * ans)


@rule("Tanh", np.tanh, math.tanh)
def d_tanh(g, ans, x):
    return g * (1.0 - ans * ans)


@rule("Asin", np.arcsin, math.asin)
def d_asin(g, ans, x):
    return g / np.sqrt(1.0 - x * x)


@rule("Acos", np.arccos, math.acos)
def d_acos(g, ans, x):
    return -g / np.sqrt(1.0 - x * x)


@rule("Atan", np.arctan, math.atan)
def d_atan(g, ans, x):
    return g / (1.0 + x * x)


@rule("Sinh", np.sinh, math.sinh)
def d_sinh(g, ans, x):
    return g * np.cosh(x)


@rule("Cosh", np.cosh, math.cosh)
def d_cosh(g, ans, x):
    return g * np.sinh(x)


@rule("Sigmoid")
def d_sigmoid(g, ans, x):
    return g * ans * (1.0 - ans)


@rule("Abs", np.abs, np.absolute, abs, math.fabs)
def d_abs(g, ans, x):
    return g * np.sign(x)


@rule("Relu")
def d_relu(g, ans, x):
    return g * (x > 0)


@rule("Maximum", np.maximum, n_inputs=2)
def d_maximum(g, ans, x, y):
    # A tie sends the gradient to the first argument, as TensorFlow does.
    x_wins = x >= y
    return unbroadcast(g * x_wins, x), unbroadcast(g * (1 - x_wins), y)


@rule("Minimum", np.minimum, n_inputs=2)
def d_minimum(g, ans, x, y):
    x_wins = x <= y
    return unbroadcast(g * x_wins, x), unbroadcast(g * (1 - x_wins), y)


@rule("SelectV2", np.where, n_inputs=3)
def d_where(g, ans, cond, x, y):
    return None, unbroadcast(g * cond, x), unbroadcast(g * (1 - cond), y)


@rule("ClipByValue", np.clip, n_inputs=3)
def d_clip(g, ans, x, lo, hi):
    inside = (x >= lo) * (x <= hi)
    return (unbroadcast(g * inside, x), unbroadcast(g * (x < lo), lo),
            unbroadcast(g * (x > hi), hi))


# --- reductions ------------------------------------------------------------------------------
@rule("Sum", np.sum)
def d_sum(g, ans, x, axis=None, keepdims=False):
    return unreduce(g, x, axis, keepdims)


@rule("Mean", np.mean)
def d_mean(g, ans, x, axis=None, keepdims=False):
    return unreduce(g, x, axis, keepdims) * (np.size(ans) / np.size(x))


@rule("Prod", np.prod)
def d_prod(g, ans, x, axis=None, keepdims=False):
    # the product of the other elements, not ans / x, which fails where x == 0
    return unreduce(g, x, axis, keepdims) * prod_of_others(x, axis)


@rule("Max", np.max, np.amax)
def d_max(g, ans, x, axis=None, keepdims=False):
    return unreduce(g, x, axis, keepdims) * extremum_weights(ans, x, axis, keepdims)


@rule("Min", np.min, np.amin)
def d_min(g, ans, x, axis=None, keepdims=False):
    return unreduce(g, x, axis, keepdims) * extremum_weights(ans, x, axis, keepdims)


# --- linear algebra and shapes ---------------------------------------------------------------
@rule("MatMul", np.matmul, np.dot, operator.matmul, n_inputs=2)
def d_matmul(g, ans, x, y):
    if np.ndim(x) == 1 and np.ndim(y) == 1:
        return g * y, g * x
    if np.ndim(x) == 1:
        return np.dot(y, g), np.outer(x, g)
    if np.ndim(y) == 1:
        return np.outer(g, y), np.dot(g, x)
    if np.ndim(x) > 2 or np.ndim(y) > 2:
        # batched: the last two axes multiply, leading axes broadcast
        return (unbroadcast(np.matmul(g, np.swapaxes(y, -1, -2)), x),
                unbroadcast(np.matmul(np.swapaxes(x, -1, -2), g), y))
    return np.dot(g, np.transpose(y)), np.dot(np.transpose(x), g)


@rule("Outer", np.outer, n_inputs=2)
def d_outer(g, ans, x, y):
    return np.dot(g, y), np.dot(x, g)


@rule("Transpose", np.transpose)
def d_transpose(g, ans, x, axes=None):
    return untranspose(g, axes)


@rule("Reshape", np.reshape)
def d_reshape(g, ans, x, shape=None):
    return np.reshape(g, np.shape(x))


@rule("Squeeze", np.squeeze)
def d_squeeze(g, ans, x, axis=None):
    return np.reshape(g, np.shape(x))


@rule("ExpandDims", np.expand_dims)
def d_expand_dims(g, ans, x, axis=None):
    return np.reshape(g, np.shape(x))


@rule("BroadcastTo", np.broadcast_to)
def d_broadcast_to(g, ans, x, shape=None):
    return unbroadcast(g, x)


@rule("Cast")
def d_cast(g, ans, x, dtype=None):
    return g


@rule("StridedSlice", operator.getitem)
def d_getitem(g, ans, x, index=None):
    return unslice(g, x, index)


# The helpers are primitives too, so a gradient computed by a rule can be differentiated again.
@rule("Unbroadcast", unbroadcast, n_inputs=2)
def d_unbroadcast(g, ans, x, like):
    return np.broadcast_to(g, np.shape(x)), None


@rule("SumToShape", sum_to_shape)
def d_sum_to_shape(g, ans, x, shape=None):
    return np.broadcast_to(g, np.shape(x))


@rule("Unreduce", unreduce, n_inputs=2)
def d_unreduce(g, ans, x, like, axis=None, keepdims=False):
    return np.sum(g, axis=axis, keepdims=keepdims), None


@rule("Untranspose", untranspose)
def d_untranspose(g, ans, x, axes=None):
    return np.transpose(g, axes)


@rule("Unslice", unslice, n_inputs=2)
def d_unslice(g, ans, x, like, index=None):
    return g[index], None


# --- added for the tape's TF ops (softmax family, joins, tiling) --------------------------------
@rule("Reciprocal", np.reciprocal)
def d_reciprocal(g, ans, x):
    return -g * ans * ans


@rule("Rsqrt")
def d_rsqrt(g, ans, x):
    return g * -0.5 * ans / x


@rule("Softplus")
def d_softplus(g, ans, x):
    return g / (1.0 + np.exp(-x))


@rule("Softmax")
def d_softmax(g, ans, x, axis=-1):
    return ans * (g - np.sum(g * ans, axis=axis, keepdims=True))


@rule("LogSoftmax")
def d_log_softmax(g, ans, x, axis=-1):
    return g - np.exp(ans) * np.sum(g, axis=axis, keepdims=True)


# Variadic primitives (n_inputs=-1): one adjoint per input, returned as a tuple.
@rule("ConcatV2", np.concatenate, n_inputs=-1)
def d_concat(g, ans, *xs, axis=0):
    return unconcat(g, axis, *xs)


@rule("Pack", np.stack, n_inputs=-1)
def d_pack(g, ans, *xs, axis=0):
    return tuple(np.moveaxis(g, axis, 0))


@rule("Tile", np.tile)
def d_tile(g, ans, x, multiples=None):
    return untile(g, x, multiples)


@rule("Cumsum", np.cumsum)
def d_cumsum(g, ans, x, axis=0):
    return np.flip(np.cumsum(np.flip(g, axis), axis=axis), axis)


@rule("Atan2", np.arctan2, n_inputs=2)
def d_atan2(g, ans, y, x):
    den = x * x + y * y
    return unbroadcast(g * x / den, y), unbroadcast(-g * y / den, x)


@rule("TensorScatterAdd", n_inputs=2)
def d_scatter_add(g, ans, x, updates, index=None):
    # out = x with updates added at index (np.add.at): g flows to x, and g[index] to the updates
    return g, unbroadcast(g[index], updates)


@rule("Einsum", n_inputs=-1)  # by name only: the equation is a parameter, not an input
def d_einsum(g, ans, *xs, equation=None):
    return einsum_adjoints(g, equation, *xs)


@rule("Erf")
def d_erf(g, ans, x):
    return g * 1.1283791670955126 * np.exp(-x * x)  # 2/sqrt(pi) exp(-x^2)


@rule("MatrixInverse")  # by name: the compiler may add np.linalg.inv once it lowers it
def d_matrix_inverse(g, ans, x):
    ans_t = np.swapaxes(ans, -1, -2)
    return -np.matmul(ans_t, np.matmul(g, ans_t))


@rule("MatrixDeterminant")
def d_matrix_determinant(g, ans, x):
    return np.expand_dims(np.expand_dims(g * ans, -1), -1) * np.swapaxes(np.linalg.inv(x), -1, -2)
