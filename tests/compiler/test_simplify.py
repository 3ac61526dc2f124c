"""Constant folding of sizes (compiler/simplify.py): what is folded is certainly 1, what is not
certain stays, and the gradients that used the folded sizes keep their values."""
import ast

import gast
import numpy as np
import pytest

import tapeflow
from grad_checks import numeric_grad
from tapeflow.compiler.simplify import fold_sizes

FOLDED = ["np.size(np.mean(x))", "np.size(np.sum(x))", "np.size(np.max(x, axis=None))",
          "np.size(np.prod(x, keepdims=False))", "np.size(2.0)", "np.size(np.std(x))"]
KEPT = ["np.size(np.mean(x, axis=0))", "np.size(np.sum(x, 1))", "np.size(x)",
        "np.size(np.mean(x, keepdims=True))", "np.size(np.sum(x, axis=a))", "np.size(np.exp(x))",
        "np.size(np.sum(*xs))", "np.size(mean(x))"]


def folded(expr):
    tree = gast.parse(f"def f(x, a, xs):\n    return {expr}\n")
    fold_sizes(tree)
    return tree.body[0].body[0].value


@pytest.mark.parametrize("expr", FOLDED)
def test_full_reduction_sizes_fold_to_one(expr):
    value = folded(expr)
    assert isinstance(value, gast.Constant) and value.value == 1


@pytest.mark.parametrize("expr", KEPT)
def test_sizes_that_may_differ_are_kept(expr):
    assert isinstance(folded(expr), gast.Call)


def mean_loss(x, y):
    return np.mean((x * y - 1.0) ** 2) + np.sum(np.mean(x * x, axis=0))


@pytest.mark.parametrize("backend", ["python", "native"])
def test_mean_gradient_with_folded_sizes(backend):
    rng = np.random.default_rng(2)
    args = (rng.normal(size=(4, 3)), rng.normal(size=(4, 3)))
    g = tapeflow.grad(mean_loss, argnums=(0, 1), backend=backend)
    got = g(*args)
    src = tapeflow.source(g)
    assert "np.size(np.mean(" not in src.replace("\n", "").replace(" ", "")
    for a, b in zip(got, numeric_grad(mean_loss, args, (0, 1))):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("expr, value", [
    ("isinstance(1, int)", 1), ("isinstance(True, int)", 1), ("isinstance(1.5, int)", 0),
    ("isinstance((0, 1), tuple)", 1), ("isinstance((0, 1), int)", 0),
    ("2 if isinstance(1, int) else x[0]", 2), ("x if isinstance((1, 2), int) else 3", 3)])
def test_isinstance_of_literals_folds(expr, value):
    got = folded(expr)
    assert isinstance(got, gast.Constant) and got.value == value


@pytest.mark.parametrize("expr", ["isinstance(x, int)", "isinstance(1, np.ndarray)",
                                  "1 if isinstance(a, int) else 2"])
def test_isinstance_of_names_is_kept(expr):
    assert not isinstance(folded(expr), gast.Constant)


def tensordot_loss(a, b):
    return np.sum(np.tensordot(a, b, axes=1) ** 2)


def test_tensordot_gradient_reads_its_own_branch():
    rng = np.random.default_rng(3)
    args = (rng.normal(size=(3, 4)), rng.normal(size=(4, 2)))
    g = tapeflow.grad(tensordot_loss, argnums=(0, 1), backend="python")
    got = g(*args)
    assert "isinstance" not in tapeflow.source(g)
    for a, b in zip(got, numeric_grad(tensordot_loss, args, (0, 1))):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_factored_sum_starting_with_a_negated_bool():
    """``-(g * w) - g * (1 - w)`` factors to ``g * (-1.0 * w - (1 - w))``: numpy cannot negate
    a bool (a max's x_wins), so the leading minus is a product. Found by the fuzzer (seed
    50127 crashed the python backend with 'The numpy boolean negative ... is not supported')."""
    from tapeflow.compiler.optimize import factored
    expr = gast.parse("-(g * w) - g * (1 - w)", mode="eval").body
    tree = ast.fix_missing_locations(gast.gast_to_ast(gast.Expression(body=factored(expr))))
    code = compile(tree, "<f>", "eval")
    for w in (np.bool_(True), np.bool_(False), np.array([True, False])):
        np.testing.assert_array_equal(eval(code, {"g": 2.5, "w": w}),
                                      -(2.5 * w.astype(float)) - 2.5 * (1 - w.astype(float)))
