"""Arrays returned by native code stay valid, and are freed safely, after their function is gone.

A result that is exactly one arena block becomes the array's memory, owned by a capsule whose
destructor frees it. That destructor used to be a function of the compiled module, so freeing
the array after the function (and its engine) had been collected jumped into freed code: a
segfault. Each scenario runs in a child process so that a crash fails the test instead of
killing pytest.
"""
import os
import subprocess
import sys
import textwrap

SCENARIOS = textwrap.dedent('''
    import gc

    import numpy as np

    from tapeflow.compiler import typing as T
    from tapeflow.compiler.llvm import compile_source, engine, jit

    V, M = T.Array(T.F64, 1), T.Array(T.F64, 2)
    x = np.linspace(0.0, 1.0, 1000)


    def adopted(r):
        # the case under test: the array's memory is the call's arena block, owned by a capsule
        assert type(r.base).__name__ == "PyCapsule", type(r.base)
        return r


    def churn():
        # the functions that made the results are gone (their engines disposed of); compile and
        # drop others, whose code may land where theirs was
        gc.collect()
        assert not engine._engines, f"{len(engine._engines)} compiled functions still alive"
        for k in range(3):
            compile_source(f"def g(y):\\n    return y + {k}.0\\n", "g", (V,))(x)
        gc.collect()


    def step(name):
        print(name, flush=True)


    step("single array")
    r = adopted(compile_source("def f(x):\\n    return x * 2.0\\n", "f", (V,))(x))
    gc.collect()
    churn()
    assert np.array_equal(r, x * 2.0)
    del r
    gc.collect()

    step("tuple of a float and an array")
    src = "def f(x, a):\\n    y = x * a\\n    s = np.sum(y)\\n    return s, y\\n"
    s, y = compile_source(src, "f", (V, T.F64))(x, 3.0)
    adopted(y)
    gc.collect()
    churn()
    assert np.array_equal(y, x * 3.0) and abs(s - np.sum(x * 3.0)) < 1e-9   # sums reassociate
    del s, y
    gc.collect()

    step("2-d array, a view of it outliving the array")
    src = "def f(a):\\n    return np.sin(a) * a\\n"
    a = x.reshape(20, 50)
    row = adopted(compile_source(src, "f", (M,))(a))[3]
    gc.collect()
    churn()
    assert np.array_equal(row, np.sin(a[3]) * a[3])
    del row
    gc.collect()

    step("jit dispatcher dropped")


    def h(x):
        return np.exp(x) - 1.0


    d = jit(h)
    r = adopted(d(x))
    del d, h
    gc.collect()
    churn()
    assert np.allclose(r, np.expm1(x), rtol=1e-12, atol=1e-15)
    del r
    gc.collect()

    step("many results freed after all their functions, in reverse order")
    results = [adopted(compile_source(f"def f(x):\\n    return x * {k}.0 + 1.0\\n", "f", (V,))(x))
               for k in range(8)]
    gc.collect()
    churn()
    for k in reversed(range(8)):
        assert np.array_equal(results[k], x * k + 1.0)
        results.pop()
        gc.collect()
    print("ok", flush=True)
''')


def _run(tmp_path, env=None):
    script = tmp_path / "lifetime.py"
    script.write_text(SCENARIOS)
    env = {**os.environ, "TAPEFLOW_NATIVE_CACHE": "", **(env or {})}     # in memory unless told
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         env=env, timeout=120)
    steps = out.stdout.split()
    assert out.returncode == 0 and steps[-1:] == ["ok"], (
        f"child exited with {out.returncode} during step {out.stdout.strip().splitlines()[-1:]}:\n"
        f"{out.stderr[-2000:]}")


def test_results_outlive_their_compiled_functions(tmp_path):
    _run(tmp_path)


def test_results_of_disk_cached_code_outlive_their_functions(tmp_path):
    # the second process loads every function's object code from the cache (no IR module): its
    # capsules must still find the destructor by symbol
    cache = tmp_path / "cache"
    env = {"TAPEFLOW_NATIVE_CACHE": str(cache), "TAPEFLOW_CACHE_KEY": str(tmp_path / "key")}
    _run(tmp_path, env)
    written = sorted(p.stat().st_mtime_ns for p in cache.rglob("*.o"))
    assert written
    _run(tmp_path, env)
    assert sorted(p.stat().st_mtime_ns for p in cache.rglob("*.o")) == written   # all hits
