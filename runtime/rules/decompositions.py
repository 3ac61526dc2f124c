"""Decompositions: cholesky, symmetric eigenproblems, SVD, QR, log-determinant.

numpy's eigh/svd/qr/slogdet return tuples. The table keeps every entry single-output: each factor
is its own primitive (``eigh_vectors(a)`` is ``np.linalg.eigh(a)[1]``), and the tuple-returning
numpy function is a composite of them (runtime/rules/linalg_composites.py), so the compiler sees a
tuple literal it can unpack and the tape records one op per factor. A factor nobody uses costs
nothing in the backward pass; each used factor recomputes its decomposition once.

numpy's eigh, eigvalsh and cholesky read one triangle of the input only (the lower one unless
UPLO="U"), so the gradient is the derivative of exactly that: an entry of the other triangle has
none, and an off-diagonal entry of the read triangle stands for both of its symmetric positions.
"""
import functools

import numpy as np

from .table import define, primitive, tangent
from .tangent_helpers import (complete_with_nan, qr_tangents, svd_tangents,
                              symmetric_read)


def on_tensors(fn):
    """Let ``fn`` take Tensors as numpy's own functions do (NEP 18): a non-ndarray argument with
    ``__array_function__`` gets the call, and the tape then records the function's entry."""
    @functools.wraps(fn)
    def call(*args, **kwargs):
        for a in args:
            kind = type(a)
            if hasattr(kind, "__array_function__") and not issubclass(kind, (np.ndarray,
                                                                              np.generic)):
                return kind.__array_function__(a, call, (kind,), args, kwargs)
        return fn(*args, **kwargs)
    return call


@on_tensors
def eigh_vectors(a, UPLO="L"):
    """The eigenvectors of ``np.linalg.eigh(a, UPLO)``."""
    return np.linalg.eigh(a, UPLO)[1]


@on_tensors
def svd_u(a, full_matrices=True):
    return np.linalg.svd(a, full_matrices=full_matrices)[0]


@on_tensors
def svd_vh(a, full_matrices=True):
    return np.linalg.svd(a, full_matrices=full_matrices)[2]


@on_tensors
def qr_q(a, mode="reduced"):
    return np.linalg.qr(a, mode)[0]


@on_tensors
def qr_r(a, mode="reduced"):
    return np.linalg.qr(a, mode)[1]


@on_tensors
def slogdet_sign(a):
    return np.linalg.slogdet(a)[0]


@on_tensors
def slogdet_logabs(a):
    return np.linalg.slogdet(a)[1]


define("SlogdetSign", slogdet_sign, kind="nondiff", role="shape")


@primitive("LogAbsDet", slogdet_logabs, role="shape")
def d_logabsdet(g, ans, x):
    # d log|det A| = tr(A^-1 dA)
    return np.expand_dims(np.expand_dims(g, -1), -1) * np.swapaxes(np.linalg.inv(x), -1, -2)


@tangent("LogAbsDet")
def f_logabsdet(x_dot, ans, x):
    return np.trace(np.linalg.solve(x, x_dot), axis1=-2, axis2=-1)


@primitive("Cholesky", np.linalg.cholesky, domain="spd", grid=(("q",), ("b",)))
def d_cholesky(g, ans, x):
    # Murray (2016): with Phi = lower triangle, diagonal halved, S = L^-T Phi(L^T gL) L^-1 is the
    # gradient for symmetric dA; numpy reads the lower triangle only
    eye = np.eye(np.shape(x)[-1])
    l_t = np.swapaxes(ans, -1, -2)
    phi = np.tril(np.matmul(l_t, g))
    phi = phi - 0.5 * phi * eye
    s = np.linalg.solve(l_t, np.swapaxes(np.linalg.solve(l_t, np.swapaxes(phi, -1, -2)), -1, -2))
    return np.tril(s + np.swapaxes(s, -1, -2), -1) + s * eye


@tangent("Cholesky")
def f_cholesky(x_dot, ans, x):
    # dL = L Phi(L^-1 dA L^-T), Phi: the lower triangle with the diagonal halved
    eye = np.eye(np.shape(x)[-1])
    left = np.linalg.solve(ans, symmetric_read(x_dot))
    inner = np.swapaxes(np.linalg.solve(ans, np.swapaxes(left, -1, -2)), -1, -2)
    return np.matmul(ans, np.tril(inner) - 0.5 * inner * eye)


@primitive("EighValues", np.linalg.eigvalsh, role="shape", domain="spd",
           grid=(("q",), ("b",), ("q", {"UPLO": "U"})))
def d_eigvalsh(g, ans, x, UPLO="L"):
    # d w_i = v_i^T dA v_i: G = V diag(g) V^T for a symmetric dA, then onto the triangle read
    v = np.linalg.eigh(x, UPLO)[1]
    big = np.matmul(v * np.expand_dims(g, -2), np.swapaxes(v, -1, -2))
    eye = np.eye(np.shape(x)[-1])
    both = big + np.swapaxes(big, -1, -2)
    return (np.tril(both, -1) if UPLO.upper() == "L" else np.triu(both, 1)) + big * eye


@tangent("EighValues")
def f_eigvalsh(x_dot, ans, x, UPLO="L"):
    # dw_i = v_i^T dA v_i
    v = np.linalg.eigh(x, UPLO)[1]
    return np.sum(v * np.matmul(symmetric_read(x_dot, UPLO), v), axis=-2)


@primitive("EighVectors", eigh_vectors)
def d_eigh_vectors(g, ans, x, UPLO="L"):
    # dV = V (F o (V^T dA V)), F_ij = 1 / (w_j - w_i) off the diagonal (distinct eigenvalues)
    w = np.linalg.eigvalsh(x, UPLO)
    eye = np.eye(np.shape(x)[-1])
    gap = np.expand_dims(w, -2) - np.expand_dims(w, -1)
    f = (1.0 - eye) / np.where(eye > 0, 1.0, gap)
    v_t = np.swapaxes(ans, -1, -2)
    big = np.matmul(ans, np.matmul(f * np.matmul(v_t, g), v_t))
    both = big + np.swapaxes(big, -1, -2)
    return (np.tril(both, -1) if UPLO.upper() == "L" else np.triu(both, 1)) + big * eye


@tangent("EighVectors")
def f_eigh_vectors(x_dot, ans, x, UPLO="L"):
    w = np.linalg.eigvalsh(x, UPLO)
    eye = np.eye(np.shape(x)[-1])
    gap = np.expand_dims(w, -2) - np.expand_dims(w, -1)
    f = (1.0 - eye) / np.where(eye > 0, 1.0, gap)
    v_t = np.swapaxes(ans, -1, -2)
    return np.matmul(ans, f * np.matmul(v_t, np.matmul(symmetric_read(x_dot, UPLO), ans)))


@primitive("SvdValues", np.linalg.svdvals, role="shape", grid=(("m",), ("q",), ("n",), ("t",)))
def d_svdvals(g, ans, x):
    # d s_i = u_i^T dA v_i
    u, s, vh = np.linalg.svd(x, full_matrices=False)
    return np.matmul(u * np.expand_dims(g, -2), vh)


@tangent("SvdValues")
def f_svdvals(x_dot, ans, x):
    # ds_i = u_i^T dA v_i
    u, s, vh = np.linalg.svd(x, full_matrices=False)
    return np.sum(u * np.matmul(x_dot, np.swapaxes(vh, -1, -2)), axis=-2)


@on_tensors
def singular_value_norm(x, ord, row, col):
    """np.linalg.norm's "nuc", 2 and -2 over the axes (row, col), which are kept (length 1)."""
    s = np.linalg.svdvals(np.moveaxis(x, (row, col), (-2, -1)))
    out = np.sum(s, -1) if ord == "nuc" else np.max(s, -1) if ord == 2 else np.min(s, -1)
    return np.expand_dims(out, (row, col))


@primitive("SingularValueNorm", singular_value_norm, role="shape")
def d_singular_value_norm(g, ans, x, ord="nuc", row=0, col=1):
    # d(norm) = sum_i w_i u_i^T dA v_i, w = 1 (nuclear) or 1 at the largest/smallest value
    u, s, vh = np.linalg.svd(np.moveaxis(x, (row, col), (-2, -1)), full_matrices=False)
    edge = np.max(s, -1, keepdims=True) if ord == 2 else np.min(s, -1, keepdims=True)
    w = np.ones_like(s) if ord == "nuc" else (s == edge) / np.sum(s == edge, -1, keepdims=True)
    gm = np.expand_dims(np.squeeze(g, (row, col)), -1) * w
    return np.moveaxis(np.matmul(u * np.expand_dims(gm, -2), vh), (-2, -1), (row, col))


@tangent("SingularValueNorm")
def f_singular_value_norm(x_dot, ans, x, ord="nuc", row=0, col=1):
    u, s, vh = np.linalg.svd(np.moveaxis(x, (row, col), (-2, -1)), full_matrices=False)
    edge = np.max(s, -1, keepdims=True) if ord == 2 else np.min(s, -1, keepdims=True)
    w = np.ones_like(s) if ord == "nuc" else (s == edge) / np.sum(s == edge, -1, keepdims=True)
    d = np.moveaxis(x_dot, (row, col), (-2, -1))
    ds = np.sum(u * np.matmul(d, np.swapaxes(vh, -1, -2)), axis=-2)
    return np.expand_dims(np.sum(ds * w, -1), (row, col))


# The singular vectors (Townsend 2016, "Differentiating the singular value decomposition"), for
# A = U S V^T with k = min(m, n) distinct nonzero singular values, F_ij = 1 / (s_j^2 - s_i^2):
#   from gU: U (F o (U^T gU - gU^T U)) S V^T + (I - U U^T) gU S^-1 V^T
#   from gV: U S (F o (V^T gV - gV^T V)) V^T + U S^-1 gV^T (I - V V^T)
# With full_matrices=True and m != n numpy adds columns that are any orthonormal completion: their
# gradient is not defined, so a nonzero adjoint there makes the result nan rather than a guess.
@primitive("SvdU", svd_u)
def d_svd_u(g, ans, x, full_matrices=True):
    u, s, vh = np.linalg.svd(x, full_matrices=False)
    k = np.shape(s)[-1]
    undefined = np.where(np.any(g[..., :, k:] != 0), np.nan, 0.0)
    gu = g[..., :, :k]
    eye = np.eye(k)
    s2 = s * s
    f = (1.0 - eye) / np.where(eye > 0, 1.0, np.expand_dims(s2, -2) - np.expand_dims(s2, -1))
    u_t = np.swapaxes(u, -1, -2)
    j = f * (np.matmul(u_t, gu) - np.matmul(np.swapaxes(gu, -1, -2), u))
    inner = np.matmul(j * np.expand_dims(s, -2), vh)
    outer = np.matmul(gu - np.matmul(u, np.matmul(u_t, gu)), vh / np.expand_dims(s, -1))
    return np.matmul(u, inner) + outer + undefined


@tangent("SvdU")
def f_svd_u(x_dot, ans, x, full_matrices=True):
    return complete_with_nan(svd_tangents(x_dot, x)[0], np.shape(ans))


@primitive("SvdVh", svd_vh)
def d_svd_vh(g, ans, x, full_matrices=True):
    u, s, vh = np.linalg.svd(x, full_matrices=False)
    k = np.shape(s)[-1]
    undefined = np.where(np.any(g[..., k:, :] != 0), np.nan, 0.0)
    gv = np.swapaxes(g[..., :k, :], -1, -2)       # the adjoint of V = Vh^T
    v = np.swapaxes(vh, -1, -2)
    eye = np.eye(k)
    s2 = s * s
    f = (1.0 - eye) / np.where(eye > 0, 1.0, np.expand_dims(s2, -2) - np.expand_dims(s2, -1))
    j = f * (np.matmul(vh, gv) - np.matmul(np.swapaxes(gv, -1, -2), v))
    inner = np.matmul(u * np.expand_dims(s, -2), np.matmul(j, vh))
    gv_t = np.swapaxes(gv, -1, -2)
    outer = np.matmul(u / np.expand_dims(s, -2), gv_t - np.matmul(np.matmul(gv_t, v), vh))
    return inner + outer + undefined


@tangent("SvdVh")
def f_svd_vh(x_dot, ans, x, full_matrices=True):
    return complete_with_nan(svd_tangents(x_dot, x)[1], np.shape(ans))


# QR, A = Q R. For m >= n (Walter & Lehmann; as in PyTorch): with M = R gR^T - gQ^T Q and
# copyltu(M) the symmetric matrix with M's lower triangle, gA = (gQ + Q copyltu(M)) R^-T.
# For m < n, A = [X Y] with X square: R = [Rx, Q^T Y], so gY = Q gRy and X sees gQ + Y gRy^T.
@primitive("QrQ", qr_q)
def d_qr_q(g, ans, x, mode="reduced"):
    q, r = np.linalg.qr(x)
    k = np.shape(r)[-2]
    rx = r[..., :, :k]
    undefined = np.where(np.any(g[..., :, k:] != 0), np.nan, 0.0)
    gq = g[..., :, :k]
    m = -np.matmul(np.swapaxes(gq, -1, -2), q)
    sym = np.tril(m, -1) + np.swapaxes(np.tril(m, -1), -1, -2) + m * np.eye(k)
    b = gq + np.matmul(q, sym)
    gx = np.swapaxes(np.linalg.solve(rx, np.swapaxes(b, -1, -2)), -1, -2)
    return np.concatenate([gx, np.zeros_like(x[..., :, k:])], axis=-1) + undefined


@tangent("QrQ")
def f_qr_q(x_dot, ans, x, mode="reduced"):
    return complete_with_nan(qr_tangents(x_dot, x)[0], np.shape(ans))


@primitive("QrR", qr_r)
def d_qr_r(g, ans, x, mode="reduced"):
    q, r = np.linalg.qr(x)
    k = np.shape(r)[-2]
    rx = r[..., :, :k]
    grx = g[..., :k, :k]
    gry = g[..., :k, k:]
    gq = np.matmul(x[..., :, k:], np.swapaxes(gry, -1, -2))
    m = np.matmul(rx, np.swapaxes(grx, -1, -2)) - np.matmul(np.swapaxes(gq, -1, -2), q)
    sym = np.tril(m, -1) + np.swapaxes(np.tril(m, -1), -1, -2) + m * np.eye(k)
    b = gq + np.matmul(q, sym)
    gx = np.swapaxes(np.linalg.solve(rx, np.swapaxes(b, -1, -2)), -1, -2)
    # (mode="complete" adds rows to R that are zero whatever the input: no gradient there)
    return np.concatenate([gx, np.matmul(q, gry)], axis=-1)


@tangent("QrR")
def f_qr_r(x_dot, ans, x, mode="reduced"):
    # (mode="complete" adds rows to R that are zero whatever the input)
    dr = qr_tangents(x_dot, x)[1]
    return np.pad(dr, [(0, 0)] * (np.ndim(dr) - 2) + [(0, np.shape(ans)[-2] - np.shape(dr)[-2]),
                                                        (0, 0)])
