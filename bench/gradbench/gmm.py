"""GradBench ``gmm``: the log posterior of a Gaussian mixture with a Wishart prior on the
precision matrices (the eval's README, "Implementation"), and its gradient with respect to
alpha, mu, q and l (the lower triangles).

Component c's precision is Q_c^T Q_c, with Q_c lower triangular: exp(q_c) on the diagonal and
l_c below it, column by column. The loop over components builds Q_c and scores every point
against it at once (a matrix product); the per-point logsumexp over components is vectorised.
"""
import math

import numpy as np

import tapeflow as tf

from .runs import measured


def logsumexp(v):
    a = np.max(v)
    return a + np.log(np.sum(np.exp(v - a)))


def log_gamma_d(a, d):
    """log of the multivariate gamma function Gamma_d(a) (a constant: no gradient flows)."""
    out = 0.25 * d * (d - 1) * math.log(math.pi)
    for j in range(d):
        out += math.lgamma(a - 0.5 * j)
    return out


def gmm_objective(alpha, mu, q, lower, x, gamma, m):
    n = x.shape[0]
    d = x.shape[1]
    k = alpha.shape[0]
    beta = np.zeros((n, k))
    for c in range(k):
        Q = np.zeros((d, d))
        idx = 0
        for j in range(d):
            Q[j, j] = math.exp(q[c, j])
            for i in range(j + 1, d):
                Q[i, j] = lower[c, idx]
                idx += 1
        Qx = (x - mu[c]) @ Q.T
        beta[:, c] = alpha[c] + np.sum(q[c]) - 0.5 * np.sum(Qx * Qx, axis=1)
    bmax = np.max(beta, axis=1)
    slse = np.sum(bmax + np.log(np.sum(np.exp(beta - bmax[:, None]), axis=1)))
    likelihood = -n * (0.5 * d * math.log(2 * math.pi) + logsumexp(alpha)) + slse
    dof = d + m + 1
    constant = k * (dof * d * (math.log(gamma) - 0.5 * math.log(2.0)) - log_gamma_d(0.5 * dof, d))
    frobenius = np.sum(np.exp(2.0 * q)) + np.sum(lower * lower)
    prior = constant - 0.5 * gamma * gamma * frobenius + m * np.sum(q)
    return likelihood + prior


def prepare(input):
    k = input["k"]
    d = input["d"]
    arrays = [np.array(input[name], dtype=np.float64) for name in ("alpha", "mu", "q", "l")]
    arrays[3] = arrays[3].reshape(k, d * (d - 1) // 2)   # d = 1: [[]] reads as shape (k, 0)
    return (*arrays, np.array(input["x"], dtype=np.float64), float(input["gamma"]),
            int(input["m"]))


def jacobian_output(grads):
    return {name: g.tolist() for name, g in zip(("alpha", "mu", "q", "l"), grads)}


def functions(backend="native"):
    """(objective, jacobian) as the tool runs them: the derivative on ``backend``; the tests use
    "python" (the same generated code, without LLVM's compile time)."""
    primal = tf.jit(gmm_objective) if backend == "native" else gmm_objective
    return (measured(primal, prepare, float),
            measured(tf.grad(gmm_objective, argnums=(0, 1, 2, 3), backend=backend), prepare,
                     jacobian_output))


objective, jacobian = functions()
