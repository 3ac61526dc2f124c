"""GradBench llsq: the tool's primal and gradient (native, as the tool runs them) on the eval's
smallest input (n = 16, m = 128, drawn as the eval draws it) against the least squares residual
of the Vandermonde matrix, its gradient V^T (V x - s), and central differences."""
import numpy as np


def test_llsq_smallest_input(eval_module, differences):
    llsq = eval_module("llsq")
    n, m = 16, 128
    np.random.seed(31337)   # as the eval draws it
    x = np.random.rand(m)
    input = {"x": x.tolist(), "n": n, "min_runs": 1, "min_seconds": 0}
    t = -1.0 + np.arange(n) * 2.0 / (n - 1)
    V = t[:, None] ** np.arange(m)[None, :]
    residual = V @ x - np.sign(t)
    value, _ = llsq.primal(input)
    np.testing.assert_allclose(value, 0.5 * residual @ residual, rtol=1e-12)
    got, _ = llsq.gradient(input)
    assert len(got) == m
    expected = differences(lambda x: llsq.llsq_objective(x, n), x)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(got, V.T @ residual, rtol=1e-11, atol=1e-12)
