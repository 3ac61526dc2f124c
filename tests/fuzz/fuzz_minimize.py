"""Shrink a failing program: drop lines while it still fails the same way.

    python tests/fuzz/fuzz_minimize.py FAILING.py   (a file bench/fuzz.py wrote)

A candidate still fails when a compiled backend's gradient differs from central differences
(or it crashes) while the plain program runs. Lines are dropped one at a time, then blocks
(a line with everything indented under it), until nothing more can go.
"""
import ast
import sys
import tempfile

import numpy as np

import tapeflow as tf
import fuzz_run


def still_fails(source, x, directory):
    try:
        ast.parse(source)
        module = fuzz_run.load(source, directory)
        with np.errstate(all="ignore"):
            fd = fuzz_run.central_difference(module.f, fuzz_run.copy(x), 1e-6)
    except Exception:
        return False
    scale = max(1.0, float(np.max(np.abs(fd))))
    if not np.all(np.isfinite(fd)):
        return False
    for backend in ("python", "native"):
        try:
            g = tf.grad(module.f, backend=backend)(fuzz_run.copy(x))
        except fuzz_run.REFUSALS:
            continue
        except Exception:
            return True
        if not fuzz_run.compare(g, fd, fuzz_run.FD_RTOL, scale):
            return True
    return False


def block_end(lines, k):
    indent = len(lines[k]) - len(lines[k].lstrip())
    j = k + 1
    while j < len(lines) and (not lines[j].strip() or
                              len(lines[j]) - len(lines[j].lstrip()) > indent):
        j += 1
    return j


def minimize(source, x):
    lines = source.splitlines()
    with tempfile.TemporaryDirectory() as d:
        shrunk = True
        while shrunk:
            shrunk = False
            for k in reversed(range(len(lines))):
                if k >= len(lines) or lines[k].startswith(("import", "def f")):
                    continue
                for end in (k + 1, block_end(lines, k)):
                    candidate = lines[:k] + lines[end:]
                    if still_fails("\n".join(candidate) + "\n", x, d):
                        lines, shrunk = candidate, True
                        break
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    text = open(sys.argv[1]).read()
    x_line = next(line for line in text.splitlines() if line.startswith("# x = "))
    x = eval(x_line[6:], {"array": np.array})
    print(f"# x = {x!r}")
    print(minimize(text, x))
