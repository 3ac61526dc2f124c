"""tapeflow.grad on the corpus: against finite differences and across backends.

For every case in ``corpus.CORPUS`` (parametrized by function name):
  * backend="python" matches central finite differences, keeps argument shapes and types, and does
    not modify its inputs;
  * backend="tape" matches finite differences and agrees with backend="python" to rounding (for
    cases tagged ``writes_computed`` or ``alias`` it may instead refuse with an error naming the
    line: numpy changes arrays in place, the tape's values are immutable);
  * backend="auto" matches finite differences (cases tagged ``tape_only`` get there through the
    tape, while backend="python" must refuse them with TransformError);
  * value_and_grad returns f's value.
Plus second derivatives, Hessian-vector products, tuple argnums and ``tapeflow.source``.
"""
import functools
import io
import contextlib
import re

import numpy as np
import pytest

import tapeflow

from corpus import BY_NAME, CORPUS   # conftest.py put this folder on sys.path
from grad_checks import (BACKEND_ATOL, BACKEND_RTOL, FD_ATOL, FD_RTOL, assert_args_unchanged,
                         assert_grad_close, copy_args, numeric_grad)

ALL = [pytest.param(c, id=c.id) for c in CORPUS]
TRANSFORMABLE = [pytest.param(c, id=c.id) for c in CORPUS if not c.tape_only]
TAPE_ONLY = [pytest.param(c, id=c.id) for c in CORPUS if c.tape_only]


def _quiet(fn, *args):
    """Call ``fn`` with its stdout swallowed (some corpus functions print)."""
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*args)


@functools.lru_cache(maxsize=None)
def reference(case_id, i):
    """Central finite-difference gradient of the case at its i-th example point (cached)."""
    c = BY_NAME[case_id]
    with contextlib.redirect_stdout(io.StringIO()):
        return numeric_grad(c.fn, c.args[i], c.argnums)


def _refused_clearly(case, backend, call):
    """Run ``call()``.  For a ``writes_computed``/``alias`` case under backend="tape", an error that names
    the corpus file and a line is an acceptable answer (the tape's values are immutable; the
    design lets it refuse such writes explicitly): return None then.  Anything else propagates."""
    if backend != "tape" or not {"writes_computed", "alias"} & case.tags:
        return call()
    try:
        return call()
    except Exception as e:  # noqa: BLE001 - checked below
        msg = str(e)
        assert "corpus.py" in msg and re.search(r"line \d+", msg), (
            f"{case.id}: the tape refused without naming the place: {type(e).__name__}: {msg}")
        return None


def _check_against_fd(case, backend):
    g = tapeflow.grad(case.fn, argnums=case.argnums, backend=backend)
    for i, args in enumerate(case.args):
        before = copy_args(args)
        call_args = copy_args(args)
        actual = _refused_clearly(case, backend, lambda: _quiet(g, *call_args))
        if actual is None:
            continue
        assert_args_unchanged(before, call_args, f"{case.id} backend={backend}")
        assert_grad_close(actual, reference(case.id, i), FD_RTOL, FD_ATOL,
                          what=f"{case.id} point {i} backend={backend} vs finite differences")


# --- the corpus itself (no tapeflow involved) ------------------------------------------------
@pytest.mark.parametrize("case", ALL)
def test_case_is_valid_python(case):
    """Each case runs as plain Python, returns a scalar float, leaves its arguments alone, and
    its finite-difference gradient is finite and stable (3-point vs. 5-point stencil)."""
    for i, args in enumerate(case.args):
        call_args = copy_args(args)
        v = _quiet(case.fn, *call_args)
        assert np.ndim(v) == 0 and isinstance(v, (float, np.floating)), (case.id, type(v))
        assert np.isfinite(v)
        assert_args_unchanged(args, call_args, case.id)
        fd = reference(case.id, i)
        fd5 = _quiet(numeric_grad, case.fn, args, case.argnums, 2e-4, 4)
        assert_grad_close(fd, fd5, FD_RTOL / 10, FD_ATOL / 10, what=f"{case.id}: FD unstable")


def test_corpus_size_and_coverage():
    transformable = [c for c in CORPUS if not c.tape_only]
    assert len(transformable) >= 170
    assert 10 <= len(CORPUS) - len(transformable)
    tags = set().union(*(c.tags for c in CORPUS))
    for t in ("loop", "while", "break", "continue", "branch", "ifexp", "early_return", "augassign",
              "alias", "tuple", "overwrite", "call", "kwargs", "default_args", "closure",
              "inner_def", "int_mix", "print", "slice", "method", "attr", "reduce", "axis",
              "keepdims", "dot", "where", "minmax", "abs", "zeros", "math", "ufunc", "pow",
              "rows", "nested_loop", "recurrence", "rosenbrock", "mlp", "logsumexp", "gmm"):
        assert t in tags, t


# --- backend="python" ------------------------------------------------------------------------
@pytest.mark.parametrize("case", TRANSFORMABLE)
def test_python_backend_matches_finite_differences(case):
    _check_against_fd(case, "python")


@pytest.mark.parametrize("case", TRANSFORMABLE)
def test_python_backend_gradient_types(case):
    """The gradient of an array argument is a float64 array of its shape; of a scalar, a float."""
    g = tapeflow.grad(case.fn, argnums=case.argnums, backend="python")
    args = case.args[0]
    out = _quiet(g, *copy_args(args))
    ks = case.argnums if isinstance(case.argnums, tuple) else (case.argnums,)
    outs = out if isinstance(case.argnums, tuple) else (out,)
    assert isinstance(outs, tuple) and len(outs) == len(ks)
    for k, o in zip(ks, outs):
        if isinstance(args[k], np.ndarray):
            assert isinstance(o, np.ndarray), (k, type(o))
            assert o.shape == args[k].shape and o.dtype == np.float64
        else:
            assert isinstance(o, float), (k, type(o))   # np.float64 is a float too


# --- backend="tape" --------------------------------------------------------------------------
@pytest.mark.parametrize("case", ALL)
def test_tape_backend_matches_finite_differences(case):
    _check_against_fd(case, "tape")


@pytest.mark.parametrize("case", TRANSFORMABLE)
def test_tape_backend_agrees_with_python_backend(case):
    g_py = tapeflow.grad(case.fn, argnums=case.argnums, backend="python")
    g_tape = tapeflow.grad(case.fn, argnums=case.argnums, backend="tape")
    for i, args in enumerate(case.args):
        a = _quiet(g_py, *copy_args(args))
        b = _refused_clearly(case, "tape", lambda: _quiet(g_tape, *copy_args(args)))
        if b is None:
            continue
        assert_grad_close(b, a, BACKEND_RTOL, BACKEND_ATOL, what=f"{case.id} point {i}: tape vs python")


# --- backend="auto" and the tape-only cases --------------------------------------------------
@pytest.mark.parametrize("case", ALL)
def test_auto_backend_matches_finite_differences(case):
    _check_against_fd(case, "auto")


@pytest.mark.parametrize("case", TAPE_ONLY)
def test_python_backend_rejects_tape_only_case(case):
    with pytest.raises(tapeflow.TransformError):
        g = tapeflow.grad(case.fn, argnums=case.argnums, backend="python")
        _quiet(g, *copy_args(case.args[0]))


# --- value_and_grad ----------------------------------------------------------------------------
@pytest.mark.parametrize("case", ALL)
def test_value_and_grad(case):
    backend = "auto" if case.tape_only else "python"
    vg = tapeflow.value_and_grad(case.fn, argnums=case.argnums, backend=backend)
    for i, args in enumerate(case.args):
        expected_value = _quiet(case.fn, *copy_args(args))
        out = _quiet(vg, *copy_args(args))
        assert isinstance(out, tuple) and len(out) == 2
        value, grad = out
        assert np.ndim(value) == 0
        np.testing.assert_allclose(float(value), float(expected_value), rtol=1e-12, atol=1e-14)
        assert_grad_close(grad, reference(case.id, i), FD_RTOL, FD_ATOL,
                          what=f"{case.id} point {i}: value_and_grad's gradient")


# --- second order ------------------------------------------------------------------------------
SECOND_ORDER = ["poly3", "cube_by_mul", "rational_fn", "pow_float_exponents", "nested_power",
                "math_sin_cos", "math_exp_log", "math_tanh", "math_sigmoid", "math_softplus",
                "if_else_value", "loop_range_stop", "while_counter", "call_nested",
                "tuple_pack_unpack", "augassign_scalars", "closure_factory_scaled_sin"]


def _second_derivative_fd(f, x, h=1e-3):
    """Five-point second difference of scalar f at x (independent of tapeflow)."""
    h = h * max(1.0, abs(x))
    return (-f(x + 2 * h) + 16.0 * f(x + h) - 30.0 * f(x) + 16.0 * f(x - h) - f(x - 2 * h)) / (12.0 * h * h)


@pytest.mark.parametrize("backend", ["python", "tape", "auto"])
@pytest.mark.parametrize("name", SECOND_ORDER)
def test_second_derivative(name, backend):
    case = BY_NAME[name]
    assert case.argnums == 0 and len(case.args[0]) == 1 and not isinstance(case.args[0][0], np.ndarray)
    d1 = tapeflow.grad(case.fn, backend=backend)
    d2 = tapeflow.grad(d1, backend=backend)
    for args in case.args:
        x = float(args[0])
        expected = _quiet(_second_derivative_fd, case.fn, x)
        # FD of the (separately tested) first derivative, as a second, tighter reference.
        fd_of_d1 = _quiet(numeric_grad, d1, (x,), 0)
        actual = _quiet(d2, x)
        assert np.ndim(actual) == 0
        np.testing.assert_allclose(actual, fd_of_d1, rtol=1e-5, atol=1e-6, err_msg=f"{name} at {x}")
        np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6, err_msg=f"{name} at {x}")


HVP_CASES = ["rosenbrock_vectorized", "logsumexp_vectorized", "np_ufunc_chain", "np_tanh_sq",
             "rosenbrock_loop", "loop_over_shape"]


@pytest.mark.parametrize("backend", ["auto", "tape", "python"])
@pytest.mark.parametrize("name", HVP_CASES)
def test_hessian_vector_product(name, backend):
    case = BY_NAME[name]
    x = copy_args(case.args[0])[0]
    v = np.linspace(-1.0, 1.0, x.shape[0]) + 0.3
    gf = tapeflow.grad(case.fn, backend=backend)

    def grad_dot_v(x, v):
        return np.dot(gf(x), v)

    hvp = tapeflow.grad(grad_dot_v, backend=backend)(x.copy(), v.copy())
    # Reference: central difference of the gradient along v.
    h = 1e-6
    expected = (gf(x + h * v) - gf(x - h * v)) / (2.0 * h)
    assert isinstance(hvp, np.ndarray) and hvp.shape == x.shape
    np.testing.assert_allclose(hvp, expected, rtol=1e-5, atol=1e-6)


# --- tuple argnums ------------------------------------------------------------------------------
@pytest.mark.parametrize("backend", ["python", "tape", "auto"])
def test_tuple_argnums_matches_single_argnums(backend):
    case = BY_NAME["np_elementwise_two_arrays"]
    x, y = case.args[0]
    both = tapeflow.grad(case.fn, argnums=(0, 1), backend=backend)(x.copy(), y.copy())
    gx = tapeflow.grad(case.fn, argnums=0, backend=backend)(x.copy(), y.copy())
    gy = tapeflow.grad(case.fn, argnums=1, backend=backend)(x.copy(), y.copy())
    assert isinstance(both, tuple) and len(both) == 2
    np.testing.assert_allclose(both[0], gx, rtol=1e-12)
    np.testing.assert_allclose(both[1], gy, rtol=1e-12)
    # The order of the tuple follows argnums.
    swapped = tapeflow.grad(case.fn, argnums=(1, 0), backend=backend)(x.copy(), y.copy())
    np.testing.assert_allclose(swapped[0], gy, rtol=1e-12)
    np.testing.assert_allclose(swapped[1], gx, rtol=1e-12)
    # A one-element tuple gives a one-element tuple.
    one = tapeflow.grad(case.fn, argnums=(1,), backend=backend)(x.copy(), y.copy())
    assert isinstance(one, tuple) and len(one) == 1
    np.testing.assert_allclose(one[0], gy, rtol=1e-12)


@pytest.mark.parametrize("backend", ["python", "tape", "auto"])
def test_tuple_argnums_scalars_and_value_and_grad(backend):
    f = BY_NAME["math_gaussian_pdf"].fn
    args = (0.3, -0.2, 1.4)
    value, grads = tapeflow.value_and_grad(f, argnums=(0, 1, 2), backend=backend)(*args)
    np.testing.assert_allclose(value, f(*args), rtol=1e-13)
    assert isinstance(grads, tuple) and len(grads) == 3
    assert_grad_close(grads, numeric_grad(f, args, (0, 1, 2)))
    # d/dx = -d/dmu for a density of (x - mu)
    np.testing.assert_allclose(grads[0], -grads[1], rtol=1e-12)


# --- generated source -----------------------------------------------------------------------
def simple_square(x):
    y = x * x
    return y + 3.0 * x


def test_source_is_readable_python():
    g = tapeflow.grad(simple_square, backend="python")
    assert g(2.0) == pytest.approx(7.0, rel=1e-14)
    # (called first: the code is generated for the kinds of the arguments of the first call)
    src = tapeflow.source(g)
    assert isinstance(src, str)
    assert re.search(r"\bdx\b", src), src
    assert "def " in src
    compile(src, "<tapeflow generated>", "exec")


@pytest.mark.parametrize("name", ["loop_continue", "overwrite_then_sin", "call_keyword_args",
                                  "inner_def_reads_arg", "print_scalar"])
def test_source_of_larger_cases_compiles(name):
    case = BY_NAME[name]
    g = tapeflow.grad(case.fn, argnums=case.argnums, backend="python")
    _quiet(g, *copy_args(case.args[0]))
    src = tapeflow.source(g)
    assert isinstance(src, str) and src.strip()
    compile(src, "<tapeflow generated>", "exec")


def test_print_runs_in_primal_only(capsys):
    case = BY_NAME["print_scalar"]
    g = tapeflow.grad(case.fn, backend="python")
    d = g(0.8)
    out = capsys.readouterr().out
    assert out.count("y is") == 1, out
    assert d == pytest.approx(2 * 0.8 + 1.0, rel=1e-12)
