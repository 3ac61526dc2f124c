"""The timing side of a GradBench function, shared by every eval module.

``measured(fn, prepare, finish)`` makes what tool.py calls for one GradBench function: the input
is converted by ``prepare`` (JSON to numpy, untimed), ``fn`` runs at least ``min_runs`` times and
for at least ``min_seconds`` (one ``evaluate`` timing per run, the function alone), and ``finish``
turns the last result back into JSON (untimed).

tapeflow compiles a function on its first call for a signature (the kinds of the arguments:
float, int, array of ndim k, and their dtypes; not their sizes). That first call is made before
the timed runs and reported as a ``compile`` timing (it includes one run of the function); a
later input with the same signature reuses the compiled code and reports no ``compile``.
"""
import time

import numpy as np


def signature(args):
    """What tapeflow compiles one version of the code for: kind, ndim and dtype per argument."""
    return tuple((type(a).__name__, a.ndim, a.dtype.str) if isinstance(a, np.ndarray) else
                 type(a).__name__ for a in args)


class Measured:
    """One GradBench function: ``self(input) -> (output, timings)``."""

    def __init__(self, fn, prepare, finish, runs=True):
        self.fn = fn
        self.prepare = prepare
        self.finish = finish
        self.runs = runs        # False: the input has no min_runs/min_seconds (hello): one run
        self.compiled = set()   # signatures already compiled

    def __call__(self, input):
        args = self.prepare(input)
        timings = []
        key = signature(args)
        if key not in self.compiled:
            start = time.perf_counter_ns()
            output = self.fn(*args)
            timings.append({"name": "compile", "nanoseconds": time.perf_counter_ns() - start})
            self.compiled.add(key)
        min_runs = input.get("min_runs", 1) if self.runs else 1
        min_seconds = input.get("min_seconds", 0) if self.runs else 0
        runs, elapsed = 0, 0
        while runs < min_runs or elapsed < min_seconds * 1e9:
            start = time.perf_counter_ns()
            output = self.fn(*args)
            took = time.perf_counter_ns() - start
            timings.append({"name": "evaluate", "nanoseconds": took})
            runs += 1
            elapsed += took
        return self.finish(output), timings


def measured(fn, prepare, finish, runs=True):
    return Measured(fn, prepare, finish, runs)

