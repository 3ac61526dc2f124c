"""The functions of the seed tutorials (TensorFlow GradientTape), through tapeflow.grad.

Closed-form values, on every backend.
"""
import pytest

import tapeflow

BACKENDS = ["python", "tape", "auto"]


def g(x1, x2):
    return (x1 + 5) * (x2 ** 2)


def f(x):
    return 3. * x ** 2 + 2. * x - 1


def tf_loop(x, y):
    output = 1.0
    for i in range(y):
        if i > 1 and i < 5:
            output = output * x
    return output


def two_var(x, y):
    return x ** 2 + 2 * y ** 2 + 1


def cube(x):
    y = x * x * x
    return y


@pytest.mark.parametrize("backend", BACKENDS)
def test_g_both_partials(backend):
    d1, d2 = tapeflow.grad(g, argnums=(0, 1), backend=backend)(2., 3.)
    assert d1 == pytest.approx(9.0, rel=1e-12)
    assert d2 == pytest.approx(42.0, rel=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_g_single_partials(backend):
    assert tapeflow.grad(g, argnums=0, backend=backend)(2., 3.) == pytest.approx(9.0, rel=1e-12)
    assert tapeflow.grad(g, argnums=1, backend=backend)(2., 3.) == pytest.approx(42.0, rel=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_g_with_int_arguments(backend):
    # The tutorial also calls it with Python ints: the gradients are still floats, 9 and 42.
    d1, d2 = tapeflow.grad(g, argnums=(0, 1), backend=backend)(2, 3)
    assert isinstance(d1, float) and isinstance(d2, float)
    assert (d1, d2) == (pytest.approx(9.0), pytest.approx(42.0))


@pytest.mark.parametrize("backend", BACKENDS)
def test_f_derivative_at_one(backend):
    assert tapeflow.grad(f, backend=backend)(1.) == pytest.approx(8.0, rel=1e-12)
    value, d = tapeflow.value_and_grad(f, backend=backend)(1.)
    assert value == pytest.approx(4.0, rel=1e-12)
    assert d == pytest.approx(8.0, rel=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("y,expected", [(6, 12.0), (5, 12.0), (4, 4.0), (2, 0.0), (0, 0.0)])
def test_tf_tutorial_loop(backend, y, expected):
    d = tapeflow.grad(tf_loop, argnums=0, backend=backend)(2.0, y)
    assert d == pytest.approx(expected, rel=1e-12, abs=0.0)
    value = tapeflow.value_and_grad(tf_loop, argnums=0, backend=backend)(2.0, y)[0]
    assert value == pytest.approx(2.0 ** max(0, min(y, 5) - 2), rel=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_two_var_first_and_second_derivatives(backend):
    dx, dy = tapeflow.grad(two_var, argnums=(0, 1), backend=backend)(3.0, 4.0)
    assert (dx, dy) == (pytest.approx(6.0, rel=1e-12), pytest.approx(16.0, rel=1e-12))
    d2x = tapeflow.grad(tapeflow.grad(two_var, argnums=0, backend=backend), argnums=0, backend=backend)
    d2y = tapeflow.grad(tapeflow.grad(two_var, argnums=1, backend=backend), argnums=1, backend=backend)
    assert d2x(3.0, 4.0) == pytest.approx(2.0, rel=1e-12)
    assert d2y(3.0, 4.0) == pytest.approx(4.0, rel=1e-12)
    # mixed partial is zero
    dxy = tapeflow.grad(tapeflow.grad(two_var, argnums=0, backend=backend), argnums=1, backend=backend)
    assert dxy(3.0, 4.0) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_cube_first_and_second_derivatives(backend):
    d = tapeflow.grad(cube, backend=backend)
    assert d(1.0) == pytest.approx(3.0, rel=1e-12)
    dd = tapeflow.grad(d, backend=backend)
    assert dd(1.0) == pytest.approx(6.0, rel=1e-12)
    assert dd(-2.0) == pytest.approx(-12.0, rel=1e-12)
    ddd = tapeflow.grad(dd, backend=backend)
    assert ddd(0.7) == pytest.approx(6.0, rel=1e-12)
