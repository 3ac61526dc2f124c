"""Issue 14: JIT code releases the GIL around native work, and Ctrl-C stops long native loops."""
import math
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

from tapeflow.compiler import typing as T
from tapeflow.compiler.llvm import compile_source

LOOP = textwrap.dedent("""
    def f(x, n):
        s = 0.0
        for i in range(n):
            s = s + math.sin(x * i)
        return s
""")


def test_other_threads_run_during_a_native_call():
    nf = compile_source(LOOP, "f", (T.F64, T.I64))
    n = 3 * 10 ** 7
    expected = float(np.sum(np.sin(1e-7 * np.arange(1000))))
    assert abs(nf(1e-7, 1000) - expected) < 1e-9
    stamps, stop = [], threading.Event()

    def ticker():
        while not stop.is_set():
            stamps.append(time.perf_counter())
            time.sleep(0.001)
    t = threading.Thread(target=ticker)
    t.start()
    try:
        time.sleep(0.01)
        t0 = time.perf_counter()
        nf(1e-7, n)
        t1 = time.perf_counter()
    finally:
        stop.set()
        t.join()
    during = sum(t0 < s < t1 for s in stamps)
    # with the GIL held the ticker gets at most one tick in; it ticks every ~1 ms otherwise
    assert during >= 10, (during, t1 - t0)


def test_threads_compute_the_same_gradients_concurrently():
    from concurrent.futures import ThreadPoolExecutor
    src = textwrap.dedent("""
        def g(x):
            st = Stack()
            s = 0.0
            for i in range(x.shape[0]):
                st.push(s)
                s = s + x[i] * x[i]
            d = np.zeros_like(x)
            for i in reversed(range(x.shape[0])):
                s = st.pop()
                d[i] = 2.0 * x[i] + 0.0 * s
            return d * 1.0
    """)
    nf = compile_source(src, "g", (T.Array(T.F64, 1),))
    xs = [np.linspace(-1.0, 1.0 + k, 20000 + 17 * k) for k in range(8)]
    with ThreadPoolExecutor(4) as pool:
        for _ in range(3):
            for x, d in zip(xs, pool.map(nf, xs)):
                np.testing.assert_array_equal(d, 2.0 * x)


CHILD = textwrap.dedent("""
    import signal, sys, time
    # a shell starts background jobs with SIGINT ignored, and children inherit that
    signal.signal(signal.SIGINT, signal.default_int_handler)
    from tapeflow.compiler import typing as T
    from tapeflow.compiler.llvm import compile_source
    nf = compile_source(sys.argv[1], "f", (T.F64, T.I64))
    nf(0.5, 10)
    print("running", flush=True)
    try:
        nf(1e-9, 10 ** 10)          # minutes of native work
    except KeyboardInterrupt:
        print("interrupted", flush=True)
    print(nf(0.5, 3), flush=True)     # the function still works afterwards
""")


# an inner loop is not chunked: it charges its trip count on entry; an outer chunk of 2^22
# iterations here would be 2^32 sines (tens of seconds) before the first poll
NESTED = textwrap.dedent("""
    def f(x, n):
        s = 0.0
        for i in range(n):
            for j in range(1000):
                s = s + math.sin(x * (i + j))
        return s
""")


@pytest.mark.parametrize("source, inner", [(LOOP, 1), (NESTED, 1000)], ids=["loop", "nested"])
def test_sigint_stops_a_long_native_loop(source, inner):
    p = subprocess.Popen([sys.executable, "-c", CHILD, source], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline() == "running\n"
        time.sleep(0.2)
        sent = time.perf_counter()
        os.kill(p.pid, signal.SIGINT)
        out, err = p.communicate(timeout=60)
        waited = time.perf_counter() - sent
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0, err
    expected = 0.0
    for i in range(3):
        for j in range(inner):
            expected = expected + math.sin(0.5 * (i + j))
    assert out.split()[0] == "interrupted"
    np.testing.assert_allclose(float(out.split()[1]), expected, rtol=1e-12)
    assert waited < 15, waited   # (a poll every 2^22 iterations: well under a second here)
