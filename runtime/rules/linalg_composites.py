"""Linear-algebra functions defined by other entries of the table (see composites.py): inner, vdot,
einsum, norm, and numpy's tuple-returning decompositions as tuples of their single-output factors.

A composite is inlined by the compiler like user code and run by the tape on Tensors, so each is
written in the supported subset: numpy calls, arithmetic, branches on its (constant) parameters.
"""
import numpy as np

from .composites import composite
from .linalg import (einsum_one, einsum_operands, einsum_plan, einsum_three, einsum_two,
                     sublist_subscripts)
from .decompositions import (eigh_vectors, qr_q, qr_r, singular_value_norm, slogdet_logabs,
                             slogdet_sign, svd_u, svd_vh)


@composite("Inner", np.inner, grid=(("v", "v"), ("m", "v"), ("t", "m"), ("s", "m")))
def inner(a, b):
    # a sum over the last axes of both; a scalar operand scales
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return a * b
    return np.tensordot(a, b, axes=([-1], [-1]))


@composite("Vdot", np.vdot, grid=(("v", "v"), ("m", "m"), ("m", "n")))
def vdot(a, b):
    # both flattened (real inputs: no conjugate)
    return np.sum(np.reshape(a, -1) * np.reshape(b, -1))


@composite("Norm", np.linalg.norm, grid=(
    ("v",), ("m",), ("t",), ("v", 1), ("v", 2), ("v", np.inf), ("v", -np.inf), ("v", 3),
    ("v", 0.5), ("m", "fro"), ("m", "nuc"), ("m", 1), ("m", -1), ("m", 2), ("m", -2),
    ("m", np.inf), ("m", -np.inf), ("m", {"axis": 1}), ("m", {"axis": 0, "ord": 1}),
    ("t", {"axis": -1, "keepdims": True}), ("t", {"axis": (1, 2)}),
    ("t", {"axis": (0, 2), "ord": "nuc"}), ("t", {"axis": (2, 1), "ord": 1, "keepdims": True}),
    ("t", {"axis": (1, 2), "ord": 2}), ("m", {"keepdims": True}),
    ("m", {"ord": -2, "axis": (1, 0)})))
def norm(x, ord=None, axis=None, keepdims=False):
    nd = np.ndim(x)
    if axis is None and ord is None:      # every element, as one vector
        return np.sqrt(np.sum(x * x, keepdims=keepdims))
    if axis is None:
        axis = (0, 1) if nd == 2 else 0
    if np.ndim(axis) == 0 or len(axis) == 1:
        return vector_norm(x, ord, axis, keepdims)
    return matrix_norm(x, ord, (axis[0] % nd, axis[1] % nd), keepdims)


def vector_norm(x, ord, axis, keepdims):
    if ord is None or ord == 2:
        return np.sqrt(np.sum(x * x, axis=axis, keepdims=keepdims))
    if ord == np.inf:
        return np.max(np.abs(x), axis=axis, keepdims=keepdims)
    if ord == -np.inf:
        return np.min(np.abs(x), axis=axis, keepdims=keepdims)
    if ord == 1:
        return np.sum(np.abs(x), axis=axis, keepdims=keepdims)
    return np.power(np.sum(np.power(np.abs(x), ord), axis=axis, keepdims=keepdims), 1.0 / ord)


def matrix_norm(x, ord, axes, keepdims):
    # axes: (row axis, column axis), both non-negative
    if ord is None or ord == "fro":
        return np.sqrt(np.sum(x * x, axis=axes, keepdims=keepdims))
    if ord == "nuc" or ord == 2 or ord == -2:
        out = singular_value_norm(x, ord, axes[0], axes[1])
    else:
        # the largest (smallest) absolute column sum (ord 1, -1) or row sum (inf, -inf)
        by_columns = ord == 1 or ord == -1
        summed = axes[0] if by_columns else axes[1]
        other = axes[1] if by_columns else axes[0]
        sums = np.sum(np.abs(x), axis=summed, keepdims=True)
        if ord > 0:
            out = np.max(sums, axis=other, keepdims=True)
        else:
            out = np.min(sums, axis=other, keepdims=True)
    if keepdims:
        return out
    return np.squeeze(out, axis=axes)


# the compiler inlines only table entries, so the norms' pieces are composites too
composite("VectorNorm", vector_norm)(vector_norm)
composite("MatrixNorm", matrix_norm)(matrix_norm)


@composite("EinsumNumpy", np.einsum, grid=(
    ("ij,jk->ik", "m", "n"), ("ij,j->i", "m", "v"), ("i,i->", "v", "v"), ("ij->ji", "m"),
    ("ij->", "m"), ("ij->j", "m"), ("ij,ij->ij", "m", "m"), ("i,j->ij", "v", "w"),
    ("ij,jk", "m", "n"), ("ji", "m"), ("ii", "q"), ("ii->", "q"), ("ii->i", "q"),
    ("ijj->ij", "b"), ("ij,jk,kl->il", "q", "m", "n"),
    ("...ij,...jk->...ik", "t", "n"), ("...i,...i->...", "t", "t"), ("i...->...", "t"),
    ("...ii->...i", "b"), ("b...,b...", "t", "t"), ("ij,ik->jk", "m", "m"),
    ("i,i,i->", "v", "v", "v"), ("ij,ji->i", "q", "q"), ("ij...,j->i...", "m", "v"),
    ("ij,jk->ik", "m", "n", {"optimize": True}),
    ("m", (0, 1), "n", (1, 2), (0, 2)), ("q", (0, 0)), ("m", (0, 1), (1,)),
    ("m", (0, 1), "m", (0, 1))))
def einsum(subscripts, x=None, y=None, z=None, w=None, optimize=False):
    # numpy's signature is (subscripts, *operands): at most three operands here, and the sublist
    # form (operand, indices, operand, indices, [output]) with one or two operands
    form = einsum_operands(subscripts, y)
    if form == 0:
        if w is not None:
            raise NotImplementedError("np.einsum with more than three operands")
        if y is None:
            return einsum_one(x, einsum_plan(subscripts, x))
        if z is None:
            return einsum_two(x, y, einsum_plan(subscripts, x, y))
        return einsum_three(x, y, z, einsum_plan(subscripts, x, y, z))
    if form == 1:
        return einsum_one(subscripts, einsum_plan(sublist_subscripts(x, y), subscripts))
    return einsum_two(subscripts, y, einsum_plan(sublist_subscripts(x, z, w), subscripts, y))


@composite("Slogdet", np.linalg.slogdet, domain="spd", grid=(("q",), ("b",)))
def slogdet(a):
    return slogdet_sign(a), slogdet_logabs(a)


@composite("Eigh", np.linalg.eigh, domain="spd", grid=(("q",), ("b",), ("q", "U")))
def eigh(a, UPLO="L"):
    return np.linalg.eigvalsh(a, UPLO), eigh_vectors(a, UPLO)


# A tuple-returning composite has one return of a tuple literal: that is what lets the compiler
# unpack it statically. The forms that return a single array are refused (use the single-output
# primitive instead), not guessed.
@composite("Svd", np.linalg.svd, grid=(("m", {"full_matrices": False}), ("q",),
                                       ("n", {"full_matrices": False}), ("t", False)))
def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    if not compute_uv:
        raise NotImplementedError("np.linalg.svd(a, compute_uv=False) is not differentiable "
                                  "here: use np.linalg.svdvals(a)")
    return svd_u(a, full_matrices), np.linalg.svdvals(a), svd_vh(a, full_matrices)


@composite("Qr", np.linalg.qr, grid=(("q",), ("n",), ("m",), ("b",)))
def qr(a, mode="reduced"):
    if mode == "r" or mode == "raw":
        raise NotImplementedError("np.linalg.qr(a, mode='r' or 'raw') is not differentiable "
                                  "here: use mode='reduced'")
    return qr_q(a, mode), qr_r(a, mode)
