"""Issue 14: the python backend (and the tape) agree with native code on IEEE results: inf or
nan with numpy's warning, never ZeroDivisionError or a math domain error."""
import math
import warnings

import numpy as np
import pytest

import tapeflow as tf


def sqrt_np(x):
    return np.sqrt(x)


def sqrt_math(x):
    return math.sqrt(x)


def log_np(x):
    return np.log(x)


def log_math(x):
    return math.log(x)


def mean(x):
    return np.mean(x)


# no division in these gradients: the python backend runs them on Python floats with Python's
# math first, and again as IEEE code when math raises (OverflowError, ValueError)
def exp_overflows(x):
    return math.exp(x) * 2.0 + x


def sin_of_inf(x):
    return math.sin(x) * math.cos(x) + x


CASES = [(sqrt_np, 0.0), (sqrt_math, 0.0), (log_np, -1.0), (log_math, -1.0),
         (mean, np.zeros(0)), (exp_overflows, 1000.0), (sin_of_inf, math.inf)]


def _same(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and np.array_equal(np.isnan(a), np.isnan(b)) and \
        np.array_equal(a[~np.isnan(a)], b[~np.isnan(b)])


@pytest.mark.parametrize("f, x", CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_backends_agree_on_inf_and_nan(f, x):
    native = tf.value_and_grad(f, backend="native")(x)
    for backend in ("python", "tape"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            value, grad = tf.value_and_grad(f, backend=backend)(x)
        assert _same(value, native[0]) and _same(grad, native[1]), (backend, value, grad, native)
        assert any(issubclass(w.category, RuntimeWarning) for w in caught), backend
    assert not all(np.isfinite(np.atleast_1d(native[0]))) or not all(
        np.isfinite(np.atleast_1d(native[1]))) or np.size(native[1]) == 0


def recurrence(x):
    for i in range(100):
        x = 0.9 * x + 0.1 * math.sin(x) * math.cos(x) + 0.01 * math.exp(-x * x)
    return x


@pytest.mark.parametrize("x", [0.5, np.float64(-1.25), 3])
def test_python_backend_computes_math_bit_for_bit_as_native(x):
    # math's functions are libm's, as native code calls them; numpy's exp is not
    assert tf.value_and_grad(recurrence, backend="python")(x) == \
        tf.value_and_grad(recurrence, backend="native")(x)


def reciprocal(x):
    return 1.0 / x


@pytest.mark.parametrize("f, x", [(reciprocal, 0.0), (exp_overflows, 1000.0)],
                         ids=["reciprocal", "exp_overflows"])
def test_forward_mode_python_backend_agrees_with_native(f, x):
    # the tangent code ran on Python floats: 1 / 0.0 raised ZeroDivisionError
    native = tf.jvp(f, (x,), (1.0,), backend="native")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        python = tf.jvp(f, (x,), (1.0,), backend="python")
    assert _same(python, native), (python, native)
    assert any(issubclass(w.category, RuntimeWarning) for w in caught)
