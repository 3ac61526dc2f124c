"""GradBench ``ode``: s steps of classical Runge-Kutta on y_0' = x_0, y_i' = x_i y_{i-1}
(y(0) = 0, up to t = 2), and the gradient of the last component of y(2) with respect to x."""
import numpy as np

import tapeflow as tf

from .runs import measured


def ode_rhs(x, y):
    z = np.zeros_like(x)
    z[0] = x[0]
    z[1:] = x[1:] * y[:-1]
    return z


def ode_solve(x, s):
    h = 2.0 / s
    y = np.zeros_like(x)
    for _ in range(s):
        k1 = ode_rhs(x, y)
        k2 = ode_rhs(x, y + h / 2 * k1)
        k3 = ode_rhs(x, y + h / 2 * k2)
        k4 = ode_rhs(x, y + h * k3)
        y = y + h * (k1 + 2 * k2 + 2 * k3 + k4) / 6
    return y


def ode_last(x, s):
    return ode_solve(x, s)[-1]


def prepare(input):
    return np.array(input["x"], dtype=np.float64), int(input["s"])


def functions(backend="native"):
    """(primal, gradient) as the tool runs them: the derivative on ``backend``; the tests use
    "python" (the same generated code, without LLVM's compile time)."""
    solve = tf.jit(ode_solve) if backend == "native" else ode_solve
    return (measured(solve, prepare, lambda y: y.tolist()),
            measured(tf.grad(ode_last, backend=backend), prepare, lambda g: g.tolist()))


primal, gradient = functions()
