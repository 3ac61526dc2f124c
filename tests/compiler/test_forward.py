"""Forward mode (tf.jvp, tf.jacfwd, tf.hessian, tf.hvp) against central differences.

* jvp on every corpus function the source transform takes: the directional derivative along a
  random direction, python backend (a refusal must be a TransformError naming the line, never a
  wrong number);
* jacfwd (vector mode and one direction at a time) == central differences, also for tuple
  outputs, on python and native;
* hessian symmetric and equal to central differences of grad; hvp == hessian @ v.
"""
import contextlib
import io

import numpy as np
import pytest

import tapeflow as tf
from tapeflow.compiler.errors import TransformError

from corpus import CORPUS  # noqa: E402  (conftest.py put this folder on sys.path)

CASES = [c for c in CORPUS if not c.tape_only]


def quiet(fn, *args):
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*args)


def directional(fn, args, argnums, tangents, h=1e-6):
    up, down = list(args), list(args)
    for i, t in zip(argnums, tangents):
        up[i] = args[i] + h * t
        down[i] = args[i] - h * t
    return (quiet(fn, *up) - quiet(fn, *down)) / (2 * h)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_jvp_corpus(case):
    args = tuple(np.asarray(a, dtype=np.float64) if isinstance(a, np.ndarray) else a
                 for a in case.args[0])
    argnums = case.argnums if isinstance(case.argnums, tuple) else (case.argnums,)
    args = tuple(float(a) if i in argnums and isinstance(a, int) else a
                 for i, a in enumerate(args))
    rng = np.random.default_rng(3)
    tangents = [rng.uniform(-1, 1, size=np.shape(args[i])) if np.ndim(args[i])
                else float(rng.uniform(-1, 1)) for i in argnums]
    full = [None] * len(args)
    for i, t in zip(argnums, tangents):
        full[i] = t
    want = directional(case.fn, args, argnums, tangents)
    try:
        value, got = quiet(tf.jvp, case.fn, args, full, "python")
    except TransformError as e:
        assert "line" in str(e), str(e)
        pytest.skip(f"forward mode refuses: {e}")
    np.testing.assert_allclose(value, quiet(case.fn, *args), rtol=1e-10)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)


def hand(params, n=5):
    """A small loop-written R^6 -> R^(2 n) map, hand-tracking-like (rotation, scale, offset)."""
    out = np.zeros((n, 2))
    for i in range(n):
        angle = params[0] + 0.3 * i * params[1]
        r = params[2] * (1.0 + 0.1 * i)
        out[i, 0] = r * np.cos(angle) + params[3] + params[5] * i
        out[i, 1] = r * np.sin(angle) + params[4] * params[5]
    return out


def pair(x, y):
    return np.sin(x) * y, np.sum(x * x) * y


def jacobian_by_differences(fn, x, h=1e-6):
    cols = []
    for k in range(x.size):
        e = np.zeros(x.size)
        e[k] = h
        e = e.reshape(x.shape)
        cols.append((np.asarray(fn(x + e)) - np.asarray(fn(x - e))) / (2 * h))
    return np.moveaxis(np.array(cols), 0, -1).reshape(np.shape(fn(x)) + x.shape)


@pytest.mark.parametrize("backend,chunk", [("python", None), ("python", 4), ("python", 1),
                                           ("native", None)])
def test_jacfwd_loops(backend, chunk):
    x = np.array([0.3, -0.7, 1.2, 0.4, -0.1, 0.8])
    jac = tf.jacfwd(hand, backend=backend, chunk=chunk)
    J = jac(x)
    assert J.shape == (5, 2, 6)
    np.testing.assert_allclose(J, jacobian_by_differences(hand, x), rtol=1e-6, atol=1e-8)
    assert jac.vector_refused is None
    assert "x_dot" in tf.source(jac) or "params_dot" in tf.source(jac)


def test_jacfwd_tuple_output_and_argnums():
    x, y = np.array([0.5, -1.0, 2.0]), 1.5
    jx, jy = tf.jacfwd(pair, argnums=(0, 1), backend="python")(x, y)
    np.testing.assert_allclose(jx[0], np.diag(np.cos(x) * y), rtol=1e-12)
    np.testing.assert_allclose(jx[1], 2 * x * y, rtol=1e-12)
    np.testing.assert_allclose(jy[0], np.sin(x), rtol=1e-12)
    np.testing.assert_allclose(jy[1], np.sum(x * x), rtol=1e-12)
    value, tangent = tf.jvp(pair, (x, y), (np.ones(3), 0.0))
    np.testing.assert_allclose(tangent[0], np.cos(x) * y)
    assert isinstance(tangent[1], float)


def rosen(x):
    s = 0.0
    for i in range(x.shape[0] - 1):
        s += 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2
    return s


def softish(x, w):
    h = np.tanh(w @ x)
    return np.log(np.sum(np.exp(h))) + np.sum(x ** 3) / 3.0


@pytest.mark.parametrize("backend", ["python", "native"])
def test_hessian_and_hvp(backend):
    rng = np.random.default_rng(0)
    cases = [(rosen, (rng.uniform(-1, 1, 5),))]
    if backend == "python":   # (native compiles are slow: one function there)
        cases.append((softish, (rng.uniform(-1, 1, 4), rng.uniform(-1, 1, (3, 4)))))
    for fn, args in cases:
        x = args[0]
        H = tf.hessian(fn, backend=backend)(*args)
        np.testing.assert_allclose(H, H.T, rtol=1e-10, atol=1e-10)
        g = tf.grad(fn, backend="python")
        want = jacobian_by_differences(lambda z: g(z, *args[1:]), x)
        np.testing.assert_allclose(H, want, rtol=1e-5, atol=1e-6)
        v = rng.uniform(-1, 1, x.shape)
        np.testing.assert_allclose(tf.hvp(fn, backend=backend)(*args, v), H @ v,
                                   rtol=1e-10, atol=1e-10)


def test_jvp_of_grad_nests():
    """jvp of grad is forward over reverse: the same numbers as hvp."""
    x, v = np.array([0.2, -0.4, 0.9]), np.array([1.0, 0.5, -2.0])
    _, t = tf.jvp(tf.grad(rosen), (x,), (v,), backend="python")
    np.testing.assert_allclose(t, tf.hessian(rosen)(x) @ v, rtol=1e-12)


def no_rule(x):
    return np.sum(np.cumprod(x))


def test_missing_forward_rule_is_refused(monkeypatch):
    """An entry without a forward rule is refused with its line, never taken as zero (every
    entry reachable from source has one now: take one away)."""
    from tapeflow.runtime.rules import table
    monkeypatch.setattr(table.BY_NAME["Cumprod"], "forward", None)
    with pytest.raises(TransformError, match=r"line \d+: forward mode: cumprod .*no forward rule"):
        tf.jvp(no_rule, (np.ones(3),), (np.ones(3),), backend="python")


def sin_x(x):
    return np.sin(x) * x


def jvp_of_sin_x(x):
    return tf.jvp(sin_x, (x,), (1.0,))[1]


def sines(x):
    return np.sum(np.sin(x) * x ** 2)


def hvp_of_sines(x):
    return np.sum(tf.hvp(sines)(x, np.array([1.0, -2.0, 0.5])))


def test_grad_of_jvp():
    """grad of jvp and of hvp (third order): under "auto" the tape runs the tangent code on
    Tensors (d/dx of x cos x + sin x is 2 cos x - x sin x)."""
    got = tf.grad(jvp_of_sin_x)(0.5)
    np.testing.assert_allclose(got, 2 * np.cos(0.5) - 0.5 * np.sin(0.5), rtol=1e-12)
    x = np.array([0.2, -0.4, 0.9])
    g = tf.grad(hvp_of_sines, backend="tape")(x)
    np.testing.assert_allclose(g, jacobian_by_differences(hvp_of_sines, x), rtol=1e-5)


def test_grad_of_jvp_source_transform():
    """jvp called in a transformed function: its tangent code is inlined (python and native)."""
    for backend in ("python", "native"):
        got = tf.grad(jvp_of_sin_x, backend=backend)(0.5)
        np.testing.assert_allclose(got, 2 * np.cos(0.5) - 0.5 * np.sin(0.5), rtol=1e-12)


def jvp_of_packed(x):
    primals = (x,)
    return tf.jvp(sin_x, primals, (1.0,))[1]


def test_grad_of_jvp_needs_tuples_written_out():
    with pytest.raises(TransformError, match="jvp"):
        tf.grad(jvp_of_packed, backend="python")(0.5)


def joined(x):
    return np.concatenate([np.sin(x), x * x, np.ones(2)])


def stacked(x):
    return np.stack([x, np.sin(x) * x[0]], axis=1)


def stacked_scalars(x):
    return np.stack([x[0] * 2.0, x[1] * x[2], 1.0])


def ranged(x):
    return np.concatenate([np.arange(x[0], x[0] + 3.0, x[1] + 0.2) * 2.0, np.linspace(x[1], x[2], 4)])


@pytest.mark.parametrize("fn", [joined, stacked, stacked_scalars, ranged])
def test_jacfwd_of_variadic_and_ranges(fn):
    """concatenate/stack (jointly linear: the primitive of the tangents, constants' zeros in
    place), arange and linspace (optional inputs left out; one direction at a time): the
    Jacobian == differences."""
    x = np.array([0.3, 0.5, 0.9])
    jac = tf.jacfwd(fn, backend="python", chunk=3)
    np.testing.assert_allclose(jac(x), jacobian_by_differences(fn, x), rtol=1e-6, atol=1e-8)
    assert (jac.vector_refused is None) == (fn is not ranged)
