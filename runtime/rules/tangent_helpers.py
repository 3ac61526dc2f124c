"""Helpers that forward (tangent) rules call: plain numpy, called by name from generated Python
(the native backend refuses them: no lowering), and by the tape with values."""
import numpy as np


def cumprod_tangent(x_dot, x, axis=None):
    """Tangent of ``np.cumprod(x, axis)`` without dividing by x (exact at zeros): position k's
    tangent times the product of the others, one masked cumprod per position."""
    if axis is None:
        return cumprod_tangent(np.reshape(x_dot, -1), np.reshape(x, -1), 0)
    xm = np.moveaxis(np.asarray(x, dtype=np.result_type(x, np.float32)), axis, -1)
    tm = np.moveaxis(x_dot, axis, -1)
    n = xm.shape[-1]
    out = np.zeros(np.broadcast_shapes(np.shape(tm), xm.shape))
    for k in range(n):
        masked = np.concatenate([np.broadcast_to(xm[..., :k], out.shape[:-1] + (k,)),
                                 tm[..., k:k + 1] + 0 * xm[..., k:k + 1],
                                 np.broadcast_to(xm[..., k + 1:], out.shape[:-1] + (n - k - 1,))],
                                axis=-1)
        out[..., k:] += np.cumprod(masked, axis=-1)[..., k:]
    return np.moveaxis(out, -1, axis)


def qr_tangents(x_dot, x):
    """(dQ, dR) of the reduced QR of x. With A = [X Y], X square (or all of A when m >= n):
    C = Q^T dX Rx^-1 splits into Omega = Q^T dQ (antisymmetric) and dRx Rx^-1 (upper)."""
    q, r = np.linalg.qr(x)
    k = np.shape(r)[-2]
    rx = r[..., :, :k]
    dx_r = np.swapaxes(np.linalg.solve(np.swapaxes(rx, -1, -2),
                                       np.swapaxes(x_dot[..., :, :k], -1, -2)), -1, -2)
    c = np.matmul(np.swapaxes(q, -1, -2), dx_r)
    lower = np.tril(c, -1)
    upper_part = c - (lower - np.swapaxes(lower, -1, -2))
    dq = dx_r - np.matmul(q, upper_part)
    drx = np.matmul(upper_part, rx)
    dry = np.matmul(np.swapaxes(dq, -1, -2), x[..., :, k:]) + \
        np.matmul(np.swapaxes(q, -1, -2), x_dot[..., :, k:])
    return dq, np.concatenate([drx, dry], axis=-1)


def svd_tangents(x_dot, x):
    """(dU, dVh) of the thin SVD (distinct nonzero singular values): with dP = U^T dA V,
    dU = U (F o (dP S + S dP^T)) + (I - U U^T) dA V S^-1, dV likewise, F_ij = 1/(s_j^2 - s_i^2)."""
    u, s, vh = np.linalg.svd(x, full_matrices=False)
    v = np.swapaxes(vh, -1, -2)
    k = np.shape(s)[-1]
    eye = np.eye(k)
    s2 = s * s
    f = (1.0 - eye) / np.where(eye > 0, 1.0, np.expand_dims(s2, -2) - np.expand_dims(s2, -1))
    dp = np.matmul(np.swapaxes(u, -1, -2), np.matmul(x_dot, v))
    sr = np.expand_dims(s, -2)    # scales columns
    sc = np.expand_dims(s, -1)    # scales rows
    dp_t = np.swapaxes(dp, -1, -2)
    du = np.matmul(u, f * (dp * sr + sc * dp_t)) + \
        np.matmul(np.matmul(x_dot, v) - np.matmul(u, dp), np.eye(k) / sc)
    dv = np.matmul(v, f * (sc * dp + dp_t * sr)) + \
        np.matmul(np.matmul(np.swapaxes(x_dot, -1, -2), u) - np.matmul(v, dp_t), np.eye(k) / sc)
    return du, np.swapaxes(dv, -1, -2)


def complete_with_nan(t, shape):
    """A thin factor's tangent padded with nan columns/rows up to a full factor's ``shape``:
    numpy's completion columns are any orthonormal set, their derivative is not defined."""
    pad = [(0, n - m) for n, m in zip(shape, np.shape(t))]
    return np.pad(t, pad, constant_values=np.nan)


def symmetric_read(x_dot, UPLO="L"):
    """The symmetric tangent numpy's eigh/cholesky see: the triangle they read, mirrored."""
    eye = np.eye(np.shape(x_dot)[-1])
    low = np.tril(x_dot, -1) if UPLO.upper() == "L" else np.swapaxes(np.triu(x_dot, 1), -1, -2)
    return low + np.swapaxes(low, -1, -2) + x_dot * eye
