"""bench/gradbench/particle.py: the derivative in w of the miss distance, through the Euler
loop whose every step takes the gradient of the potential (forward or reverse), against central
differences; the potential's gradient in both modes against central differences."""
import importlib.util
import pathlib

import numpy as np
import pytest

import tapeflow as tf

TOOL = pathlib.Path(__file__).resolve().parents[2] / "bench" / "gradbench" / "tool.py"


def load(name):
    spec = importlib.util.spec_from_file_location("tapeflow_gradbench_tool", TOOL)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool.load(name)


particle = load("particle")



@pytest.mark.parametrize("mode", ["f", "r"])
def test_potential_gradient(mode):
    x, w = np.array([3.0, 7.5]), 0.25
    got = particle.GRADIENT[mode](particle.potential, "python")(x, w)
    h = 1e-6
    central = [(particle.potential(x + h * e, w) - particle.potential(x - h * e, w)) / (2 * h)
               for e in np.eye(2)]
    np.testing.assert_allclose(got, central, rtol=1e-6)


@pytest.mark.parametrize("inner", ["r"])   # "f": bench (the suite's time limit)
def test_miss_derivative(inner):
    cost = particle.miss(particle.GRADIENT[inner](particle.potential, "python"))
    ws = np.array([0.0])
    got = tf.grad(cost, backend="python")(ws, 0.0)
    h = 1e-6
    central = (cost(ws + h, 0.0) - cost(ws - h, 0.0)) / (2 * h)
    np.testing.assert_allclose(got, [central], rtol=1e-5)
