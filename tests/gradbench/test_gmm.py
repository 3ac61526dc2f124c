"""GradBench gmm: the tool's objective and jacobian (generated code, python backend) on the
eval's smallest input (d = 2, k = 5, n = 1000, generated as the eval generates it), and on it
with other Wishart parameters, against the log posterior written out with determinants and
inverses (as the eval's README states it) and central differences."""
import math

import numpy as np
import pytest


def generate(seed, d, k, n, m, gamma):
    """The eval's input generator."""
    rng = np.random.default_rng(seed=seed)
    return {"d": d, "k": k, "n": n, "x": [list(rng.normal(size=d)) for _ in range(n)],
            "m": m, "gamma": gamma, "alpha": list(rng.normal(size=k)),
            "mu": [list(rng.uniform(size=d)) for _ in range(k)],
            "q": [list(rng.normal(size=d)) for _ in range(k)],
            "l": [list(rng.normal(size=d * (d - 1) // 2)) for _ in range(k)]}


def log_posterior(alpha, mu, q, lower, x, gamma, m):
    """log p(X | theta) p(theta): Gaussian mixture with precisions Q^T Q, Wishart prior on them
    (V = I / gamma^2, n = d + m + 1), each density's log taken as written."""
    n, d = x.shape
    k = len(alpha)
    log_phi = alpha - np.log(np.sum(np.exp(alpha)))
    dof = d + m + 1
    log_components = np.zeros((n, k))
    prior = 0.0
    for c in range(k):
        Q = np.diag(np.exp(q[c]))
        rows, cols = [], []
        for j in range(d):   # the lower triangle column by column
            for i in range(j + 1, d):
                rows.append(i)
                cols.append(j)
        Q[rows, cols] = lower[c]
        precision = Q.T @ Q
        centred = x - mu[c]
        _, logdet = np.linalg.slogdet(precision)
        quadratic = np.einsum("ni,ij,nj->n", centred, precision, centred)
        log_components[:, c] = (log_phi[c] - 0.5 * quadratic - 0.5 * d * math.log(2 * math.pi)
                                + 0.5 * logdet)
        V = np.eye(d) / gamma ** 2
        log_multigamma = 0.25 * d * (d - 1) * math.log(math.pi) + \
            sum(math.lgamma(0.5 * dof - 0.5 * j) for j in range(d))
        prior += (0.5 * (dof - d - 1) * logdet - 0.5 * np.trace(np.linalg.inv(V) @ precision)
                  - 0.5 * d * dof * math.log(2) - 0.5 * dof * np.linalg.slogdet(V)[1]
                  - log_multigamma)
    top = log_components.max(axis=1)
    likelihood = np.sum(top + np.log(np.sum(np.exp(log_components - top[:, None]), axis=1)))
    return likelihood + prior


@pytest.mark.parametrize("m, gamma", [(0, 1.0), (3, 0.7)], ids=["smallest", "m3-gamma0.7"])
def test_gmm_jacobian(eval_module, differences, m, gamma):
    gmm = eval_module("gmm")
    input = generate(31337, 2, 5, 1000, m, gamma) | {"min_runs": 1, "min_seconds": 0}
    objective, jacobian = gmm.functions("python")
    alpha, mu, q, lower, x, gamma, m = gmm.prepare(input)
    value, _ = objective(input)
    np.testing.assert_allclose(value, log_posterior(alpha, mu, q, lower, x, gamma, m), rtol=1e-12)
    got, _ = jacobian(input)
    assert list(got) == ["alpha", "mu", "q", "l"]
    params = [alpha, mu, q, lower]
    for i, name in enumerate(got):
        def f(p, i=i):
            args = params[:i] + [p] + params[i + 1:]
            return gmm.gmm_objective(*args, x, gamma, m)
        expected = differences(f, params[i])
        scale = np.abs(expected).max()
        np.testing.assert_allclose(got[name], expected, rtol=1e-6, atol=1e-8 * scale, err_msg=name)
