"""The native backend on the corpus: every function that types natively runs native and matches
the python backend to 1e-12 (float64); the list of functions that do not is pinned, so a
regression to python shows up here."""
import contextlib
import io

import numpy as np
import pytest

import tapeflow
from corpus import CORPUS
from grad_checks import copy_args

# Functions the source transform takes but the native backend does not (they run as generated
# Python under "auto"). Empty today: every corpus function the transform takes types natively.
PYTHON_ONLY = set()
# ...and those the transform refuses (recursion, containers, generators, exceptions, unknown
# code): the tape's job.
NOT_NATIVE = PYTHON_ONLY | {c.id for c in CORPUS if c.tape_only}


def _quiet(fn, *args):
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*args)


def test_pinned_names_exist():
    assert PYTHON_ONLY <= {c.id for c in CORPUS}


@pytest.mark.parametrize("case", CORPUS, ids=lambda c: c.id)
def test_native_matches_python(case):
    native = tapeflow.grad(case.fn, argnums=case.argnums, backend="native")
    if case.id in NOT_NATIVE:
        with pytest.raises(tapeflow.TransformError):
            _quiet(native, *copy_args(case.args[0]))
        return
    python = tapeflow.grad(case.fn, argnums=case.argnums, backend="python")
    for args in case.args:
        got = _quiet(native, *copy_args(args))
        want = _quiet(python, *copy_args(args))
        for g, w in zip(np.atleast_1d(got) if not isinstance(got, tuple) else got,
                        np.atleast_1d(want) if not isinstance(want, tuple) else want):
            np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12 * (1 + np.max(np.abs(w))),
                                       err_msg=case.id)
