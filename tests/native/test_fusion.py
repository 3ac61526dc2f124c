"""Elementwise trees lowered as one loop (compiler/llvm/fusion.py) equal numpy's operator-by-
operator result: random trees over + - * / comparisons and negation, float/int/bool leaves of
broadcastable shapes, scalars among them; broadcasting errors are still raised."""
import numpy as np
import pytest

from tapeflow.compiler import typing as T
from tapeflow.compiler.llvm import compile_source

RNG = np.random.default_rng(11)
LEAVES = {"a": RNG.normal(size=(4, 5)), "b": RNG.normal(size=(5,)),
          "c": RNG.uniform(1.0, 2.0, size=(4, 1)), "i": RNG.integers(-3, 4, size=(4, 5)),
          "m": RNG.normal(size=(4, 5)) > 0}


def tree(rng, depth):
    if depth == 0 or rng.random() < 0.2:
        return str(rng.choice(list(LEAVES) + ["2.0", "3"]))
    kind = rng.integers(4)
    left, right = tree(rng, depth - 1), tree(rng, depth - 1)
    if kind == 0:
        return f"({left} {rng.choice(['+', '-', '*'])} {right})"
    if kind == 1:
        return f"({left} / c)"
    if kind == 2:
        return f"({left} {rng.choice(['>=', '<', '=='])} {right})"
    return f"(-{left} * {right})"


EXPRS = []
while len(EXPRS) < 6:
    e = tree(RNG, 3)
    try:
        with np.errstate(all="ignore"):
            v = eval(e, {"np": np}, dict(LEAVES))
    except TypeError:    # numpy refuses some spellings (negating a boolean array)
        continue
    if isinstance(v, np.ndarray) and v.dtype != bool and e.count("(") >= 2:
        EXPRS.append(e)


def test_random_elementwise_trees_match_numpy():
    src = "def f(a, b, c, i, m):\n    return " + ", ".join(EXPRS) + "\n"
    args = tuple(LEAVES.values())
    nf = compile_source(src, "f", T.signature(args))
    for e, got in zip(EXPRS, nf(*args)):
        want = eval(e, {"np": np}, dict(LEAVES))
        assert got.shape == want.shape and got.dtype == want.dtype, e
        np.testing.assert_allclose(got, want, rtol=1e-14, atol=0, err_msg=e)


def test_broadcast_error_of_a_fused_tree():
    src = "def f(a, b, c):\n    return a * (b >= 0.0) + c\n"
    a, b, c = np.ones((4, 5)), np.ones(5), np.ones((4, 1))
    nf = compile_source(src, "f", T.signature((a, b, c)))
    np.testing.assert_array_equal(nf(a, b, c), a * (b >= 0.0) + c)
    with pytest.raises(ValueError, match="broadcast"):
        nf(a, np.ones(3), c)
