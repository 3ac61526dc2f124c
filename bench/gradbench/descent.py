"""Gradient descent as the nested evals (saddle, particle) use it, and the forward-mode gradient.

``argmin(f, gradient)`` is the solver of GradBench's reference tools: steps of size eta along
-gradient while f decreases, eta doubled after 10 successful steps and halved after a failed
one, stopping when the gradient or the step is shorter than 1e-5. ``f`` and ``gradient`` take
(x, a): x the point (a 1-d array), a whatever else f reads. They are closed over, so tapeflow
inlines them and differentiates through the whole descent, the inner gradients included.
"""
import numpy as np

import tapeflow as tf


def norm(v):
    return np.sqrt(np.sum(v * v))


def argmin(f, gradient):
    def descend(x, a):
        fx = f(x, a)
        gx = gradient(x, a)
        eta = 1e-5
        successes = 0
        while norm(gx) > 1e-5:
            if successes == 10:
                eta = 2.0 * eta
                successes = 0
            else:
                step = x - eta * gx
                if norm(x - step) <= 1e-5:
                    break
                f_step = f(step, a)
                if f_step < fx:
                    x = step
                    fx = f_step
                    gx = gradient(step, a)
                    successes += 1
                else:
                    eta = eta / 2.0
                    successes = 0
        return x
    return descend


def forward_gradient(f, backend="auto"):
    """The gradient of f(x, a) in x by forward mode: one jvp per coordinate of x. (``backend``
    counts only where it is called from plain Python: inside a transformed function the tangent
    code is inlined.)"""
    def gradient(x, a):
        g = np.zeros_like(x)
        for k in range(x.shape[0]):
            e = np.zeros_like(x)
            e[k] = 1.0
            _, d = tf.jvp(f, (x, a), (e, None), backend=backend)
            g[k] = d
        return g
    return gradient


def reverse_gradient(f, backend="auto"):
    """The gradient of f(x, a) in x by reverse mode."""
    return tf.grad(f, backend=backend)


GRADIENT = {"f": forward_gradient, "r": reverse_gradient}
