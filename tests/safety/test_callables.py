"""Issue 14: what kind of callable reaches grad, and what it says when it cannot be used."""
import functools

import numpy as np
import pytest

import tapeflow as tf
from tapeflow.compiler.errors import TransformError

BACKENDS = ["auto", "python", "native", "tape"]


def square(x):
    return x * x


def doubling(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return 2.0 * fn(*args, **kwargs)
    return wrapper


def doubling_named(fn):
    @functools.wraps(fn)
    def wrapper(x):
        return 2.0 * fn(x)
    return wrapper


@pytest.mark.parametrize("backend", BACKENDS)
def test_functools_wraps_wrapper_is_never_differentiated_as_the_wrapped_function(backend):
    # inspect follows __wrapped__: reading that source would give d(x*x) = 6, not 12
    f = doubling(square)
    if backend in ("python", "native"):
        with pytest.raises(TransformError, match=r"functools.wraps wrapper.*\*args"):
            tf.grad(f, backend=backend)(3.0)
    else:
        assert tf.grad(f, backend=backend)(3.0) == 12.0
    with pytest.raises(TransformError, match="functools.wraps"):
        tf.jit(f)(3.0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_functools_wraps_wrapper_with_named_parameters_is_its_own_code(backend):
    f = doubling_named(square)
    assert tf.grad(f, backend=backend)(3.0) == 12.0
    assert tf.jit(f)(3.0) == 18.0


def test_varargs_and_kwargs_are_refused_by_name():
    def va(*xs):
        return xs[0]

    def kw(x, **options):
        return x
    with pytest.raises(TypeError, match=r"\*xs takes a variable number"):
        tf.grad(va)(1.0)
    with pytest.raises(TypeError, match=r"\*\*options takes a variable number"):
        tf.grad(kw)(1.0)


def test_no_arguments_says_so():
    with pytest.raises(TypeError, match="missing a required argument: 'x'"):
        tf.grad(square)()

    def constant():
        return 1.0
    with pytest.raises(ValueError, match="takes 0 positional"):
        tf.grad(constant)()


def positional_only(x, /, y):
    return x * x * y


@pytest.mark.parametrize("backend", BACKENDS)
def test_positional_only_parameters(backend):
    assert tf.grad(positional_only, backend=backend)(3.0, 2.0) == 12.0
    assert tf.grad(positional_only, argnums=1, backend=backend)(3.0, y=2.0) == 9.0


class Scaled:
    def __init__(self, c):
        self.c = c

    def method(self, x):
        return self.c * x * x

    def __call__(self, x):
        return self.c * x * x * x


def scaled_product(x, y, *, z=1.0):
    return x * y * z


@pytest.mark.parametrize("make, expected", [
    (lambda: Scaled(2.0).method, 12.0),                              # 2 * 2x at x = 3
    (lambda: Scaled(2.0), 54.0),                                     # 2 * 3x^2
    (lambda: functools.partial(scaled_product, 2.0), 2.0),
    (lambda: functools.partial(scaled_product, y=2.0), 2.0),         # y becomes keyword-only
    (lambda: functools.partial(scaled_product, y=2.0, z=0.5), 1.0),
])
def test_methods_partials_and_callable_objects_under_auto(make, expected):
    f = make()
    assert tf.grad(f)(3.0) == pytest.approx(expected, rel=1e-14)
    assert tf.grad(f, backend="tape")(3.0) == pytest.approx(expected, rel=1e-14)
    why = tf.explain(f, 3.0)
    assert "backend 'tape'" in why and "takes plain functions" in why
    assert "internal error" not in why


def test_zero_dimensional_array_argument_under_auto():
    def f(x):
        return np.sum(x * x) + np.sin(x)
    x = np.array(0.3)
    g = tf.grad(f)(x)
    assert np.shape(g) == () and float(g) == pytest.approx(0.6 + np.cos(0.3), rel=1e-14)


def test_zero_dimensional_array_argument_natively():
    def f(x):
        return np.sum(x * x) + np.sin(x)
    x = np.array(0.3)
    g = tf.grad(f, backend="native")(x)
    assert np.shape(g) == () and float(g) == pytest.approx(0.6 + np.cos(0.3), rel=1e-14)
    assert float(g) == float(tf.grad(f, backend="python")(x))
    assert "backend 'native'" in tf.explain(f, x)


def test_zero_dimensional_int_and_float_arguments_natively_in_a_loop():
    def f(x, n):
        s = 0.0
        for i in range(n):
            s = s + np.sin(x * i)
        return s
    x, n = np.array(0.3), np.array(4)
    expected = sum(i * np.cos(0.3 * i) for i in range(4))
    value, g = tf.value_and_grad(f, backend="native")(x, n)
    assert np.shape(g) == () and float(g) == pytest.approx(expected, rel=1e-14)
    assert value == pytest.approx(f(0.3, 4), rel=1e-14)
    assert tf.jit(f)(x, n) == pytest.approx(f(0.3, 4), rel=1e-14)
    assert "backend 'native'" in tf.explain(f, x, n)
