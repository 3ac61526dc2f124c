"""The compiler's generated gradients (tests/compiler/corpus.py) compiled natively vs Python.

Each gradient the compiler generates for the corpus is lowered with the native backend and run
on the corpus example points; results must match the generated Python to 1e-10. Cases the
backend does not support must say so with NativeUnsupported (never crash or differ).
"""
import ast
import os
import sys

import numpy as np
import pytest

from tapeflow.compiler import typing as T
from tapeflow.compiler.llvm import NativeUnsupported, compile_function

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "compiler"))
corpus = pytest.importorskip("corpus")
api = pytest.importorskip("tapeflow.compiler.pipeline")

# every third case keeps this file within the native suite's time budget; set
# TAPEFLOW_NATIVE_FULL_CORPUS=1 to run them all
_ALL = [c for c in corpus.CORPUS if not c.tape_only]
CASES = _ALL if os.environ.get("TAPEFLOW_NATIVE_FULL_CORPUS") else _ALL[::3]


def _flat(v):
    if isinstance(v, (tuple, list)):
        return [y for x in v for y in _flat(x)]
    return [np.asarray(v, dtype=float)]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_generated_gradient_matches_python(case):
    argnums = case.argnums if isinstance(case.argnums, tuple) else (case.argnums,)
    args = case.args[0]
    try:
        kinds = tuple(api.kind_of_argument(a, i in argnums) for i, a in enumerate(args))
        gen = api.generate(case.fn, argnums, kinds)
    except Exception as e:      # the transform's own limits are tested in tests/compiler
        pytest.skip(f"no generated gradient: {e}")
    fdefs = [n for n in ast.parse(gen.source).body if isinstance(n, ast.FunctionDef)]
    if len(fdefs[0].args.args) - len(fdefs[0].args.defaults) > len(args):
        pytest.skip("the gradient takes the function's defaulted parameters explicitly")
    cargs = tuple(float(a) if i in argnums and isinstance(a, int) and not isinstance(a, bool) else a
                  for i, a in enumerate(args))
    try:
        nf = compile_function(fdefs[0], tuple(T.typeof(a) for a in cargs),
                              {f.name: f for f in fdefs[1:]}, constants=dict(gen.fn.__globals__))
    except NativeUnsupported as e:
        assert e.reason
        pytest.skip(f"native: {e}")
    for point in case.args:
        point = tuple(float(a) if i in argnums and isinstance(a, int) and not isinstance(a, bool) else a
                      for i, a in enumerate(point))
        want = gen.fn(*[a.copy() if isinstance(a, np.ndarray) else a for a in point])
        got = nf(*[a.copy() if isinstance(a, np.ndarray) else a for a in point])
        fw, fg = _flat(want), _flat(got)
        assert len(fw) == len(fg)
        for w, g in zip(fw, fg):
            assert np.shape(w) == np.shape(g)
            np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)
