"""GradBench ``lse``: LogSumExp with the max trick, and its gradient."""
import numpy as np

import tapeflow as tf

from .runs import measured


def logsumexp(x):
    a = np.max(x)
    return a + np.log(np.sum(np.exp(x - a)))


def prepare(input):
    return (np.array(input["x"], dtype=np.float64),)


primal = measured(tf.jit(logsumexp), prepare, float)
gradient = measured(tf.grad(logsumexp, backend="native"), prepare, lambda g: g.tolist())
