"""GradBench ``particle``: a charged particle starts at (0, 8) with velocity (0.75, 0) and is
pulled by two unit charges at (10, 10 - w) and (10, 0); Euler steps of 0.1 (the acceleration is
minus the gradient of the potential) run until it would cross the x axis, where linear
interpolation gives the crossing point. Gradient descent finds the w whose crossing is nearest
the origin (the square of its x coordinate is minimised); the output is that w.

The variant's first letter is the mode of the outer derivative (the argmin over w), the second
the mode of the inner one (the gradient of the potential in every Euler step)."""
import numpy as np

import tapeflow as tf

from .descent import GRADIENT, argmin
from .runs import measured


def potential(x, w):
    dx = x[0] - 10.0
    return 1.0 / np.sqrt(dx * dx + (x[1] - (10.0 - w)) ** 2) + 1.0 / np.sqrt(dx * dx + x[1] ** 2)


def miss(potential_gradient):
    """The squared x coordinate where the trajectory for w = ws[0] crosses the x axis."""
    def crossing(ws, unused):
        w = ws[0]
        x = np.array([0.0, 8.0])
        xdot = np.array([0.75, 0.0])
        dt = 0.1
        while True:
            xddot = -potential_gradient(x, w)
            x_new = x + dt * xdot
            if x_new[1] > 0.0:
                x = x_new
                xdot = xdot + dt * xddot
            else:
                break
        dt_final = -x[1] / xdot[1]
        x_final = x + dt_final * xdot
        return x_final[0] * x_final[0]
    return crossing


def variant(outer, inner):
    """The particle function with derivatives in these modes ("f" or "r"), compiled whole."""
    cost = miss(GRADIENT[inner](potential))
    best = argmin(cost, GRADIENT[outer](cost))

    def particle(ws):
        return best(ws, 0.0)[0]
    particle.__name__ = f"particle_{outer}{inner}"
    return particle


def driven(outer, inner):
    """The same, with the descent over w run as Python: the cost compiled by tf.jit, its
    derivative by ``backend="auto"`` (for the variants the native compiler refuses whole)."""
    cost = miss(GRADIENT[inner](potential))
    best = argmin(tf.jit(cost), GRADIENT[outer](cost, "auto"))

    def particle(ws):
        return best(ws, 0.0)[0]
    return particle


def prepare(input):
    return (np.array([input["w"]], dtype=np.float64),)


# rr compiles whole (native). Compiled whole, the others are refused (never wrong): ff and rf
# by the native backend ("name 'forward_gradient_gradient' is used before it is assigned": the
# inner forward gradient's loop inlined under an outer transform), fr by the normalizer (the
# kind of the Euler state is not known where the tangent code of the cost is generated). So
# their descent over w runs in Python around the compiled cost and its derivative.
rr = measured(tf.jit(variant("r", "r")), prepare, float)
ff = measured(driven("f", "f"), prepare, float)
fr = measured(driven("f", "r"), prepare, float)
rf = measured(driven("r", "f"), prepare, float)
