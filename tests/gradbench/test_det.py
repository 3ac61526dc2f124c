"""GradBench det: the tool's primal and gradient (generated code, python backend) on the
eval's smallest input against numpy's determinant and central differences."""
import numpy as np


def test_det_smallest_input(eval_module, differences):
    det = eval_module("det")
    ell = 5
    np.random.seed(31337)   # as the eval draws it
    input = {"A": np.random.rand(ell * ell).tolist(), "ell": ell, "min_runs": 1, "min_seconds": 0}
    primal, gradient = det.functions("python")
    value, timings = primal(input)
    A = np.array(input["A"]).reshape(ell, ell)
    assert value == np.linalg.det(A) or abs(value - np.linalg.det(A)) < 1e-12
    assert [t["name"] for t in timings] == ["compile", "evaluate"]
    got, _ = gradient(input)
    expected = differences(det.det_by_minors, A)
    np.testing.assert_allclose(np.reshape(got, (ell, ell)), expected, rtol=1e-6, atol=1e-9)
