"""The gradient of a product where factors are zero, on the path that records the gradient.

When a tape records while another computes a gradient (nested tapes, or a persistent tape asked
inside its context), the rule of prod runs on Tensors and uses the recorded form of the helper
``prod_of_others``. It must be exact at zeros (``prod / x`` gives nan there) and differentiable
again. Checked against central differences in float64.
"""
import numpy as np
import pytest

import tapeflow as tf
from tapeflow.runtime import array_ops
from tapeflow.runtime.rules import prod_of_others


def numeric_grad(f, x, eps=1e-6):
    x = np.asarray(x, dtype=np.float64)
    g = np.zeros(np.shape(f(x)) + x.shape)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = eps
        g[(Ellipsis,) + i] = (np.asarray(f(x + e)) - np.asarray(f(x - e))) / (2 * eps)
    return g


POINTS = [
    (np.array([0.0, 2.0, 3.0]), None),
    (np.array([0.0, 0.0, 3.0, -1.5]), None),
    (np.array([[1.5, 0.0, 2.0], [0.5, -1.0, 3.0]]), 1),
    (np.array([[1.5, 0.0, 2.0], [0.0, -1.0, 3.0]]), 0),
    (np.arange(24.0).reshape(2, 3, 4) / 7.0, (0, 2)),
]


@pytest.mark.parametrize("x, axis", POINTS)
def test_recorded_prod_of_others_equals_the_numpy_helper(x, axis):
    got = array_ops.prod_of_others(tf.constant(x), axis).numpy()
    np.testing.assert_allclose(got, prod_of_others(x, axis), rtol=1e-12, atol=0)
    assert np.all(np.isfinite(got))


@pytest.mark.parametrize("x, axis", POINTS)
def test_gradient_of_prod_recorded_at_zeros(x, axis):
    v = tf.Variable(x)
    with tf.GradientTape(persistent=True) as tape:
        y = tf.reduce_sum(tf.reduce_prod(v, axis=axis))
        g = tape.gradient(y, v)       # inside the context: the rule runs on Tensors
    expected = numeric_grad(lambda a: np.sum(np.prod(a, axis=axis)), x)
    np.testing.assert_allclose(g.numpy(), expected, rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize("x, axis", POINTS[:4])
def test_second_derivative_of_prod_at_zeros(x, axis):
    v = tf.Variable(x)
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            y = tf.reduce_sum(tf.reduce_prod(v, axis=axis))
        g = inner.gradient(y, v)
    h = outer.jacobian(g, v).numpy()

    def exact_grad(a):   # the first derivative, exact (numpy helper), differentiated numerically
        return prod_of_others(a, axis) if axis is not None else prod_of_others(a)
    np.testing.assert_allclose(h, numeric_grad(exact_grad, x), rtol=1e-7, atol=1e-8)


def test_product_of_three_hessian_closed_form():
    # d2(x0 x1 x2): off-diagonal entries are the third factor, diagonal zero
    v = tf.Variable(np.array([0.0, 2.0, 3.0]))
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            y = tf.reduce_prod(v)
        g = inner.gradient(y, v)
    np.testing.assert_array_equal(g.numpy(), [6.0, 0.0, 0.0])
    np.testing.assert_array_equal(outer.jacobian(g, v).numpy(),
                                  [[0.0, 3.0, 2.0], [3.0, 0.0, 0.0], [2.0, 0.0, 0.0]])
