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


CASES = [(sqrt_np, 0.0), (sqrt_math, 0.0), (log_np, -1.0), (log_math, -1.0),
         (mean, np.zeros(0))]


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
