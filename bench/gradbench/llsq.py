"""GradBench ``llsq``: the linear least squares objective of cmpad, and its gradient.

y(x) = 1/2 sum_i (s_i - x_0 - x_1 t_i - ... - x_{m-1} t_i^{m-1})^2, t_i = -1 + 2 i / (n - 1),
s_i = sign(t_i): a loop over the n points and, inside, the polynomial's m terms.
"""
import numpy as np

import tapeflow as tf

from .runs import measured


def llsq_objective(x, n):
    m = x.shape[0]
    total = 0.0
    for i in range(n):
        t = -1.0 + i * 2.0 / (n - 1)
        r = np.sign(t)
        power = 1.0
        for j in range(m):
            r -= x[j] * power
            power *= t
        total += r * r
    return total / 2.0


def prepare(input):
    return np.array(input["x"], dtype=np.float64), int(input["n"])


primal = measured(tf.jit(llsq_objective), prepare, float)
gradient = measured(tf.grad(llsq_objective, backend="native"), prepare, lambda g: g.tolist())
