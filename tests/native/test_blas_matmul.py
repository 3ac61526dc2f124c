"""2-d float64 matmul in JIT code goes through numpy's own CBLAS when each operand has a unit
stride on one axis; other views take the loop nest. Both must equal numpy."""
import numpy as np
import pytest

import tapeflow as tf
from tapeflow.compiler.llvm import engine


def product(a, b):
    return a @ b


RNG = np.random.default_rng(5)
A = RNG.normal(size=(7, 6))
B = RNG.normal(size=(6, 5))
VIEWS = {
    "contiguous": (A, B),
    "transposed": (np.ascontiguousarray(A.T).T, np.ascontiguousarray(B.T).T),
    "row slices": (RNG.normal(size=(14, 6))[::2], B),
    "column slice": (RNG.normal(size=(7, 12))[:, ::2], B),       # no unit stride: loops
    "empty inner": (np.zeros((3, 0)), np.zeros((0, 4))),
    "one row": (A[:1], B),
}


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_matmul_views_match_numpy(name):
    a, b = VIEWS[name]
    np.testing.assert_allclose(tf.jit(product)(a, b), a @ b, rtol=1e-13, atol=1e-13)


def test_blas_is_found_for_the_jit():
    assert engine.blas_dgemm() in (None, "scipy_cblas_dgemm64_")


def test_gradient_through_blas_matmul():
    def loss(w, x):
        return np.sum(np.tanh(x @ w) ** 2)
    w, x = RNG.normal(size=(6, 3)), RNG.normal(size=(9, 6))
    native = tf.grad(loss, backend="native")(w, x)
    np.testing.assert_allclose(native, tf.grad(loss, backend="python")(w, x), rtol=1e-12)


def test_product_written_into_recycled_memory():
    """The BLAS path writes C without zero-filling it first: on later calls the block comes from
    the pool holding an earlier temporary's values, and an empty inner axis must still give 0."""
    def g(a, b, c):
        return np.sum(a @ b) + np.sum(c * 3.0)
    c = RNG.normal(size=(40, 30)) + 5.0
    native = tf.jit(g)
    for inner in (0, 6, 0):
        a, b = RNG.normal(size=(40, inner)), RNG.normal(size=(inner, 30))
        for _ in range(3):
            np.testing.assert_allclose(native(a, b, c), g(a, b, c), rtol=1e-12)
