"""Linear-algebra entries beyond the grid: functions of one factor of a decomposition (eigh, svd,
qr, slogdet return tuples), numpy's dot of >2-d operands, and the forms that are refused.

Each function is checked against central differences on the tape and python backends (native may
refuse with a TransformError, never answer wrongly).
"""
import numpy as np
import pytest

import tapeflow as tf
from tapeflow.compiler.errors import TransformError

RNG = np.random.default_rng(7)
A = RNG.uniform(-1, 1, (4, 4))
SPD = A @ A.T + 4 * np.eye(4)
RECT = RNG.uniform(-1, 1, (4, 3))
WIDE = RNG.uniform(-1, 1, (3, 5))
W4 = RNG.uniform(0.5, 1.5, (4, 4))
W3 = RNG.uniform(0.5, 1.5, 3)


def eig_values(a):
    w, v = np.linalg.eigh(a)
    return np.sum(w * np.arange(1.0, 5.0))


def eig_vectors(a):
    w, v = np.linalg.eigh(a)
    return np.sum(np.abs(v) * W4)


def eig_both(a):
    w, v = np.linalg.eigh(a)
    return np.sum(np.abs(v[:, 0]) * w) + np.sum(w * w)


def singular_values(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return np.sum(s * W3)


def singular_vectors(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return np.sum(np.abs(u) * W4[:, :3]) + np.sum(np.abs(vh) * W4[:3, :3])


def svd_rebuilt(a):
    # U S Vh is the input again: the gradient of its weighted sum is the weights
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    # (einsum: np.dot's rule branches on ndims, and the analysis does not know svdvals' ndim,
    # so np.dot(u * s, vh) is refused by the python backend and runs on the tape)
    return np.sum(np.einsum("ij,j,jk->ik", u, s, vh) * W4[:, :3])


def qr_both(a):
    q, r = np.linalg.qr(a)
    return np.sum(np.abs(q) * W4[:, :3]) + np.sum(r * W4[:3, :3])


def qr_wide(a):
    q, r = np.linalg.qr(a)
    return np.sum(np.abs(q) * W4[:3, :3]) + np.sum(r * np.ones((3, 5)))


def qr_complete(a):
    # mode="complete": the extra columns of Q unused, the extra (zero) row of R used
    q, r = np.linalg.qr(a, mode="complete")
    return np.sum(np.abs(q[:, :3]) * W4[:, :3]) + np.sum(r * W4[:, :3])


def svd_full_values(a):
    u, s, vh = np.linalg.svd(a)
    return np.sum(s * W3) + np.sum(np.abs(vh) * W4[:3, :3])


def logdet(a):
    sign, value = np.linalg.slogdet(a)
    return value * 2.0 + sign


def dot_3d(a, b):
    return np.sum(np.dot(a, b) * np.arange(24.0).reshape(2, 3, 2, 2))


def dot_method(a, b):
    return np.sum(a.dot(b) * W4[:, :2])


CASES = [(eig_values, (SPD,)), (eig_vectors, (SPD,)), (eig_both, (SPD,)),
         (singular_values, (RECT,)), (singular_vectors, (RECT,)), (svd_rebuilt, (RECT,)),
         (qr_both, (RECT,)), (qr_wide, (WIDE,)), (qr_complete, (RECT,)),
         (svd_full_values, (RECT,)), (logdet, (SPD,)),
         (dot_3d, (RNG.uniform(-1, 1, (2, 3, 4)), RNG.uniform(-1, 1, (2, 4, 2)))),
         (dot_method, (RNG.uniform(-1, 1, (4, 3)), RNG.uniform(-1, 1, (3, 2))))]


def central(f, args, h=1e-6):
    out = []
    for i, x in enumerate(args):
        g = np.zeros_like(x)
        for idx in np.ndindex(x.shape):
            up, down = x.copy(), x.copy()
            up[idx] += h
            down[idx] -= h
            g[idx] = (f(*args[:i], up, *args[i + 1:]) - f(*args[:i], down, *args[i + 1:])) / (2 * h)
        out.append(g)
    return out


@pytest.mark.parametrize("backend", ["tape", "python", "native"])
@pytest.mark.parametrize("f,args", CASES, ids=[c[0].__name__ for c in CASES])
def test_against_central_differences(f, args, backend):
    argnums = tuple(range(len(args)))
    try:
        got = tf.grad(f, argnums=argnums, backend=backend)(*args)
    except TransformError:
        if backend != "native":
            raise
        return
    for g, w in zip(got, central(f, args)):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


def test_svd_rebuilt_gradient_is_the_weights():
    np.testing.assert_allclose(tf.grad(svd_rebuilt, backend="python")(RECT), W4[:, :3],
                               rtol=1e-8)


def test_dot_is_numpy_dot_not_matmul():
    a, b = RNG.uniform(size=(2, 3, 4)), RNG.uniform(size=(5, 4, 2))
    assert np.dot(a, b).shape == (2, 3, 5, 2)
    g = tf.grad(lambda x: np.sum(np.dot(x, b)), backend="tape")(a)
    np.testing.assert_allclose(g, np.broadcast_to(np.sum(b, axis=(0, 2)), a.shape))


@pytest.mark.parametrize("backend", ["tape", "python"])
def test_single_array_forms_of_tuple_functions_are_refused(backend):
    def svd_values_only(a):
        return np.sum(np.linalg.svd(a, compute_uv=False))

    # the tape raises NotImplementedError; the source transform refuses the tuple it would sum
    with pytest.raises((NotImplementedError, tf.TransformError)):
        tf.grad(svd_values_only, backend=backend)(RECT)


@pytest.mark.parametrize("backend", ["tape", "python"])
def test_undefined_completion_columns_give_nan(backend):
    # full_matrices=True on a non-square input: U's extra columns are any orthonormal completion
    def f(a):
        u, s, vh = np.linalg.svd(a)
        return np.sum(np.abs(u))

    assert np.isnan(tf.grad(f, backend=backend)(RECT)).all()


def test_subscripted_tuple_result():
    def f(a):
        out = np.linalg.slogdet(a)
        return out[1]

    np.testing.assert_allclose(tf.grad(f, backend="python")(SPD), np.linalg.inv(SPD).T, rtol=1e-8)
