"""Benchmark of the source transform (issue: gradients as generated Python).

The 1000-step scalar recurrence and a 10,000-element Rosenbrock written as an indexed loop:
the python backend's gradient against the tape backend and HIPS autograd (when installed), all in
one run, plus each gradient's time over its primal's. Bars: generated Python at least 20x faster
than the tape on the recurrence; gradient/primal at most 3 for both.

    python bench/compiler.py           # the table
    python bench/compiler.py --json    # tapeflow's figures alone, {case: microseconds}
"""
import timeit

import numpy as np

import tapeflow as tf
from workloads import recurrence, rosenbrock


def best(fn, arg, budget=1.0):
    """Best time of one call (seconds), over repeats filling about ``budget`` seconds."""
    fn(arg)
    t = timeit.timeit(lambda: fn(arg), number=1)
    number = max(1, int(0.1 / max(t, 1e-9)))
    repeat = max(3, min(50, int(budget / max(t * number, 1e-9))))
    return min(timeit.repeat(lambda: fn(arg), number=number, repeat=repeat)) / number


def autograd_gradient(fn):
    try:
        import autograd
        import autograd.numpy as anp
    except ImportError:
        return None
    # autograd traces with its own numpy and math-free code: the same loops, on its boxes
    if fn is recurrence:
        def f(x):
            for i in range(1000):
                x = 0.9 * x + 0.1 * anp.sin(x) * anp.cos(x)
            return x
    else:
        def f(x):
            s = 0.0
            for i in range(x.shape[0] - 1):
                s = s + 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2
            return s
    return autograd.grad(f)


CASES = [("recurrence (1000 steps)", recurrence, 0.5),
         ("rosenbrock loop (10,000)", rosenbrock, np.linspace(-1.0, 1.0, 10_000))]


def figures():
    """{case: microseconds} for the primal (plain Python: a control, no tapeflow in it) and
    the python and tape backends' gradients, without autograd."""
    out = {}
    for label, fn, x in CASES:
        python = tf.grad(fn, backend="python")
        tape = tf.grad(fn, backend="tape")
        np.testing.assert_allclose(python(x), tape(x), rtol=1e-10)
        out[f"{label} primal (plain Python)"] = best(fn, x) * 1e6
        out[f"{label} python grad"] = best(python, x) * 1e6
        out[f"{label} tape grad"] = best(tape, x, budget=2.0) * 1e6
    return out


def main(argv=None):
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true",
                        help="print tapeflow's figures as JSON: {case: microseconds}")
    if parser.parse_args(argv).json:
        import json
        print(json.dumps({"tapeflow": tf.__file__, "figures": figures()}))
        return
    cases = CASES
    print(f"{'function':28s} {'primal':>10s} {'python grad':>12s} {'grad/primal':>12s} "
          f"{'tape grad':>11s} {'tape/python':>12s} {'autograd':>10s} {'autograd/py':>12s}")
    for label, fn, x in cases:
        python = tf.grad(fn, backend="python")
        tape = tf.grad(fn, backend="tape")
        reference = autograd_gradient(fn)
        np.testing.assert_allclose(python(x), tape(x), rtol=1e-10)
        t_primal = best(fn, x)
        t_python = best(python, x)
        t_tape = best(tape, x, budget=2.0)
        t_auto = best(reference, x, budget=2.0) if reference else float("nan")
        print(f"{label:28s} {t_primal * 1e3:8.3f}ms {t_python * 1e3:10.3f}ms "
              f"{t_python / t_primal:12.2f} {t_tape * 1e3:9.1f}ms {t_tape / t_python:12.1f} "
              f"{t_auto * 1e3:8.1f}ms {t_auto / t_python:12.1f}")
    print("\nbars: tape/python >= 20 on the recurrence; grad/primal <= 3 for both")


if __name__ == "__main__":
    main()
