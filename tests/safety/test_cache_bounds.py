"""Issue 14: the compiler's caches are bounded and tied to the lifetime of the function."""
import gc
import linecache
import weakref

import numpy as np
import pytest

import tapeflow as tf
from tapeflow.compiler import caches, pipeline


def make(k):
    """A fresh function with a source of its own (no file): distinct code each call."""
    src = f"def f{k}(x):\n    return np.sum(np.sin(x * {k + 1}.0) * x)\n"
    name = f"<cache-bounds {k}>"
    linecache.cache[name] = (len(src), None, src.splitlines(True), name)
    ns = {"np": np}
    exec(compile(src, name, "exec"), ns)
    return ns[f"f{k}"]


def expected(k, x):
    c = k + 1.0
    return c * x * np.cos(c * x) + np.sin(c * x)


@pytest.fixture
def limits():
    old = dict(caches.LIMITS)
    yield caches.set_limits
    caches.set_limits(**old)


def test_entries_go_with_their_function_and_so_does_the_native_code():
    x = np.linspace(-1.0, 1.0, 7)
    f = make(0)
    g = tf.grad(f, backend="native")
    np.testing.assert_allclose(g(x), expected(0, x), rtol=1e-13)
    gen = pipeline._GENERATED.get(f, ((0,), g.last_key[0], False, None))
    assert gen is not None and gen.native
    code = weakref.ref(next(iter(gen.native.values()))._code)
    before = len(pipeline._GENERATED), len(pipeline._NORMALIZED)
    del f, g, gen
    gc.collect()
    gc.collect()         # the compiled function sits in a cycle freed by the second pass
    assert len(pipeline._GENERATED) == before[0] - 1
    assert len(pipeline._NORMALIZED) == before[1] - 1
    assert code() is None            # the engine holding its machine code is gone


def test_the_bound_by_count_evicts_the_least_recently_used(limits):
    limits(max_entries=3)
    x = np.linspace(-1.0, 1.0, 5)
    fs = [make(k) for k in range(1, 6)]
    for k, f in enumerate(fs, 1):
        np.testing.assert_allclose(tf.grad(f, backend="python")(x), expected(k, x), rtol=1e-13)
        assert len(pipeline._GENERATED) <= 3 and len(pipeline._NORMALIZED) <= 3
    kept = [f for f in fs if any(v[0]() is f for v in pipeline._GENERATED.entries.values())]
    assert kept == fs[-3:]
    # an evicted function is transformed again, with the same result
    np.testing.assert_allclose(tf.grad(fs[0], backend="python")(x), expected(1, x), rtol=1e-13)


def test_the_bound_by_bytes(limits):
    limits(max_entries=1000, max_bytes=1)      # smaller than any entry: only the newest stays
    x = np.linspace(-1.0, 1.0, 5)
    for k in range(6, 9):
        np.testing.assert_allclose(tf.grad(make(k), backend="python")(x), expected(k, x),
                                   rtol=1e-13)
        assert len(pipeline._GENERATED) <= 1


def test_a_gradient_object_keeps_working_after_its_entry_is_evicted(limits):
    x = np.linspace(-1.0, 1.0, 5)
    f = make(9)
    g = tf.grad(f, backend="native")
    g(x)
    limits(max_entries=0)
    assert len(pipeline._GENERATED) == 0
    np.testing.assert_allclose(g(x), expected(9, x), rtol=1e-13)   # it holds its own code


def test_fresh_jit_objects_free_their_code():
    x = np.linspace(-1.0, 1.0, 5)
    f = make(10)
    j = tf.jit(f)
    assert j(x) == pytest.approx(np.sum(np.sin(11.0 * x) * x), rel=1e-13)
    code = weakref.ref(next(iter(j.cache.values()))[0]._code)
    del j
    gc.collect()
    gc.collect()         # the compiled function sits in a cycle freed by the second pass
    assert code() is None
