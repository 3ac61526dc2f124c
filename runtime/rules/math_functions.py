"""Elementwise functions of one value: numpy ufuncs and their ``math`` twins."""
import math

import numpy as np

from .helpers import unbroadcast
from .table import define, primitive, tangent


def since_311(name):
    """math.<name> where Python has it (math.cbrt and math.exp2 are new in 3.11)."""
    return (getattr(math, name),) if hasattr(math, name) else ()


@primitive("Sqrt", np.sqrt, math.sqrt, native="unary_float", domain="pos")
def d_sqrt(g, ans, x):
    # a zero incoming gradient gives zero, also where 1/sqrt(x) is inf or nan (TF's SqrtGrad), so
    # that the masked branch of where(x > 0, sqrt(x), 0) contributes nothing at x <= 0
    return np.where(g == 0, 0.0, g * 0.5 / ans)


@tangent("Sqrt")
def f_sqrt(x_dot, ans, x):
    return x_dot * 0.5 / ans


@primitive("Exp", np.exp, math.exp, native="unary_float")
def d_exp(g, ans, x):
    return g * ans


@tangent("Exp")
def f_exp(x_dot, ans, x):
    return x_dot * ans


@primitive("Exp2", np.exp2, *since_311("exp2"), native="unary_float")
def d_exp2(g, ans, x):
    return g * ans * 0.6931471805599453   # ln 2


@tangent("Exp2")
def f_exp2(x_dot, ans, x):
    return x_dot * ans * 0.6931471805599453


@primitive("Expm1", np.expm1, math.expm1, native="unary_float")
def d_expm1(g, ans, x):
    return g * (ans + 1.0)


@tangent("Expm1")
def f_expm1(x_dot, ans, x):
    return x_dot * (ans + 1.0)


@primitive("Log", np.log, math.log, native="unary_float", domain="pos")
def d_log(g, ans, x):
    return g / x


@tangent("Log")
def f_log(x_dot, ans, x):
    return x_dot / x


@primitive("Log2", np.log2, math.log2, native="unary_float", domain="pos")
def d_log2(g, ans, x):
    return g / (x * 0.6931471805599453)


@tangent("Log2")
def f_log2(x_dot, ans, x):
    return x_dot / (x * 0.6931471805599453)


@primitive("Log10", np.log10, math.log10, native="unary_float", domain="pos")
def d_log10(g, ans, x):
    return g / (x * 2.302585092994046)


@tangent("Log10")
def f_log10(x_dot, ans, x):
    return x_dot / (x * 2.302585092994046)


@primitive("Log1p", np.log1p, math.log1p, native="unary_float", domain="pos")
def d_log1p(g, ans, x):
    return g / (x + 1.0)


@tangent("Log1p")
def f_log1p(x_dot, ans, x):
    return x_dot / (x + 1.0)


@primitive("Sin", np.sin, math.sin, native="unary_float")
def d_sin(g, ans, x):
    return g * np.cos(x)


@tangent("Sin")
def f_sin(x_dot, ans, x):
    return x_dot * np.cos(x)


@primitive("Cos", np.cos, math.cos, native="unary_float")
def d_cos(g, ans, x):
    return -g * np.sin(x)


@tangent("Cos")
def f_cos(x_dot, ans, x):
    return -x_dot * np.sin(x)


@primitive("Tan", np.tan, math.tan, native="unary_float")
def d_tan(g, ans, x):
    return g * (1.0 + ans * ans)


@tangent("Tan")
def f_tan(x_dot, ans, x):
    return x_dot * (1.0 + ans * ans)


@primitive("Tanh", np.tanh, math.tanh, native="unary_float")
def d_tanh(g, ans, x):
    return g * (1.0 - ans * ans)


@tangent("Tanh")
def f_tanh(x_dot, ans, x):
    return x_dot * (1.0 - ans * ans)


@primitive("Asin", np.arcsin, math.asin, native="unary_float", domain="unit")
def d_asin(g, ans, x):
    return g / np.sqrt(1.0 - x * x)


@tangent("Asin")
def f_asin(x_dot, ans, x):
    return x_dot / np.sqrt(1.0 - x * x)


@primitive("Acos", np.arccos, math.acos, native="unary_float", domain="unit")
def d_acos(g, ans, x):
    return -g / np.sqrt(1.0 - x * x)


@tangent("Acos")
def f_acos(x_dot, ans, x):
    return -x_dot / np.sqrt(1.0 - x * x)


@primitive("Atan", np.arctan, math.atan, native="unary_float")
def d_atan(g, ans, x):
    return g / (1.0 + x * x)


@tangent("Atan")
def f_atan(x_dot, ans, x):
    return x_dot / (1.0 + x * x)


@primitive("Sinh", np.sinh, math.sinh, native="unary_float")
def d_sinh(g, ans, x):
    return g * np.cosh(x)


@tangent("Sinh")
def f_sinh(x_dot, ans, x):
    return x_dot * np.cosh(x)


@primitive("Cosh", np.cosh, math.cosh, native="unary_float")
def d_cosh(g, ans, x):
    return g * np.sinh(x)


@tangent("Cosh")
def f_cosh(x_dot, ans, x):
    return x_dot * np.sinh(x)


@primitive("Asinh", np.arcsinh, math.asinh, native="unary_float")
def d_asinh(g, ans, x):
    return g / np.sqrt(x * x + 1.0)


@tangent("Asinh")
def f_asinh(x_dot, ans, x):
    return x_dot / np.sqrt(x * x + 1.0)


@primitive("Acosh", np.arccosh, math.acosh, native="unary_float", domain="gt1")
def d_acosh(g, ans, x):
    return g / np.sqrt(x * x - 1.0)


@tangent("Acosh")
def f_acosh(x_dot, ans, x):
    return x_dot / np.sqrt(x * x - 1.0)


@primitive("Atanh", np.arctanh, math.atanh, native="unary_float", domain="unit")
def d_atanh(g, ans, x):
    return g / (1.0 - x * x)


@tangent("Atanh")
def f_atanh(x_dot, ans, x):
    return x_dot / (1.0 - x * x)


@primitive("Atan2", np.arctan2, math.atan2, n_inputs=2, native="binary")
def d_atan2(g, ans, y, x):
    den = x * x + y * y
    return unbroadcast(g * x / den, y), unbroadcast(-g * y / den, x)


@tangent("Atan2")
def f_atan2(y_dot, x_dot, ans, y, x):
    den = x * x + y * y
    return y_dot * x / den, -x_dot * y / den


@primitive("Hypot", np.hypot, math.hypot, n_inputs=2, native="binary")
def d_hypot(g, ans, x, y):
    return unbroadcast(g * x / ans, x), unbroadcast(g * y / ans, y)


@tangent("Hypot")
def f_hypot(x_dot, y_dot, ans, x, y):
    return x_dot * x / ans, y_dot * y / ans


@primitive("Erf", math.erf, native="math")
def d_erf(g, ans, x):
    return g * 1.1283791670955126 * np.exp(-x * x)  # 2/sqrt(pi) exp(-x^2)


@tangent("Erf")
def f_erf(x_dot, ans, x):
    return x_dot * 1.1283791670955126 * np.exp(-x * x)


@primitive("Erfc", math.erfc, native="math")
def d_erfc(g, ans, x):
    return g * -1.1283791670955126 * np.exp(-x * x)


@tangent("Erfc")
def f_erfc(x_dot, ans, x):
    return x_dot * -1.1283791670955126 * np.exp(-x * x)


# known to native code for the primal; their derivatives (digamma) are not in numpy: grad refuses
define("Gamma", math.gamma, kind="primal", native="math")
define("LogGamma", math.lgamma, kind="primal", native="math")


# TensorFlow's activations, reached by name from the tape's ops
@primitive("Sigmoid")
def d_sigmoid(g, ans, x):
    return g * ans * (1.0 - ans)


@tangent("Sigmoid")
def f_sigmoid(x_dot, ans, x):
    return x_dot * ans * (1.0 - ans)


@primitive("Relu")
def d_relu(g, ans, x):
    return g * (x > 0)


@tangent("Relu")
def f_relu(x_dot, ans, x):
    return x_dot * (x > 0)


@primitive("Rsqrt")
def d_rsqrt(g, ans, x):
    return np.where(g == 0, 0.0, g * -0.5 * ans * ans * ans)   # guarded as TF's RsqrtGrad


@tangent("Rsqrt")
def f_rsqrt(x_dot, ans, x):
    return x_dot * -0.5 * ans / x


@primitive("Softplus")
def d_softplus(g, ans, x):
    return g / (1.0 + np.exp(-x))


@tangent("Softplus")
def f_softplus(x_dot, ans, x):
    return x_dot / (1.0 + np.exp(-x))


# log(e^x + e^y) and its base-2 twin: each input's share of the sum, exp(x - ans), is bounded
@primitive("LogAddExp", np.logaddexp, n_inputs=2)
def d_logaddexp(g, ans, x, y):
    return unbroadcast(g * np.exp(x - ans), x), unbroadcast(g * np.exp(y - ans), y)


@tangent("LogAddExp")
def f_logaddexp(x_dot, y_dot, ans, x, y):
    return x_dot * np.exp(x - ans), y_dot * np.exp(y - ans)


@primitive("LogAddExp2", np.logaddexp2, n_inputs=2)
def d_logaddexp2(g, ans, x, y):
    return unbroadcast(g * np.exp2(x - ans), x), unbroadcast(g * np.exp2(y - ans), y)


@tangent("LogAddExp2")
def f_logaddexp2(x_dot, y_dot, ans, x, y):
    return x_dot * np.exp2(x - ans), y_dot * np.exp2(y - ans)


@primitive("Cbrt", np.cbrt, *since_311("cbrt"), native="unary_float", domain="pos")
def d_cbrt(g, ans, x):
    # infinite slope at 0, as sqrt's
    return g / (3.0 * ans * ans)


@tangent("Cbrt")
def f_cbrt(x_dot, ans, x):
    return x_dot / (3.0 * ans * ans)


@primitive("Sinc", np.sinc)
def d_sinc(g, ans, x):
    # sinc(x) = sin(pi x) / (pi x): slope (cos(pi x) - sinc(x)) / x, and 0 at x == 0 (even)
    safe_x = np.where(x == 0, 1.0, x)
    return g * np.where(x == 0, 0.0, (np.cos(np.pi * safe_x) - ans) / safe_x)


@tangent("Sinc")
def f_sinc(x_dot, ans, x):
    safe_x = np.where(x == 0, 1.0, x)
    return x_dot * np.where(x == 0, 0.0, (np.cos(np.pi * safe_x) - ans) / safe_x)


@primitive("Deg2Rad", np.deg2rad, np.radians, math.radians, native="unary_float")
def d_deg2rad(g, ans, x):
    return g * 0.017453292519943295   # pi / 180


@tangent("Deg2Rad")
def f_deg2rad(x_dot, ans, x):
    return x_dot * 0.017453292519943295


@primitive("Rad2Deg", np.rad2deg, np.degrees, math.degrees, native="unary_float")
def d_rad2deg(g, ans, x):
    return g * 57.29577951308232      # 180 / pi


@tangent("Rad2Deg")
def f_rad2deg(x_dot, ans, x):
    return x_dot * 57.29577951308232


# a step (and a sign bit): flat almost everywhere
define("Heaviside", np.heaviside, kind="nondiff")
define("SignBit", np.signbit, kind="nondiff")
