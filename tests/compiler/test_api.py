"""The compiler's public API: grad/value_and_grad arguments, differentiable, source, explain."""
import math

import numpy as np
import pytest

import tapeflow as tf


def cube_sin(x, y=2.0):
    return x ** 3 * math.sin(y)


def power(x, n):
    if n == 0:
        return 1.0
    return x * power(x, n - 1)


def test_differentiable_adds_cached_gradients():
    @tf.differentiable
    def f(x):
        return x * x + 1.0
    assert f(3.0) == 10.0
    assert f.grad(3.0) == 6.0
    assert f.value_and_grad(3.0) == (10.0, 6.0)
    assert f.grad is f.grad


def test_arguments_floats_ints_keywords_defaults_and_tensors():
    g = tf.grad(cube_sin, argnums=(0, 1))
    dx, dy = g(2, y=0.5)                       # an int argument is differentiated as a float
    assert dx == pytest.approx(12 * math.sin(0.5)) and dy == pytest.approx(8 * math.cos(0.5))
    assert tf.grad(cube_sin)(2.0) == pytest.approx(12 * math.sin(2.0))   # default y
    t = tf.constant(np.array(2.0))
    assert tf.grad(cube_sin)(t) == pytest.approx(12 * math.sin(2.0))    # a Tensor, no tape


def test_gradient_of_a_tensor_argument_inside_a_tape_is_recorded():
    x = tf.constant(np.array(1.5))
    with tf.GradientTape() as tape:
        tape.watch(x)
        dx = tf.grad(cube_sin)(x)              # 3 x^2 sin(2)
    assert float(dx) == pytest.approx(3 * 1.5 ** 2 * math.sin(2.0))
    assert float(tape.gradient(dx, x)) == pytest.approx(6 * 1.5 * math.sin(2.0))


def test_source_before_first_call_and_of_non_gradients():
    g = tf.grad(cube_sin)
    with pytest.raises(ValueError, match="call the gradient function once"):
        tf.source(g)
    with pytest.raises(TypeError):
        tf.source(cube_sin)
    g(1.0)
    text = tf.source(g)
    compile(text, "<source>", "exec")
    assert "def grad_cube_sin(x, y):" in text and "dx" in text


def test_explain_names_backend_and_reasons():
    assert tf.explain(cube_sin, 1.0, 2.0) == "cube_sin: backend 'native'"
    text = tf.explain(power, 1.5, 3)
    assert text.startswith("power: backend 'tape'")
    assert "recursion" in text and "test_api.py, line 17" in text
    assert tf.grad(power)(1.5, 3) == pytest.approx(3 * 1.5 ** 2)


def test_forced_backend_that_cannot_raises_with_place():
    with pytest.raises(tf.TransformError, match=r"test_api\.py, line 17: recursion"):
        tf.grad(power, backend="native")(1.5, 3)
    with pytest.raises(tf.TransformError) as info:
        tf.grad(power, backend="python")(1.5, 3)
    assert info.value.lineno == 17 and info.value.construct == "recursion"


def test_non_scalar_output_is_an_error():
    with pytest.raises(TypeError, match="scalar"):
        tf.grad(lambda x: x * 2.0)(np.ones(3))


def test_jit_compiles_the_primal():
    def f(x):
        s = 0.0
        for i in range(x.shape[0]):
            s += x[i] * x[i]
        return s
    jf = tf.jit(f)
    x = np.arange(5.0)
    assert jf(x) == f(x) == 30.0
    assert jf(np.arange(5)) == 30          # an int64 array: compiled again for that signature
    with pytest.raises(TypeError):
        jf("abc")
