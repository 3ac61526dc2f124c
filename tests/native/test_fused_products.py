"""Cross-statement fusions of the native backend against numpy, the python backend and central
differences: a product used once sunk into its elementwise consumer (sink_products.py) and
computed per element when its inner dimension is 1 (fusion.py), and a bias adjoint's column sums
taken in the loop producing the gradient (fused_sums.py). Both paths of each run-time choice,
the errors numpy raises, and the rebinding/in-place writes that must stop the sinking."""
import ast

import numpy as np
import pytest

import tapeflow as tf
from tapeflow.compiler import typing as T
from tapeflow.compiler.llvm import compile_source
from tapeflow.compiler.llvm.sink_products import sink_products

from .conftest import check, run_python

RNG = np.random.default_rng(5)

SUNK = '''
def f(a, w, t):
    d = np.dot(a, np.transpose(w))
    e = np.transpose(a) @ t
    r = d * (t >= 0.0)
    return r, e
'''


def sunk(src):
    fdef = ast.parse(src).body[0]
    return ast.unparse(sink_products(fdef))


def test_the_product_moves_into_its_consumer():
    out = sunk(SUNK)
    assert "r = np.dot(a, np.transpose(w)) * (t >= 0.0)" in out and "d =" not in out


@pytest.mark.parametrize("k", [1, 3, 0])
def test_sunk_product_matches_numpy_for_any_inner_dimension(k):
    # k == 1: the per-element outer product; other k: the product computed apart (BLAS / loops)
    a, w, t = RNG.normal(size=(7, k)), RNG.normal(size=(5, k)), RNG.normal(size=(7, 5))
    nf = check(SUNK, "f", a, w, t, rtol=1e-13)
    for k2 in (1, 2):          # one compiled function takes both paths
        a2, w2 = RNG.normal(size=(7, k2)), RNG.normal(size=(5, k2))
        got, want = nf(a2, w2, t), run_python(SUNK, "f", a2, w2, t)
        for g, x in zip(got, want):
            np.testing.assert_allclose(g, x, rtol=1e-13, atol=1e-300)


@pytest.mark.parametrize("spelling", ["a @ w.T", "np.matmul(a, w.T)", "np.dot(a, np.transpose(w))"])
def test_spellings_and_special_values(spelling):
    src = f"def f(a, w, t):\n    d = {spelling}\n    r = d * (t >= 0.0) + t\n    return r\n"
    assert "d =" not in sunk(src)
    a = np.array([[-1.0], [np.inf], [np.nan], [2.0]])
    w = np.array([[0.0], [-3.0], [1e-310]])
    t = np.array([[1.0, -1.0, 0.0]] * 4)
    with np.errstate(all="ignore"):
        want = run_python(src, "f", a, w, t)
    got = compile_source(src, "f", T.signature((a, w, t)))(a, w, t)
    np.testing.assert_array_equal(got, want)                  # nan where numpy has nan
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))   # -1 * 0 is +0.0 there


def test_sunk_product_broadcasts_against_the_other_leaves():
    src = "def f(a, w, t):\n    d = a @ w.T\n    return d * t\n"
    a, w = RNG.normal(size=(1, 1)), RNG.normal(size=(4, 1))
    check(src, "f", a, w, RNG.normal(size=(3, 4)))          # (1, 4) product against (3, 4)
    check(src, "f", RNG.normal(size=(3, 1)), RNG.normal(size=(1, 1)), RNG.normal(size=(3, 4)))


def test_sunk_product_raises_numpys_errors():
    nf = compile_source(SUNK, "f", T.signature((np.ones((7, 1)), np.ones((5, 1)), np.ones((7, 5)))))
    with pytest.raises(ValueError, match="not aligned"):      # inner dimensions 2 and 3
        nf(np.ones((7, 2)), np.ones((5, 3)), np.ones((7, 5)))
    with pytest.raises(ValueError):
        run_python(SUNK, "f", np.ones((7, 2)), np.ones((5, 3)), np.ones((7, 5)))
    for t in (np.ones((7, 4)), np.ones((7, 6))):              # product (7, 5) against t
        with pytest.raises(ValueError, match="broadcast"):
            nf(np.ones((7, 1)), np.ones((5, 1)), t)
        with pytest.raises(ValueError):
            run_python(SUNK, "f", np.ones((7, 1)), np.ones((5, 1)), t)


STAYS = {
    "rebound operand": "    d = a @ w.T\n    a = a * 2.0\n    r = d * t\n",
    "in-place write": "    d = a @ w.T\n    a[0, 0] = 5.0\n    r = d * t\n",
    "augmented write": "    d = a @ w.T\n    a += 1.0\n    r = d * t\n",
    "used twice": "    d = a @ w.T\n    r = d * t + d\n",
    "read in a loop": "    d = a @ w.T\n    r = t\n    for i in range(2):\n        r = d * r\n",
    "consumer with a call": "    d = a @ w.T\n    r = d * np.exp(t)\n",
    "stored twice": "    d = a @ w.T\n    r = d * t\n    d = t\n",
}


@pytest.mark.parametrize("call", ["np.multiply(a, 2.0, a)", "np.copyto(a, t)"])
def test_numpy_calls_that_write_an_argument_stop_the_sinking(call):
    # (not compiled natively: the pass runs first, and must not rely on that)
    src = f"def f(a, w, t):\n    d = a @ w.T\n    u = {call}\n    r = d * t\n    return r\n"
    assert "d = a @ w.T" in sunk(src)


@pytest.mark.parametrize("case", sorted(STAYS))
def test_what_stops_the_sinking(case):
    src = "def f(a, w, t):\n" + STAYS[case] + "    return r + a.sum()\n"
    assert "d = a @ w.T" in sunk(src), case
    check(src, "f", RNG.normal(size=(4, 1)), RNG.normal(size=(3, 1)), RNG.normal(size=(4, 3)))


# ------------------------------------------------------------------------ fused column sums

SUMS = '''
def f(g, t, b):
    d = g * (t >= 0.0)
    db = unbroadcast(d, b)
    return d, db
'''


@pytest.mark.parametrize("bshape", [(5,), (1,)])
def test_column_sums_of_a_fused_gradient(bshape):
    g, t = RNG.normal(size=(6, 5)), RNG.normal(size=(6, 5))
    check(SUMS, "f", g, t, RNG.normal(size=bshape), rtol=1e-13)   # (1,): sums everything
    check(SUMS, "f", g[:, :1], t[:, :1], RNG.normal(size=(1,)), rtol=1e-13)


def test_column_sums_after_a_sunk_product():
    src = '''
def f(a, w, t, b):
    d = np.dot(a, np.transpose(w))
    e = d * (t >= 0.0)
    db = unbroadcast(e, b)
    return e, db
'''
    for k in (1, 2):
        check(src, "f", RNG.normal(size=(9, k)), RNG.normal(size=(4, k)), RNG.normal(size=(9, 4)),
              RNG.normal(size=(4,)), rtol=1e-13)


def test_column_sums_shape_mismatch_raises():
    nf = compile_source(SUMS, "f", T.signature((np.ones((6, 5)), np.ones((6, 5)), np.ones(5))))
    with pytest.raises(ValueError):
        nf(np.ones((6, 5)), np.ones((6, 5)), np.ones(3))
    with pytest.raises(ValueError):
        run_python(SUMS, "f", np.ones((6, 5)), np.ones((6, 5)), np.ones(3))


# ------------------------------------------------------------------------ whole gradients

def mlp(w1, b1, w2, b2, x, y):
    h = np.maximum(x @ w1 + b1, 0.0)
    pred = h @ w2 + b2
    return np.mean((pred[:, 0] - y) ** 2)


def mlp2(w1, b1, w2, b2, x, y):          # two outputs: the product's inner dimension is 2
    h = np.maximum(x @ w1 + b1, 0.0)
    pred = h @ w2 + b2
    return np.mean((pred[:, 0] - y) ** 2) + 0.5 * np.mean(pred[:, 1] ** 2)


def mlp_args(n_out, n=40):
    rng = np.random.default_rng(n_out)
    x = rng.normal(size=(n, 3))
    return (rng.normal(size=(3, 6)), rng.normal(size=6) * 0.1, rng.normal(size=(6, n_out)),
            rng.normal(size=n_out) * 0.1, x, rng.normal(size=n))


def central(f, args, h=1e-6):
    out = []
    for i in range(4):
        g = np.zeros_like(args[i])
        for j in np.ndindex(args[i].shape):
            up = [a.copy() for a in args]
            dn = [a.copy() for a in args]
            up[i][j] += h
            dn[i][j] -= h
            g[j] = (f(*up) - f(*dn)) / (2 * h)
        out.append(g)
    return out


@pytest.mark.parametrize("fn, n_out", [(mlp, 1), (mlp2, 2)])
def test_mlp_gradients_match_python_and_central_differences(fn, n_out):
    args = mlp_args(n_out)
    native = tf.grad(fn, argnums=(0, 1, 2, 3), backend="native")(*args)
    python = tf.grad(fn, argnums=(0, 1, 2, 3), backend="python")(*args)
    for got, py, fd in zip(native, python, central(fn, args)):
        np.testing.assert_allclose(got, py, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(got, fd, rtol=1e-6, atol=1e-7)


def test_mlp_gradient_at_the_relu_kink_and_with_nan():
    args = list(mlp_args(1))
    args[1] = np.zeros(6)
    args[4][:, :] = 0.0        # every pre-activation exactly 0: t2 >= 0 holds, h == 0
    args[4][3, :] = 1.0
    g = tf.grad(mlp, argnums=(0, 1, 2, 3), backend="native")
    p = tf.grad(mlp, argnums=(0, 1, 2, 3), backend="python")
    for got, want in zip(g(*args), p(*args)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    args[5] = args[5].copy()
    args[5][7] = np.nan
    with np.errstate(all="ignore"):
        for got, want in zip(g(*args), p(*args)):
            np.testing.assert_array_equal(np.isnan(got), np.isnan(want))


# ------------------------------------------------------------------------ chained outputs

CHAINS = {
    "relu": "    d = a + b\n    r = np.maximum(d, 0.0)\n",
    "square": "    d = a - b\n    r = d ** 2\n",
    "tree": "    d = a * b + a\n    r = np.minimum(-d, 1.5) * 2 + (d >= 0.0)\n",
    "int constant": "    d = a + b\n    r = np.maximum(0, d) - 3\n",
}


@pytest.mark.parametrize("case", sorted(CHAINS))
def test_second_output_in_the_first_statements_loop(case):
    src = "def f(a, b):\n" + CHAINS[case] + "    return d, r\n"
    a = RNG.normal(size=(5, 4))
    a[0, :3] = [np.nan, -0.0, np.inf]
    for b in (RNG.normal(size=4), RNG.normal(size=(5, 1)), np.float64(0.5)):
        with np.errstate(all="ignore"):
            want = run_python(src, "f", a, b)
        got = compile_source(src, "f", T.signature((a, b)))(a, b)
        for g, w in zip(got, want):
            assert g.shape == w.shape and g.dtype == w.dtype
            np.testing.assert_array_equal(g, w)


def test_chain_keeps_the_first_result_and_broadcast_errors():
    src = "def f(a, b):\n    d = a + b\n    r = np.maximum(d, 0.0)\n    return d\n"
    nf = compile_source(src, "f", T.signature((np.ones((3, 4)), np.ones(4))))
    np.testing.assert_array_equal(nf(-np.ones((3, 4)), np.ones(4)), np.zeros((3, 4)))
    with pytest.raises(ValueError, match="broadcast"):
        nf(np.ones((3, 4)), np.ones(3))


def test_no_chain_across_a_rebinding_or_other_names():
    # the second statement reads another array: not a chain (its shape could broadcast wider)
    src = "def f(a, b):\n    d = a + b\n    r = np.maximum(d, b)\n    return d, r\n"
    check(src, "f", RNG.normal(size=(2, 3)), RNG.normal(size=3))
    src = "def f(a, b):\n    d = a + b\n    d = np.maximum(d, 0.0)\n    return d\n"
    check(src, "f", RNG.normal(size=(2, 3)), RNG.normal(size=3))
