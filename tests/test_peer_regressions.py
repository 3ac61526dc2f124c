"""Regressions found by running peers' numpy test functions through every backend (issue 9).

Each function below is a small program of our own with the construct that failed: a silent zero
or a wrong value, a crash, or a refusal where a rule was missing. Every backend that answers must
agree with central differences in float64; the ones that cannot must refuse with a clear error.
"""
import math

import numpy as np
import pytest

import tapeflow as tf
from tapeflow.compiler.errors import TransformError

RS = np.random.RandomState(7)
W23 = RS.randn(2, 3)
W32 = RS.randn(3, 2)
W4 = RS.randn(4)


def numeric(f, x, h=1e-6):
    x = np.asarray(x, dtype=float)
    g = np.zeros(x.size)
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = h
        e = e.reshape(x.shape)
        g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g.reshape(x.shape)


def check(f, x, backends=("auto", "python", "tape")):
    want = numeric(f, x)
    for b in backends:
        got = tf.grad(f, backend=b)(x.copy() if isinstance(x, np.ndarray) else x)
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7, err_msg=b)


# --- element writes of a row into a 2-d buffer (the adjoint slot was a view, zeroed) ----------
def recurrence(x):
    h = np.zeros((3, 2))
    for t in range(2):
        h[t + 1] = np.tanh(x[t] * 2.0) + h[t]
    return np.sum(h * W32)


def broadcast_into_row(x):
    h = np.zeros((4, 3))
    for t in range(4):
        h[t] = x[t] * x[t]      # a scalar fills the whole row
    return np.sum(h * np.arange(12.0).reshape(4, 3))


@pytest.mark.parametrize("f, shape, backends", [
    (recurrence, (2, 2), ("python", "tape")),
    (broadcast_into_row, (4,), ("native", "python", "tape"))])
def test_row_writes(f, shape, backends):
    check(f, RS.randn(*shape), backends)


# --- a name typed as an array that is rebound to a scalar ------------------------------------
def rebound_to_scalar(x):
    x = np.sum(x)
    x = x * x
    return x


def test_rebound_scalar_hands_over_to_python():
    x = RS.randn(3)
    check(rebound_to_scalar, x, ("auto",))
    with pytest.raises(TransformError, match="shape"):
        tf.grad(rebound_to_scalar, backend="native")(x)


# --- complex parts of real values --------------------------------------------------------------
def complex_parts(x):
    return np.sum(np.real(x) * np.conj(x) + np.real_if_close(x))


def through_complex(x):
    return np.sum(np.abs(x * (1.0 + 2.0j)))


def test_complex_parts():
    check(complex_parts, RS.randn(4), ("auto", "python", "tape"))
    for backend in ("auto", "python", "tape"):   # complex intermediates: refused, not a real part
        with pytest.raises((TypeError, TransformError, RuntimeError)):
            tf.grad(through_complex, backend=backend)(RS.randn(4))


@pytest.mark.parametrize("backend", ["auto", "python", "tape"])
def test_complex_arguments_are_refused(backend):
    with pytest.raises(TypeError, match="complex"):
        tf.grad(lambda z: np.sum(np.abs(z)), backend=backend)(np.array([0.5 + 0.3j, 1.0]))


# --- joins over an array (its rows are the sequence) and np.r_ / np.c_ --------------------------
def vstack_rows(x):
    return np.sum(np.vstack(x) * W23)


def hstack_items(x):
    return np.sum(np.hstack(x) * W4)


def concat_rows(x):
    return np.sum(np.concatenate(x) * np.arange(6.0))


def stack_rows(x):
    return np.sum(np.stack(x, axis=1) * W32)


def r_join(x):
    return np.sum(np.r_[x, 2.0 * x, 1:3] * np.arange(10.0))


def c_join(x):
    return np.sum(np.c_[x, x * x] * W32)


@pytest.mark.parametrize("f, shape", [(vstack_rows, (2, 3)), (hstack_items, (4,)),
                                      (concat_rows, (2, 3)), (stack_rows, (2, 3)),
                                      (r_join, (4,)), (c_join, (3,))])
def test_joins_of_arrays(f, shape):
    x = RS.randn(*shape)
    check(f, x, ("auto", "tape"))
    with pytest.raises(TransformError):   # never a zero gradient from the source transform
        tf.grad(f, backend="python")(x)


# --- np.pad ------------------------------------------------------------------------------------
def pad_reflect(x):
    return np.sum(np.pad(x, 1, mode="reflect") * np.arange(5.0))


@pytest.mark.parametrize("backend", ["auto", "python", "tape"])
def test_pad_modes_without_rule_are_refused(backend):
    with pytest.raises(NotImplementedError, match="mode"):
        tf.grad(pad_reflect, backend=backend)(RS.randn(3))


# --- array methods under the tape ----------------------------------------------------------------
B3 = RS.randn(2, 3, 2)


def methods(x):
    return (np.sum(x.dot(B3) * 0.5) + np.sum(x.clip(-0.3, 0.3)) + np.sum(x.copy() ** 2)
            + x.var() + np.sum(x.cumsum()) + np.sum(x.swapaxes(0, 2) * np.arange(12.0).reshape(3, 2, 2)))


def test_array_methods_on_the_tape():
    check(methods, RS.randn(2, 2, 3), ("tape", "auto"))


# --- lists of traced values where numpy takes an array, on the tape -------------------------------
def list_arguments(x):
    a = np.mean([x, x + 2.0]) + np.sum([1.0, x * x, 2.0]) + np.var((x, 3.0 * x))
    b = np.array([[x, 2.0 * x, 0.5], [x * x, 1.0, x]])
    return a + np.sum(b * W23) + np.max(np.array([x, 0.3]))


def test_lists_of_traced_values():
    check(list_arguments, 0.7, ("auto", "tape"))


# --- the split family, append and np.gradient (tape functions) -------------------------------------
def splits(x):
    a, b, c = np.array_split(x[0], 3)
    top, bottom = np.vsplit(x, 2)
    left, right = np.hsplit(x, [1])
    return (np.sum(a * 2.0) + np.sum(b * c[:1]) + np.sum(top * bottom) + np.sum(left ** 3)
            + np.sum(right * W23[:, :3]))


def appended(x):
    return np.sum(np.append(x, x[:1] * 3.0) * np.arange(5.0)) + np.sum(np.append(x, x, axis=0))


def selected(x):
    return np.sum(np.select([x > 0.5, x < -0.5], [x * x, 3.0 * x], default=0.25) * W4)


def numeric_gradient(x):
    gy, gx = np.gradient(x)
    return np.sum(gy * W23[:, :3]) + np.sum(gx ** 2) + np.sum(np.gradient(x[0]) * W23[0])


@pytest.mark.parametrize("f, shape", [(splits, (2, 4)), (appended, (4,)),
                                      (numeric_gradient, (2, 3)), (selected, (4,))])
def test_tape_array_functions(f, shape):
    check(f, RS.randn(*shape), ("auto", "tape"))


# --- math.log's second argument is a base: it was read as np.log's out= (1/x, the base lost) ---
def log_with_base(x):
    return math.log(x, 2.0) + math.log(3.0, x * x) + math.log(x)


def unit_conversions(x):
    return math.radians(x) * math.degrees(x * x) + np.rad2deg(np.deg2rad(x) * x)


@pytest.mark.parametrize("f", [log_with_base, unit_conversions])
def test_math_log_base_and_unit_conversions(f):
    check(f, 0.7, backends=("auto", "python", "tape", "native"))
