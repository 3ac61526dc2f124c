"""tf.autodiff.ForwardAccumulator: forward mode through the table's forward rules.

* TensorFlow's documented numbers (forwardprop_test.py, the ForwardAccumulator docstring);
* nesting: outer.jvp(inner.jvp(y)) is second order, inner.jvp(outer.jvp(y)) is None, a tape
  inside gives forward-over-backward HVPs, a tape outside gives the gradient of a JVP;
* custom gradients run at forward time (their errors show there);
* directional central differences, on TF ops and on the compiler corpus run through the tape's
  numpy tracing (entries with forward rules, and those that fall back to their reverse rule).
"""
import io
import contextlib
import logging
import os
import sys

import numpy as np
import pytest

import tapeflow as tf
from tapeflow.runtime import trace

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "compiler"))
from corpus import CORPUS  # noqa: E402

RNG = np.random.default_rng(3)


def val(t):
    return t.numpy() if hasattr(t, "numpy") else t


# --- TensorFlow's numbers ----------------------------------------------------------------------
def test_jvp_of_linear_ops():
    v = tf.constant([1.0, 2.0, 3.0])
    with tf.autodiff.ForwardAccumulator(v, tf.constant([.1, -.2, .3])) as acc:
        np.testing.assert_allclose(val(acc.jvp(v)), [.1, -.2, .3])
        np.testing.assert_allclose(val(acc.jvp(v * 2.)), [.2, -.4, .6], rtol=1e-6)
        np.testing.assert_allclose(val(acc.jvp(v + .1)), [.1, -.2, .3], rtol=1e-6)


def test_higher_order_pure_forward():
    primal = tf.constant(1.1)
    with tf.autodiff.ForwardAccumulator(primal, tf.constant(1.)) as outer:
        with tf.autodiff.ForwardAccumulator(primal, tf.constant(1.)) as inner:
            out = primal ** 3.5
    inner_jvp = inner.jvp(out)
    outer_jvp = outer.jvp(inner_jvp)
    np.testing.assert_allclose(val(out), 1.1 ** 3.5, rtol=1e-6)
    np.testing.assert_allclose(val(inner_jvp), 3.5 * 1.1 ** 2.5, rtol=1e-6)
    np.testing.assert_allclose(val(outer_jvp), 3.5 * 2.5 * 1.1 ** 1.5, rtol=1e-6)
    assert inner.jvp(outer.jvp(out)) is None   # the inner one never saw the outer's products


def test_jvp_through_a_python_loop():
    y = tf.constant(1.)
    with tf.autodiff.ForwardAccumulator(y, 1.) as acc:
        ret = tf.constant(0.)
        for i in range(5):
            ret = ret + y * float(i)
    assert val(acc.jvp(ret)) == 10.0


def test_forward_over_backward_and_backward_over_forward():
    v = tf.Variable([1., 2.])
    with tf.autodiff.ForwardAccumulator(v, tf.constant([1., 0.])) as acc:
        with tf.GradientTape() as tape:
            y = tf.reduce_sum(v ** 3.)
        backward = tape.gradient(y, v)
    np.testing.assert_allclose(val(backward), [3., 12.])
    np.testing.assert_allclose(val(acc.jvp(backward)), [6., 0.])
    x = tf.constant([1., 2.])
    with tf.GradientTape() as tape:
        tape.watch(x)
        with tf.autodiff.ForwardAccumulator(x, tf.constant([1., 0.])) as acc:
            y = tf.reduce_sum(x ** 3.)
        j = acc.jvp(y)                      # 3 x0^2
    np.testing.assert_allclose(val(tape.gradient(j, x)), [6., 0.])


def test_dense_layer_docstring_example():
    x = tf.constant([[2.0, 3.0], [1.0, 4.0]])
    targets = tf.constant([[1.], [-1.]])
    dense = tf.keras.layers.Dense(1)
    dense.build([None, 2])
    tangent = np.array([[1.], [0.]], dtype=np.float32)
    with tf.autodiff.ForwardAccumulator(primals=dense.kernel, tangents=tf.constant(tangent)) as acc:
        loss = tf.reduce_sum((dense(x) - targets) ** 2.)
    k = dense.kernel.numpy()
    residual = x.numpy() @ k + dense.bias.numpy() - targets.numpy()
    expected = np.sum(2 * residual * (x.numpy() @ tangent))
    np.testing.assert_allclose(val(acc.jvp(loss)), expected, rtol=1e-5)


def test_unconnected_and_after_exit():
    x = tf.constant([1.0, 2.0])
    with tf.autodiff.ForwardAccumulator(x, tf.constant([1.0, 0.0])) as acc:
        c = tf.constant(2.0) * 3.0
        s = tf.stop_gradient(x) * 2.0
    assert acc.jvp(c) is None and acc.jvp(s) is None
    np.testing.assert_array_equal(val(acc.jvp(c, unconnected_gradients="zero")), 0.0)
    assert acc.jvp(x * 2.0) is None
    with pytest.raises(ValueError):
        acc.jvp(c, unconnected_gradients="sometimes")


def test_custom_gradient_runs_at_forward_time():
    @tf.custom_gradient
    def scaled(x):
        def grad(dy):
            return dy * 3.0          # deliberately not the true derivative (2): TF uses it
        return x * 2.0, grad

    @tf.custom_gradient
    def broken(x):
        def grad(dy):
            raise RuntimeError("grad_fn ran")
        return x * 2.0, grad

    x = tf.constant(1.5)
    with tf.autodiff.ForwardAccumulator(x, tf.constant(1.0)) as acc:
        y = scaled(x)
        with pytest.raises(RuntimeError, match="grad_fn ran"):
            broken(x)
    assert val(acc.jvp(y)) == 3.0
    broken(x)   # no accumulator: the backward function does not run


def test_errors_and_warnings(caplog):
    x = tf.constant(1.0)
    with pytest.raises(ValueError, match="multiple times"):
        tf.autodiff.ForwardAccumulator([x, x], [tf.constant(1.0), tf.constant(1.0)])
    with caplog.at_level(logging.WARNING, logger="tapeflow"):
        tf.autodiff.ForwardAccumulator(tf.constant(1), tf.constant(1))
    assert "must be floating" in caplog.text
    with pytest.raises(ValueError, match="shape"):
        tf.autodiff.ForwardAccumulator(tf.constant([1.0, 2.0]), tf.constant([1.0]))


# --- central differences -------------------------------------------------------------------------
def _directional(f, x, t, eps=1e-6):
    return (np.asarray(f(x + eps * t)) - np.asarray(f(x - eps * t))) / (2 * eps)


TF_OPS = {
    "sin_exp": lambda x: tf.sin(x) * tf.exp(x),
    "tanh_sigmoid": lambda x: tf.tanh(x) + tf.sigmoid(x * 2.0),
    "log_sqrt": lambda x: tf.math.log(x * x + 1.0) + tf.sqrt(x * x + 2.0),
    "matmul": lambda x: tf.matmul(tf.reshape(x, (2, 3)), tf.transpose(tf.reshape(x, (2, 3)))),
    "reduce": lambda x: tf.reduce_sum(x ** 2) * tf.reduce_max(x) + tf.reduce_mean(x),
    "slices": lambda x: x[1:] * x[:-1],
    "concat": lambda x: tf.concat([x, tf.sin(x)], axis=0),
    "softmax": lambda x: tf.nn.softmax(x),
    "relu_max": lambda x: tf.nn.relu(x) + tf.maximum(x, 0.5),
    "where": lambda x: tf.where(x > 0.0, x * x, -x),
    "cumsum": lambda x: tf.cumsum(x * x),
}


@pytest.mark.parametrize("name", sorted(TF_OPS))
def test_tf_ops_against_central_differences(name):
    f = TF_OPS[name]
    x = np.array([0.3, -1.2, 0.7, 1.9, -0.45, 1.1])
    t = RNG.normal(size=6)
    xt = tf.constant(x)
    with tf.autodiff.ForwardAccumulator(xt, tf.constant(t)) as acc:
        y = f(xt)
    expected = _directional(lambda v: f(tf.constant(v)).numpy(), x, t)
    np.testing.assert_allclose(val(acc.jvp(y)), expected, rtol=1e-6, atol=1e-8)


def _traced(fn):
    tracer = trace._Tracer()
    traced = trace._traced_callable(fn, tracer)

    def run(*args):
        with trace._strict(tracer.files):
            return traced(*args)
    return run


SAMPLE = [pytest.param(c, id=c.id) for c in CORPUS[1::4] if "writes_computed" not in c.tags
          and "alias" not in c.tags and "int_arg" not in c.tags]


@pytest.mark.parametrize("case", SAMPLE)
def test_corpus_through_the_tape_against_central_differences(case):
    """The corpus's numpy code on Tensors under an accumulator: the JVP along a random tangent
    of the differentiated arguments equals the directional central difference."""
    args = case.args[0]
    nums = case.argnums if isinstance(case.argnums, tuple) else (case.argnums,)
    tangents = {k: RNG.normal(size=np.shape(args[k])) for k in nums}
    tensors = [tf.constant(np.asarray(a, dtype=np.float64)) if k in nums else a
               for k, a in enumerate(args)]
    run = _traced(case.fn)
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            with tf.autodiff.ForwardAccumulator([tensors[k] for k in nums],
                                                [tf.constant(tangents[k]) for k in nums]) as acc:
                y = run(*tensors)
        except (trace.TraceEscape, NotImplementedError, TypeError) as e:
            # a refusal naming what it cannot follow is allowed; a wrong number is not
            assert str(e)
            return

        def along(eps):
            shifted = [np.asarray(a, dtype=np.float64) + eps * tangents[k] if k in nums else a
                       for k, a in enumerate(args)]
            return float(case.fn(*[s if np.ndim(s) or k not in nums else float(s)
                                   for k, s in enumerate(shifted)]))
        h = 1e-6
        expected = (along(h) - along(-h)) / (2 * h)
    got = acc.jvp(y, unconnected_gradients="zero")
    np.testing.assert_allclose(float(val(got)), expected, rtol=1e-5, atol=1e-6)


def test_an_op_forward_mode_cannot_follow_is_refused():
    """No forward rule, and a reverse rule whose result does not follow the cotangent on
    Tensors (plain numpy inside): refused, never a zero tangent."""
    from tapeflow.runtime.rules.table import Primitive
    from tapeflow.runtime.tape import record
    from tapeflow.runtime.tensor import Tensor
    opaque = Primitive("Opaque", reverse=lambda g, ans, x: np.ones(np.shape(x)) * 2.0)
    x = tf.constant([1.0, 2.0])
    with tf.autodiff.ForwardAccumulator(x, tf.constant([1.0, 1.0])):
        out = Tensor(x.numpy() * 2.0)
        with pytest.raises(NotImplementedError, match="Opaque"):
            record(opaque, out, (x,), (x.numpy(),))


# --- forward mode for plain functions through the tape (runtime.forward.traced_jvp) -----------
TAPE_ONLY = [pytest.param(c, id=c.id) for c in CORPUS if c.tape_only]


@pytest.mark.parametrize("case", TAPE_ONLY)
def test_traced_jvp_of_tape_only_corpus(case):
    """Functions no transform takes (recursion, lists, dicts, generators...): the JVP through
    the tape's tracing equals the directional central difference."""
    from tapeflow.runtime.forward import traced_jvp
    args = case.args[0]
    nums = case.argnums if isinstance(case.argnums, tuple) else (case.argnums,)
    tangents = [RNG.normal(size=np.shape(args[k])) for k in nums]
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            value, jt = traced_jvp(case.fn, args, nums, tangents)
        except (trace.TraceEscape, NotImplementedError) as e:
            assert str(e)    # refused, naming what: allowed; a wrong number is not
            return

        def along(eps):
            shifted = list(args)
            for k, t in zip(nums, tangents):
                shifted[k] = np.asarray(args[k], dtype=np.float64) + eps * t
                if not np.ndim(args[k]):
                    shifted[k] = float(shifted[k])
            return float(case.fn(*shifted))
        expected = (along(1e-6) - along(-1e-6)) / 2e-6
        np.testing.assert_allclose(value, float(case.fn(*args)), rtol=1e-12)
    np.testing.assert_allclose(jt, expected, rtol=1e-5, atol=1e-6)


def test_traced_jvp_tuple_output_matches_the_forward_transform():
    from tapeflow.runtime.forward import traced_jvp

    def f(x, w):
        h = np.tanh(x * w)
        return np.sum(h * h), h[1:] - h[:-1]
    x, w = np.array([0.3, -1.2, 0.7]), np.array([1.1, 0.5, -0.6])
    tx, tw = RNG.normal(size=3), RNG.normal(size=3)
    (v0, v1), (t0, t1) = traced_jvp(f, (x, w), (0, 1), (tx, tw))
    value, (e0, e1) = tf.jvp(f, (x, w), (tx, tw), backend="python")
    np.testing.assert_allclose(v0, value[0], rtol=1e-12)
    np.testing.assert_allclose(v1, value[1], rtol=1e-12)
    np.testing.assert_allclose(t0, e0, rtol=1e-10)
    np.testing.assert_allclose(t1, e1, rtol=1e-10)


# --- the forward rules of entries the tape reaches by name (einsum, scatter add, lgamma...) ----
def _scatter(t, u):
    return tf.tensor_scatter_nd_add(t, np.array([[0], [2], [0]]), u)


BY_NAME_CASES = [
    ("einsum", lambda a, b: tf.einsum("ij,jk->ik", a, b), ((2, 3), (3, 2))),
    ("einsum_trace", lambda a, b: tf.einsum("ii,i->", a, b), ((3, 3), (3,))),
    ("scatter_add", _scatter, ((4,), (3,))),
    ("lgamma", lambda a, b: tf.math.lgamma(a) * b, ((3,), (3,))),
    ("polygamma", lambda a, b: tf.math.polygamma(1.0, a) * b, ((3,), (3,))),
]


@pytest.mark.parametrize("fn,shapes", [c[1:] for c in BY_NAME_CASES],
                         ids=[c[0] for c in BY_NAME_CASES])
def test_forward_rules_of_by_name_entries(fn, shapes, monkeypatch):
    """Each has its own forward rule now (not the linearized reverse rule): the accumulator's
    JVP equals the directional central difference, and the entry's rule is what ran."""
    from tapeflow.runtime import forward

    def linearized(rule, *args):
        if rule.name in ("Einsum", "TensorScatterAdd", "Lgamma", "Polygamma"):
            raise AssertionError(f"{rule.name} went through its reverse rule")
        return by_reverse(rule, *args)
    by_reverse = forward._jvp_by_reverse
    monkeypatch.setattr(forward, "_jvp_by_reverse", linearized)
    rng = np.random.default_rng(11)
    xs = [rng.uniform(0.5, 2.0, s) for s in shapes]
    ts = [rng.normal(size=s) for s in shapes]
    primals = [tf.constant(x) for x in xs]
    with tf.autodiff.ForwardAccumulator(primals, [tf.constant(t) for t in ts]) as acc:
        out = fn(*primals)
    got = acc.jvp(out).numpy()
    h = 1e-6
    up = fn(*[tf.constant(x + h * t) for x, t in zip(xs, ts)]).numpy()
    down = fn(*[tf.constant(x - h * t) for x, t in zip(xs, ts)]).numpy()
    np.testing.assert_allclose(got, (up - down) / (2 * h), rtol=1e-6, atol=1e-8)


def test_by_name_entries_have_forward_rules():
    from tapeflow.runtime.rules import table
    missing = [e.name for e in table.BY_NAME.values()
               if e.kind == "rule" and e.forward is None and not e.linear]
    assert missing == [], missing
