"""Dot-product tests on the fuzz programs: <J t, c> == <t, J^T c> between jvp and vjp.

Each fair program (fuzz_run.unfair) gets a random tangent t and cotangent c; the forward
transform's jvp (python backend), the reverse transform's vjp, and the
directional central difference must agree. A refusal (TransformError naming the line) is
allowed; a wrong number is not. The vjp's own gradient is checked against differences by
test_fuzz.py.
"""
import os
import sys

import numpy as np
import pytest

import tapeflow as tf
from tapeflow.compiler.errors import TransformError

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import fuzz_run  # noqa: E402

# fair programs whose transforms are quick (of seeds 100-123; the suite's time budget is small):
# run others with  TAPEFLOW_FUZZ_FORWARD=100-200 pytest tests/fuzz/test_fuzz_forward.py
_RANGE = os.environ.get("TAPEFLOW_FUZZ_FORWARD")
SEEDS = range(*map(int, _RANGE.split("-"))) if _RANGE else (100, 104, 110, 113, 123)


@pytest.fixture(scope="module")
def directory(tmp_path_factory):
    return str(tmp_path_factory.mktemp("fuzz_forward"))


@pytest.mark.parametrize("seed", SEEDS)
def test_dot_product(seed, directory):
    program = fuzz_run.Program(seed)
    if fuzz_run.unfair(program):
        pytest.skip("not a fair test at its input")
    f = fuzz_run.load(program.source(), directory).f
    x = fuzz_run.copy(program.x)
    rng = np.random.default_rng(seed)
    t = rng.uniform(-1, 1, np.shape(x)) if np.ndim(x) else float(rng.uniform(-1, 1))
    c = float(rng.uniform(0.5, 1.5))
    h = 1e-6
    with np.errstate(all="ignore"):
        directional = (f(fuzz_run.copy(x) + h * t) - f(fuzz_run.copy(x) - h * t)) / (2 * h)
    try:
        _, vjp_fn = tf.vjp(f, fuzz_run.copy(x), backend="python")
        (pulled,) = vjp_fn(c)
    except TransformError as e:
        assert "line" in str(e), str(e)
        pytest.skip(f"reverse refuses: {e}")
    right = float(np.sum(t * pulled))
    scale = max(1.0, abs(right) / c, float(np.max(np.abs(pulled))) / c)
    for backend in ("python",):
        try:
            _, pushed = tf.jvp(f, (fuzz_run.copy(x),), (t,), backend=backend)
        except TransformError as e:
            assert "line" in str(e), str(e)
            continue
        np.testing.assert_allclose(float(pushed) * c, right, rtol=1e-9, atol=1e-9 * scale,
                                   err_msg=f"{backend}: <J t, c> != <t, J^T c>\n"
                                           f"{program.source()}")
        np.testing.assert_allclose(float(pushed), directional, rtol=1e-4, atol=1e-5 * scale,
                                   err_msg=f"{backend}: jvp != differences\n{program.source()}")
