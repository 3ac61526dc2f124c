"""tf.vjp and tf.jacrev: against central differences, across backends, and against the tape.

* vjp on a sample of the compiler corpus (scalar outputs: vjp_fn(c) == c * gradient) and on
  functions with array and tuple outputs written with loops, element writes and branches;
* jacrev == the Jacobian of central differences (output shape + input shape, as JAX), on the
  python and native backends, and the tape's GradientTape.jacobian;
* cotangents of the wrong structure or shape are refused; integer primals get None.
"""
import math

import numpy as np
import pytest

import tapeflow as tf

from corpus import CORPUS, loop_over_rows  # noqa: E402  (conftest.py put this folder on sys.path)

RNG = np.random.default_rng(7)


def central_jacobian(f, args, k, eps=1e-6):
    """Jacobian of ``f`` (any output structure, flattened per leaf) in argument ``k``:
    a list with one array of shape out_shape + arg_shape per output leaf."""
    x0 = np.asarray(args[k], dtype=float)

    def at(x):
        a = list(args)
        a[k] = x if x0.ndim else float(x)
        out = f(*a)
        return [np.asarray(o, dtype=float) for o in (out if isinstance(out, tuple) else (out,))]
    base = at(x0.copy())
    cols = [np.zeros(b.shape + x0.shape) for b in base]
    for idx in np.ndindex(*x0.shape):
        h = eps * max(1.0, abs(x0[idx]))
        xp, xm = x0.copy(), x0.copy()
        xp[idx] += h
        xm[idx] -= h
        for c, fp, fm in zip(cols, at(xp), at(xm)):
            c[(Ellipsis,) + idx] = (fp - fm) / (2 * h)
    return cols


# --- functions with array and tuple outputs ----------------------------------------------------
def elementwise(x):
    return np.sin(x) * np.exp(-x * x)


def recurrence(x):
    out = np.zeros(x.shape[0])
    s = 0.0
    for i in range(x.shape[0]):
        s = 0.5 * s + x[i] * x[i]
        out[i] = math.tanh(s)
    return out


def two_outputs(x, w):
    h = np.tanh(x * w)
    return np.sum(h * h), h[1:] - h[:-1]


def branchy(x):
    y = x * 1.0
    if x[0] > 0.0:
        y = y * x[1]
    else:
        y = y - x[1]
    return y, x[0] ** 3


def matvec(A, x):
    return np.dot(A, np.cos(x))


def nested_tuple(x):
    return (x[0] * x[1], (np.exp(x), x[2]))


def calls_rows(X):   # a callee looping over an argument's rows (was a normalize bug)
    return loop_over_rows(X) * 2.0


V4 = np.array([0.3, -1.2, 0.7, 1.9])
W4 = np.array([1.1, 0.5, -0.6, 0.25])
A34 = RNG.normal(size=(3, 4))
CASES = [
    (elementwise, (V4,), (0,)),
    (recurrence, (V4,), (0,)),
    (two_outputs, (V4, W4), (0, 1)),
    (branchy, (V4,), (0,)),
    (branchy, (-V4,), (0,)),
    (matvec, (A34, V4), (0, 1)),
    (nested_tuple, (V4,), (0,)),
    (calls_rows, (A34,), (0,)),
]
IDS = [f"{f.__name__}{i}" for i, (f, _, _) in enumerate(CASES)]


def random_cotangent(value):
    if isinstance(value, tuple):
        return tuple(random_cotangent(v) for v in value)
    if np.ndim(value):
        return RNG.normal(size=np.shape(value))
    return float(RNG.normal())


def flat(value):
    if isinstance(value, tuple):
        return [leaf for v in value for leaf in flat(v)]
    return [np.asarray(value, dtype=float)]


def flat_function(f):
    """f with its output flattened to a tuple of leaves (for central_jacobian)."""
    def g(*args):
        return tuple(flat(f(*args)))
    return g


NATIVE = {"two_outputs2"}   # native compiles take seconds (jacrev covers recurrence natively)
BY_BACKEND = [pytest.param(*c, b, id=f"{i}-{b}") for c, i in zip(CASES, IDS)
              for b in ("python", "native") if b == "python" or i in NATIVE]


@pytest.mark.parametrize("f,args,argnums,backend", BY_BACKEND)
def test_vjp_against_central_differences(f, args, argnums, backend):
    value, vjp_fn = tf.vjp(f, *args, backend=backend)
    for got, want in zip(flat(value), flat(f(*args))):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    ct = random_cotangent(value)
    grads = vjp_fn(ct)
    assert len(grads) == len(args)
    for k in argnums:
        jacs = central_jacobian(flat_function(f), args, k)
        expected = sum(np.tensordot(c, j, axes=np.ndim(c)) for c, j in zip(flat(ct), jacs))
        assert np.shape(grads[k]) == np.shape(args[k])
        np.testing.assert_allclose(grads[k], expected, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("f,args,argnums", CASES, ids=IDS)
def test_jacrev_against_central_differences(f, args, argnums):
    jac = tf.jacrev(f, argnums=argnums, backend="python")(*args)
    per_arg = {k: central_jacobian(flat_function(f), args, k) for k in argnums}
    # jac: per output leaf (structured like the output), a tuple over argnums
    out = f(*args)
    jac_leaves = _leaves_like(out, jac)
    for n, jl in enumerate(jac_leaves):
        for j, k in zip(jl, argnums):
            np.testing.assert_allclose(j, per_arg[k][n], rtol=1e-5, atol=1e-7)


def _leaves_like(structure, value):
    if isinstance(structure, tuple):
        return [leaf for s, v in zip(structure, value) for leaf in _leaves_like(s, v)]
    return [value]


def test_jacrev_shapes_as_jax():
    x = np.arange(1.0, 7.0).reshape(2, 3)
    j = tf.jacrev(lambda x: np.sin(x) * 2.0, backend="python")(x)
    assert j.shape == (2, 3, 2, 3)
    np.testing.assert_allclose(j.reshape(6, 6), np.diag(2 * np.cos(x).ravel()), atol=1e-12)
    assert tf.jacrev(lambda x: np.sum(x ** 2), backend="python")(x).shape == (2, 3)   # a grad
    assert np.shape(tf.jacrev(lambda s: np.array([s, s * s]), backend="tape")(3.0)) == (2,)
    j0, j1 = tf.jacrev(lambda a, b: a * b, argnums=(0, 1), backend="python")(np.ones(3), 2.0)
    assert j0.shape == (3, 3) and j1.shape == (3,)


def test_jacrev_backends_and_tape_agree():
    x = V4     # as in test_vjp_against_central_differences: the native code is compiled once
    f = recurrence
    ref = tf.jacrev(f, backend="python")(x)
    from tapeflow.compiler import vjp as vjp_module
    structure = vjp_module.structure_of(f(x), "f")
    g = vjp_module.seeded_gradient(f, 1, structure, (0,), "native")
    assert vjp_module.rows_runner(g, (x,), structure, (0,), "native") is not None, \
        "native vector mode refused"
    for backend in ("native", "tape"):   # native: vector mode (replay.py), lowered
        np.testing.assert_allclose(tf.jacrev(f, backend=backend)(x), ref, rtol=1e-10, atol=1e-12)
    xt = tf.constant(x, dtype=tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        y = tf.tanh(xt) * tf.reduce_sum(xt)
    np.testing.assert_allclose(tape.jacobian(y, xt).numpy(),
                               tf.jacrev(lambda v: np.tanh(v) * np.sum(v))(x), rtol=1e-10)


def test_vjp_under_tape_output_gradients():
    """The tape's output_gradients seed and vjp's cotangent are the same thing."""
    x = np.array([0.5, -1.0, 2.0])
    c = np.array([1.0, -2.0, 0.5])
    _, vjp_fn = tf.vjp(lambda v: np.exp(v) * v, x, backend="python")
    xt = tf.constant(x, dtype=tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        y = tf.exp(xt) * xt
    np.testing.assert_allclose(tape.gradient(y, xt, output_gradients=tf.constant(c)).numpy(),
                               vjp_fn(c)[0], rtol=1e-12)


def test_vjp_inside_a_recording_tape_is_differentiable():
    """vjp_fn called on Tensors inside a tape goes through the tape: d/dx of <J(x)^T c, 1>."""
    def f(v):
        return v * v * v
    x = tf.constant(np.array([0.5, 2.0]))
    with tf.GradientTape() as tape:
        tape.watch(x)
        _, vjp_fn = tf.vjp(f, x)
        (g,) = vjp_fn(np.array([1.0, 1.0]))     # 3 x^2
        s = tf.reduce_sum(g)
    np.testing.assert_allclose(tape.gradient(s, x).numpy(), 6 * x.numpy(), rtol=1e-12)


def test_cotangent_structure_is_checked_and_ints_get_none():
    _, vjp_fn = tf.vjp(two_outputs, V4, W4, backend="python")
    with pytest.raises(ValueError, match="tuple of 2"):
        vjp_fn(np.ones(3))
    with pytest.raises(ValueError, match="shape"):
        vjp_fn((1.0, np.ones(4)))
    _, vjp_fn = tf.vjp(lambda x, n: x * n, np.ones(2), 3, backend="python")
    gx, gn = vjp_fn(np.ones(2))
    assert gn is None
    np.testing.assert_allclose(gx, [3.0, 3.0])
    with pytest.raises(TypeError, match="no cotangent"):
        tf.vjp(lambda x: None, 1.0)


SAMPLE = [pytest.param(c, id=c.id) for c in CORPUS[::5] if not c.tape_only and
          "int_arg" not in c.tags and "gmm" not in c.tags]


@pytest.mark.parametrize("case", SAMPLE)
def test_vjp_on_corpus_sample(case):
    """Scalar outputs: vjp_fn(c) is c times the gradient of central differences."""
    args = case.args[0]
    nums = case.argnums if isinstance(case.argnums, tuple) else (case.argnums,)
    import io
    import contextlib
    with contextlib.redirect_stdout(io.StringIO()):
        _, vjp_fn = tf.vjp(case.fn, *args, backend="python")
        grads = vjp_fn(-1.5)
        for k in nums:
            (jac,) = central_jacobian(case.fn, args, k)
            np.testing.assert_allclose(grads[k], -1.5 * jac, rtol=1e-5, atol=1e-6)


# --- vector mode ------------------------------------------------------------------------------
def _separate_vjps(f, args, argnums):
    """The Jacobian rows one vjp call each (the reference for vector mode)."""
    value, vjp_fn = tf.vjp(f, *args, backend="python")
    out = flat(value)
    rows = {k: [] for k in argnums}
    for n, leaf in enumerate(out):
        for j in range(leaf.size):
            cts = [np.zeros(o.shape) for o in out]
            cts[n].reshape(-1)[j] = 1.0
            ct = _pack_like(value, iter([c if c.ndim else float(c) for c in cts]))
            got = vjp_fn(ct)
            for k in argnums:
                rows[k].append(np.asarray(got[k]))
    return rows


def _pack_like(value, it):
    if isinstance(value, tuple):
        return tuple(_pack_like(v, it) for v in value)
    return next(it)


@pytest.mark.parametrize("f,args,argnums", CASES, ids=IDS)
def test_vector_mode_equals_separate_vjps(f, args, argnums):
    from tapeflow.compiler import vjp as vjp_module
    value = f(*args)
    structure = vjp_module.structure_of(value, f.__name__)
    g = vjp_module.seeded_gradient(f, len(args), structure, argnums, "python")
    assert vjp_module.rows_runner(g, args, structure, argnums, "python") is not None, \
        "vector mode refused"
    jac = tf.jacrev(f, argnums=argnums, backend="python", chunk=3)(*args)   # chunks of 3 rows
    rows = _separate_vjps(f, args, argnums)
    for n, jl in enumerate(_leaves_like(value, jac)):
        start = sum(np.size(v) for v in flat(value)[:n])
        size = np.size(flat(value)[n])
        for j, k in zip(jl if len(argnums) > 1 else (jl,), argnums):
            expected = np.array(rows[k][start:start + size])
            np.testing.assert_allclose(np.reshape(j, expected.shape), expected, rtol=1e-12,
                                       atol=1e-14)


def overwrites_and_reads(x):
    """An adjoint that restores overwritten elements (sin's adjoint reads y, written after):
    vector mode refuses, jacrev still works (one vjp per row)."""
    y = x * 1.0
    z = np.sin(y)
    y[0] = 2.0 * y[1]
    return z * y


def test_vector_mode_refused_falls_back_to_separate_calls():
    from tapeflow.compiler import vjp as vjp_module
    x = np.array([0.5, 1.2, -0.7])
    structure = vjp_module.structure_of(overwrites_and_reads(x), "f")
    g = vjp_module.seeded_gradient(overwrites_and_reads, 1, structure, (0,), "python")
    assert vjp_module.rows_runner(g, (x,), structure, (0,), "python") is None
    jac = tf.jacrev(overwrites_and_reads, backend="python")(x)
    (expected,) = central_jacobian(overwrites_and_reads, (x,), 0)
    np.testing.assert_allclose(jac, expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("f,args,argnums", CASES, ids=IDS)
def test_dot_product_jvp_vjp(f, args, argnums):
    """<J t, c> == <t, J^T c> between the forward transform's jvp and vjp."""
    value, vjp_fn = tf.vjp(f, *args, backend="python")
    c = random_cotangent(value)
    tangents = [RNG.normal(size=np.shape(a)) if k in argnums else np.zeros(np.shape(a))
                for k, a in enumerate(args)]
    tangents = [t if np.ndim(t) else float(t) for t in tangents]
    _, jt = tf.jvp(f, tuple(args), tuple(tangents), backend="python")
    left = sum(float(np.sum(a * b)) for a, b in zip(flat(jt), flat(c)))
    jtc = vjp_fn(c)
    right = sum(float(np.sum(np.asarray(jtc[k]) * tangents[k])) for k in argnums)
    np.testing.assert_allclose(left, right, rtol=1e-10, atol=1e-12)


def _pair_of(fn, n):
    """``(f(*a), 3 f(*a))`` as a function with a source: two rows, so the replayed adjoint
    sweep runs twice (stacks refilled, adjoints zeroed again)."""
    params = ", ".join(f"a{i}" for i in range(n))
    src = f"def pair({params}):\n    v = fn({params})\n    return v, v * 3.0\n"
    scope = {"fn": fn}
    exec(compile(src, "<pair>", "exec"), scope)
    scope["pair"].__tapeflow_source__ = src
    return scope["pair"]


REPLAYED = [pytest.param(c, id=c.id) for c in CORPUS[2::10] if not c.tape_only and
            "int_arg" not in c.tags and "print" not in c.tags]


@pytest.mark.parametrize("case", REPLAYED)
def test_vector_mode_on_corpus_sample(case):
    args = case.args[0]
    nums = case.argnums if isinstance(case.argnums, tuple) else (case.argnums,)
    pair = _pair_of(case.fn, len(args))
    j1, j3 = tf.jacrev(pair, argnums=nums, backend="python")(*args)
    for k, a, b in zip(nums, j1, j3):
        (ref,) = central_jacobian(case.fn, args, k)
        np.testing.assert_allclose(a, ref, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(b, 3.0 * np.asarray(a), rtol=1e-12, atol=1e-12)


def _sin_x(x):
    return np.sin(x) * x


def _sum_of_jacobian(x):
    return np.sum(tf.jacrev(_sin_x, backend="python")(x) * np.arange(1.0, 4.0))


def _vjp_inside(x):
    _, vjp_fn = tf.vjp(_sin_x, x, backend="python")
    return np.sum(vjp_fn(np.ones(3))[0] * x)


@pytest.mark.parametrize("outer", [_sum_of_jacobian, _vjp_inside])
def test_gradient_through_jacrev_and_vjp(outer):
    """jacrev/vjp called inside a differentiated function (auto: through the tape): the rows
    stay Tensors, the enclosing gradient is not a silent zero."""
    x = np.array([0.1, 0.5, 0.9])
    h = 1e-6
    expected = np.array([(outer(x + h * e) - outer(x - h * e)) / (2 * h) for e in np.eye(3)])
    np.testing.assert_allclose(tf.grad(outer)(x), expected, rtol=1e-6, atol=1e-8)
