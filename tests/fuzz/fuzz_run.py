"""Run one random program under every backend and judge the gradients.

Verdicts:
  * ``skip``: not a fair test: the program fails in plain Python, its value (or an exp inside
    it) is not finite or huge, a comparison came within 1e-3 of a tie, or its finite
    differences are unstable;
  * ``ok``: every backend that took the program agrees with the others and with central
    differences (a backend that refuses, with TransformError or a native "unsupported", or the
    tape's TraceEscape, is fine);
  * ``mismatch``: a backend returned a different number;
  * ``crash``: a backend raised anything else.
"""
import importlib.util
import itertools
import os
import sys
import traceback

import numpy as np

import tapeflow as tf
from tapeflow.compiler.llvm.errors import NativeUnsupported
from tapeflow.runtime.trace import TraceEscape

from fuzz_programs import Program

BACKENDS = ("python", "native", "tape")
REFUSALS = (tf.TransformError, NativeUnsupported, TraceEscape)
TIE = 1e-3
FD_RTOL = 1e-4        # gradient vs. central differences, relative to the gradient's size
BACKEND_RTOL = 1e-8   # backend vs. backend: the same arithmetic, in another order

_counter = itertools.count()


class Outcome:
    def __init__(self, seed, verdict, source, x, detail="", results=None):
        self.seed, self.verdict, self.source, self.x = seed, verdict, source, x
        self.detail = detail
        self.results = results or {}   # backend -> gradient, "refused: ..." or "crash: ..."

    def report(self):
        """The program with its input and what each backend said, as a file to rerun."""
        lines = [f"# fuzz seed {self.seed}: {self.verdict} {self.detail}",
                 f"# x = {self.x!r}"]
        lines += [f"# {b}: {r!r}".replace("\n", "\n#   ") for b, r in self.results.items()]
        return "\n".join(lines) + "\n" + self.source


def load(source, directory):
    """Write ``source`` to disk (the transform reads it back) and import it."""
    name = f"fuzz_program_{os.getpid()}_{next(_counter)}"
    path = os.path.join(directory, name + ".py")
    with open(path, "w") as out:
        out.write(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def copy(x):
    return x.copy() if isinstance(x, np.ndarray) else x


def central_difference(f, x, h):
    if not isinstance(x, np.ndarray):
        return (f(x + h) - f(x - h)) / (2 * h)
    g = np.zeros_like(x)
    for i in range(x.shape[0]):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


def probe(program, x):
    """f(x) and the margins of its comparisons."""
    namespace = {}
    exec(compile(program.source(probed=True), "<probe>", "exec"), namespace)
    with np.errstate(all="raise"):
        value = namespace["f"](copy(x))
    return value, np.array(namespace["_margins"]), max(namespace["_sizes"], default=0.0)


def unfair(program):
    """Why the program is no fair test at its input (None if it is one). A comparison near a
    tie counts only if it moves with x: ``i * 0.25 > 0.25`` at i = 1 is a tie of constants."""
    try:
        value, margins, size = probe(program, program.x)
        _, moved, _ = probe(program, program.x + 1e-4 * np.cos(np.arange(np.size(program.x))
                                                            + 1.0).reshape(np.shape(program.x)))
    except Exception as e:   # overflow, a math domain error: the generator's fault, not ours
        return f"plain run failed: {type(e).__name__}: {e}"
    if not np.isfinite(value) or abs(value) > 1e6:
        return f"value {value}"
    if size > 1e6:
        return f"an exp of {size:.2g}: rounding absorbs the values beside it"
    if len(moved) != len(margins):
        return "the comparisons differ 1e-4 away"
    near = (margins < TIE) & (np.abs(moved - margins) > 1e-12)
    if np.any(near):
        return f"a comparison within {np.min(margins[near]):.2g} of a tie"
    return None


def compare(a, b, rtol, scale):
    return np.shape(a) == np.shape(b) and \
        bool(np.all(np.abs(np.asarray(a, float) - np.asarray(b, float)) <= rtol * scale))


def run(seed, directory):
    program = Program(seed)
    source, x = program.source(), program.x
    why = unfair(program)
    if why:
        return Outcome(seed, "skip", source, x, why)
    module = load(source, directory)
    f = module.f
    with np.errstate(all="ignore"):
        fd = central_difference(f, copy(x), 1e-6)
        coarse = central_difference(f, copy(x), 1e-5)
    scale = max(1.0, float(np.max(np.abs(fd))))
    if not np.all(np.isfinite(fd)) or scale > 1e6 or not compare(fd, coarse, 1e-5, scale):
        return Outcome(seed, "skip", source, x, "unstable finite differences")
    results, grads = {}, {}
    for backend in BACKENDS:
        try:
            grads[backend] = results[backend] = tf.grad(f, backend=backend)(copy(x))
        except REFUSALS as e:
            results[backend] = f"refused: {type(e).__name__}: {e}"
        except Exception:
            results[backend] = "crash: " + traceback.format_exc(limit=-4)
    results["central differences"] = fd
    crashed = [b for b in BACKENDS if str(results[b]).startswith("crash")]
    wrong = [b for b, g in grads.items() if not compare(g, fd, FD_RTOL, scale)]
    pairs = [(a, b) for a, b in itertools.combinations(grads, 2)
             if not compare(grads[a], grads[b], BACKEND_RTOL, scale)]
    if wrong or pairs:
        detail = f"wrong vs. differences: {wrong}" if wrong else f"backends differ: {pairs}"
        return Outcome(seed, "mismatch", source, x, detail, results)
    if crashed:
        return Outcome(seed, "crash", source, x, f"in {crashed}", results)
    return Outcome(seed, "ok", source, x, f"{len(grads)} backends", results)


if __name__ == "__main__":   # python tests/fuzz/fuzz_run.py SEED: one program, in full
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        print(run(int(sys.argv[1]), d).report())
