"""Gradients taken inside traced functions, and what a traced function may return.

A function that takes a gradient inside, of a function closing over its own argument, must get
the second-order term right: ``x * grad(lambda y: x * y)(x)`` is ``x * x``, derivative ``2x``
(the inner tape must not take the closed-over x for the argument y). And a result that is not a
real number (None, a string, a generator, a tuple, a complex) is a TypeError naming the function,
while a number that does not depend on the inputs has zero gradients.
"""
import numpy as np
import pytest

import tapeflow as tf
from tapeflow.runtime import trace


def central(f, x, eps=1e-5):
    return (f(x + eps) - f(x - eps)) / (2 * eps)


# --- nested gradients ----------------------------------------------------------------------------
def inner_closes_over_argument(x):
    return x * tf.grad(lambda y: x * y)(x)            # = x * x


def inner_closes_over_argument_cubic(x):
    return x * tf.grad(lambda y: x * y * y)(x)        # = x * 2 x x = 2 x^3


def inner_two_arguments_same_tensor(x):
    da, db = tf.grad(lambda a, b: a * b * x, argnums=(0, 1))(x, x)   # (x^2, x^2)
    return da + db                                    # = 2 x^2


def inner_tape_backend(x):
    return x * tf.grad(lambda y: np.sin(x * y), backend="tape")(x)   # = x^2 cos(x^2)


NESTED = [(inner_closes_over_argument, lambda x: 2 * x),
          (inner_closes_over_argument_cubic, lambda x: 6 * x ** 2),
          (inner_two_arguments_same_tensor, lambda x: 4 * x),
          (inner_tape_backend, lambda x: 2 * x * np.cos(x * x) - 2 * x ** 3 * np.sin(x * x))]


@pytest.mark.parametrize("fn, exact", NESTED, ids=[f.__name__ for f, _ in NESTED])
@pytest.mark.parametrize("x", [3.0, -0.6])
def test_gradient_of_function_with_inner_gradient(fn, exact, x):
    g = tf.grad(fn, backend="tape")(x)
    assert g == pytest.approx(exact(x), rel=1e-10)
    assert g == pytest.approx(central(fn, x), rel=1e-6)   # fn on plain floats: its own value


def test_inner_gradient_of_a_closure_on_plain_numbers_is_never_a_wrong_number():
    # the inner gradient's argument is a plain number, its closure a traced x: it must be
    # right (6) or refused, never the 3 a constant inner gradient would give
    def f(x):
        return x * tf.grad(lambda y: x * y)(2.0)

    def f_tape(x):
        return x * tf.grad(lambda y: x * y, backend="tape")(2.0)

    def f_sin(x):                        # x * x * cos(1.5 x)
        return tf.grad(lambda y: np.sin(x * y))(1.5) * x
    for fn, exact in ((f, lambda x: 2 * x), (f_tape, lambda x: 2 * x),
                      (f_sin, lambda x: 2 * x * np.cos(1.5 * x) -
                       1.5 * x * x * np.sin(1.5 * x))):
        for backend in ("tape", "auto"):   # the inner grad runs on the tape: it reads a traced x
            assert tf.grad(fn, backend=backend)(3.0) == pytest.approx(exact(3.0), rel=1e-9)
        with pytest.raises(tf.TransformError):
            tf.grad(fn, backend="python")(3.0)


def test_reads_traced_values():
    x = tf.constant(2.0)
    other = tf.constant(1.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        assert trace.reads_traced_values(lambda y: x * y)
        assert not trace.reads_traced_values(lambda y: other * y)
        assert not trace.reads_traced_values(lambda y: y * y)
    assert not trace.reads_traced_values(lambda y: x * y)   # no tape recording


# --- results that are not numbers ----------------------------------------------------------------
def returns_none(x):
    x * 2.0


def returns_string(x):
    return "x"


def returns_generator(x):
    return (x * i for i in range(3))


def returns_tuple(x):
    return x, x * 2.0


def returns_complex(x):
    return x * 1j


def returns_python_complex(x):
    return 2j


def returns_list(x):
    return [x]


NOT_NUMBERS = [(returns_none, "NoneType"), (returns_string, "str"),
               (returns_generator, "generator"), (returns_tuple, "tuple"),
               (returns_complex, "complex128"), (returns_python_complex, "complex"),
               (returns_list, "list")]


@pytest.mark.parametrize("fn, type_name", NOT_NUMBERS, ids=[f.__name__ for f, _ in NOT_NUMBERS])
def test_result_that_is_not_a_number_is_a_type_error(fn, type_name):
    with pytest.raises(TypeError) as info:
        tf.grad(fn, backend="tape")(1.5)
    msg = str(info.value)
    assert fn.__name__ in msg and type_name in msg and "real number" in msg
    assert f"{__file__}, line {fn.__code__.co_firstlineno}" in msg


@pytest.mark.parametrize("fn, type_name", NOT_NUMBERS[:4], ids=[f.__name__ for f, _ in NOT_NUMBERS[:4]])
def test_inner_gradient_of_a_non_number_is_a_type_error(fn, type_name):
    def outer(x):
        return x * tf.grad(fn)(x)
    with pytest.raises(TypeError, match=fn.__name__):
        tf.grad(outer, backend="tape")(1.5)


def constant_float(x):
    return 1.0


def constant_int(x):
    return 3


def constant_numpy(x):
    return np.float64(2.5)


def constant_of_shape(x):
    return float(np.shape(x)[0])


@pytest.mark.parametrize("fn", [constant_float, constant_int, constant_numpy, constant_of_shape])
def test_number_independent_of_the_input_has_zero_gradient(fn):
    np.testing.assert_array_equal(tf.grad(fn, backend="tape")(np.array([1.0, 2.0])), [0.0, 0.0])
    value, grad = tf.value_and_grad(fn, backend="tape")(np.array([1.0, 2.0]))
    assert value == fn(np.array([1.0, 2.0])) and np.all(grad == 0.0)


def test_inner_gradient_closing_over_a_variable_under_gradient_tape():
    # x is read (and so watched) only after the inner gradient ran: it must count as traced
    x = tf.Variable(3.0)
    with tf.GradientTape() as tape:
        y = x * tf.grad(lambda v: x * v)(2.0)      # x * x
    assert float(tape.gradient(y, x)) == pytest.approx(6.0)
