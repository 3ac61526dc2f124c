"""The differentiation corpus: plain Python/numpy functions with example arguments.

Every function here is an ordinary module-level ``def`` (so ``inspect.getsource`` works) that
returns a scalar float.  Each one is registered in ``CORPUS`` as a ``Case``: the function, one or
more example argument tuples, the argument(s) to differentiate (``argnums``), and tags naming the
constructs it exercises.  The corpus does not depend on tapeflow at all; the tests in
``test_corpus.py`` check ``tapeflow.grad`` against finite differences and across backends.

Rules the corpus follows:
  * example points stay well away from kinks (``abs``, ``max``, ``where``, branch and loop
    boundaries on values), so central finite differences are accurate there;
  * arrays are small (3 to 6 elements), float64;
  * functions never mutate their arguments;
  * cases tagged ``tape_only`` use constructs the source transform does not handle (recursion,
    lists, dicts, generators, try/except, calls into unknown code).  Under ``backend="auto"`` they
    must still get the right gradient (from the tape); ``backend="python"`` must raise
    ``TransformError``.

Tags (a case has several): scalar / array / 2d (argument kinds); arith, pow, math, ufunc,
reduce, axis, keepdims, prod, zero (np.prod through a zero), dot, where, minmax, abs, broadcast,
slice, index, method, attr, reshape, zeros (np.zeros/zeros_like/ones filled in place); branch,
ifexp, early_return, loop, range, rows (``for row in X``), while, break, continue, nested_loop,
for_else; augassign, alias (``+=`` through a second name), tuple, overwrite (array elements
written more than once); call, kwargs, default_args, closure, inner_def; int_mix (integers in float
math), int_arg (an int passed where the derivative is taken); print; app, recurrence, long,
rosenbrock, mlp, logsumexp, gmm; tuple_argnums; kink (a non-differentiable point exists, the
example points avoid it); tape_only plus recursion, list, dict, generator, try, unknown_call,
lambda; writes_computed (writes into an array computed from the inputs: the tape may refuse
these with an error naming the line, but must never return a wrong gradient).
"""
import functools
import math
import statistics
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np


@dataclass(frozen=True)
class Case:
    fn: Callable
    args: tuple            # a tuple of argument tuples: each one is an example point
    argnums: Any = 0       # int or tuple of ints
    tags: frozenset = field(default_factory=frozenset)
    name: str = ""

    @property
    def id(self):
        return self.name or self.fn.__name__

    @property
    def tape_only(self):
        return "tape_only" in self.tags


CORPUS = []


def add(fn, args, argnums=0, tags="", name=""):
    """Register ``fn`` with its example points ``args`` (a list of tuples)."""
    if isinstance(tags, str):
        tags = tags.split()
    args = tuple(tuple(a) for a in args)
    assert args, fn
    c = Case(fn, args, argnums, frozenset(tags), name)
    assert c.id not in {k.id for k in CORPUS}, "duplicate case name " + c.id
    CORPUS.append(c)
    return fn


# --- example inputs (small, fixed, float64; distinct values so no ties in max/min) -------------
V3 = np.array([0.4, -1.1, 0.8])
V4 = np.array([0.3, -1.2, 0.7, 1.9])
W4 = np.array([1.1, 0.5, -0.6, 0.25])
V5 = np.array([0.9, -0.35, 1.4, -1.7, 0.55])
V6 = np.array([0.15, -0.8, 1.25, 0.6, -1.45, 0.95])
P4 = np.array([0.6, 1.3, 2.2, 0.45])              # positive
P5 = np.array([1.5, 0.7, 2.4, 0.35, 1.1])          # positive
U4 = np.array([0.2, 0.55, 0.35, 0.8])              # inside (0, 1)
M23 = np.array([[0.5, -1.2, 0.3], [1.4, 0.2, -0.7]])
M32 = np.array([[0.9, -0.4], [0.1, 1.3], [-0.6, 0.75]])
M33 = np.array([[1.2, -0.3, 0.45], [0.2, 0.8, -1.1], [-0.5, 0.65, 1.5]])
M34 = np.array([[0.3, -0.9, 1.1, 0.4], [1.6, 0.25, -0.45, -1.3], [-0.2, 0.7, 0.85, -0.6]])
M43 = M34.T.copy()
PM23 = np.array([[0.8, 1.9, 0.45], [1.2, 0.3, 2.6]])   # positive


# =============================================================================================
# scalar arithmetic and **
# =============================================================================================
def poly3(x):
    return 3.0 * x ** 2 + 2.0 * x - 1.0


add(poly3, [(1.0,), (-2.3,)], tags="scalar arith pow")


def cube_by_mul(x):
    return x * x * x


add(cube_by_mul, [(1.0,), (-0.7,)], tags="scalar arith")


def rational_fn(x):
    return (x + 1.0) / (x * x + 2.0)


add(rational_fn, [(0.4,), (-1.8,)], tags="scalar arith")


def pow_int_exponents(x):
    return x ** 5 - 2.0 * x ** 3 + x ** 1


add(pow_int_exponents, [(1.2,), (-0.6,)], tags="scalar pow")


def pow_float_exponents(x):
    return x ** 2.5 + x ** 0.5 - 3.0 * x ** 1.5


add(pow_float_exponents, [(0.8,), (2.1,)], tags="scalar pow")


def pow_negative_exponents(x):
    return x ** -2 + 3.0 * x ** -1 + x ** -0.5


add(pow_negative_exponents, [(0.7,), (1.9,)], tags="scalar pow")


def pow_var_var(x, y):
    return x ** y


add(pow_var_var, [(1.7, 2.3), (0.6, -1.4)], argnums=(0, 1), tags="scalar pow tuple_argnums")


def pow_const_base(y):
    return 2.0 ** y + 0.5 ** (y * y)


add(pow_const_base, [(1.3,), (-0.4,)], tags="scalar pow")


def two_var_quadratic(x, y):
    return x ** 2 + 2.0 * y ** 2 + 1.0


add(two_var_quadratic, [(3.0, 4.0)], argnums=(0, 1), tags="scalar arith pow tuple_argnums")


def seed_g(x1, x2):
    return (x1 + 5) * (x2 ** 2)


add(seed_g, [(2.0, 3.0), (-1.5, 0.5)], argnums=(0, 1), tags="scalar arith pow tuple_argnums")


def negation_chain(x):
    return -x * (-x + 3.0) - (-(x * 2.0))


add(negation_chain, [(0.9,)], tags="scalar arith")


def division_chain(x, y):
    return x / y / (x + y)


add(division_chain, [(1.3, 0.7), (2.0, -0.45)], argnums=1, tags="scalar arith")


def int_constants_mixed(x):
    return 2 * x + 3 - x / 4 + 7 // 2 * x


add(int_constants_mixed, [(0.35,)], tags="scalar arith int_mix")


def three_args_pick(a, b, c):
    return a * b + b * c - a / c


add(three_args_pick, [(1.1, -0.4, 2.3)], argnums=(0, 2), tags="scalar arith tuple_argnums")


def three_args_middle(a, b, c):
    return (a - b) ** 2 * c + b


add(three_args_middle, [(1.1, -0.4, 2.3)], argnums=1, tags="scalar arith pow")


def nested_power(x):
    return (x ** 2 + 1.0) ** 3


add(nested_power, [(0.6,), (-1.1,)], tags="scalar pow")


def sqrt_via_pow(x):
    return (x * x + 1.0) ** 0.5


add(sqrt_via_pow, [(0.6,), (-2.2,)], tags="scalar pow")


def pow_chain_two(x, y):
    return (x * y) ** 2 / (1.0 + y ** 2)


add(pow_chain_two, [(0.8, 1.6)], argnums=(0, 1), tags="scalar pow tuple_argnums")


def unused_argument(x, y):
    return x * x + 1.0


add(unused_argument, [(0.8, 1.6)], argnums=(0, 1), tags="scalar arith tuple_argnums")


def constant_wrt_arg(x, y):
    return y * 3.0 + 2.0


add(constant_wrt_arg, [(0.8, 1.6)], argnums=0, tags="scalar arith")


def reuse_many_times(x):
    y = x * x
    z = y + x
    w = z * y - x / z
    return w + y * z * x


add(reuse_many_times, [(0.75,), (-1.6,)], tags="scalar arith")


def integer_power_of_sum(x, y):
    s = x + 2.0 * y
    return s ** 4 - s ** 2


add(integer_power_of_sum, [(0.3, 0.4)], argnums=(0, 1), tags="scalar pow tuple_argnums")


def int_argument_point(x):
    return x ** 3 - 4.0 * x


add(int_argument_point, [(3,), (-2,)], tags="scalar pow int_arg")


# =============================================================================================
# the math module
# =============================================================================================
def math_sin_cos(x):
    return math.sin(x) * math.cos(x) + math.sin(2.0 * x)


add(math_sin_cos, [(0.4,), (2.9,)], tags="scalar math")


def math_tan(x):
    return math.tan(x) + x * math.tan(0.5 * x)


add(math_tan, [(0.3,), (-0.9,)], tags="scalar math")


def math_exp_log(x):
    return math.exp(-x) * math.log(x) + math.log(x * x + 1.0)


add(math_exp_log, [(0.5,), (2.7,)], tags="scalar math")


def math_sqrt(x):
    return math.sqrt(x) + math.sqrt(x * x + 3.0)


add(math_sqrt, [(0.49,), (4.2,)], tags="scalar math")


def math_tanh(x):
    return math.tanh(x) * x + math.tanh(3.0 * x)


add(math_tanh, [(0.2,), (-0.8,)], tags="scalar math")


def math_pow_fn(x, y):
    return math.pow(x, 3) + math.pow(y, 0.5) * x + math.pow(x, y)


add(math_pow_fn, [(1.3, 2.1)], argnums=(0, 1), tags="scalar math pow tuple_argnums")


def math_fabs(x):
    return math.fabs(x - 1.0) * x + math.fabs(x)


add(math_fabs, [(0.4,), (1.7,), (-0.6,)], tags="scalar math abs kink")


def math_log1p_expm1(x):
    return math.log1p(x * x) + math.expm1(-x)


add(math_log1p_expm1, [(0.3,), (-1.2,)], tags="scalar math")


def math_atan(x):
    return math.atan(x) + math.atan(x * x - 1.0)


add(math_atan, [(0.6,), (-2.0,)], tags="scalar math")


def math_softplus(x):
    return math.log(1.0 + math.exp(math.sin(x)))


add(math_softplus, [(0.8,), (-2.4,)], tags="scalar math")


def math_sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


add(math_sigmoid, [(0.0,), (1.7,)], tags="scalar math")


def math_gaussian_pdf(x, mu, sigma):
    z = (x - mu) / sigma
    return math.exp(-0.5 * z * z) / (sigma * math.sqrt(2.0 * math.pi))


add(math_gaussian_pdf, [(0.3, -0.2, 1.4)], argnums=(0, 1, 2), tags="scalar math tuple_argnums")


def math_constants(x):
    return math.pi * x + math.e * x * x


add(math_constants, [(0.7,)], tags="scalar math")


def math_nested_trig(x):
    return math.sin(math.cos(math.tan(x)))


add(math_nested_trig, [(0.45,)], tags="scalar math")


def math_log_of_product(x, y):
    return math.log(x * y) - math.log(x) * math.exp(y / 4.0)


add(math_log_of_product, [(1.3, 2.2)], argnums=(0, 1), tags="scalar math tuple_argnums")


def math_hyperbolic_mix(x):
    return math.tanh(math.expm1(x)) + math.atan(math.log1p(x))


add(math_hyperbolic_mix, [(0.35,)], tags="scalar math")


def math_trig_powers(x):
    return math.sin(x) ** 2 + math.cos(x) ** 3 - math.tan(x) ** 2


add(math_trig_powers, [(0.35,), (-1.1,)], tags="scalar math pow")


# =============================================================================================
# numpy ufuncs on arrays
# =============================================================================================
def np_sin_sum(x):
    return np.sum(np.sin(x))


add(np_sin_sum, [(V4,)], tags="array ufunc reduce")


def np_exp_mean(x):
    return np.mean(np.exp(0.5 * x))


add(np_exp_mean, [(V5,)], tags="array ufunc reduce")


def np_log_sum(x):
    return np.sum(np.log(x) * x)


add(np_log_sum, [(P4,)], tags="array ufunc reduce")


def np_tanh_sq(x):
    return np.sum(np.tanh(x) ** 2)


add(np_tanh_sq, [(V6,)], tags="array ufunc pow reduce")


def np_sqrt_sum(x):
    return np.sum(np.sqrt(x) + np.sqrt(x * x + 1.0))


add(np_sqrt_sum, [(P5,)], tags="array ufunc reduce")


def np_square_sum(x):
    return np.sum(np.square(x - 0.5))


add(np_square_sum, [(V4,)], tags="array ufunc reduce")


def np_abs_sum(x):
    return np.sum(np.abs(x) * x)


add(np_abs_sum, [(V5,)], tags="array ufunc abs reduce kink")


def np_cos_2d(X):
    return np.sum(np.cos(X) * X)


add(np_cos_2d, [(M23,)], tags="array ufunc reduce 2d")


def np_ufunc_chain(x):
    return np.sum(np.log(1.0 + np.exp(np.tanh(x))))


add(np_ufunc_chain, [(V6,)], tags="array ufunc reduce")


def np_array_power(x):
    return np.sum(x ** 3 - 2.0 * x ** 2)


add(np_array_power, [(V4,)], tags="array pow reduce")


def np_array_pow_float(x):
    return np.sum(x ** 1.5)


add(np_array_pow_float, [(P4,)], tags="array pow reduce")


def np_scalar_pow_array(x):
    return np.sum(2.0 ** x)


add(np_scalar_pow_array, [(V4,)], tags="array pow reduce")


def np_scalar_broadcast(x, s):
    return np.sum(np.sin(x * s)) + s * s


add(np_scalar_broadcast, [(V4, 0.7)], argnums=(0, 1), tags="array ufunc broadcast tuple_argnums")


def np_scalar_only_grad(x, s):
    return np.sum(np.exp(-s * x * x))


add(np_scalar_only_grad, [(V5, 0.45)], argnums=1, tags="array ufunc broadcast")


def np_row_broadcast(X, b):
    return np.sum(np.tanh(X + b))


add(np_row_broadcast, [(M23, V3)], argnums=(0, 1), tags="array ufunc broadcast 2d tuple_argnums")


def np_column_broadcast(X, c):
    return np.sum(np.sin(X * c[:, None]))


add(np_column_broadcast, [(M23, np.array([0.7, -1.3]))], argnums=(0, 1),
    tags="array ufunc broadcast slice 2d tuple_argnums")


def np_elementwise_two_arrays(x, y):
    return np.sum(x * y + x / (y * y + 1.0) - np.exp(x - y))


add(np_elementwise_two_arrays, [(V4, W4)], argnums=(0, 1), tags="array arith reduce tuple_argnums")


def np_subtract_divide(x, y):
    return np.sum((x - y) / (1.0 + y * y))


add(np_subtract_divide, [(V4, W4)], argnums=1, tags="array arith reduce")


def np_negative_unary(x):
    return np.sum(-x * np.exp(-x))


add(np_negative_unary, [(V4,)], tags="array arith ufunc reduce")


def np_log_softplus_vec(x):
    return np.sum(np.log1p(np.exp(x)) - np.expm1(0.1 * x))


add(np_log_softplus_vec, [(V5,)], tags="array ufunc reduce")


def np_trig_mix(x):
    return np.sum(np.sin(x) * np.cos(2.0 * x) + np.tan(0.3 * x) + np.arctan(x))


add(np_trig_mix, [(V5,)], tags="array ufunc reduce")


# =============================================================================================
# reductions with axis / keepdims
# =============================================================================================
def sum_axis0(X):
    return np.sum(np.sum(X, axis=0) ** 2)


add(sum_axis0, [(M23,)], tags="array reduce axis 2d")


def sum_axis1(X):
    return np.sum(np.sin(np.sum(X, axis=1)))


add(sum_axis1, [(M34,)], tags="array reduce axis 2d")


def sum_axis_none(X):
    return np.sum(X, axis=None) ** 2


add(sum_axis_none, [(M23,)], tags="array reduce axis 2d")


def sum_keepdims(X):
    s = np.sum(X, axis=1, keepdims=True)
    return np.sum((X / s) ** 2)


add(sum_keepdims, [(PM23,)], tags="array reduce axis keepdims broadcast 2d")


def mean_axis0(X):
    m = np.mean(X, axis=0)
    return np.sum(m * m * m)


add(mean_axis0, [(M34,)], tags="array reduce axis 2d")


def mean_axis1_keepdims_center(X):
    Xc = X - np.mean(X, axis=1, keepdims=True)
    return np.sum(Xc ** 2)


add(mean_axis1_keepdims_center, [(M34,)], tags="array reduce axis keepdims broadcast 2d")


def mean_none(X):
    return np.mean(np.exp(X))


add(mean_none, [(M23,)], tags="array reduce 2d")


def max_axis1(X):
    return np.sum(np.max(X, axis=1))


add(max_axis1, [(M34,)], tags="array reduce axis minmax 2d")


def max_axis0(X):
    return np.sum(np.max(X, axis=0) * np.array([1.0, 2.0, 3.0]))


add(max_axis0, [(M23,)], tags="array reduce axis minmax 2d")


def max_none(x):
    return np.max(x) * np.sum(x)


add(max_none, [(V5,)], tags="array reduce minmax")


def min_axis0(X):
    return np.sum(np.min(X, axis=0) ** 2)


add(min_axis0, [(M34,)], tags="array reduce axis minmax 2d")


def min_axis1_keepdims(X):
    return np.sum(X - np.min(X, axis=1, keepdims=True) * X)


add(min_axis1_keepdims, [(M23,)], tags="array reduce axis keepdims minmax 2d")


def min_none(x):
    return np.min(x * x + x)


add(min_none, [(V4,)], tags="array reduce minmax")


def prod_none(x):
    return np.prod(x)


add(prod_none, [(V4,)], tags="array reduce prod")


def prod_axis0(X):
    return np.sum(np.prod(X, axis=0))


add(prod_axis0, [(M33,)], tags="array reduce prod axis 2d")


def prod_axis1(X):
    return np.sum(np.prod(X, axis=1) * np.array([1.0, -2.0]))


add(prod_axis1, [(M23,)], tags="array reduce prod axis 2d")


def prod_with_zero_entry(x):
    return np.prod(x * np.array([1.0, 0.0, 1.0, 1.0])) + np.sum(x * x)


add(prod_with_zero_entry, [(V4,)], tags="array reduce prod zero")


def prod_input_has_zero(x):
    return np.prod(x) + np.sum(x)


add(prod_input_has_zero, [(np.array([0.5, 0.0, -1.5, 2.0]),)], tags="array reduce prod zero")


def reduce_nested(X):
    return np.max(np.sum(X * X, axis=0))


add(reduce_nested, [(M34,)], tags="array reduce axis minmax 2d")


def reduce_mean_of_max(X):
    return np.mean(np.max(X, axis=1, keepdims=True) - X)


add(reduce_mean_of_max, [(M34,)], tags="array reduce axis keepdims minmax 2d")


# =============================================================================================
# np.dot and @
# =============================================================================================
def dot_matrix_vector(A, x):
    return np.sum(np.tanh(np.dot(A, x)))


add(dot_matrix_vector, [(M23, V3)], argnums=(0, 1), tags="array dot 2d tuple_argnums")


def dot_vector_vector(x, y):
    return np.dot(x, y) ** 2


add(dot_vector_vector, [(V4, W4)], argnums=(0, 1), tags="array dot tuple_argnums")


def dot_matrix_matrix(A, B):
    return np.sum(np.dot(A, B) ** 2)


add(dot_matrix_matrix, [(M23, M32)], argnums=(0, 1), tags="array dot 2d tuple_argnums")


def matmul_operator_mv(A, x):
    y = A @ x
    return np.sum(y * y)


add(matmul_operator_mv, [(M34, V4)], argnums=(0, 1), tags="array dot 2d tuple_argnums")


def matmul_quadratic_form(x, A):
    return x @ A @ x


add(matmul_quadratic_form, [(V3, M33)], argnums=(0, 1), tags="array dot 2d tuple_argnums")


def matmul_vv(x):
    return x @ x + x @ np.array([1.0, 2.0, 3.0, 4.0])


add(matmul_vv, [(V4,)], tags="array dot")


def matmul_mm(A, B):
    return np.sum(np.sin(A @ B))


add(matmul_mm, [(M34, M43)], argnums=(0, 1), tags="array dot 2d tuple_argnums")


def dot_vector_matrix(x, A):
    return np.sum(np.exp(np.dot(x, A) * 0.3))


add(dot_vector_matrix, [(V3, M34)], argnums=(0, 1), tags="array dot 2d tuple_argnums")


def gram_trace(A):
    G = A.T @ A
    return np.sum(G * np.eye(3))


add(gram_trace, [(M23,)], tags="array dot attr 2d")


def chained_matmul(A, B, x):
    return np.sum((A @ (B @ x)) ** 2)


add(chained_matmul, [(M23, M33, V3)], argnums=(0, 1, 2), tags="array dot 2d tuple_argnums")


# =============================================================================================
# np.where, np.maximum/np.minimum, abs, builtin max/min
# =============================================================================================
def where_relu(x):
    return np.sum(np.where(x > 0.0, x, 0.1 * x) ** 2)


add(where_relu, [(V5,)], tags="array where kink")


def where_two_branches(x):
    return np.sum(np.where(x > 0.5, np.sin(x), np.cos(x) * x))


add(where_two_branches, [(V6,)], tags="array where kink")


def where_cond_on_other(x, y):
    return np.sum(np.where(y > 0.0, x * y, x + y))


add(where_cond_on_other, [(V4, W4)], argnums=(0, 1), tags="array where tuple_argnums")


def where_nested(x):
    y = np.where(x > 0.0, np.where(x > 1.0, np.log(x * x), x * x), np.exp(x))
    return np.sum(y * np.array([1.0, 2.0, -1.0, 0.5, 1.5]))


add(where_nested, [(V5,)], tags="array where kink")


def where_2d_scalar_branch(X):
    return np.sum(np.where(X > 0.2, X * X, 0.0) + np.where(X < -0.5, 1.0, X))


add(where_2d_scalar_branch, [(M34,)], tags="array where broadcast 2d kink")


def np_maximum_relu(x):
    return np.sum(np.maximum(x, 0.0) * x)


add(np_maximum_relu, [(V5,)], tags="array minmax kink")


def np_maximum_two_arrays(x, y):
    return np.sum(np.maximum(x, y) ** 2)


add(np_maximum_two_arrays, [(V4, W4)], argnums=(0, 1), tags="array minmax tuple_argnums kink")


def np_minimum_clip(x):
    return np.sum(np.minimum(np.maximum(x, -1.0), 1.0) * 3.0 + x)


add(np_minimum_clip, [(V6,)], tags="array minmax kink")


def np_minimum_two(x, y):
    return np.sum(np.minimum(x * 2.0, y) * x)


add(np_minimum_two, [(V4, W4)], argnums=(0, 1), tags="array minmax tuple_argnums kink")


def builtin_abs_scalar(x):
    return abs(x) * x + abs(x - 2.0)


add(builtin_abs_scalar, [(0.7,), (-1.3,), (2.6,)], tags="scalar abs kink")


def builtin_abs_array(x):
    return np.sum(abs(x) ** 1.5)


add(builtin_abs_array, [(V5,)], tags="array abs kink")


def builtin_max_two(x, y):
    return max(x, y) * x + max(x * x, 0.5)


add(builtin_max_two, [(0.3, 1.2), (1.7, -0.4)], argnums=(0, 1), tags="scalar minmax tuple_argnums kink")


def builtin_min_two(x, y):
    return min(x, y) ** 2 + min(2.0, x * y)


add(builtin_min_two, [(0.3, 1.2), (1.7, -0.4)], argnums=(0, 1), tags="scalar minmax tuple_argnums kink")


def builtin_max_min_clamp(x):
    return max(-1.0, min(1.0, x)) * 2.0 + x * 0.1


add(builtin_max_min_clamp, [(0.4,), (1.8,), (-2.5,)], tags="scalar minmax kink")


# =============================================================================================
# slicing and indexing
# =============================================================================================
def slice_tail(x):
    return np.sum(x[1:] * 2.0) + x[0]


add(slice_tail, [(V5,)], tags="array slice")


def slice_head(x):
    return np.sum(np.sin(x[:-1]))


add(slice_head, [(V5,)], tags="array slice")


def slice_differences(x):
    d = x[1:] - x[:-1]
    return np.sum(d * d)


add(slice_differences, [(V6,)], tags="array slice")


def slice_step2(x):
    return np.sum(x[::2] ** 2) - np.sum(x[1::2])


add(slice_step2, [(V6,)], tags="array slice")


def slice_column(X):
    return np.sum(X[:, 0] * X[:, 2])


add(slice_column, [(M34,)], tags="array slice 2d")


def slice_rows(X):
    return np.sum(np.exp(X[1:3, :]))


add(slice_rows, [(M43,)], tags="array slice 2d")


def slice_reverse(x):
    return np.sum(x[::-1] * np.array([1.0, 2.0, 3.0, 4.0]))


add(slice_reverse, [(V4,)], tags="array slice")


def index_negative(x):
    return x[-1] * x[0] + x[-2] ** 2


add(index_negative, [(V5,)], tags="array slice index")


def index_2d_elements(X):
    return X[0, 1] * X[1, 2] - X[1, 0] ** 2


add(index_2d_elements, [(M23,)], tags="array slice index 2d")


def index_row(X):
    r = X[1]
    return np.sum(r * r) + X[0][2]


add(index_row, [(M34,)], tags="array slice index 2d")


def slice_stride_range(x):
    return np.sum(x[1:5:2] * x[0:4:2])


add(slice_stride_range, [(V6,)], tags="array slice")


def slice_submatrix(X):
    return np.sum(X[1:, :2] @ np.array([1.0, -1.0]))


add(slice_submatrix, [(M33,)], tags="array slice dot 2d")


# =============================================================================================
# array methods and attributes
# =============================================================================================
def method_sum(x):
    return (x * x).sum() + x.sum()


add(method_sum, [(V4,)], tags="array method reduce")


def method_mean_max(x):
    return x.mean() * x.max() - x.min()


add(method_mean_max, [(V5,)], tags="array method reduce minmax")


def method_sum_axis(X):
    return np.sum(X.sum(axis=0) ** 2) + X.sum(axis=1).prod()


add(method_sum_axis, [(M23,)], tags="array method reduce axis prod 2d")


def attr_transpose(A):
    return np.sum(A.T @ A) + np.sum(A.T[0] * 2.0)


add(attr_transpose, [(M23,)], tags="array attr dot 2d")


def attr_shape_normalize(x):
    n = x.shape[0]
    return np.sum(x * x) / n


add(attr_shape_normalize, [(V5,)], tags="array attr int_mix")


def method_reshape(x):
    M = x.reshape(2, 3)
    return np.sum(M[0] * M[1])


add(method_reshape, [(V6,)], tags="array method reshape 2d")


def method_reshape_tuple(x):
    M = x.reshape((3, 2))
    return np.sum(np.sum(M, axis=1) ** 2)


add(method_reshape_tuple, [(V6,)], tags="array method reshape reduce 2d")


def np_reshape_function(X):
    v = np.reshape(X, (6,))
    return np.sum(v * np.arange(6.0))


add(np_reshape_function, [(M23,)], tags="array reshape 2d")


def len_normalize(x):
    return np.sum(np.exp(x)) / len(x)


add(len_normalize, [(V4,)], tags="array attr int_mix")


def method_dot(x, y):
    return x.dot(y) + x.dot(x)


add(method_dot, [(V4, W4)], argnums=(0, 1), tags="array method dot tuple_argnums")


def attr_shape_2d(X):
    n, m = X.shape
    return np.sum(X) / (n * m) + X.shape[1] * X[0, 0]


add(attr_shape_2d, [(M34,)], tags="array attr tuple 2d int_mix")


def method_prod_reshape_T(x):
    return x.reshape(2, 2).T.prod(axis=0).sum()


add(method_prod_reshape_T, [(V4,)], tags="array method attr reshape prod 2d")


def np_transpose_function(X):
    return np.sum(np.transpose(X) * np.array([1.0, 2.0]))


add(np_transpose_function, [(M23,)], tags="array attr 2d")


# =============================================================================================
# np.zeros / np.zeros_like / np.ones filled in loops
# =============================================================================================
def zeros_fill_squares(x):
    n = x.shape[0]
    y = np.zeros(n)
    for i in range(n):
        y[i] = x[i] ** 2
    return np.sum(y * x)


add(zeros_fill_squares, [(V4,)], tags="array zeros loop range attr")


def zeros_like_cumsum(x):
    c = np.zeros_like(x)
    c[0] = x[0]
    for i in range(1, len(x)):
        c[i] = c[i - 1] + x[i]
    return np.sum(c * c)


add(zeros_like_cumsum, [(V5,)], tags="array zeros loop range attr")


def ones_cumprod(x):
    p = np.ones(len(x) + 1)
    for i in range(len(x)):
        p[i + 1] = p[i] * x[i]
    return np.sum(p)


add(ones_cumprod, [(V4,)], tags="array zeros loop range attr")


def zeros_2d_outer(x, y):
    M = np.zeros((x.shape[0], y.shape[0]))
    for i in range(x.shape[0]):
        for j in range(y.shape[0]):
            M[i, j] = x[i] * y[j]
    return np.sum(np.sin(M))


add(zeros_2d_outer, [(V3, W4)], argnums=(0, 1), tags="array zeros loop nested_loop 2d tuple_argnums")


def zeros_fill_reversed(x):
    n = len(x)
    y = np.zeros(n)
    for i in range(n):
        y[n - 1 - i] = x[i] * (i + 1.0)
    return np.sum(y * np.array([1.0, -1.0, 2.0, -2.0]))


add(zeros_fill_reversed, [(V4,)], tags="array zeros loop int_mix")


def zeros_scalar_broadcast_fill(s):
    y = np.zeros(4)
    for i in range(4):
        y[i] = s ** (i + 1)
    return np.sum(y)


add(zeros_scalar_broadcast_fill, [(0.8,), (-1.3,)], tags="array zeros loop int_mix")


def ones_like_weights(x):
    w = np.ones(x.shape[0])
    w[1] = 3.0
    w[2] = x[0]
    return np.sum(w * x)


add(ones_like_weights, [(V4,)], tags="array zeros index")


def zeros_like_running_max(x):
    m = np.zeros_like(x)
    m[0] = x[0]
    for i in range(1, x.shape[0]):
        m[i] = max(m[i - 1], x[i])
    return np.sum(m)


add(zeros_like_running_max, [(V5,)], tags="array zeros loop minmax kink")


# =============================================================================================
# if / elif / else, conditional expressions, early return
# =============================================================================================
def if_else_value(x):
    if x > 0.0:
        y = x * x
    else:
        y = -x * 3.0
    return y + x


add(if_else_value, [(0.8,), (-1.4,)], tags="scalar branch")


def if_elif_else(x):
    if x < -1.0:
        y = math.sin(x)
    elif x < 1.0:
        y = x ** 3
    else:
        y = math.exp(-x)
    return y * 2.0


add(if_elif_else, [(-2.0,), (0.4,), (1.8,)], tags="scalar branch math")


def if_without_else(x):
    y = x * 2.0
    if y > 1.0:
        y = y * y
    return y


add(if_without_else, [(0.3,), (1.1,)], tags="scalar branch")


def ifexp_simple(x):
    return x * x if x > 0.0 else -x


add(ifexp_simple, [(0.6,), (-0.9,)], tags="scalar ifexp")


def ifexp_nested(x, y):
    z = x * y if x > y else (x + y if y > 2.0 else x - y)
    return z * x


add(ifexp_nested, [(2.0, 1.0), (0.5, 3.0), (0.5, 1.0)], argnums=(0, 1),
    tags="scalar ifexp tuple_argnums")


def early_return_branch(x):
    if x > 1.0:
        return math.log(x) * x
    y = x * x
    return y + 1.0


add(early_return_branch, [(2.2,), (0.3,)], tags="scalar branch early_return math")


def early_return_all_branches(x):
    if x > 2.0:
        return x ** 3
    elif x > 0.0:
        return x * 5.0
    else:
        return -x * x


add(early_return_all_branches, [(2.5,), (1.0,), (-0.7,)], tags="scalar branch early_return")


def early_return_in_loop(x):
    y = x
    for i in range(10):
        y = y * 1.5
        if y > 5.0:
            return y + i
    return y * 0.0 + x


add(early_return_in_loop, [(0.7,), (0.01,)], tags="scalar loop early_return int_mix")


def early_return_in_while(x):
    while True:
        x = x * 1.3 + 0.1
        if x > 3.0:
            return x * x
    return x


add(early_return_in_while, [(0.45,)], tags="scalar while early_return")


def branch_on_int_param(x, mode):
    if mode == 0:
        return math.sin(x)
    if mode == 1:
        return x * x
    return x


add(branch_on_int_param, [(0.7, 0), (0.7, 1), (0.7, 2)], tags="scalar branch int_mix early_return")


def branch_boolean_ops(x, y):
    if x > 0.0 and y > 0.0:
        z = x * y
    elif x > 0.0 or y > 1.0:
        z = x + y * y
    else:
        z = -x * y
    return z


add(branch_boolean_ops, [(0.5, 0.7), (0.5, -0.3), (-0.5, 1.7), (-0.5, -0.2)], argnums=(0, 1),
    tags="scalar branch tuple_argnums")


def branch_not(x):
    if not x > 1.0:
        x = x * 3.0
    return x * x


add(branch_not, [(0.4,), (1.5,)], tags="scalar branch")


def branch_on_array_reduction(x):
    if np.sum(x) > 0.0:
        return np.sum(x * x)
    return np.sum(np.exp(x))


add(branch_on_array_reduction, [(V4,), (-V4 - 1.0,)], tags="array branch early_return reduce")


def nested_branches(x, y):
    if x > 0.0:
        if y > 0.0:
            r = x * y
        else:
            r = x - y
    else:
        if y > x:
            r = y * y
        else:
            r = x * x * y
    return r


add(nested_branches, [(0.5, 0.7), (0.5, -0.3), (-0.5, 1.7), (-0.5, -0.8)], argnums=(0, 1),
    tags="scalar branch tuple_argnums")


def branch_reassign_in_both(x):
    y = x
    if x > 0.5:
        y = y * math.sin(y)
    else:
        y = y + math.cos(y)
    y = y * x
    return y


add(branch_reassign_in_both, [(0.9,), (0.2,)], tags="scalar branch math")


def ifexp_in_loop(x):
    s = 0.0
    for i in range(5):
        s = s + (x * i if i % 2 == 0 else x * x)
    return s


add(ifexp_in_loop, [(0.9,)], tags="scalar loop ifexp int_mix")


# =============================================================================================
# for loops over range / arrays, while loops, break / continue, nested loops
# =============================================================================================
def loop_range_stop(x):
    s = 0.0
    for i in range(6):
        s = s + x ** i
    return s


add(loop_range_stop, [(0.8,)], tags="scalar loop range pow int_mix")


def loop_range_start_stop_step(x):
    s = x
    for i in range(2, 11, 3):
        s = s * x + i
    return s


add(loop_range_start_stop_step, [(0.9,)], tags="scalar loop range int_mix")


def loop_range_negative_step(x):
    s = 1.0
    for i in range(5, 0, -1):
        s = s * x + 1.0 / i
    return s


add(loop_range_negative_step, [(1.1,)], tags="scalar loop range int_mix")


def loop_over_shape(x):
    s = 0.0
    for i in range(x.shape[0]):
        s = s + math.sin(x[i]) * (i + 1)
    return s


add(loop_over_shape, [(V5,)], tags="array loop range attr math int_mix index")


def loop_over_len_negative_step(x):
    acc = 0.0
    for i in range(len(x) - 1, -1, -1):
        acc = acc * 0.5 + x[i]
    return acc * acc


add(loop_over_len_negative_step, [(V5,)], tags="array loop range attr index")


def loop_over_rows(X):
    s = 0.0
    for row in X:
        s = s + np.sum(row * row) * np.max(row)
    return s


add(loop_over_rows, [(M34,)], tags="array loop rows reduce minmax 2d")


def loop_over_elements(x):
    s = 0.0
    for v in x:
        s = s + v * v * v
    return s


add(loop_over_elements, [(V4,)], tags="array loop rows")


def loop_over_rows_matvec(X, w):
    s = 0.0
    for row in X:
        s = s + math.tanh(np.dot(row, w))
    return s


add(loop_over_rows_matvec, [(M43, V3)], argnums=(0, 1), tags="array loop rows dot math 2d tuple_argnums")


def while_halving(x):
    while x > 1.0:
        x = x / 2.0
    return x * x


add(while_halving, [(5.3,), (0.7,)], tags="scalar while")


def while_counter(x):
    i = 0
    y = x
    while i < 4:
        y = math.sin(y) + y * 0.5
        i += 1
    return y


add(while_counter, [(0.8,)], tags="scalar while math augassign")


def newton_sqrt_break(a):
    x = a
    for k in range(30):
        x_new = 0.5 * (x + a / x)
        if abs(x_new - x) < 1e-12:
            break
        x = x_new
    return x


add(newton_sqrt_break, [(2.0,), (7.3,)], tags="scalar loop break abs")


def while_value_and_counter(x):
    n = 0
    while x < 10.0 and n < 20:
        x = x * 1.7 + 0.2
        n = n + 1
    return x / n


add(while_value_and_counter, [(0.3,)], tags="scalar while int_mix")


def loop_break(x):
    s = 0.0
    for i in range(10):
        s = s + x * i
        if s > 4.0:
            break
    return s * s


add(loop_break, [(0.5,), (2.05,)], tags="scalar loop break int_mix")


def loop_continue(x):
    s = 0.0
    for i in range(8):
        if i % 3 == 0:
            continue
        s = s + math.sin(x * i)
    return s


add(loop_continue, [(0.35,)], tags="scalar loop continue math int_mix")


def loop_continue_on_value(x):
    s = 0.0
    for i in range(x.shape[0]):
        if x[i] < 0.0:
            continue
        s = s + x[i] ** 2
    return s


add(loop_continue_on_value, [(V6,)], tags="array loop continue index")


def loop_break_on_value(x):
    s = 0.0
    for i in range(len(x)):
        if x[i] < -1.0:
            break
        s = s + x[i] * s + x[i]
    return s


add(loop_break_on_value, [(V4,), (V6,)], tags="array loop break index")


def while_break_continue(x):
    i = 0
    y = x
    while i < 12:
        i = i + 1
        if i % 2 == 0:
            continue
        y = y * 0.9 + math.cos(y)
        if y > 100.0:
            break
    return y


add(while_break_continue, [(0.4,)], tags="scalar while break continue math")


def while_continue_on_value(x):
    i = 0
    s = 0.0
    while i < len(x):
        v = x[i]
        i = i + 1
        if v * v > 1.0:
            continue
        s = s + math.sin(v) * i
    return s


add(while_continue_on_value, [(V6,)], tags="array while continue math index int_mix")


def nested_loops_scalar(x):
    s = 0.0
    for i in range(3):
        for j in range(4):
            s = s + x ** (i + 1) * (j - 1.5)
    return s


add(nested_loops_scalar, [(0.7,)], tags="scalar loop nested_loop pow int_mix")


def nested_loops_matrix(X):
    s = 0.0
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            s = s + X[i, j] * X[i, j] * (i - j)
    return s


add(nested_loops_matrix, [(M34,)], tags="array loop nested_loop index 2d int_mix")


def nested_loop_triangular(x):
    s = 0.0
    n = len(x)
    for i in range(n):
        for j in range(i + 1, n):
            s = s + (x[i] - x[j]) ** 2
    return s


add(nested_loop_triangular, [(V5,)], tags="array loop nested_loop index")


def nested_loop_break_inner(x):
    s = 0.0
    for i in range(4):
        for j in range(5):
            if j > i:
                break
            s = s + x * (j + 1)
        s = s * 0.9
    return s


add(nested_loop_break_inner, [(1.3,)], tags="scalar loop nested_loop break int_mix")


def seed_tf_loop(x, y):
    output = 1.0
    for i in range(y):
        if i > 1 and i < 5:
            output = output * x
    return output


add(seed_tf_loop, [(2.0, 6), (2.0, 5), (2.0, 4), (1.3, 2)], tags="scalar loop branch int_mix")


def loop_variable_after_loop(x):
    for i in range(4):
        x = x * 1.1
    return x * i


add(loop_variable_after_loop, [(0.9,)], tags="scalar loop int_mix")


def loop_empty_range(x):
    s = x * 2.0
    for i in range(0):
        s = s * x
    return s


add(loop_empty_range, [(0.9,)], tags="scalar loop")


def loop_range_from_int_arg(x, n):
    s = 0.0
    for k in range(1, n + 1):
        s = s + math.sin(k * x) / k
    return s


add(loop_range_from_int_arg, [(0.6, 5), (0.6, 1)], tags="scalar loop math int_mix")


def while_on_array_value(x):
    y = x
    while np.sum(y * y) > 1.0:
        y = y * 0.8
    return np.sum(y * x)


add(while_on_array_value, [(V4,)], tags="array while reduce")


def loop_for_else(x):
    s = 0.0
    for i in range(3):
        s = s + x * i
    else:
        s = s * x
    return s


add(loop_for_else, [(1.2,)], tags="scalar loop for_else int_mix")


# =============================================================================================
# augmented assignment, aliasing
# =============================================================================================
def augassign_scalars(x):
    y = 1.0
    y += x
    y *= x
    y -= 0.5 * x
    y /= (x + 2.0)
    y **= 2
    return y


add(augassign_scalars, [(0.7,), (-1.3,)], tags="scalar augassign")


def augassign_array_elements(x):
    a = np.ones(len(x))
    for i in range(len(x)):
        a[i] += x[i]
        a[i] *= x[i]
        a[i] -= 0.25
        a[i] /= 2.0
    return np.sum(a * a)


add(augassign_array_elements, [(V4,)], tags="array augassign zeros loop index")


def augassign_array_whole(x):
    y = np.sin(x)
    y += x
    y *= 2.0
    y -= x * x
    return np.sum(y)


add(augassign_array_whole, [(V5,)], tags="array augassign")


def augassign_in_loop_accumulate(x):
    s = 0.0
    p = 1.0
    for i in range(5):
        p *= x
        s += p / (i + 1)
    return s


add(augassign_in_loop_accumulate, [(0.8,)], tags="scalar augassign loop int_mix")


def alias_float_iadd(x):
    y = x
    y += 1.0
    return x * y


add(alias_float_iadd, [(0.7,), (-2.0,)], tags="scalar augassign alias")


def alias_float_imul(x):
    y = x
    y *= x
    y += x
    return y * x + y


add(alias_float_imul, [(0.7,), (1.9,)], tags="scalar augassign alias")


def alias_array_iadd(x):
    a = np.sin(x)
    b = a
    b += 1.0
    return np.sum(a * x)


add(alias_array_iadd, [(V4,)], tags="array augassign alias writes_computed")


def alias_array_imul_copy(x):
    a = x * 1.0
    b = a
    b *= x
    return np.sum(a) + np.sum(b)


add(alias_array_imul_copy, [(V4,)], tags="array augassign alias writes_computed")


def alias_rebind_not_mutate(x):
    a = np.cos(x)
    b = a
    b = b + 1.0
    return np.sum(a * b)


add(alias_rebind_not_mutate, [(V4,)], tags="array alias")


def augassign_index_accumulate(x):
    a = np.zeros(3)
    for i in range(len(x)):
        a[i % 3] += x[i] * x[i]
    return np.sum(a * np.array([1.0, 2.0, 3.0]))


add(augassign_index_accumulate, [(V6,)], tags="array augassign zeros loop index int_mix")


# =============================================================================================
# tuples: packing, unpacking, swaps
# =============================================================================================
def tuple_swap(x, y):
    a, b = x, y
    for i in range(4):
        a, b = b, a * b
    return a + b


add(tuple_swap, [(1.1, 0.9)], argnums=(0, 1), tags="scalar tuple loop tuple_argnums")


def tuple_fibonacci_like(x):
    a, b = 1.0, x
    for i in range(6):
        a, b = b, a + b * 0.5
    return b


add(tuple_fibonacci_like, [(0.7,)], tags="scalar tuple loop")


def tuple_pack_unpack(x):
    t = (x, x * x, math.sin(x))
    a, b, c = t
    return a * b + c


add(tuple_pack_unpack, [(0.6,)], tags="scalar tuple math")


def tuple_index(x):
    t = (x * 2.0, x + 1.0)
    return t[0] * t[1]


add(tuple_index, [(0.6,)], tags="scalar tuple")


def tuple_rotation(x, y):
    c, s = math.cos(0.3), math.sin(0.3)
    for k in range(3):
        x, y = c * x - s * y, s * x + c * y
    return x * y + x


add(tuple_rotation, [(1.2, -0.4)], argnums=(0, 1), tags="scalar tuple loop math tuple_argnums")


def _sincos(t):
    return math.sin(t), math.cos(t)


def tuple_from_helper(x):
    s, c = _sincos(x)
    return s * s * c + c


add(tuple_from_helper, [(0.8,)], tags="scalar tuple call math")


def tuple_array_unpack(x):
    a, b, c = x[0], x[1], x[2]
    return a * b * c + a


add(tuple_array_unpack, [(V3,)], tags="array tuple index")


# =============================================================================================
# array elements read and overwritten inside loops
# =============================================================================================
def overwrite_then_sin(x):
    n = x.shape[0]
    a = np.zeros(n)
    a[0] = x[0]
    for i in range(1, n):
        a[i] = a[i - 1] * x[i]
    for i in range(n):
        a[i] = math.sin(a[i])
    return np.sum(a)


add(overwrite_then_sin, [(V5,)], tags="array overwrite zeros loop math index")


def overwrite_same_element(x):
    a = np.zeros(2)
    a[0] = x
    a[0] = a[0] * a[0]
    a[0] = a[0] + x
    a[1] = a[0] * x
    a[0] = math.exp(a[1])
    return a[0] + a[1]


add(overwrite_same_element, [(0.6,)], tags="array overwrite zeros index math")


def overwrite_input_copy(x):
    y = x * 1.0
    for i in range(1, len(y)):
        y[i] = y[i] * y[i - 1] + 0.5
    return np.sum(y)


add(overwrite_input_copy, [(V4,)], tags="array overwrite loop index writes_computed")


def overwrite_repeated_passes(x):
    a = x * 1.0
    for sweep in range(3):
        for i in range(len(a)):
            a[i] = math.tanh(a[i] + a[(i + 1) % len(a)])
    return np.sum(a * a)


add(overwrite_repeated_passes, [(V4,)], tags="array overwrite loop nested_loop math index writes_computed")


def overwrite_slice_assign(x):
    a = np.zeros(x.shape[0])
    a[1:] = x[:-1] * 2.0
    a[0] = x[-1]
    a[1:] = a[1:] * a[:-1]
    return np.sum(a)


add(overwrite_slice_assign, [(V5,)], tags="array overwrite zeros slice")


def overwrite_2d_stencil(X):
    Y = X * 1.0
    for i in range(1, Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = Y[i - 1, j] * 0.5 + Y[i, j] * Y[i, j]
    return np.sum(Y)


add(overwrite_2d_stencil, [(M34 * 0.5,)], tags="array overwrite loop nested_loop index 2d writes_computed")


def overwrite_scalar_variable(x):
    y = x * 2.0
    z = y * y
    y = math.sin(z)
    z = y * x
    y = z + y
    return y * z


add(overwrite_scalar_variable, [(0.7,)], tags="scalar overwrite math")


# =============================================================================================
# calls to other user functions: defaults, keywords, nesting
# =============================================================================================
def _sq(t):
    return t * t


def _affine(t, a=2.0, b=1.0):
    return a * t + b


def _poly(t, c0, c1=0.0, c2=0.0):
    return c0 + c1 * t + c2 * t * t


def _softplus(t):
    return math.log(1.0 + math.exp(t))


def _norm2(v):
    return np.sum(v * v)


def _sum_loop(v, scale=1.0):
    s = 0.0
    for i in range(len(v)):
        s = s + v[i] * scale
    return s


def _nested_helper(t):
    return _sq(_affine(t, b=0.5)) + _softplus(t)


def call_simple(x):
    return _sq(x) + _sq(x + 1.0)


add(call_simple, [(0.8,)], tags="scalar call")


def call_default_args(x):
    return _affine(x) * _affine(x, 3.0)


add(call_default_args, [(0.8,)], tags="scalar call default_args")


def call_keyword_args(x):
    return _affine(x, b=x) + _affine(t=x, a=x, b=0.0) + _poly(x, 1.0, c2=3.0)


add(call_keyword_args, [(0.8,)], tags="scalar call kwargs default_args")


def call_nested(x):
    return _sq(_sq(_affine(x)))


add(call_nested, [(0.4,)], tags="scalar call")


def call_helper_calls_helper(x):
    return _nested_helper(x) * x


add(call_helper_calls_helper, [(0.4,), (-1.1,)], tags="scalar call kwargs math")


def call_array_helpers(x):
    return _norm2(x) + _sum_loop(x, scale=0.5) + _sum_loop(np.sin(x))


add(call_array_helpers, [(V4,)], tags="array call kwargs default_args loop")


def call_helper_in_loop(x):
    s = 0.0
    for i in range(4):
        s = s + _poly(x, float(i), c1=1.0, c2=0.5)
    return s


add(call_helper_in_loop, [(0.3,)], tags="scalar call kwargs loop int_mix")


def call_helper_on_arg_twice(x, y):
    return _softplus(x) * _softplus(y) + _affine(y, a=x)


add(call_helper_on_arg_twice, [(0.3, -0.6)], argnums=(0, 1), tags="scalar call kwargs math tuple_argnums")


def _branchy(t):
    if t > 0.0:
        return t * t
    return -t


def call_branchy_helper(x):
    return _branchy(x) + _branchy(x - 1.0) * 2.0


add(call_branchy_helper, [(0.4,), (1.6,)], tags="scalar call branch early_return")


def _accumulate(v, w):
    out = np.zeros_like(v)
    for i in range(len(v)):
        out[i] = v[i] * w + (out[i - 1] if i > 0 else 0.0)
    return out


def call_helper_returns_array(x, w):
    return np.sum(_accumulate(x, w) ** 2)


add(call_helper_returns_array, [(V4, 0.7)], argnums=(0, 1),
    tags="array call zeros loop ifexp tuple_argnums")


# =============================================================================================
# closures: function factories and inner defs
# =============================================================================================
def make_scaled_sin(c):
    def scaled_sin(x):
        return c * math.sin(x) + x * c * c
    return scaled_sin


add(make_scaled_sin(2.5), [(0.4,)], tags="scalar closure math", name="closure_factory_scaled_sin")


def make_poly(a, b):
    def poly(x):
        return a * x ** 2 + b * x
    return poly


add(make_poly(1.5, -2.0), [(0.9,)], tags="scalar closure pow", name="closure_factory_poly")


def make_array_loss(target):
    def loss(x):
        d = x - target
        return np.sum(d * d)
    return loss


add(make_array_loss(np.array([0.1, 0.2, 0.3, 0.4])), [(V4,)], tags="array closure",
    name="closure_factory_array_loss")


def make_loop_closure(n):
    def f(x):
        s = 0.0
        for i in range(n):
            s = s + x ** (i + 1)
        return s
    return f


add(make_loop_closure(4), [(0.7,)], tags="scalar closure loop int_mix", name="closure_factory_loop")


def inner_def_reads_arg(x):
    def sq_plus(t):
        return t * t + x
    return sq_plus(x) * 2.0 + sq_plus(3.0)


add(inner_def_reads_arg, [(0.6,)], tags="scalar closure inner_def")


def inner_def_reads_local(x):
    k = math.exp(x)

    def scale(t):
        return k * t

    return scale(x) + scale(2.0)


add(inner_def_reads_local, [(0.3,)], tags="scalar closure inner_def math")


def inner_def_array(x):
    w = np.array([1.0, -2.0, 0.5, 3.0])

    def weighted(v):
        return np.sum(w * v)

    return weighted(x * x) + weighted(np.sin(x))


add(inner_def_array, [(V4,)], tags="array closure inner_def")


def inner_def_called_in_loop(x):
    def step(t, h=0.1):
        return t + h * math.sin(t)
    y = x
    for i in range(5):
        y = step(y)
    return y


add(inner_def_called_in_loop, [(0.9,)], tags="scalar closure inner_def loop default_args math")


# =============================================================================================
# integer values mixed into float math
# =============================================================================================
def int_loop_counter_scale(x, n):
    s = 0.0
    for i in range(n):
        s += x * i
    return s / float(n)


add(int_loop_counter_scale, [(1.5, 4)], tags="scalar int_mix loop augassign")


def int_float_conversion(x, n):
    return x * float(n) + x ** n + n


add(int_float_conversion, [(0.8, 3)], tags="scalar int_mix pow")


def int_arithmetic_then_float(x):
    k = 7 // 2 + 3 % 2
    m = k * 2 - 1
    return x * k + x ** m


add(int_arithmetic_then_float, [(0.8,)], tags="scalar int_mix pow")


def int_index_math(x):
    s = 0.0
    for i in range(len(x)):
        j = (i * 3) % len(x)
        s = s + x[i] * x[j] * (j - i)
    return s


add(int_index_math, [(V5,)], tags="array int_mix loop index")


def int_array_shape_float(x):
    n = x.shape[0]
    mu = np.sum(x) / n
    return np.sum((x - mu) ** 2) / (n - 1)


add(int_array_shape_float, [(V6,)], tags="array int_mix attr reduce")


def int_bool_mask_count(x):
    c = 0
    for v in x:
        if v > 0.0:
            c = c + 1
    return np.sum(x) * c


add(int_bool_mask_count, [(V5,)], tags="array int_mix loop branch")


# =============================================================================================
# print inside the function
# =============================================================================================
def print_scalar(x):
    y = x * x
    print("y is", y)
    return y + x


add(print_scalar, [(0.8,)], tags="scalar print")


def print_in_loop(x):
    s = 0.0
    for i in range(3):
        s = s + math.sin(x * i)
        print(i, s)
    return s


add(print_in_loop, [(0.8,)], tags="scalar print loop math")


def print_array(x):
    print("input shape", x.shape)
    y = np.exp(x)
    print(y)
    return np.sum(y)


add(print_array, [(V4,)], tags="array print")


# =============================================================================================
# applications: recurrences, Rosenbrock, MLP, logsumexp, GMM, ...
# =============================================================================================
def recurrence_1000(x):
    for i in range(1000):
        x = 0.9 * x + 0.1 * math.sin(x) * math.cos(x)
    return x


add(recurrence_1000, [(1.3,)], tags="scalar loop math recurrence long")


def recurrence_logistic(x):
    r = 3.2
    for i in range(12):
        x = r * x * (1.0 - x)
    return x


add(recurrence_logistic, [(0.31,)], tags="scalar loop recurrence")


def rosenbrock_loop(x):
    s = 0.0
    for i in range(x.shape[0] - 1):
        s = s + 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2
    return s


add(rosenbrock_loop, [(V5,), (np.array([1.0, 1.0, 1.0, 1.0]),)], tags="array loop index app rosenbrock")


def rosenbrock_vectorized(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


add(rosenbrock_vectorized, [(V5,), (V6,)], tags="array slice app rosenbrock")


def mlp_loss(W1, b1, W2, x, y):
    h = np.maximum(np.dot(W1, x) + b1, 0.0)
    out = np.dot(W2, h)
    return np.sum((out - y) ** 2)


_W1 = np.array([[0.5, -0.3, 0.8], [0.1, 0.9, -0.4], [-0.7, 0.2, 0.6], [0.35, 0.45, -0.25]])
_B1 = np.array([0.1, -0.2, 0.3, 0.05])
_W2 = np.array([[0.6, -0.5, 0.4, 0.9], [-0.3, 0.8, 0.2, -0.1]])
_X3 = np.array([0.9, -0.4, 1.2])
_Y2 = np.array([0.5, -0.25])
add(mlp_loss, [(_W1, _B1, _W2, _X3, _Y2)], argnums=(0, 1, 2), tags="array dot minmax app mlp 2d tuple_argnums kink")


def mlp_tanh_batch(W, b, X):
    H = np.tanh(X @ W + b)
    return np.mean(np.sum(H * H, axis=1))


add(mlp_tanh_batch, [(M34, W4, M23.T.copy() @ M23)], argnums=(0, 1),
    tags="array dot reduce axis app mlp 2d tuple_argnums")


def logsumexp_vectorized(x):
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


add(logsumexp_vectorized, [(V5,)], tags="array reduce minmax app logsumexp")


def logsumexp_loop(x):
    m = x[0]
    for i in range(1, len(x)):
        if x[i] > m:
            m = x[i]
    s = 0.0
    for i in range(len(x)):
        s = s + math.exp(x[i] - m)
    return m + math.log(s)


add(logsumexp_loop, [(V6,)], tags="array loop branch math index app logsumexp")


def logsumexp_axis(X):
    m = np.max(X, axis=1, keepdims=True)
    return np.sum(m[:, 0] + np.log(np.sum(np.exp(X - m), axis=1)))


add(logsumexp_axis, [(M34,)], tags="array reduce axis keepdims slice app logsumexp 2d")


def softmax_cross_entropy(logits, label):
    z = logits - np.max(logits)
    p = np.exp(z) / np.sum(np.exp(z))
    return -np.log(p[label])


add(softmax_cross_entropy, [(V5, 2), (V5, 0)], tags="array reduce index app int_mix")


def logistic_regression_loss(w, X, y):
    z = X @ w
    p = 1.0 / (1.0 + np.exp(-z))
    return -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))


add(logistic_regression_loss, [(V3, M43, np.array([1.0, 0.0, 1.0, 1.0]))], argnums=(0, 1),
    tags="array dot reduce app tuple_argnums")


def ridge_loss(w, X, y, lam):
    r = X @ w - y
    return 0.5 * np.dot(r, r) + lam * np.sum(w * w)


add(ridge_loss, [(V3, M43, W4, 0.3)], argnums=(0, 3), tags="array dot app tuple_argnums")


def gmm_objective(x, mus, log_sigmas, logits):
    K = mus.shape[0]
    wmax = np.max(logits)
    log_norm = wmax + np.log(np.sum(np.exp(logits - wmax)))
    total = 0.0
    for n in range(x.shape[0]):
        lse_terms = np.zeros(K)
        for k in range(K):
            sigma = math.exp(log_sigmas[k])
            z = (x[n] - mus[k]) / sigma
            lse_terms[k] = logits[k] - log_norm - 0.5 * z * z - log_sigmas[k] - 0.5 * math.log(2.0 * math.pi)
        m = np.max(lse_terms)
        total = total + m + math.log(np.sum(np.exp(lse_terms - m)))
    return -total


add(gmm_objective, [(V5, np.array([-0.5, 0.3, 1.1]), np.array([0.1, -0.3, 0.2]), np.array([0.2, 0.5, -0.4]))],
    argnums=(0, 1, 2, 3), tags="array loop nested_loop zeros math reduce app gmm tuple_argnums")


def gmm_vectorized(x, mus, sigmas):
    d = (x[:, None] - mus[None, :]) / sigmas
    logp = -0.5 * d * d - np.log(sigmas)
    m = np.max(logp, axis=1, keepdims=True)
    return -np.sum(np.log(np.sum(np.exp(logp - m), axis=1)) + m[:, 0])


add(gmm_vectorized, [(V5, np.array([-0.5, 0.3, 1.1]), np.array([0.9, 1.3, 0.7]))], argnums=(0, 1, 2),
    tags="array reduce axis keepdims slice broadcast app gmm tuple_argnums")


def horner_polynomial(x, coeffs):
    acc = 0.0
    for c in coeffs:
        acc = acc * x + c
    return acc


add(horner_polynomial, [(0.7, np.array([1.0, -2.0, 0.5, 3.0, -1.0]))], argnums=(0, 1),
    tags="array loop rows app tuple_argnums")


def euler_ode(k, y0):
    y = y0
    h = 0.05
    for i in range(20):
        y = y + h * (-k * y + math.sin(i * h))
    return y


add(euler_ode, [(0.8, 1.5)], argnums=(0, 1), tags="scalar loop math int_mix app tuple_argnums")


def rk4_oscillator(omega, x0):
    x, v = x0, 0.0
    h = 0.1
    for i in range(10):
        k1x, k1v = v, -omega * omega * x
        k2x, k2v = v + 0.5 * h * k1v, -omega * omega * (x + 0.5 * h * k1x)
        k3x, k3v = v + 0.5 * h * k2v, -omega * omega * (x + 0.5 * h * k2x)
        k4x, k4v = v + h * k3v, -omega * omega * (x + h * k3x)
        x = x + h / 6.0 * (k1x + 2.0 * k2x + 2.0 * k3x + k4x)
        v = v + h / 6.0 * (k1v + 2.0 * k2v + 2.0 * k3v + k4v)
    return x * x + v * v * 0.5


add(rk4_oscillator, [(1.3, 0.8)], argnums=(0, 1), tags="scalar loop tuple app tuple_argnums")


def heat_equation_explicit(u):
    u = u * 1.0
    n = u.shape[0]
    for t in range(5):
        new = u * 1.0
        for i in range(1, n - 1):
            new[i] = u[i] + 0.2 * (u[i - 1] - 2.0 * u[i] + u[i + 1])
        u = new
    return np.sum(u * u)


add(heat_equation_explicit, [(V6,)], tags="array loop nested_loop overwrite index app writes_computed")


def gradient_descent_inner(x0, lr):
    x = x0
    for i in range(8):
        g = 2.0 * (x - 1.5) + math.cos(x)
        x = x - lr * g
    return x * x


add(gradient_descent_inner, [(0.2, 0.1)], argnums=(0, 1), tags="scalar loop math app tuple_argnums")


def power_iteration(A):
    v = np.ones(A.shape[0])
    for i in range(6):
        w = A @ v
        v = w / np.sqrt(np.sum(w * w))
    return v @ (A @ v)


add(power_iteration, [(M33 @ M33.T,)], tags="array loop dot app 2d")


def cosine_similarity(x, y):
    return np.dot(x, y) / (np.sqrt(np.dot(x, x)) * np.sqrt(np.dot(y, y)))


add(cosine_similarity, [(V4, W4)], argnums=(0, 1), tags="array dot app tuple_argnums")


def huber_loss(r, delta):
    s = 0.0
    for i in range(len(r)):
        a = abs(r[i])
        if a <= delta:
            s = s + 0.5 * a * a
        else:
            s = s + delta * (a - 0.5 * delta)
    return s


add(huber_loss, [(V6, 1.0)], argnums=(0, 1), tags="array loop branch abs index app tuple_argnums kink")


def sum_of_pairwise_distances(X):
    s = 0.0
    n = X.shape[0]
    for i in range(n):
        for j in range(n):
            if i != j:
                d = X[i] - X[j]
                s = s + np.sqrt(np.sum(d * d))
    return s


add(sum_of_pairwise_distances, [(M43,)], tags="array loop nested_loop branch index app 2d")


def softmax_weighted_sum(x, w):
    e = np.exp(x - np.max(x))
    p = e / e.sum()
    return p @ w


add(softmax_weighted_sum, [(V4, W4)], argnums=(0, 1), tags="array method dot reduce app tuple_argnums")


def lstm_like_cell(x, h0, W):
    h = h0
    c = 0.0
    for t in range(len(x)):
        z = W[0] * x[t] + W[1] * h
        i_g = 1.0 / (1.0 + math.exp(-z))
        c = c * 0.5 + i_g * math.tanh(z + W[2])
        h = math.tanh(c) * i_g
    return h


add(lstm_like_cell, [(V5, 0.1, np.array([0.7, -0.4, 0.2]))], argnums=(0, 1, 2),
    tags="array loop math index app tuple_argnums")


def normalize_then_loss(x):
    mu = x.mean()
    var = ((x - mu) ** 2).mean()
    z = (x - mu) / np.sqrt(var + 1e-3)
    return np.sum(z * np.array([1.0, -0.5, 2.0, 0.3, 0.8]))


add(normalize_then_loss, [(V5,)], tags="array method reduce app")


def polynomial_fit_loss(c, t, y):
    pred = c[0] + c[1] * t + c[2] * t ** 2
    return np.mean((pred - y) ** 2)


add(polynomial_fit_loss, [(V3, V5, W4[:1] + V5)], tags="array pow reduce index app")


def trapezoid_integral(a):
    n = 8
    h = 1.0 / n
    s = 0.0
    for i in range(n + 1):
        t = i * h
        w = 0.5 if i == 0 or i == n else 1.0
        s = s + w * math.exp(-a * t * t)
    return s * h


add(trapezoid_integral, [(0.9,)], tags="scalar loop ifexp math int_mix app")


# =============================================================================================
# more edge cases: module constants, default arrays, constant returns, chained comparisons
# =============================================================================================
def module_constant_read(x):
    return np.sum(x * W4) + np.sum(M43 @ x[:3] * W4) + V3[1] * x[0]


add(module_constant_read, [(V4,)], tags="array dot slice global_read")


def default_array_param(x, w=W4, scale=0.5):
    return np.sum(np.sin(x * w)) * scale


add(default_array_param, [(V4,)], tags="array default_args global_read")


def _keyword_only(t, *, power=2, shift=0.0):
    return (t + shift) ** power


def call_keyword_only(x):
    return _keyword_only(x, power=3, shift=0.5) + _keyword_only(x)


add(call_keyword_only, [(0.7,)], tags="scalar call kwargs default_args pow")


def constant_return_branch(x):
    if x < 0.0:
        return 0.0
    return x * x


add(constant_return_branch, [(-0.6,), (0.9,)], tags="scalar branch early_return")


def chained_comparison(x):
    if 0.0 < x < 1.0:
        return math.sin(x)
    elif -1.0 <= x <= 0.0:
        return x * x * x
    return x


add(chained_comparison, [(0.5,), (-0.4,), (1.5,)], tags="scalar branch early_return math")


def return_from_nested_loop(x):
    s = x
    for i in range(5):
        for j in range(5):
            s = s * 1.2 + 0.05 * j
            if s > 3.0:
                return s * i
    return s


add(return_from_nested_loop, [(0.6,)], tags="scalar loop nested_loop early_return int_mix")


def slice_2d_negative_step(X):
    return np.sum(X[:, ::-1] * X) + np.sum(X[::-1, 1:] ** 2)


add(slice_2d_negative_step, [(M23,)], tags="array slice 2d")


def reassign_argument_first(x, y):
    x = x * y
    y = x + y
    x = math.sin(x) * y
    return x + y


add(reassign_argument_first, [(0.7, 1.3)], argnums=(0, 1), tags="scalar overwrite math tuple_argnums")


def same_arg_used_as_both_operands(x):
    return np.dot(x, x) + np.sum(np.outer(x, x) * M33) + np.sum(x[None, :] * x[:, None])


add(same_arg_used_as_both_operands, [(V3,)], tags="array dot broadcast slice")


# =============================================================================================
# tape_only: constructs the source transform does not handle; "auto" must fall back to the tape
# =============================================================================================
def rec_power(x, n):
    if n == 0:
        return 1.0
    return x * rec_power(x, n - 1)


add(rec_power, [(1.3, 4)], tags="tape_only recursion scalar")


def rec_sum_squares(x, i):
    if i == len(x):
        return 0.0
    return x[i] * x[i] + rec_sum_squares(x, i + 1)


add(rec_sum_squares, [(V4, 0)], tags="tape_only recursion array")


def _rec_even(x, n):
    if n == 0:
        return x
    return _rec_odd(x * 1.1, n - 1)


def _rec_odd(x, n):
    if n == 0:
        return x * x
    return _rec_even(math.sin(x), n - 1)


def rec_mutual(x):
    return _rec_even(x, 5)


add(rec_mutual, [(0.7,)], tags="tape_only recursion scalar math call")


def list_append_sum(x):
    terms = []
    for i in range(5):
        terms.append(x ** i / (i + 1))
    return sum(terms)


add(list_append_sum, [(0.8,)], tags="tape_only list scalar loop")


def list_append_index(x):
    hist = []
    y = x
    for i in range(4):
        y = math.sin(y) + y
        hist.append(y)
    return hist[1] * hist[-1]


add(list_append_index, [(0.6,)], tags="tape_only list scalar loop math")


def dict_lookup(x, y):
    d = {"a": x * y, "b": x + y}
    d["c"] = d["a"] * d["b"]
    return d["c"] + d["a"]


add(dict_lookup, [(0.7, 1.4)], argnums=(0, 1), tags="tape_only dict scalar tuple_argnums")


def dict_accumulate(x):
    acc = {}
    for i in range(3):
        acc[i] = x * (i + 1.0)
    total = 0.0
    for k in acc:
        total = total + acc[k] * acc[k]
    return total


add(dict_accumulate, [(0.6,)], tags="tape_only dict scalar loop")


def generator_expression_sum(x):
    return sum(x ** k for k in range(1, 5))


add(generator_expression_sum, [(0.9,)], tags="tape_only generator scalar")


def _powers(x, n):
    for k in range(n):
        yield x ** k


def generator_function_sum(x):
    s = 0.0
    for p in _powers(x, 4):
        s = s + p * 2.0
    return s


add(generator_function_sum, [(0.9,)], tags="tape_only generator scalar call")


def try_except_fallback(x):
    try:
        if x > 1.0:
            raise ValueError("too big")
        y = x * x
    except ValueError:
        y = 3.0 * x
    return y


add(try_except_fallback, [(0.5,), (1.5,)], tags="tape_only try scalar")


def try_except_zero_division(x, n):
    try:
        r = x * (1.0 / n)
    except ZeroDivisionError:
        r = x * x
    return r + x


add(try_except_zero_division, [(0.8, 0), (0.8, 2)], tags="tape_only try scalar int_mix")


def statistics_median_call(x, y):
    return statistics.median([x, y * y, x + y])


add(statistics_median_call, [(0.7, 1.3)], argnums=(0, 1), tags="tape_only unknown_call list scalar tuple_argnums")


def functools_reduce_lambda(x):
    return functools.reduce(lambda a, b: a * b + 1.0, [x, x * 2.0, 3.0])


add(functools_reduce_lambda, [(0.7,)], tags="tape_only unknown_call lambda scalar")


def map_lambda_sum(x):
    return sum(map(lambda t: t * t, [x, x + 1.0]))


add(map_lambda_sum, [(0.7,)], tags="tape_only unknown_call lambda scalar")


# ---------------------------------------------------------------------------------------------
BY_NAME = {c.id: c for c in CORPUS}
