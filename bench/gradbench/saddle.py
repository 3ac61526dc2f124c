"""GradBench ``saddle``: min over p1 of max over p2 of f(p1, p2) = p1.p1 - p2.p2 by gradient
descent nested in gradient descent, from ``start``; the output is the argmin p1 and then the
argmax p2 for it. The variant's first letter is the mode of the outer derivative (the argmin,
and the final argmax), the second the mode of the inner one (the argmax inside the argmin)."""
import numpy as np

import tapeflow as tf

from .descent import GRADIENT, argmin
from .runs import measured


def f(p1, p2):
    return (p1[0] * p1[0] + p1[1] * p1[1]) - (p2[0] * p2[0] + p2[1] * p2[1])


def minus_f(p2, p1):
    """-f as a function of p2: its argmin is the argmax of f."""
    return -f(p1, p2)


def variant(outer, inner, backend="native"):
    """The saddle function with derivatives in these modes ("f" or "r")."""
    inner_argmax = argmin(minus_f, GRADIENT[inner](minus_f))

    def max_f(p1, start):
        return f(p1, inner_argmax(start, p1))

    outer_argmin = argmin(max_f, GRADIENT[outer](max_f))
    outer_argmax = argmin(minus_f, GRADIENT[outer](minus_f))

    def saddle(start):
        p1 = outer_argmin(start, start)
        p2 = outer_argmax(start, p1)
        return p1, p2
    saddle.__name__ = f"saddle_{outer}{inner}"
    return saddle


def finish(points):
    return [float(v) for p in points for v in p]


def prepare(input):
    return (np.array(input["start"], dtype=np.float64),)


ff = measured(tf.jit(variant("f", "f")), prepare, finish)
fr = measured(tf.jit(variant("f", "r")), prepare, finish)
rf = measured(tf.jit(variant("r", "f")), prepare, finish)
rr = measured(tf.jit(variant("r", "r")), prepare, finish)
