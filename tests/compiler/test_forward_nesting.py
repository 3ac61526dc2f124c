"""Forward and reverse transforms nested in each other, and the tape backend of forward mode.

Every pair (outer transform) x (inner transform called inside the function) is checked against
central differences: on "auto" and "tape" it must give the right number; on "python" and
"native", where the source transform does not take the inner call, it must refuse with the
source line, never answer. A gradient function bound to a global name is inlined by the source
transform, so those nestings run on python and native too. Functions no transform takes
(recursion, lists, dicts: the corpus's tape-only cases) get jvp, jacfwd and hvp from the tape
under "auto".
"""
import contextlib
import io

import numpy as np
import pytest

import tapeflow as tf
from tapeflow.compiler.errors import TransformError

from corpus import CORPUS  # noqa: E402  (conftest.py put this folder on sys.path)

T = np.array([1.0, -0.5, 0.25])
X = np.array([0.3, 0.5, 0.9])


def f(x):
    return np.sin(x) * x[0]


def s(x):
    return np.sum(np.sin(x) * x[0]) + x[1] ** 3


def jvp_inside(x):
    return np.sum(tf.jvp(f, (x,), (T,))[1] ** 2)


def vjp_inside(x):
    return np.sum(tf.vjp(f, x, backend="python")[1](T)[0] ** 2)


def grad_inside(x):
    return np.sum(tf.grad(s, backend="python")(x) ** 2)


def jacfwd_inside(x):
    return np.sum(tf.jacfwd(f, backend="python")(x) ** 2)


def jacrev_inside(x):
    return np.sum(tf.jacrev(f, backend="python")(x) ** 2)


def hvp_inside(x):
    return np.sum(tf.hvp(s, backend="python")(x, T) ** 2)


def hessian_inside(x):
    return np.sum(tf.hessian(s, backend="python")(x) ** 2)


GRAD_S = tf.grad(s)


def global_grad_inside(x):   # a gradient function bound to a global: inlined by the transform
    g = GRAD_S(x)
    return np.sum(g * g) + np.sin(x[2]) * g[0]


INNER = [jvp_inside, vjp_inside, grad_inside, jacfwd_inside, jacrev_inside, hvp_inside,
         hessian_inside, global_grad_inside]


def gradient_by_differences(fn, x, h=1e-5):
    out = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        out[i] = (fn(x + e) - fn(x - e)) / (2 * h)
    return out


def hessian_by_differences(fn, x, h=1e-4):
    g = tf.grad(fn, backend="tape")
    return np.array([(g(x + h * e) - g(x - h * e)) / (2 * h) for e in np.eye(x.size)])


def outer(name, fn, backend):
    if name == "grad":
        return tf.grad(fn, backend=backend)(X)
    if name == "jvp":
        return tf.jvp(fn, (X,), (T,), backend=backend)[1]
    if name == "jacfwd":
        return tf.jacfwd(fn, backend=backend)(X)
    if name == "jacrev":
        return tf.jacrev(fn, backend=backend)(X)
    if name == "hvp":
        return tf.hvp(fn, backend=backend)(X, T)
    return tf.hessian(fn, backend=backend)(X)


OUTER = ["grad", "jvp", "jacfwd", "jacrev", "hvp", "hessian"]
HEAVY = {("hessian", hessian_inside), ("hessian", hvp_inside), ("hvp", hessian_inside)}  # 4th
_WANT = {}


def expected(name, fn):
    if (name, fn) not in _WANT:
        if name in ("hvp", "hessian"):
            H = hessian_by_differences(fn, X)
            _WANT[name, fn] = H @ T if name == "hvp" else H
        else:
            g = gradient_by_differences(fn, X)
            _WANT[name, fn] = g @ T if name == "jvp" else g
    return _WANT[name, fn]


# every pair under "auto" (the tape where the source transform refuses); the forced tape
# backend of forward mode on its own outer transforms. (The inner transforms are forced to
# python: inside a recording tape every backend runs on Tensors; this keeps native compiles
# of the reference values out of the suite.)
PAIRS = [pytest.param(o, i, b, id=f"{o}-of-{i.__name__}-{b}") for i in INNER for o in OUTER
         for b in ("auto", "tape") if (b == "auto" or o in ("jvp", "jacfwd", "hvp")) and
         i is not global_grad_inside and (o, i) not in HEAVY]   # (global: on python/native)


@pytest.mark.parametrize("name,inner,backend", PAIRS)
def test_nesting_on_auto_and_tape(name, inner, backend):
    np.testing.assert_allclose(outer(name, inner, backend), expected(name, inner),
                               rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("name,backend", [(n, "python") for n in ("grad", "jvp", "jacfwd",
                                                                   "hessian")] +
                         [("grad", "native")])
def test_nesting_on_the_source_backends_is_right_or_refused(name, backend):
    """On python and native: a transform called inside is refused with its line (except a
    gradient bound to a global, which is inlined and must be right)."""
    inners = INNER if backend == "python" else [jvp_inside, global_grad_inside]
    for inner in inners:
        try:
            got = outer(name, inner, backend)
        except TransformError as e:
            assert not (inner is global_grad_inside and name in ("grad", "jvp")), str(e)
            assert "line" in str(e), str(e)
            continue
        np.testing.assert_allclose(got, expected(name, inner), rtol=2e-5, atol=1e-6,
                                   err_msg=f"{name} of {inner.__name__} on {backend}")


def test_tape_forward_agrees_with_python():
    def g(x, w):
        h = np.tanh(x * w)
        return np.sum(h * h), h[1:] - h[:-1]
    w = np.array([1.1, 0.5, -0.6])
    for backend in ("tape", "python"):
        value, (t0, t1) = tf.jvp(g, (X, w), (T, np.ones(3)), backend=backend)
        if backend == "tape":
            first = (value, t0, t1)
    np.testing.assert_allclose(first[1], t0, rtol=1e-12)
    np.testing.assert_allclose(first[2], t1, rtol=1e-12)
    J = tf.jacfwd(g, argnums=1, backend="tape")(X, w)
    np.testing.assert_allclose(J[1], tf.jacfwd(g, argnums=1, backend="python")(X, w)[1],
                               rtol=1e-12)


TAPE_ONLY = [c for c in CORPUS if c.tape_only]


@pytest.mark.parametrize("case", TAPE_ONLY, ids=[c.id for c in TAPE_ONLY])
def test_auto_falls_back_to_the_tape(case):
    """Functions no transform takes: jvp (and, for one array argument, jacfwd) under "auto"
    come from the tape, equal to central differences, or are refused naming what."""
    args = tuple(case.args[0])
    nums = case.argnums if isinstance(case.argnums, tuple) else (case.argnums,)
    rng = np.random.default_rng(5)
    full = [None] * len(args)
    for i in nums:
        full[i] = rng.normal(size=np.shape(args[i])) if np.ndim(args[i]) else 0.7

    def along(eps):
        shifted = list(args)
        for i in nums:
            shifted[i] = np.asarray(args[i], dtype=np.float64) + eps * full[i]
            if not np.ndim(args[i]):
                shifted[i] = float(shifted[i])
        return case.fn(*shifted)
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            value, tangent = tf.jvp(case.fn, args, full)
        except (NotImplementedError, TypeError) as e:
            assert str(e)
            return
        except Exception as e:
            if type(e).__name__ != "TraceEscape":
                raise
            return
        want = (along(1e-6) - along(-1e-6)) / 2e-6
    np.testing.assert_allclose(tangent, want, rtol=1e-5, atol=1e-6)


def test_native_tangent_code_refuses_a_tangent_of_another_shape():
    """Native tangent code takes a tangent's bounds from its primal's: a tangent of another
    shape never reaches it (a ValueError, not an out-of-bounds read)."""
    from tapeflow.compiler import transforms
    x = np.array([0.2, -0.4, 0.9, 1.3])
    tf.jvp(rosen_like, (x,), (np.ones(4),), backend="native")
    engine = transforms._tangents_of(rosen_like, "native")
    run, used = engine.runner((0,), (x,), [np.ones(4)], False)
    assert used == "native"
    with pytest.raises(ValueError, match="tangent of shape"):
        run(x, np.ones(2))


def rosen_like(x):
    s = 0.0
    for i in range(x.shape[0] - 1):
        s += (x[i + 1] - x[i] ** 2) ** 2
    return s
