"""TF ops whose gradient is a primitive-table entry: linear algebra, cumulative products, rolls,
repeats, special functions; run through the entry (numpy_dispatch.from_entry), so the recorded
rule is the table's and nothing here restates a derivative.
"""
import numpy as np

from . import array_ops as A
from . import factory_ops as F
from . import math_ops as M
from . import rules
from .opdef import as_tensor, wrap
from .recording import record, state
from .rules.special import lgamma_value, polygamma_value

__all__ = ["cholesky", "eigh", "svd", "qr", "logdet", "matvec", "cumprod", "roll", "repeat",
           "erfc", "lgamma", "digamma", "polygamma", "xlogy", "searchsorted", "meshgrid",
           "identity_n"]


def _run(fn, *args, **kwargs):
    from .numpy_dispatch import from_entry
    return from_entry(rules.entry_of(fn), fn, tuple(as_tensor(a) for a in args), kwargs)


# --- linear algebra -------------------------------------------------------------------------------
def cholesky(input, name=None):
    return _run(np.linalg.cholesky, input)


def eigh(tensor, name=None):
    """(eigenvalues, eigenvectors) of a symmetric matrix, as tf.linalg.eigh."""
    w, v = _run(np.linalg.eigh, tensor)
    return w, v


def svd(tensor, full_matrices=False, compute_uv=True, name=None):
    """TF's order: (s, u, v) with ``tensor = u @ diag(s) @ adjoint(v)``; only s without uv."""
    u, s, vh = _run(np.linalg.svd, tensor, full_matrices=bool(full_matrices))
    if not compute_uv:
        return s
    return s, u, A.matrix_transpose(vh)


def qr(input, full_matrices=False, name=None):
    return _run(np.linalg.qr, input, mode="complete" if full_matrices else "reduced")


def logdet(matrix, name=None):
    """log det of a Hermitian positive definite matrix (via slogdet's log |det|)."""
    return _run(np.linalg.slogdet, matrix)[1]


def matvec(a, b, transpose_a=False, adjoint_a=False, name=None):
    b = as_tensor(b)
    return A.squeeze(M.matmul(a, A.expand_dims(b, -1), transpose_a=transpose_a or adjoint_a), -1)


# --- arrays ----------------------------------------------------------------------------------------
def cumprod(x, axis=0, exclusive=False, reverse=False, name=None):
    x = as_tensor(x)
    if reverse:
        x = A.reverse(x, [axis])
    if exclusive:
        n = x._v.ndim
        ax = axis % n
        ones = F.ones_like(A.gather(x, [0], axis=ax))
        x = A.concat([ones, A.gather(x, list(range(x._v.shape[ax] - 1)), axis=ax)], ax)
    out = _run(np.cumprod, x, axis=int(axis))
    return A.reverse(out, [axis]) if reverse else out


def roll(input, shift, axis, name=None):
    shift = np.asarray(as_tensor(shift)._v).tolist()
    axis = np.asarray(as_tensor(axis)._v).tolist()
    return _run(np.roll, input, shift=shift, axis=axis)


def repeat(input, repeats, axis=None, name=None):
    x = as_tensor(input)
    reps = np.asarray(as_tensor(repeats)._v)
    if axis is None:
        x = A.reshape(x, (-1,))
        axis = 0
    return _run(np.repeat, x, repeats=reps, axis=int(axis))


def searchsorted(sorted_sequence, values, side="left", out_type=None, name=None):
    """Indices (int32), no gradient: along the last axis, as tf.searchsorted."""
    s = np.asarray(as_tensor(sorted_sequence)._v)
    v = np.asarray(as_tensor(values)._v)
    if s.ndim == 1:
        out = np.searchsorted(s, v, side=side)
    else:
        out = np.stack([np.searchsorted(a, b, side=side) for a, b in
                        zip(s.reshape(-1, s.shape[-1]), v.reshape(-1, v.shape[-1]))])
        out = out.reshape(v.shape)
    dt = np.int32 if out_type is None else np.dtype(getattr(out_type, "as_numpy_dtype", out_type))
    return wrap(out.astype(dt))


def meshgrid(*args, indexing="xy", name=None):
    """Broadcasts of reshaped inputs (recorded ops, so each grid differentiates to its input)."""
    xs = [A.reshape(as_tensor(a), (-1,)) for a in args]
    n = len(xs)
    sizes = [int(x._v.shape[0]) for x in xs]
    if indexing == "xy" and n >= 2:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    out = []
    for i, x in enumerate(xs):
        pos = i
        if indexing == "xy" and n >= 2 and i < 2:
            pos = 1 - i
        shape = [1] * n
        shape[pos] = -1
        out.append(A.broadcast_to(A.reshape(x, shape), sizes))
    return out


def identity_n(input, name=None):
    return [M.identity(x) for x in input]


# --- special functions ---------------------------------------------------------------------------
def erfc(x, name=None):
    import math
    x = as_tensor(x)
    if x._v.ndim == 0:
        return _run(math.erfc, x)
    # math.erfc is scalar: the value over the array, the table's rule (by name) for the gradient
    v = x._v
    out = wrap(np.asarray(np.vectorize(math.erfc, otypes=[np.float64])(v), dtype=v.dtype))
    if state.tapes:
        record(rules.RULES["Erfc"], out, (x,), (v,))
    return out


def lgamma(x, name=None):
    x = as_tensor(x)
    v = x._v
    out = wrap(np.asarray(lgamma_value(v), dtype=v.dtype))
    if state.tapes:
        record(rules.RULES["Lgamma"], out, (x,), (v,))
    return out


def polygamma(a, x, name=None):
    """``tf.math.polygamma(a, x)``: the a-th derivative of digamma (a a Python int here)."""
    x = as_tensor(x)
    n = int(np.asarray(as_tensor(a)._v))
    v = x._v
    out = wrap(np.asarray(polygamma_value(n, v), dtype=v.dtype))
    if state.tapes:
        record(rules.RULES["Polygamma"], out, (x,), (v,), {"n": n})
    return out


def digamma(x, name=None):
    return polygamma(0, x)


def xlogy(x, y, name=None):
    """x * log(y), 0 where x == 0 (also its gradients there), as tf.math.xlogy."""
    x, y = as_tensor(x), as_tensor(y)
    zero = M.equal(x, 0.0)
    safe_y = M.where(zero, F.ones_like(y), y)
    return M.where(zero, F.zeros_like(x * safe_y), x * M.log(safe_y))
