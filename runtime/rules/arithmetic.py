"""Arithmetic and elementwise comparison: operators, their numpy ufuncs, where and clip."""
import math
import operator

import numpy as np

from .helpers import unbroadcast
from .table import define, primitive, tangent


@primitive("AddV2", np.add, operator.add, operator.iadd, n_inputs=2, native="binary")
def d_add(g, ans, x, y):
    return unbroadcast(g, x), unbroadcast(g, y)


@tangent("AddV2")
def f_add(x_dot, y_dot, ans, x, y):
    return x_dot, y_dot


@primitive("Sub", np.subtract, operator.sub, operator.isub, n_inputs=2, native="binary")
def d_sub(g, ans, x, y):
    return unbroadcast(g, x), unbroadcast(-g, y)


@tangent("Sub")
def f_sub(x_dot, y_dot, ans, x, y):
    return x_dot, -y_dot


@primitive("Mul", np.multiply, operator.mul, operator.imul, n_inputs=2, native="binary")
def d_mul(g, ans, x, y):
    return unbroadcast(g * y, x), unbroadcast(g * x, y)


@tangent("Mul")
def f_mul(x_dot, y_dot, ans, x, y):
    return x_dot * y, x * y_dot


@primitive("RealDiv", np.divide, np.true_divide, operator.truediv, operator.itruediv, n_inputs=2,
           native="binary", domain="pos")
def d_div(g, ans, x, y):
    return unbroadcast(g / y, x), unbroadcast(-g * ans / y, y)


@tangent("RealDiv")
def f_div(x_dot, y_dot, ans, x, y):
    return x_dot / y, -y_dot * ans / y


@primitive("Pow", np.power, operator.pow, operator.ipow, math.pow, n_inputs=2, native="binary",
           domain="pos")
def d_pow(g, ans, x, y):
    # d/dy uses log(x), defined only for x > 0; elsewhere the term is taken as 0 (as TF does).
    # and x ** 0 is flat in x, also at x == 0 where y * x ** (y - 1) would be 0 * inf
    safe_x = np.where(x > 0, x, 1.0)
    # (g * y first: with y a constant, the generated x ** 2 gradient reads g * 2 * x, and ds * 2
    # folds to a constant in a loop)
    return (unbroadcast(np.where(y == 0, g * 0.0, g * y * np.power(x, y - 1)), x),
            unbroadcast(g * ans * np.log(safe_x) * (x > 0), y))


@tangent("Pow", "FloatPower")
def f_pow(x_dot, y_dot, ans, x, y):
    safe_x = np.where(x > 0, x, 1.0)
    return (np.where(y == 0, x_dot * 0.0, x_dot * y * np.power(x, y - 1)),
            y_dot * ans * np.log(safe_x) * (x > 0))


@primitive("Neg", np.negative, operator.neg, native="unary_same")
def d_neg(g, ans, x):
    return -g


@tangent("Neg")
def f_neg(x_dot, ans, x):
    return -x_dot


@primitive("Identity", np.positive, operator.pos, native="unary_same")
def d_identity(g, ans, x):
    return g


@tangent("Identity")
def f_identity(x_dot, ans, x):
    return x_dot


@primitive("Square", np.square, native="unary_same")
def d_square(g, ans, x):
    return g * 2.0 * x


@tangent("Square")
def f_square(x_dot, ans, x):
    return x_dot * 2.0 * x


@primitive("Reciprocal", np.reciprocal, native="unary_same", domain="pos")
def d_reciprocal(g, ans, x):
    return np.where(g == 0, 0.0, -g * ans * ans)   # guarded as TF's ReciprocalGrad


@tangent("Reciprocal")
def f_reciprocal(x_dot, ans, x):
    return -x_dot * ans * ans


@primitive("Abs", np.abs, np.absolute, np.fabs, abs, math.fabs, native="unary_same")
def d_abs(g, ans, x):
    return g * np.sign(x)


@tangent("Abs")
def f_abs(x_dot, ans, x):
    return x_dot * np.sign(x)


@primitive("Maximum", np.maximum, n_inputs=2, native="binary")
def d_maximum(g, ans, x, y):
    # A tie sends the gradient to the first argument, as TensorFlow does.
    x_wins = x >= y
    return unbroadcast(g * x_wins, x), unbroadcast(g * (1 - x_wins), y)


@tangent("Maximum")
def f_maximum(x_dot, y_dot, ans, x, y):
    x_wins = x >= y
    return x_dot * x_wins, y_dot * (1 - x_wins)


@primitive("Minimum", np.minimum, n_inputs=2, native="binary")
def d_minimum(g, ans, x, y):
    x_wins = x <= y
    return unbroadcast(g * x_wins, x), unbroadcast(g * (1 - x_wins), y)


@tangent("Minimum")
def f_minimum(x_dot, y_dot, ans, x, y):
    x_wins = x <= y
    return x_dot * x_wins, y_dot * (1 - x_wins)


@primitive("Fmax", np.fmax, n_inputs=2, native="binary")
def d_fmax(g, ans, x, y):
    # the non-nan operand wins; a tie goes to the first, as for maximum
    x_wins = np.logical_or(x >= y, np.isnan(y))
    return unbroadcast(g * x_wins, x), unbroadcast(g * (1 - x_wins), y)


@tangent("Fmax")
def f_fmax(x_dot, y_dot, ans, x, y):
    x_wins = np.logical_or(x >= y, np.isnan(y))
    return x_dot * x_wins, y_dot * (1 - x_wins)


@primitive("Fmin", np.fmin, n_inputs=2, native="binary")
def d_fmin(g, ans, x, y):
    x_wins = np.logical_or(x <= y, np.isnan(y))
    return unbroadcast(g * x_wins, x), unbroadcast(g * (1 - x_wins), y)


@tangent("Fmin")
def f_fmin(x_dot, y_dot, ans, x, y):
    x_wins = np.logical_or(x <= y, np.isnan(y))
    return x_dot * x_wins, y_dot * (1 - x_wins)


@primitive("CopySign", np.copysign, math.copysign, n_inputs=2, native="binary")
def d_copysign(g, ans, x, y):
    # |x| with y's sign: the slope is +-1 in x, flat in y
    return unbroadcast(g * np.sign(x) * np.sign(ans), x), None


@tangent("CopySign")
def f_copysign(x_dot, y_dot, ans, x, y):
    return x_dot * np.sign(x) * np.sign(ans), None


_MASK = np.array([True, False, False, True])
_MASK_2D = np.array([[True, False, True, False], [False, False, True, True], [True] * 4])


@primitive("SelectV2", np.where, n_inputs=3, native="where",
           grid=((_MASK, "v", "v"), (_MASK_2D, "s", "v"), (_MASK, "m", "c")))
def d_where(g, ans, cond, x, y):
    return None, unbroadcast(g * cond, x), unbroadcast(g * (1 - cond), y)


@tangent("SelectV2")
def f_where(cond_dot, x_dot, y_dot, ans, cond, x, y):
    return None, np.where(cond, x_dot, 0.0), np.where(cond, 0.0, y_dot)


@primitive("ClipByValue", np.clip, n_inputs=3, methods=("clip",), native="clip",
           grid=(("v", "v-", "v+"), ("m", "s-", "v+"), ("m", -0.5, 0.5)))
def d_clip(g, ans, x, lo, hi):
    inside = (x >= lo) * (x <= hi)
    return (unbroadcast(g * inside, x), unbroadcast(g * (x < lo), lo),
            unbroadcast(g * (x > hi), hi))


@tangent("ClipByValue")
def f_clip(x_dot, lo_dot, hi_dot, ans, x, lo, hi):
    inside = (x >= lo) * (x <= hi)
    return x_dot * inside, lo_dot * (x < lo), hi_dot * (x > hi)


@primitive("FloorMod", np.mod, np.remainder, operator.mod, operator.imod, n_inputs=2,
           domain="pos")
def d_mod(g, ans, x, y):
    # x % y == x - floor(x / y) * y, and floor is flat almost everywhere
    return unbroadcast(g, x), unbroadcast(-g * np.floor_divide(x, y), y)


@tangent("FloorMod")
def f_mod(x_dot, y_dot, ans, x, y):
    return x_dot, -y_dot * np.floor_divide(x, y)


@primitive("TruncateMod", np.fmod, math.fmod, n_inputs=2, native="binary", domain="pos")
def d_fmod(g, ans, x, y):
    return unbroadcast(g, x), unbroadcast(-g * np.trunc(x / y), y)


@tangent("TruncateMod")
def f_fmod(x_dot, y_dot, ans, x, y):
    return x_dot, -y_dot * np.trunc(x / y)


# Piecewise constant: their values carry no gradient (zero almost everywhere).
define("Sign", np.sign, kind="nondiff", native="unary_same")
define("Floor", np.floor, math.floor, kind="nondiff", native="unary_float")
define("Ceil", np.ceil, math.ceil, kind="nondiff", native="unary_float")
define("Round", np.round, np.rint, np.fix, round, kind="nondiff")
define("Trunc", np.trunc, math.trunc, kind="nondiff", native="unary_float")
define("FloorDiv", np.floor_divide, operator.floordiv, kind="nondiff", role="int")
for _name, _fns in {
    "Greater": (np.greater, operator.gt), "Less": (np.less, operator.lt),
    "GreaterEqual": (np.greater_equal, operator.ge), "LessEqual": (np.less_equal, operator.le),
    "Equal": (np.equal, operator.eq), "NotEqual": (np.not_equal, operator.ne),
    "LogicalAnd": (np.logical_and,), "LogicalOr": (np.logical_or,),
    "LogicalNot": (np.logical_not, operator.not_),
}.items():
    define(_name, *_fns, kind="nondiff")
define("IsNan", np.isnan, math.isnan, kind="nondiff", native="predicate")
define("IsFinite", np.isfinite, math.isfinite, kind="nondiff", native="predicate")
define("IsInf", np.isinf, kind="nondiff", native="predicate")

# the real part and the conjugate pass the adjoint through: of a real value they are the value,
# and of a complex one computed from real inputs the real part of the complex adjoint that
# reaches the input is the derivative. (np.imag and np.angle are not constants of complex
# values, so they have no entry: refused.)
define("Real", np.real, np.conj, np.conjugate, np.real_if_close, methods=("conj", "conjugate"),
       kind="identity", native="copy")


# float_power is power computed in float64: the same rule
define("FloatPower", np.float_power, reverse=d_pow, n_inputs=2, domain="pos")


@primitive("NanToNum", np.nan_to_num, grid=(("v",), ("m",)))
def d_nan_to_num(g, ans, x, copy=True, nan=0.0, posinf=None, neginf=None):
    # finite values pass through; nan and infinities become constants
    return g * np.isfinite(x)


@tangent("NanToNum")
def f_nan_to_num(x_dot, ans, x, copy=True, nan=0.0, posinf=None, neginf=None):
    return x_dot * np.isfinite(x)
