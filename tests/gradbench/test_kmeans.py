"""GradBench kmeans: the tool's cost and Newton direction J H^-1 (generated code, python
backend) on a small input drawn as the eval draws it, against central differences (first
and second) of the cost."""
import numpy as np


def test_kmeans_direction(eval_module, differences):
    kmeans = eval_module("kmeans")
    rng = np.random.default_rng(5)
    points = rng.random((30, 3))
    centroids = points[-4:]   # as the eval: every cluster is nonempty
    input = {"points": points.tolist(), "centroids": centroids.tolist(),
             "min_runs": 1, "min_seconds": 0}
    cost, direction = kmeans.functions("python")
    value, _ = cost(input)
    distances = ((points[:, None, :] - centroids[None]) ** 2).sum(axis=2)
    assert abs(value - distances.min(axis=1).sum()) < 1e-12
    got, _ = direction(input)

    def f(C):
        return kmeans.kmeans_cost(C, points)
    J = differences(f, centroids)
    h = 1e-4
    H = np.zeros_like(centroids)
    for idx in np.ndindex(centroids.shape):
        e = np.zeros_like(centroids)
        e[idx] = h
        H[idx] = (f(centroids + e) - 2 * f(centroids) + f(centroids - e)) / h ** 2
    np.testing.assert_allclose(got, J / H, rtol=1e-5, atol=1e-8)
