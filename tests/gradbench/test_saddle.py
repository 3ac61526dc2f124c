"""bench/gradbench/saddle.py: the gradient of the inner max (the cost the outer argmin descends),
differentiated through the inner gradient descent with its gradient in either mode, against
central differences and the other mode."""
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


saddle = load("saddle")

START = np.array([1.0, 1.0])


def inner_max(inner):
    argmax = saddle.argmin(saddle.minus_f, saddle.GRADIENT[inner](saddle.minus_f, "python"))

    def max_f(p1, start):
        return saddle.f(p1, argmax(start, p1))
    return max_f, argmax


@pytest.mark.parametrize("inner", ["f"])   # "r": bench (the suite's time limit)
def test_outer_gradient(inner):
    max_f, argmax = inner_max(inner)
    p1 = np.array([0.8, -0.6])
    assert np.all(np.abs(argmax(START, p1)) < 1e-4)     # the inner argmax found 0
    got = tf.grad(max_f, backend="python")(p1, START)
    h = 1e-6
    central = [(max_f(p1 + h * e, START) - max_f(p1 - h * e, START)) / (2 * h) for e in np.eye(2)]
    np.testing.assert_allclose(got, central, rtol=1e-6)
    np.testing.assert_allclose(got, 2 * p1, rtol=1e-8)   # the argmax does not depend on p1
