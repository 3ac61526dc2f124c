"""Reductions (sum, prod, max, min, mean...) over all axes or one, with keepdims: one loop
nest over the operand combining into an accumulator array."""

from llvmlite import ir

from .. import typing as T
from . import types as L
from . import scalars as S
from .arrays import ONE, ZERO, full, load_at, map_elementwise, store_at, strided_nest


# ------------------------------------------------------------------------------ reductions

def _identity(f, t):
    if f in ("sum", "mean"):
        return S.const(t, 0)
    if f == "prod":
        return S.const(t, 1)
    big = f in ("min", "amin")
    if t.is_float:
        return ir.Constant(L.scalar_ll(t), float("inf") if big else float("-inf"))
    if t == T.BOOL:
        return ir.Constant(L.I1, 1 if big else 0)
    return ir.Constant(L.I64, 2**63 - 1 if big else -2**63)


def _combine(lw, f, acc, x, t):
    b = lw.b
    if f in ("sum", "mean"):
        return b.fadd(acc, x, flags=S.FAST_ACC) if t.is_float else b.add(acc, x)
    if f == "prod":
        return b.fmul(acc, x, flags=S.FAST_ACC) if t.is_float else b.mul(acc, x)
    return S.binary_math(lw, "maximum" if f in ("max", "amax") else "minimum", acc, x, t)


def reduce(lw, f, a, at, axis, keepdims, rt):
    """np.<f>(a, axis=..., keepdims=...) for sum/mean/prod/max/min."""
    b = lw.b
    if not isinstance(at, T.Array):
        return S.cast(lw, a, at, T.dtype_of(rt))
    acc_t = T.dtype_of(rt)
    nd = at.ndim
    axes = set(range(nd)) if axis is None else {x % nd for x in (axis if isinstance(axis, tuple) else (axis,))}
    count = ONE
    for d in sorted(axes):
        count = b.mul(count, a.shape[d])
    if f in ("max", "min", "amax", "amin"):
        with lw.cold_if(b.icmp_signed("==", count, ZERO)):
            lw.fail("ValueError", "zero-size array to reduction operation %s which has no identity"
                    % ("maximum" if f in ("max", "amax") else "minimum"))
    if len(axes) == nd and not keepdims:
        slot = lw.alloca(L.scalar_ll(acc_t))
        b.store(_identity(f, acc_t), slot)

        def body(offs, idx):
            x = S.cast(lw, load_at(lw, a, offs[0]), at.dtype, acc_t)
            b.store(_combine(lw, f, b.load(slot, typ=L.scalar_ll(acc_t)), x, acc_t), slot)
        strided_nest(lw, a.shape, [a.strides], body)
        res = b.load(slot, typ=L.scalar_ll(acc_t))
        if f == "mean":
            res = b.fdiv(res, S.cast(lw, count, T.I64, acc_t))
        return res
    out_shape = [ONE if d in axes else a.shape[d] for d in range(nd)] if keepdims else \
        [a.shape[d] for d in range(nd) if d not in axes]
    out = full(lw, acc_t, out_shape, _identity(f, acc_t))
    # out addressed through a's index space: reduced axes get stride 0
    ostr, k = [], 0
    for d in range(nd):
        if d in axes:
            ostr.append(ZERO)
            if keepdims:
                k += 1
        else:
            ostr.append(out.strides[k])
            k += 1

    def body(offs, idx):
        x = S.cast(lw, load_at(lw, a, offs[0]), at.dtype, acc_t)
        store_at(lw, out, offs[1], _combine(lw, f, load_at(lw, out, offs[1]), x, acc_t))
    strided_nest(lw, a.shape, [a.strides, ostr], body)
    if f == "mean":
        cnt = S.cast(lw, count, T.I64, acc_t)
        map_elementwise(lw, acc_t, [(out, out.type), (cnt, acc_t)], lambda k, v: k.b.fdiv(v[0], v[1]), out=out,
                        key=("div",))
    return out
