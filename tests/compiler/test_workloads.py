"""The benchmark workloads (bench/workloads.py) differentiate correctly: small instances against
central differences, on every backend."""
import os
import sys

import numpy as np
import pytest

import tapeflow
from grad_checks import numeric_grad

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench"))
import workloads  # noqa: E402

CASES = {
    "recurrence": (workloads.recurrence, (0.5,), 0),
    "rosenbrock": (workloads.rosenbrock, (np.linspace(-1.0, 1.5, 7),), 0),
    "gmm": (workloads.gmm_objective, workloads.gmm_inputs(3, 4, 6), (0, 1, 2)),
    "gmm naive": (workloads.gmm_objective_naive, workloads.gmm_inputs(3, 4, 6), (0, 1, 2)),
    "mlp": (workloads.mlp_loss, workloads.mlp_inputs(n=20), (0, 1, 2, 3)),
}


@pytest.mark.parametrize("backend", ["native", "python", "tape"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_workload_gradient(name, backend):
    fn, args, argnums = CASES[name]
    got = tapeflow.grad(fn, argnums=argnums, backend=backend)(*args)
    want = numeric_grad(fn, args, argnums)
    for g, w in zip(got if isinstance(argnums, tuple) else (got,),
                    want if isinstance(argnums, tuple) else (want,)):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


def test_gmm_matches_its_closed_form_gradient_in_alpha():
    # dF/dalpha_k = sum_i r_ik - N softmax(alpha)_k (ADBench's gradient sketch)
    alphas, means, icf, x, gamma, m = workloads.gmm_inputs(2, 3, 5, seed=3)
    d = x.shape[1]
    beta = np.zeros((x.shape[0], alphas.shape[0]))
    for k in range(alphas.shape[0]):
        q, l = icf[k, :d], icf[k, d:]
        Q = np.diag(np.exp(q))
        Q[1, 0] = l[0]
        z = (x - means[k]) @ Q.T
        beta[:, k] = alphas[k] + q.sum() - 0.5 * np.sum(z * z, axis=1)
    r = np.exp(beta - beta.max(axis=1, keepdims=True))
    r /= r.sum(axis=1, keepdims=True)
    softmax = np.exp(alphas - alphas.max()) / np.exp(alphas - alphas.max()).sum()
    expected = r.sum(axis=0) - x.shape[0] * softmax
    got = tapeflow.grad(workloads.gmm_objective, backend="native")(alphas, means, icf, x,
                                                                   gamma, m)
    np.testing.assert_allclose(got, expected, rtol=1e-10)
