"""Compile-time choices that must not change results: which functions get the unit-stride twin
body, and the cheaper LLVM pipeline for very large functions."""
import numpy as np

from tapeflow.compiler import typing as T
from tapeflow.compiler.llvm import compile_source, engine

rng = np.random.default_rng(0)
VEC = [T.Array(T.F64, 1)]

ELEMENTS = '''
def f(x):
    s = 0.0
    for i in range(x.shape[0] - 1):
        d = x[i + 1] - x[i]
        s = s + d * d
    return s
'''

ROW_ELEMENTS = '''
def f(a):
    s = 0.0
    for i in range(a.shape[0]):
        w = a[i]
        for j in range(a.shape[1]):
            s = s + w[j] * w[j]
    return s
'''

SLICES = '''
def f(x):
    y = x * 0.0
    for k in range(3):
        t = x[1:] * x[:-1]
        y[1:] = y[1:] + t
        y[0] = x[0]
    return y
'''


def test_twin_body_for_element_access_in_loops_only():
    x = rng.standard_normal(9)
    nf = compile_source(ELEMENTS, "f", VEC)
    assert "tf_body_contig_f" in nf.ir
    np.testing.assert_allclose(nf(x), np.sum(np.diff(x) ** 2), rtol=1e-13)   # reassociated sum
    nf = compile_source(ROW_ELEMENTS, "f", [T.Array(T.F64, 2)])   # a row of an argument
    assert "tf_body_contig_f" in nf.ir
    a = rng.standard_normal((3, 4))
    np.testing.assert_allclose(nf(a), np.sum(a * a), rtol=1e-13)
    nf = compile_source(SLICES, "f", VEC)         # slices and constant positions: kernels
    assert "tf_body_contig_f" not in nf.ir
    want = np.zeros(9)
    for _ in range(3):
        want[1:] = want[1:] + x[1:] * x[:-1]
        want[0] = x[0]
    np.testing.assert_array_equal(nf(x), want)
    np.testing.assert_array_equal(nf(x[::2]), nf(x[::2].copy()))      # strided argument


def test_large_function_pipeline_gives_the_same_bits(monkeypatch):
    x = rng.standard_normal(17)
    small = compile_source(SLICES, "f", VEC)     # kept alive: its result's memory is its own
    assert engine.pipeline_for(small.ir) == engine.SMALL_PIPELINE
    default = small(x)
    monkeypatch.setattr(engine, "LARGE_FUNCTION_LINES", 10)     # everything counts as large
    nf = compile_source(SLICES, "f", VEC)
    assert engine.pipeline_for(nf.ir) == engine.LARGE_PIPELINE
    np.testing.assert_array_equal(nf(x), default)


def test_largest_function_lines():
    ir = 'define i32 @"a"()\n{\nentry:\n  ret i32 0\n}\ndefine i32 @"b"()\n{\nentry:\n' \
         '  %".1" = add i32 1, 2\n  ret i32 %".1"\n}\n'
    assert engine.largest_function_lines(ir) == 5
