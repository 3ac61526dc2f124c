"""Issue 14: the tape backend takes ``s = x; s += c`` when x is a scalar (Python rebinds s, as
the tape does), and still refuses it where numpy would change both names' array."""
import numpy as np
import pytest

import tapeflow as tf
from tapeflow.runtime.buffers import TraceEscape


def f_add(x):
    s = x
    s += 1.0
    return s * x            # (x + 1) x


def f_sub(x):
    s = x
    s -= 2.0
    return s * x            # (x - 2) x


def f_mul(x):
    s = x
    s *= 3.0
    return s * x            # 3 x^2


def f_div(x, y):
    s = x
    s /= 4.0
    s += y
    return s * x            # (x / 4 + y) x


def f_array_alias(x):
    s = x
    s += 1.0
    return np.sum(s * x)


def f_alias_after_array(x):
    s = x
    s += np.ones(2)         # s becomes an array: a later alias of it shares it
    t = s
    t += 1.0
    return np.sum(s * x)


@pytest.mark.parametrize("f, args, expected", [
    (f_add, (3.0,), 7.0),
    (f_sub, (3.0,), 4.0),
    (f_mul, (3.0,), 18.0),
    (f_div, (3.0, 0.5), 2.0),
    (f_mul, (np.float64(-1.5),), -9.0),
])
def test_scalar_augmented_assignment_on_a_copy(f, args, expected):
    g = tf.grad(f, backend="tape")(*args)
    assert g == pytest.approx(expected, rel=1e-15)
    assert g == pytest.approx(tf.grad(f, backend="python")(*args), rel=1e-15)


@pytest.mark.parametrize("f, x", [
    (f_array_alias, np.array([3.0, 1.0])),
    (f_array_alias, np.array(3.0)),        # a 0-d array is changed in place too
    (f_alias_after_array, 3.0),
])
def test_array_aliases_are_still_refused(f, x):
    with pytest.raises(TraceEscape, match="same array as another name"):
        tf.grad(f, backend="tape")(x)
