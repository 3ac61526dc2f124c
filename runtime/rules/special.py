"""Special functions TensorFlow has and numpy lacks: lgamma, digamma and the polygamma family,
with their numpy implementations (recurrence up to x >= 8, then the asymptotic series) and rules.

The tape reaches them by name (``tf.math.lgamma``, ``tf.math.digamma``, ``tf.math.polygamma``);
each rule is the next member of the family, so every order of derivative has a rule.
"""
import math

import numpy as np

from .table import primitive, tangent

# the Bernoulli numbers B_2k, k = 1..7, of the asymptotic series
_BERNOULLI = (1.0 / 6, -1.0 / 30, 1.0 / 42, -1.0 / 30, 5.0 / 66, -691.0 / 2730, 7.0 / 6)


def polygamma_value(n, x):
    """psi^(n)(x) for x > 0: the n-th derivative of digamma (n = 0 is digamma itself)."""
    x = np.asarray(x, dtype=np.float64)
    acc = np.zeros_like(x)
    sign = -1.0 if n % 2 == 0 else 1.0           # (-1)^(n+1), the series' sign
    fact = float(math.factorial(n))
    while True:
        small = x < 8.0
        if not np.any(small):
            break
        # psi^(n)(x) = psi^(n)(x + 1) - (-1)^n n! / x^(n+1)
        acc = acc + np.where(small, sign * fact / np.where(small, x, 1.0) ** (n + 1), 0.0)
        x = np.where(small, x + 1.0, x)
    if n == 0:
        series = np.log(x) - 0.5 / x
        for k, b in enumerate(_BERNOULLI, start=1):
            series = series - b / (2 * k) / x ** (2 * k)
        return acc + series
    series = math.factorial(n - 1) / x ** n + fact / (2.0 * x ** (n + 1))
    for k, b in enumerate(_BERNOULLI, start=1):
        series = series + b * math.factorial(2 * k + n - 1) / math.factorial(2 * k) / x ** (2 * k + n)
    return acc + sign * series


def lgamma_value(x):
    return np.vectorize(math.lgamma, otypes=[np.float64])(x)


@primitive("Lgamma", domain="pos")
def d_lgamma(g, ans, x):
    return g * digamma(x)


@tangent("Lgamma")
def f_lgamma(x_dot, ans, x):
    return x_dot * digamma(x)


@primitive("Polygamma", domain="pos")
def d_polygamma(g, ans, x, n=0):
    return g * polygamma(x, n + 1)


@tangent("Polygamma")
def f_polygamma(x_dot, ans, x, n=0):
    return x_dot * polygamma(x, n + 1)


def digamma(x):
    """digamma on values or Tensors (a Tensor runs the recorded op, so it differentiates again)."""
    return polygamma(x, 0)


def polygamma(x, n):
    if hasattr(x, "_v") or hasattr(x, "_handle"):
        from ..entry_ops import polygamma as op
        return op(n, x)
    return polygamma_value(n, x).astype(np.result_type(x, np.float32))
