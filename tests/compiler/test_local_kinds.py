"""Gradients and jvps called on locals inside a differentiated function (compiler/local_kinds.py):
the kinds of the locals are known before typing, or the call is refused."""
import numpy as np
import pytest

import tapeflow as tf
from tapeflow import TransformError

E0 = np.array([1.0, 0.0])
E1 = np.array([0.0, 1.0])


def bowl(p, q):
    return (p[0] - q[0]) ** 2 + 3.0 * (p[1] - q[1]) ** 2 + p[0] * q[1]


bowl_grad = tf.grad(bowl)


def bowl_grad_forward(p, q):
    _, d0 = tf.jvp(bowl, (p, q), (E0, None))
    _, d1 = tf.jvp(bowl, (p, q), (E1, None))
    return d0 * E0 + d1 * E1


def descend(q, start):
    """Three steps of gradient descent on bowl(., q) from start: grad called on a loop local."""
    p = start
    for _ in range(3):
        p = p - 0.1 * bowl_grad(p, q)
    return np.sum(p * p) + q[0] * p[1]


def descend_forward(q, start):
    p = start
    for _ in range(3):
        p = p - 0.1 * bowl_grad_forward(p, q)
    return np.sum(p * p) + q[0] * p[1]


def central(f, x, *rest, h=1e-6):
    out = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        out[i] = (f(x + e, *rest) - f(x - e, *rest)) / (2 * h)
    return out


@pytest.mark.parametrize("backend", ["python"])   # native: bench/gradbench (saddle, particle)
@pytest.mark.parametrize("fn", [descend])   # descend_forward: tests/gradbench (saddle)
def test_gradient_through_descent(fn, backend):
    q, start = np.array([0.7, -0.3]), np.array([1.5, 2.0])
    got = tf.grad(fn, backend=backend)(q, start)
    np.testing.assert_allclose(got, central(fn, q, start), rtol=1e-6, atol=1e-8)


def kind_changes(x):
    y = x * 2.0
    s = bowl_grad(y, y)
    y = np.sum(y)          # the same name, later bound to a float
    return np.sum(s) + y


def test_local_of_two_kinds_is_refused():
    with pytest.raises(TransformError, match="not always of one kind"):
        tf.grad(kind_changes, backend="python")(np.array([0.5, 1.0]))
