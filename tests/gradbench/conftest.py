"""Fixtures for the GradBench tool's eval modules (bench/gradbench, loaded as the tool loads
them, so these tests need no GradBench checkout)."""
import importlib.util
import pathlib

import numpy as np
import pytest

TOOL = pathlib.Path(__file__).resolve().parents[2] / "bench" / "gradbench" / "tool.py"


@pytest.fixture(scope="session")
def eval_module():
    spec = importlib.util.spec_from_file_location("tapeflow_gradbench_tool", TOOL)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool.load


def central_differences(f, x, h=1e-6):
    """d f(x) / d x by central differences: shape f's output + x's shape."""
    x = np.asarray(x, dtype=np.float64)
    columns = []
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = h
        up = np.asarray(f(x + e.reshape(x.shape)))
        down = np.asarray(f(x - e.reshape(x.shape)))
        columns.append((up - down) / (2 * h))
    return np.moveaxis(np.array(columns), 0, -1).reshape(np.shape(up) + x.shape)


@pytest.fixture(scope="session")
def differences():
    return central_differences
