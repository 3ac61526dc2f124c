"""Elementwise math, reductions, matmul and casts by TensorFlow's names."""
import builtins

import numpy as np

from . import dtypes as _dt
from .opdef import (unary, binary, nondiff_binary, nondiff_unary, as_tensor, wrap, operand, pair,
                    op_for, check_same_dtype, shape_text)
from .rules import RULES
from .recording import state, record
from .tensor import InvalidArgumentError, Tensor, convert_to_tensor

_np_abs = np.abs


def _sigmoid(v):
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-v))


def _softplus(v):
    return np.logaddexp(v, 0) if isinstance(v, np.ndarray) else np.logaddexp(v, v.dtype.type(0))


def _erf(v):
    import math as _m
    return np.asarray(np.vectorize(_m.erf, otypes=[np.float64])(v), dtype=v.dtype)[()]


def _rsqrt(v):
    return 1.0 / np.sqrt(v)


# --- elementwise ------------------------------------------------------------------------------
add = binary("AddV2", np.add)
subtract = binary("Sub", np.subtract)
multiply = binary("Mul", np.multiply)
divide = binary("RealDiv", np.true_divide)
truediv = realdiv = divide
pow = binary("Pow", np.power)  # noqa: A001 (TF's name)
maximum = binary("Maximum", np.maximum)
minimum = binary("Minimum", np.minimum)
atan2 = binary("Atan2", np.arctan2)

negative = neg = unary("Neg", np.negative)
identity = unary("Identity", np.positive)
square = unary("Square", np.square)
sqrt = unary("Sqrt", np.sqrt)
rsqrt = unary("Rsqrt", _rsqrt)
reciprocal = unary("Reciprocal", np.reciprocal)
exp = unary("Exp", np.exp)
expm1 = unary("Expm1", np.expm1)
log = unary("Log", np.log)
log1p = unary("Log1p", np.log1p)
sin = unary("Sin", np.sin)
cos = unary("Cos", np.cos)
tan = unary("Tan", np.tan)
tanh = unary("Tanh", np.tanh)
asin = unary("Asin", np.arcsin)
acos = unary("Acos", np.arccos)
atan = unary("Atan", np.arctan)
sinh = unary("Sinh", np.sinh)
cosh = unary("Cosh", np.cosh)
sigmoid = unary("Sigmoid", _sigmoid)
abs = unary("Abs", np.abs)  # noqa: A001
erf = unary("Erf", _erf)
softplus = unary("Softplus", _softplus)
relu = unary("Relu", lambda v: np.maximum(v, 0))

# No gradient (TF registers these as non-differentiable or with zero gradient): never recorded.
sign = nondiff_unary(np.sign)
floor = nondiff_unary(np.floor)
ceil = nondiff_unary(np.ceil)
round = nondiff_unary(np.round)  # noqa: A001
is_nan = nondiff_unary(np.isnan)
is_inf = nondiff_unary(np.isinf)
is_finite = nondiff_unary(np.isfinite)
logical_not = nondiff_unary(np.logical_not)
equal = nondiff_binary(np.equal, "Equal")
not_equal = nondiff_binary(np.not_equal, "NotEqual")
less = nondiff_binary(np.less, "Less")
less_equal = nondiff_binary(np.less_equal, "LessEqual")
greater = nondiff_binary(np.greater, "Greater")
greater_equal = nondiff_binary(np.greater_equal, "GreaterEqual")
logical_and = nondiff_binary(np.logical_and)
logical_or = nondiff_binary(np.logical_or)
logical_xor = nondiff_binary(np.logical_xor)
floordiv = floor_div = nondiff_binary(np.floor_divide)
floormod = mod = binary("FloorMod", np.mod)   # the table's rule: d/dx = 1, d/dy = -floor(x/y)


def squared_difference(x, y, name=None):
    return square(subtract(x, y))


def scalar_mul(scalar, x, name=None):
    return multiply(scalar, x)


def divide_no_nan(x, y, name=None):
    x, y = as_tensor(x), as_tensor(y)
    safe = where(equal(y, 0), ones_like_value(y), y)
    return where(equal(y, 0), zeros_like_value(x, y), divide(x, safe))


def ones_like_value(t):
    return Tensor(np.ones_like(t._v)[()] if t._v.ndim == 0 else np.ones_like(t._v))


def zeros_like_value(x, y):
    v = np.zeros(np.broadcast_shapes(np.shape(x._v), np.shape(y._v)), dtype=x._v.dtype)
    return wrap(v)


def add_n(inputs, name=None):
    out = inputs[0]
    for x in inputs[1:]:
        out = add(out, x)
    return out if len(inputs) > 1 else identity(out)


def where(condition, x=None, y=None, name=None):
    """Elementwise select (SelectV2); with only ``condition``, the indices of true elements."""
    c = as_tensor(condition)
    if x is None and y is None:
        return Tensor(np.argwhere(c._v).astype(np.int64))
    x, xv, y, yv = pair(x, y)
    cv = c._v
    out = wrap(np.where(cv, xv, yv))
    if state.tapes:
        record(RULES["SelectV2"], out, (c, x, y), (cv, xv, yv))
    return out


def clip_by_value(t, clip_value_min, clip_value_max, name=None):
    t = as_tensor(t)
    tv = t._v
    lo, lov = operand(clip_value_min, tv)
    hi, hiv = operand(clip_value_max, tv)
    out = wrap(np.clip(tv, lov, hiv))
    if state.tapes:
        record(RULES["ClipByValue"], out, (t, lo, hi), (tv, lov, hiv))
    return out


def cast(x, dtype, name=None):
    x = as_tensor(x)
    npd = _dt.np_dtype(dtype)
    xv = x._v
    if xv.dtype == npd:
        return x
    out = wrap(np.asarray(xv).astype(npd))
    if state.tapes:
        record(RULES["Cast"], out, (x,), (xv,), {"dtype": npd})
    return out


def saturate_cast(value, dtype, name=None):
    return cast(value, dtype)


# --- reductions -------------------------------------------------------------------------------
def _axis(axis):
    """TF accepts ints, lists and tensors as axis; numpy wants an int or a tuple."""
    if axis is None:
        return None
    if isinstance(axis, Tensor):
        axis = axis._v.tolist()
    if isinstance(axis, (list, tuple, np.ndarray)):
        axis = tuple(int(a) for a in np.asarray(axis).ravel())
        return axis
    return int(axis)


def _axis_error(op_name, axis, xv):
    bad = [a for a in (axis if isinstance(axis, tuple) else (axis,)) if not -xv.ndim <= a < xv.ndim]
    return InvalidArgumentError(f"Invalid reduction dimension ({bad[0]} for input with {xv.ndim} "
                                f"dimension(s) [Op:{op_name}] name: ")


def _reduction(rule_name, npfn, keep_int=True):
    r = RULES[rule_name]

    def op(input_tensor, axis=None, keepdims=False, name=None):
        x = input_tensor if type(input_tensor) is Tensor else convert_to_tensor(input_tensor)
        xv = x._v
        axis = _axis(axis)
        keepdims = builtins.bool(keepdims)
        try:
            v = npfn(xv, axis=axis, keepdims=keepdims)
        except np.exceptions.AxisError:
            raise _axis_error(rule_name, axis, xv) from None
        if keep_int and v.dtype != xv.dtype:
            v = v.astype(xv.dtype)  # TF keeps the input dtype (int32 sums stay int32)
        out = wrap(v)
        if state.tapes:
            record(r, out, (x,), (xv,), {"axis": axis, "keepdims": keepdims})
        return out
    op.__name__ = rule_name
    return op


reduce_sum = _reduction("Sum", np.sum)
reduce_mean = _reduction("Mean", np.mean)
reduce_prod = _reduction("Prod", np.prod)
reduce_max = _reduction("Max", np.max)
reduce_min = _reduction("Min", np.min)


def reduce_any(input_tensor, axis=None, keepdims=False, name=None):
    return wrap(np.any(as_tensor(input_tensor)._v, axis=_axis(axis), keepdims=keepdims))


def reduce_all(input_tensor, axis=None, keepdims=False, name=None):
    return wrap(np.all(as_tensor(input_tensor)._v, axis=_axis(axis), keepdims=keepdims))


def reduce_logsumexp(input_tensor, axis=None, keepdims=False, name=None):
    from .array_ops import stop_gradient
    x = as_tensor(input_tensor)
    m = stop_gradient(reduce_max(x, axis=axis, keepdims=True))
    m = where(is_finite(m), m, 0.0)
    s = log(reduce_sum(exp(x - m), axis=axis, keepdims=True)) + m
    if not keepdims:
        from .array_ops import reshape
        s = reshape(s, np.sum(np.empty(x._v.shape), axis=_axis(axis)).shape)
    return s


def reduce_variance(input_tensor, axis=None, keepdims=False, name=None):
    x = as_tensor(input_tensor)
    m = reduce_mean(x, axis=axis, keepdims=True)
    return reduce_mean(square(x - m), axis=axis, keepdims=keepdims)


def reduce_std(input_tensor, axis=None, keepdims=False, name=None):
    return sqrt(reduce_variance(input_tensor, axis=axis, keepdims=keepdims))


def reduce_euclidean_norm(input_tensor, axis=None, keepdims=False, name=None):
    return sqrt(reduce_sum(square(input_tensor), axis=axis, keepdims=keepdims))


def count_nonzero(input, axis=None, keepdims=False, dtype=_dt.int64, name=None):
    v = np.count_nonzero(as_tensor(input)._v, axis=_axis(axis), keepdims=keepdims)
    return wrap(np.asarray(v, dtype=_dt.np_dtype(dtype)))


def argmax(input, axis=None, output_type=_dt.int64, name=None):
    v = as_tensor(input)._v
    return wrap(np.argmax(v, axis=0 if axis is None else _axis(axis)).astype(_dt.np_dtype(output_type)))


def argmin(input, axis=None, output_type=_dt.int64, name=None):
    v = as_tensor(input)._v
    return wrap(np.argmin(v, axis=0 if axis is None else _axis(axis)).astype(_dt.np_dtype(output_type)))


def cumsum(x, axis=0, exclusive=False, reverse=False, name=None):
    from .array_ops import reverse as _rev
    x = as_tensor(x)
    axis = int(axis)
    if reverse:
        x = _rev(x, [axis])
    xv = x._v
    out = wrap(np.cumsum(xv, axis=axis, dtype=xv.dtype))
    if state.tapes:
        record(RULES["Cumsum"], out, (x,), (xv,), {"axis": axis})
    if exclusive:
        out = out - x
    if reverse:
        out = _rev(out, [axis])
    return out


# --- linear algebra ---------------------------------------------------------------------------
_MATMUL = RULES["MatMul"]


def matmul(a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False,
           a_is_sparse=False, b_is_sparse=False, output_type=None, name=None):
    a = a if type(a) is Tensor else convert_to_tensor(a)
    if type(b) is not Tensor:
        b, _ = operand(b, a._v) if not isinstance(b, (list, tuple)) else (convert_to_tensor(b, a.dtype), None)
        b = as_tensor(b)
    if transpose_a or adjoint_a:
        from .array_ops import matrix_transpose
        a = matrix_transpose(a)
    if transpose_b or adjoint_b:
        from .array_ops import matrix_transpose
        b = matrix_transpose(b)
    av, bv = a._v, b._v
    if av.dtype != bv.dtype:
        check_same_dtype("MatMul", av, bv)
    try:
        out = wrap(np.matmul(av, bv))
    except ValueError:
        raise InvalidArgumentError(f"Matrix size-incompatible: In[0]: {shape_text(av)}, In[1]: "
                                   f"{shape_text(bv)} [Op:MatMul] name: ") from None
    if state.tapes:
        record(_MATMUL, out, (a, b), (av, bv))
    return out


op_for("MatMul", matmul)


def tensordot(a, b, axes, name=None):
    from .array_ops import reshape, transpose
    a, b = as_tensor(a), as_tensor(b)
    if isinstance(axes, int):
        ax_a = list(range(a.ndim - axes, a.ndim))
        ax_b = list(range(axes))
    else:
        ax_a, ax_b = [list(np.atleast_1d(x)) for x in axes]
    ax_a = [x % a.ndim for x in ax_a]
    ax_b = [x % b.ndim for x in ax_b]
    free_a = [i for i in range(a.ndim) if i not in ax_a]
    free_b = [i for i in range(b.ndim) if i not in ax_b]
    sa, sb = a._v.shape, b._v.shape
    k = int(np.prod([sa[i] for i in ax_a]))
    a2 = reshape(transpose(a, free_a + ax_a), (-1, k))
    b2 = reshape(transpose(b, ax_b + free_b), (k, -1))
    return reshape(matmul(a2, b2), [sa[i] for i in free_a] + [sb[i] for i in free_b])


def norm(tensor, ord="euclidean", axis=None, keepdims=None, name=None):
    t = as_tensor(tensor)
    if ord in ("euclidean", 2, "fro"):
        return sqrt(reduce_sum(square(t), axis=axis, keepdims=builtins.bool(keepdims)))
    if ord == 1:
        return reduce_sum(abs(t), axis=axis, keepdims=builtins.bool(keepdims))
    if ord == np.inf:
        return reduce_max(abs(t), axis=axis, keepdims=builtins.bool(keepdims))
    raise ValueError(f"'ord' must be a supported vector norm, got {ord!r}")


def l2_normalize(x, axis=None, epsilon=1e-12, name=None):
    x = as_tensor(x)
    sq = reduce_sum(square(x), axis=axis, keepdims=True)
    return x * rsqrt(maximum(sq, epsilon))


def clip_by_norm(t, clip_norm, axes=None, name=None):
    """``t * clip_norm / max(l2norm(t), clip_norm)`` (differentiable, as TF)."""
    t = as_tensor(t)
    l2 = sqrt(reduce_sum(square(t), axis=axes, keepdims=True))
    return t * clip_norm / maximum(l2, clip_norm)


def global_norm(t_list, name=None):
    return sqrt(add_n([reduce_sum(square(t)) for t in t_list if t is not None]))


def clip_by_global_norm(t_list, clip_norm, use_norm=None, name=None):
    """Scale every tensor by ``clip_norm / max(global_norm, clip_norm)``; returns (list, norm)."""
    norm = global_norm(t_list) if use_norm is None else as_tensor(use_norm)
    scale = clip_norm / maximum(norm, clip_norm)
    return [None if t is None else as_tensor(t) * cast(scale, as_tensor(t).dtype) for t in t_list], norm


def einsum(equation, *inputs, **kwargs):
    """``tf.einsum``: explicit or implicit output, repeated indices, ellipsis."""
    from .rules.linalg import einsum_plan
    ts = tuple(as_tensor(x) for x in inputs)
    eq = einsum_plan(equation, *[t._v for t in ts])[0]   # spelled out explicitly
    vals = tuple(t._v for t in ts)
    out = wrap(np.einsum(eq, *vals))
    if state.tapes:
        record(RULES["Einsum"], out, ts, vals, {"equation": eq})
    return out


# --- more linear algebra ----------------------------------------------------------------------
def matrix_inverse(input, adjoint=False, name=None):
    x = as_tensor(input)
    xv = x._v
    out = wrap(np.linalg.inv(xv))
    if state.tapes:
        record(RULES["MatrixInverse"], out, (x,), (xv,))
    return out


def matrix_determinant(input, name=None):
    x = as_tensor(input)
    xv = x._v
    out = wrap(np.asarray(np.linalg.det(xv), dtype=xv.dtype))
    if state.tapes:
        record(RULES["MatrixDeterminant"], out, (x,), (xv,))
    return out


def matrix_solve(matrix, rhs, adjoint=False, name=None):
    """inv(matrix) @ rhs (differentiable through MatrixInverse and MatMul)."""
    return matmul(matrix_inverse(matrix), rhs)


def trace(x, name=None):
    from .array_ops import diag_part
    return reduce_sum(diag_part(x), axis=-1)
