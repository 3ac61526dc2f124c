"""Strict tracing is per thread: the tape backend never patches Tensor for the whole process.

While ``grad(f, backend="tape")`` traces on one thread, a traced value leaving the trace there
raises ``TraceEscape``; other threads convert their Tensors as always, and nothing of the trace
stays behind once it ends (also when it fails, and when traces nest or run concurrently).
"""
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import tapeflow as tf
from tapeflow.runtime import tensor as tensor_module
from tapeflow.runtime.tensor import Tensor
from tapeflow.runtime.trace import TraceEscape

METHODS = ("__float__", "item", "__array__", "__setitem__")
ORIGINAL = {name: Tensor.__dict__[name] for name in METHODS}


def assert_tensor_class_untouched():
    for name in METHODS:
        assert Tensor.__dict__[name] is ORIGINAL[name], name
    assert tensor_module.strict.guard is None


def test_other_thread_converts_while_a_trace_waits_in_the_middle():
    inside, release = threading.Event(), threading.Event()
    results = {}

    def f(x):
        y = np.sin(x) * x
        inside.set()
        assert release.wait(10)      # the trace is in progress while the main thread works
        return y * y

    def trace_in_thread():
        results["grad"] = tf.grad(f, backend="tape")(0.7)

    worker = threading.Thread(target=trace_in_thread)
    worker.start()
    try:
        assert inside.wait(10)
        # the main thread, during the other thread's trace: plain conversions, and a
        # TensorFlow-style tape whose watched value is converted (not strict here)
        assert float(tf.constant(2.0)) == 2.0
        assert tf.constant(3.5).item() == 3.5
        np.testing.assert_array_equal(np.asarray(tf.constant([1.0, 2.0])), [1.0, 2.0])
        x = tf.Variable(1.5)
        with tf.GradientTape() as tape:
            y = x * x
            assert float(y) == 2.25
        assert tape.gradient(y, x).numpy() == 3.0
    finally:
        release.set()
        worker.join(10)
    x = 0.7
    expected = 2 * (np.sin(x) * x) * (np.cos(x) * x + np.sin(x))
    assert results["grad"] == pytest.approx(expected, rel=1e-12)
    assert_tensor_class_untouched()


def test_strict_mode_is_only_on_the_tracing_thread():
    inside, release = threading.Event(), threading.Event()
    seen = {}

    def f(x):
        seen["guard in trace"] = tensor_module.strict.guard is not None
        inside.set()
        assert release.wait(10)
        return x * 2.0

    worker = threading.Thread(target=lambda: tf.grad(f, backend="tape")(1.0))
    worker.start()
    assert inside.wait(10)
    seen["guard here"] = tensor_module.strict.guard is not None
    release.set()
    worker.join(10)
    assert seen == {"guard in trace": True, "guard here": False}


def test_concurrent_tape_gradients_are_right_and_leave_nothing_behind():
    def f(x):
        return np.sum(np.exp(x) * np.cos(x))

    def one(i):
        x = np.linspace(-1.0, 1.0, 5) + 0.01 * i
        g = tf.grad(f, backend="tape")(x)
        np.testing.assert_allclose(g, np.exp(x) * (np.cos(x) - np.sin(x)), rtol=1e-12)
        return True

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert all(pool.map(one, range(64)))
    assert_tensor_class_untouched()
    assert float(tf.constant(2.0)) == 2.0
    # and strict tracing still works afterwards
    with pytest.raises(TraceEscape, match=r"float\(\)"):
        tf.grad(lambda x: x * float(x), backend="tape")(2.0)
    assert_tensor_class_untouched()


def test_escape_in_a_thread_does_not_leak_into_the_process():
    def f(x):
        return float(x) * x

    errors = []

    def run():
        try:
            tf.grad(f, backend="tape")(2.0)
        except TraceEscape as e:
            errors.append(e)
        errors.append(tensor_module.strict.guard)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sum(isinstance(e, TraceEscape) for e in errors) == 4
    assert sum(e is None for e in errors) == 4       # each thread's guard is gone after its trace
    assert_tensor_class_untouched()


def helper_with_inner_gradient(x):
    inner = tf.grad(lambda y: y * y, backend="tape")(2.0)   # a nested trace on plain numbers
    return float(x) * inner                                # the outer trace is still strict


def test_nested_trace_restores_the_outer_strict_mode_and_its_location():
    with pytest.raises(TraceEscape) as info:
        tf.grad(helper_with_inner_gradient, backend="tape")(3.0)
    import inspect
    lines, first = inspect.getsourcelines(helper_with_inner_gradient)
    line = first + next(i for i, text in enumerate(lines) if "float(x)" in text)
    assert f"{__file__}, line {line}: float()" in str(info.value)
    assert_tensor_class_untouched()
