"""GradBench lse: the tool's primal and gradient (native, as the tool runs them) on the eval's
smallest input (n = 2500, drawn as the eval draws it) against log(sum(exp(x))), the softmax
and central differences."""
import numpy as np


def test_lse_smallest_input(eval_module, differences):
    lse = eval_module("lse")
    np.random.seed(31337)   # as the eval draws it
    x = np.random.rand(2500)
    input = {"x": x.tolist(), "min_runs": 1, "min_seconds": 0}
    value, _ = lse.primal(input)
    assert abs(value - np.log(np.sum(np.exp(x)))) < 1e-12
    got, _ = lse.gradient(input)
    assert len(got) == 2500
    expected = differences(lse.logsumexp, x, h=1e-4)
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    np.testing.assert_allclose(got, np.exp(x) / np.sum(np.exp(x)), rtol=1e-12)
