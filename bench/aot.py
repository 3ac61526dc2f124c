"""Benchmark of ahead-of-time modules (issue: tapeflow build).

Builds a module with a scalar function and a Rosenbrock loop, then measures, each in a fresh
process: the import time of the built loader (numpy preloaded, and in total with numpy), and
the JIT's first call (compile time) for the same gradients; in this process: the call overhead
of the loader against the JIT's steady-state call. Bar: importing the built module under 50 ms.

    python bench/aot.py
"""
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import timeit

import numpy as np

import tapeflow

SOURCE = textwrap.dedent('''
    def sq(x):
        return x * x + 3.0 * x

    def rosen(x):
        s = 0.0
        for i in range(x.shape[0] - 1):
            s += 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2
        return s
''')


def fresh(code, runs=7):
    """Median of a number a fresh interpreter prints (seconds)."""
    vals = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
        vals.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(vals)


def per_call(fn, *args):
    fn(*args)
    n = 20000
    return min(timeit.repeat(lambda: fn(*args), number=n, repeat=5)) / n


def main():
    d = tempfile.mkdtemp(prefix="tapeflow-aot-bench-")
    src = os.path.join(d, "benchsrc.py")
    with open(src, "w") as f:
        f.write(SOURCE)
    t = time.perf_counter()
    tapeflow.build(src, ["sq:f8", "rosen:f8[:]"], d, "benchmod")
    build_s = time.perf_counter() - t

    imp = fresh(f"import sys, time; sys.path.insert(0, {d!r}); import numpy\n"
                f"t = time.perf_counter(); import benchmod; print(time.perf_counter() - t)")
    imp_total = fresh(f"import sys, time; sys.path.insert(0, {d!r})\n"
                      f"t = time.perf_counter(); import benchmod; print(time.perf_counter() - t)")
    numpy_only = fresh("import time; t = time.perf_counter(); import numpy; print(time.perf_counter() - t)")
    jit_first_scalar = fresh(f"import sys, time; sys.path.insert(0, {d!r}); import tapeflow, benchsrc\n"
                             f"g = tapeflow.grad(benchsrc.sq, backend='native')\n"
                             f"t = time.perf_counter(); g(0.5); print(time.perf_counter() - t)", runs=3)
    jit_first_rosen = fresh(f"import sys, time; sys.path.insert(0, {d!r}); import tapeflow, benchsrc, numpy\n"
                            f"g = tapeflow.grad(benchsrc.rosen, backend='native'); x = numpy.ones(100)\n"
                            f"t = time.perf_counter(); g(x); print(time.perf_counter() - t)", runs=3)

    sys.path.insert(0, d)
    import benchmod
    import benchsrc
    x = np.linspace(-1, 1, 100)
    jit_sq = tapeflow.grad(benchsrc.sq, backend="native")
    jit_rosen = tapeflow.grad(benchsrc.rosen, backend="native")
    rows = [
        ("build (2 functions, primal+grad+value_and_grad)", build_s),
        ("import numpy (fresh process)", numpy_only),
        ("import built module, numpy preloaded", imp),
        ("import built module incl. numpy", imp_total),
        ("JIT first call sq (compile)", jit_first_scalar),
        ("JIT first call rosen (compile)", jit_first_rosen),
        ("AOT call sq_grad(0.5)", per_call(benchmod.sq_grad, 0.5)),
        ("AOT call sq(0.5) (primal)", per_call(benchmod.sq, 0.5)),
        ("JIT call grad(sq)(0.5)", per_call(jit_sq, 0.5)),
        ("AOT call rosen_grad(x[100])", per_call(benchmod.rosen_grad, x)),
        ("JIT call grad(rosen)(x[100])", per_call(jit_rosen, x)),
    ]
    print(f"{'measure':52} {'time':>12}")
    for name, s in rows:
        print(f"{name:52} {s * 1e6:10.1f} us" if s < 1e-3 else f"{name:52} {s * 1e3:10.2f} ms")
    bar = imp < 0.050
    print(f"\nbar: import of the built module under 50 ms (numpy preloaded): "
          f"{'met' if bar else 'MISSED'} ({imp * 1e3:.2f} ms)")


if __name__ == "__main__":
    main()
