"""The grid test in forward mode: every entry of the primitive table with a forward rule (or the
linear flag), checked against central differences along a random direction.

The cases are those of tests/test_primitive_grid.py (the same functions ``np.sum(fn(*args) * W)``),
run through ``tf.jvp`` on the python and native backends. To keep the suite fast only the first
variant of each entry runs by default; ``TAPEFLOW_FULL_GRID=1`` runs every variant. An entry
without a forward rule must be refused (TransformError naming it), never answered with a zero.
A new entry is tested the moment it is added to the table.
"""
import os

import numpy as np
import pytest

import tapeflow as tf
from tapeflow.compiler.errors import TransformError

from test_primitive_grid import build, cases



def forward_cases():
    full = os.environ.get("TAPEFLOW_FULL_GRID") == "1"
    out, seen = [], set()
    for p in cases():
        entry = p.values[0]
        if full or entry.name not in seen:
            seen.add(entry.name)
            out.append(pytest.param(*p.values, id=p.id))   # (list literals work forward)
    return out


def has_forward(entry):
    return entry.forward is not None or bool(entry.linear)


def directional_difference(f, inputs, tangents, h=1e-6):
    up = [x + h * t for x, t in zip(inputs, tangents)]
    down = [x - h * t for x, t in zip(inputs, tangents)]
    return (f(*up) - f(*down)) / (2 * h)


@pytest.mark.parametrize("entry,name,variant", forward_cases())
def test_forward_grid(entry, name, variant, tmp_path):
    f, inputs = build(entry, name, variant, tmp_path)
    rng = np.random.default_rng(7)
    tangents = [rng.uniform(-1, 1, size=np.shape(x)) if np.ndim(x) else float(rng.uniform(-1, 1))
                for x in inputs]
    want = directional_difference(f, inputs, tangents)
    refused = {}
    for backend in ("python", "native"):
        try:
            value, got = tf.jvp(f, inputs, tangents, backend=backend)
        except TransformError as e:
            refused[backend] = str(e)
            continue
        np.testing.assert_allclose(value, f(*inputs), rtol=1e-12)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7,
                                   err_msg=f"{backend}: jvp of {name}{variant}")
    if entry.kind == "rule" and not has_forward(entry):
        assert "python" in refused and "forward" in refused["python"], \
            f"{entry.name} has no forward rule but was not refused"
    elif entry.kind == "rule":
        assert "python" not in refused, refused["python"]
