"""What the primal sweep saves for the adjoint sweep (compiler/saves.py): an array that an
adjoint reads only for its shape (``unbroadcast(e, v)``'s like) is saved as ``np.shape(v)``, not
copied, and the gradient is the same."""
import numpy as np
import pytest

import tapeflow as tf
from grad_checks import numeric_grad


def broadcast_of_changing_shape(x):
    s = 0.0
    for t in range(3):
        v = x[0:t % 2 * 2 + 1] * 2.0   # shape (1,) or (3,): its shape must be the saved one
        w = v + x
        s = s + np.sum(w * w)
    return s


def runge_kutta(x):
    """GradBench ode's pattern: each stage's sum reads its operands only for their shapes."""
    y = np.zeros_like(x)
    for _ in range(4):
        k1 = np.sin(x * y)
        k2 = np.sin(x * (y + 0.1 * k1))
        y = y + 0.05 * (k1 + k2)
    return np.sum(y * y)


def shape_and_value(x):
    """v is read for its shape by one adjoint and for its value by another."""
    s = 0.0
    for t in range(2):
        v = x[t:] * 1.5
        w = v + x[0]
        s = s + np.sum(w * v)
    return s


def grad_source(f, x):
    g = tf.grad(f, backend="python")
    g(x)
    return tf.source(g)


@pytest.mark.parametrize("f", [broadcast_of_changing_shape, runge_kutta, shape_and_value])
@pytest.mark.parametrize("backend", ["python", "native"])
def test_gradient_with_saved_shapes(f, backend):
    x = np.array([0.3, 0.7, 1.1])
    got = tf.grad(f, backend=backend)(x)
    np.testing.assert_allclose(got, numeric_grad(f, (x,)), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(got, tf.grad(f, backend="tape")(x), rtol=1e-12, atol=1e-12)


def test_a_value_read_for_its_shape_saves_its_shape():
    src = grad_source(broadcast_of_changing_shape, np.array([0.3, 0.7, 1.1]))
    assert "v_shape_stack.push(np.shape(v))" in src
    assert "sum_to_shape(dw, v_shape)" in src
    assert "v_stack" not in src


def test_runge_kutta_stage_sums_save_no_copies_for_shapes():
    src = grad_source(runge_kutta, np.array([0.3, 0.7, 1.1]))
    copies = src.count("_stack.push(")
    shapes = src.count("_shape_stack.push(np.shape(")
    assert shapes >= 5 and "unbroadcast(dk" not in src, src
    assert copies - shapes <= 5, src


def test_a_value_read_for_its_value_too_is_saved_whole():
    src = grad_source(shape_and_value, np.array([0.3, 0.7, 1.1]))
    assert "v_stack.push(" in src


def test_a_whole_reduction_saves_its_input_shape():
    """np.sum(w * w): the adjoint spreads ds over the shape of w * w, nothing else of it."""
    src = grad_source(broadcast_of_changing_shape, np.array([0.3, 0.7, 1.1]))
    assert "np.broadcast_to(ds, t4_shape)" in src, src


@pytest.mark.parametrize("f", [broadcast_of_changing_shape, runge_kutta, shape_and_value])
def test_hessian_through_saved_shapes(f):
    """Forward over reverse differentiates sum_to_shape and broadcast_to of a saved shape."""
    x = np.array([0.3, 0.7, 1.1])
    g = tf.grad(f, backend="python")
    expected = np.array([numeric_grad(lambda z, i=i: g(z)[i], (x,)) for i in range(3)])
    np.testing.assert_allclose(tf.hessian(f)(x), expected, rtol=1e-5, atol=1e-6)
