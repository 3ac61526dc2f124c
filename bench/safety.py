"""Issue 14 figures: threads, Ctrl-C and memory of the native backend.

    python bench/safety.py [--functions 2000] [--only threads|sigint|memory]

1. Two threads on a long native gradient (the GIL is released around native code): wall time
   of 2 x K calls in one thread, then split over two threads; speedup = t1 / t2.
2. SIGINT sent to a subprocess running a ~10-second native loop: time from the signal to the
   KeyboardInterrupt (and to the process's exit).
3. Resident memory after differentiating N distinct functions (tf.grad, auto backend: native,
   default cache bounds), and after N fresh ``tf.jit(f)`` objects; time per function at the start
   and at the end. Each function has a source of its own (registered with linecache: an exec'd
   function without one would fall back to the tape and measure the wrong backend).
4. Peak resident memory of the save stacks of a loop saving 16-element arrays, 10^5 and 10^6
   iterations (native and python backends, each in a fresh process, measured after a first
   call has compiled), against the size of the saved data.
Numbers depend on the machine's load; run it on a quiet machine for figures to quote.
"""
import argparse
import gc
import linecache
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np

import tapeflow as tf


def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def loss(x):
    s = 0.0
    for k in range(20):
        for i in range(x.shape[0] - 1):
            s += 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2
    return s


def threads(calls=40):
    g = tf.grad(loss, backend="native")
    x = np.linspace(-1.0, 1.0, 200_000)
    g(x)
    t = time.perf_counter()
    for _ in range(2 * calls):
        g(x)
    t1 = time.perf_counter() - t

    def work():
        for _ in range(calls):
            g(x)
    ts = [threading.Thread(target=work) for _ in range(2)]
    t = time.perf_counter()
    for th in ts:
        th.start()
    for th in ts:
        th.join()
    t2 = time.perf_counter() - t
    per = t1 / (2 * calls) * 1e3
    print(f"threads: {2 * calls} gradient calls ({per:.1f} ms each): 1 thread {t1:.2f} s, "
          f"2 threads {t2:.2f} s, speedup {t1 / t2:.2f}x (cores: {os.cpu_count()})")


CHILD = textwrap.dedent("""
    import math, signal, sys, time
    from tapeflow.compiler import typing as T
    from tapeflow.compiler.llvm import compile_source
    src = "def f(x, n):\\n    s = 0.0\\n    for i in range(n):\\n        s = s + math.sin(x * i)\\n    return s\\n"
    nf = compile_source(src, "f", (T.F64, T.I64))
    t = time.perf_counter(); nf(1e-9, 10 ** 7); per = (time.perf_counter() - t) / 10 ** 7
    n = int(10.0 / per)
    got = []
    signal.signal(signal.SIGINT, lambda *a: (got.append(time.perf_counter()), signal.default_int_handler(*a)))
    print(n, flush=True)
    try:
        nf(1e-9, n)
        print("finished", flush=True)
    except KeyboardInterrupt:
        print(f"interrupted {time.perf_counter() - got[0]:.6f}", flush=True)
""")


def sigint(delay=1.0):
    p = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE, text=True)
    n = int(p.stdout.readline())
    time.sleep(delay)
    t = time.perf_counter()
    os.kill(p.pid, signal.SIGINT)
    line = p.stdout.readline().strip()
    t_raised = time.perf_counter() - t
    p.wait()
    t_exit = time.perf_counter() - t
    print(f"sigint: a {n:.3g}-iteration (~10 s) native loop, signal after {delay} s: {line} "
          f"(handler to KeyboardInterrupt, s); parent saw it after {t_raised * 1e3:.1f} ms, "
          f"exit after {t_exit * 1e3:.1f} ms")


def distinct(k):
    src = f"def f{k}(x):\n    return np.sum(np.sin(x * {k + 1}.0) * x) + {k}.0\n"
    name = f"<bench-safety {k}>"
    linecache.cache[name] = (len(src), None, src.splitlines(True), name)
    ns = {"np": np}
    exec(compile(src, name, "exec"), ns)
    return ns[f"f{k}"]


def memory(n, what):
    x = np.linspace(-1.0, 1.0, 50)
    if what == "grad":
        assert "backend 'native'" in tf.explain(distinct(10 ** 6), x)
    gc.collect()
    before = rss_mb()
    times = []
    for k in range(n):
        fn = distinct(k)
        t = time.perf_counter()
        (tf.grad(fn) if what == "grad" else tf.jit(fn))(x)
        times.append(time.perf_counter() - t)
        if (k + 1) % max(n // 4, 1) == 0:
            print(f"  {what} {k + 1}: RSS {rss_mb():.0f} MB (+{rss_mb() - before:.0f})", flush=True)
    gc.collect()
    first, last = np.mean(times[:100]) * 1e3, np.mean(times[-100:]) * 1e3
    print(f"memory ({what}): {n} distinct functions: RSS {before:.0f} -> {rss_mb():.0f} MB "
          f"(+{(rss_mb() - before) / n * 1e3:.0f} kB each); ms per function {first:.0f} "
          f"(first 100) -> {last:.0f} (last 100)")


STACK_CHILD = textwrap.dedent("""
    import resource, sys, numpy as np
    import tapeflow as tf
    from bench.safety import pushes
    n, backend = int(sys.argv[1]), sys.argv[2]
    x = np.linspace(0.1, 1.0, 16)
    g = tf.grad(pushes, backend=backend)
    g(x, 2)         # compiled first: the compiler's own peak is not the stack's
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    g = g(x, n)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print((peak - base) / 1024, float(np.sum(g)))
""")


def pushes(x, n):
    # each iteration saves the 16-element array y for the adjoint sweep
    s = 0.0
    y = x
    for i in range(n):
        y = np.sin(y) * 0.5 + x
        s = s + np.sum(y)
    return s


def stack(counts=(10 ** 5, 10 ** 6)):
    # the generated gradient saves y twice and sin(y) * 0.5 once per iteration (see
    # tf.source): 3 arrays of 128 bytes
    for n in counts:
        data = 3 * n * 16 * 8 / 2 ** 20
        for backend in ("native", "python"):
            out = subprocess.run([sys.executable, "-c", STACK_CHILD, str(n), backend], text=True,
                                 capture_output=True, cwd=os.path.dirname(os.path.dirname(
                                     os.path.abspath(__file__))))
            if out.returncode:
                print(f"stack ({backend}): failed: {out.stderr.strip().splitlines()[-1]}")
                continue
            peak = float(out.stdout.split()[0])
            print(f"stack ({backend}): a 16-element array saved in {n} iterations "
                  f"({data:.0f} MB of saved data): peak RSS +{peak:.0f} MB "
                  f"({peak / data:.1f}x the data)", flush=True)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--functions", type=int, default=2000)
    ap.add_argument("--only", choices=["threads", "sigint", "memory", "jit", "stack"])
    ap.add_argument("--pushes", type=int, nargs="+", default=[10 ** 5, 10 ** 6])
    a = ap.parse_args()
    if a.only in (None, "threads"):
        threads()
    if a.only in (None, "sigint"):
        sigint()
    if a.only in (None, "memory"):
        memory(a.functions, "grad")
    if a.only in (None, "jit"):
        memory(a.functions, "jit")
    if a.only in (None, "stack"):
        stack(a.pushes)
