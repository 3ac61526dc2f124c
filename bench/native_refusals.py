"""Which functions of the primitive table the native backend still refuses, and why.

    python bench/native_refusals.py [--all]

Every differentiable entry is called at its grid variants (the cases of
tests/test_primitive_grid.py, so the list follows the table as it grows) under
``grad(..., backend="native")``. Prints one line per refused function: the variants refused out
of those tried and the first refusal's reason (``--all``: every distinct reason). A function
native answers for some variants and refuses for others is listed with the count.
"""
import argparse
import collections
import os
import pathlib
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

import test_primitive_grid as grid  # noqa: E402

import tapeflow as tf  # noqa: E402
from tapeflow.compiler.errors import TransformError  # noqa: E402
from tapeflow.runtime.trace import TraceEscape  # noqa: E402


def reason(error):
    text = str(error).splitlines()[0]
    return text.split(": ", 1)[1] if text.startswith("<native>") and ": " in text else text


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help="every distinct reason")
    args = parser.parse_args()
    tried = collections.Counter()
    refused = collections.defaultdict(list)
    with tempfile.TemporaryDirectory() as directory:
        for k, case in enumerate(grid.cases()):
            entry, name, variant = case.values
            tried[name] += 1
            here = pathlib.Path(directory) / str(k)   # one file per case: source is re-read
            here.mkdir()
            try:
                f, inputs = grid.build(entry, name, variant, here)
                tf.grad(f, argnums=tuple(range(len(inputs))), backend="native")(*inputs)
            except (TransformError, TraceEscape) as e:
                refused[name].append(reason(e))
            except Exception as e:   # not a refusal: a bug to report, listed as such
                refused[name].append(f"CRASH {type(e).__name__}: {e}")
    width = max((len(n) for n in refused), default=10)
    for name in sorted(refused):
        reasons = list(dict.fromkeys(refused[name]))
        shown = reasons if args.all else reasons[:1]
        print(f"{name:<{width}}  {len(refused[name])}/{tried[name]}  {shown[0]}")
        for r in shown[1:]:
            print(f"{'':<{width}}         {r}")
    total = sum(tried.values())
    print(f"\n{len(refused)} of {len(tried)} functions refused for some variant; "
          f"{sum(len(v) for v in refused.values())} of {total} variants refused")


if __name__ == "__main__":
    main()
