"""Array methods spell the same primitives as numpy functions: same gradients on each backend."""
import importlib.util

import numpy as np
import pytest

import tapeflow as tf

# (method spelling, function spelling) of the same computation on x of shape (3, 4)
PAIRS = [
    ("x.sum(axis=1)", "np.sum(x, axis=1)"),
    ("x.mean(axis=0)", "np.mean(x, axis=0)"),
    ("x.prod(axis=1)", "np.prod(x, axis=1)"),
    ("x.max(axis=0)", "np.max(x, axis=0)"),
    ("x.min()", "np.min(x)"),
    ("x.clip(-0.5, 0.5)", "np.clip(x, -0.5, 0.5)"),
    ("x.ravel()", "np.ravel(x)"),
    ("x.flatten()", "np.ravel(x)"),
    ("x.reshape(4, 3)", "np.reshape(x, (4, 3))"),
    ("x.transpose()", "np.transpose(x)"),
    ("x.swapaxes(0, 1)", "np.swapaxes(x, 0, 1)"),
    ("x.squeeze()", "np.squeeze(x)"),
    ("x.repeat(2, axis=0)", "np.repeat(x, 2, axis=0)"),
    ("x.cumsum(axis=1)", "np.cumsum(x, axis=1)"),
    ("x.cumprod(axis=0)", "np.cumprod(x, axis=0)"),
    ("x.take(np.array([0, 0, 2]), axis=1)", "np.take(x, np.array([0, 0, 2]), axis=1)"),
    ("x.var(axis=1)", "np.var(x, axis=1)"),
    ("x.std(axis=0, ddof=1)", "np.std(x, axis=0, ddof=1)"),
]


# the tape's Tensor does not have these methods yet (runtime/operators.py defines Tensor's methods;
# it is not generated from the table): the tape raises AttributeError for them
def compile_expr(expr, tmp_path, tag):
    path = tmp_path / f"spell_{tag}.py"
    path.write_text("import numpy as np\n\n\ndef f(x):\n"
                    f"    return np.sum(np.sin({expr}))\n")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.f


@pytest.mark.parametrize("backend", ["python", "tape"])
@pytest.mark.parametrize("method,function", PAIRS, ids=[p[0] for p in PAIRS])
def test_method_matches_function(method, function, backend, tmp_path):
    x = np.random.default_rng(0).uniform(-1.0, 1.0, size=(3, 4))
    fm = compile_expr(method, tmp_path, "m")
    ff = compile_expr(function, tmp_path, "f")
    want = tf.grad(ff, backend=backend)(x)
    got = tf.grad(fm, backend=backend)(x)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    # and both are the gradient (the function spelling checked against the tape on python)
    np.testing.assert_allclose(want, tf.grad(ff, backend="tape")(x), rtol=1e-10, atol=1e-12)
