"""GradBench ``kmeans``: the k-means cost sum_i min_j |C_j - P_i|^2 and the Newton direction
J H^-1 for the centroids C, where J is the cost's gradient and H its Hessian.

H is diagonal (each centroid coordinate enters only its own squared distances), so H times
the all-ones vector is its diagonal: one forward-mode sweep over the gradient code
(``tf.jvp`` of ``tf.grad``) gives J and that diagonal together.
"""
import math

import numpy as np

import tapeflow as tf

from .runs import measured


def kmeans_cost(centroids, points):
    n = points.shape[0]
    k = centroids.shape[0]
    d = points.shape[1]
    total = 0.0
    for i in range(n):
        closest = math.inf
        for j in range(k):
            dist = 0.0
            for e in range(d):
                dist += (points[i, e] - centroids[j, e]) ** 2
            closest = min(closest, dist)
        total += closest
    return total


def prepare(input):
    return (np.array(input["centroids"], dtype=np.float64),
            np.array(input["points"], dtype=np.float64))


def functions(backend="native"):
    """(cost, dir) as the tool runs them: the derivatives on ``backend``; the tests use
    "python" (the same generated code, without LLVM's compile time)."""
    cost_gradient = tf.grad(kmeans_cost, backend=backend)

    def kmeans_dir(centroids, points):
        J, H = tf.jvp(cost_gradient, (centroids, points), (np.ones_like(centroids), None),
                      backend=backend)
        return J / H
    objective = tf.jit(kmeans_cost) if backend == "native" else kmeans_cost
    return measured(objective, prepare, float), measured(kmeans_dir, prepare, lambda v: v.tolist())


cost, dir = functions()
