"""The functions the benchmarks differentiate, written as a user would: plain Python and numpy.

Shared by bench/*.py and by tests that check their gradients (tests/compiler/test_workloads.py).
"""
import math

import numpy as np


def recurrence(x):
    for i in range(1000):
        x = 0.9 * x + 0.1 * math.sin(x) * math.cos(x)
    return x


def rosenbrock(x):
    s = 0.0
    for i in range(x.shape[0] - 1):
        s += 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2
    return s


def gmm_objective(alphas, means, icf, x, gamma, m):
    """ADBench's GMM log-likelihood plus the Wishart prior (gradbench's corrected sign), written
    with loops. icf[k] holds the log-diagonal of Q_k (d entries), then its strictly-lower part
    column by column. The constant terms of the prior are left out (they have no gradient)."""
    n = x.shape[0]
    d = x.shape[1]
    k = alphas.shape[0]
    qdiag = np.exp(icf[:, :d])            # the diagonals of the Q_k, computed once
    sum_q = np.sum(icf[:, :d], axis=1)
    beta = np.zeros(k)
    total = 0.0
    for i in range(n):
        for j in range(k):
            sq = 0.0
            for r in range(d):
                z = qdiag[j, r] * (x[i, r] - means[j, r])
                for c in range(r):
                    z += icf[j, d + c * (2 * d - c - 1) // 2 + r - c - 1] * (x[i, c] - means[j, c])
                sq += z * z
            beta[j] = alphas[j] + sum_q[j] - 0.5 * sq
        biggest = beta[0]
        for j in range(1, k):
            biggest = max(biggest, beta[j])
        se = 0.0
        for j in range(k):
            se += math.exp(beta[j] - biggest)
        total += biggest + math.log(se)
    biggest = alphas[0]
    for j in range(1, k):
        biggest = max(biggest, alphas[j])
    se = 0.0
    for j in range(k):
        se += math.exp(alphas[j] - biggest)
    total -= n * (biggest + math.log(se))
    for j in range(k):
        frob = 0.0
        for r in range(d):
            frob += math.exp(2.0 * icf[j, r])
            total += m * icf[j, r]
        for t in range(d, icf.shape[1]):
            frob += icf[j, t] * icf[j, t]
        total -= 0.5 * gamma * gamma * frob
    return total - n * d * 0.5 * math.log(2.0 * math.pi)


def gmm_objective_naive(alphas, means, icf, x, gamma, m):
    """gmm_objective with exp(q) recomputed for every data point, as a first spelling would:
    the loop-invariant exp is the compiler's to hoist.

    ADBench's GMM log-likelihood plus the Wishart prior (gradbench's corrected sign), written
    with loops. icf[k] holds the log-diagonal of Q_k (d entries), then its strictly-lower part
    column by column. The constant terms of the prior are left out (they have no gradient)."""
    n = x.shape[0]
    d = x.shape[1]
    k = alphas.shape[0]
    sum_q = np.sum(icf[:, :d], axis=1)
    beta = np.zeros(k)
    total = 0.0
    for i in range(n):
        for j in range(k):
            sq = 0.0
            for r in range(d):
                z = math.exp(icf[j, r]) * (x[i, r] - means[j, r])
                for c in range(r):
                    z += icf[j, d + c * (2 * d - c - 1) // 2 + r - c - 1] * (x[i, c] - means[j, c])
                sq += z * z
            beta[j] = alphas[j] + sum_q[j] - 0.5 * sq
        biggest = beta[0]
        for j in range(1, k):
            biggest = max(biggest, beta[j])
        se = 0.0
        for j in range(k):
            se += math.exp(beta[j] - biggest)
        total += biggest + math.log(se)
    biggest = alphas[0]
    for j in range(1, k):
        biggest = max(biggest, alphas[j])
    se = 0.0
    for j in range(k):
        se += math.exp(alphas[j] - biggest)
    total -= n * (biggest + math.log(se))
    for j in range(k):
        frob = 0.0
        for r in range(d):
            frob += math.exp(2.0 * icf[j, r])
            total += m * icf[j, r]
        for t in range(d, icf.shape[1]):
            frob += icf[j, t] * icf[j, t]
        total -= 0.5 * gamma * gamma * frob
    return total - n * d * 0.5 * math.log(2.0 * math.pi)


def gmm_inputs(d, k, n, seed=0):
    rng = np.random.default_rng(seed)
    alphas = rng.normal(size=k)
    means = rng.normal(size=(k, d))
    icf = rng.normal(size=(k, d * (d + 1) // 2)) * 0.3
    x = rng.normal(size=(n, d))
    return alphas, means, icf, x, 1.0, 0.0


def mlp_loss(w1, b1, w2, b2, x, y):
    """The seed's model: 8 -> Dense(30, relu) -> Dense(1), mean squared error."""
    h = np.maximum(x @ w1 + b1, 0.0)
    pred = h @ w2 + b2
    return np.mean((pred[:, 0] - y) ** 2)


def mlp_inputs(n=11610, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 8))
    y = np.sin(x[:, 0]) + 0.5 * x[:, 1] ** 2 - x[:, 2] + 0.1 * rng.normal(size=n)
    w1 = rng.normal(size=(8, 30)) * np.sqrt(2.0 / 8)
    w2 = rng.normal(size=(30, 1)) * np.sqrt(1.0 / 30)
    return w1, np.zeros(30), w2, np.zeros(1), x, y
