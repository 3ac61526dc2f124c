import math

import numpy as np
import pytest

from tapeflow.compiler import typing as T
from tapeflow.compiler.llvm import compile_source
from tapeflow.runtime.rules import helpers as _helpers
from tapeflow.runtime.stack import Stack


def run_python(src, name, *args):
    ns = {"math": math, "np": np, "numpy": np, "Stack": Stack}
    ns.update({k: getattr(_helpers, k) for k in ("unbroadcast", "unreduce", "sum_to_shape",
                                                  "untranspose", "extremum_weights")})
    exec(src, ns)
    copies = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    return ns[name](*copies)


def assert_same(got, want, rtol=1e-12):
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want)
        for g, w in zip(got, want):
            assert_same(g, w, rtol)
        return
    if isinstance(want, np.ndarray) and want.ndim == 0:
        want = want[()]      # the native backend models 0-d arrays as scalars
    if isinstance(want, np.ndarray):
        assert isinstance(got, np.ndarray), type(got)
        assert got.shape == want.shape, (got.shape, want.shape)
        assert got.dtype == want.dtype, (got.dtype, want.dtype)
        np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-300)
        return
    if isinstance(want, (bool, np.bool_)):
        assert got == want
        return
    if isinstance(want, (int, np.integer)):
        assert got == want and isinstance(got, int)
        return
    if math.isnan(want):
        assert math.isnan(got)
    else:
        assert got == pytest.approx(float(want), rel=rtol, abs=1e-300)


def check(src, name, *args, rtol=1e-12, **kw):
    """Compile ``name`` from ``src`` for the types of ``args`` and compare with plain Python."""
    types = tuple(T.typeof(a) for a in args)
    nf = compile_source(src, name, types, **kw)
    want = run_python(src, name, *args)
    got = nf(*[a.copy() if isinstance(a, np.ndarray) else a for a in args])
    assert_same(got, want, rtol)
    return nf
