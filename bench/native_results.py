"""Per-call time of small native functions that return a fresh array (the adopted-result path:
array + capsule made per call, freed when the result is dropped) and, as a control, a float.

    python bench/native_results.py            # the installed tapeflow
    PYTHONPATH=/path/to/other/tree python bench/native_results.py

To compare two trees, run both in one shell command, alternating, and read the best figures.
Times: best of repeats, nanoseconds per call including the result's deallocation.
"""
import timeit

import numpy as np

from tapeflow.compiler import typing as T
from tapeflow.compiler.llvm import compile_source

V = T.Array(T.F64, 1)
CASES = [("x * 2.0 (array, n=8)", "def f(x):\n    return x * 2.0\n", 8),
         ("x * 2.0 (array, n=1000)", "def f(x):\n    return x * 2.0\n", 1000),
         ("(sum, x * a) (tuple, n=8)", "def f(x):\n    y = x * 2.0\n    return np.sum(y), y\n", 8),
         ("np.sum(x) (float, n=8)", "def f(x):\n    return np.sum(x)\n", 8)]


def best_ns(fn, x, repeat=25, number=20000):
    fn(x)
    return min(timeit.repeat(lambda: fn(x), repeat=repeat, number=number)) / number * 1e9


def main():
    import tapeflow.compiler.llvm.module as m
    print("tree:", m.__file__.rsplit("/compiler/", 1)[0])
    for label, src, n in CASES:
        nf = compile_source(src, "f", (V,))
        print(f"  {label:28s} {best_ns(nf, np.linspace(0.0, 1.0, n)):7.1f} ns/call")


if __name__ == "__main__":
    main()
