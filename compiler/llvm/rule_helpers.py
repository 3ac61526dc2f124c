"""Lowerings of the helpers that derivative rules call (unbroadcast/sum_to, unreduce,
prod_of_others...) and of the keyword/shape arguments numpy calls take."""
import ast

from llvmlite import ir

from .. import typing as T
from . import types as L
from . import scalars as S
from .arrays import (ONE, ZERO, alloc, c64, compare, copy, full, load_at, map_elementwise,
                     size_of, store_at, strided_nest)
from .indexing import broadcast_to, transpose
from .reductions import _combine, reduce


# ------------------------------------------------------------------------------ numpy calls

def shape_values(lw, node, v):
    """The shape argument ``node`` as i64 values; ``v`` is its lowered value (lowering the
    node again would run its side effects twice: ``np.zeros(shapes.pop())``)."""
    try:      # literal shapes stay constants (reshape needs to see a literal -1)
        cv = T.const_value(node, lw.ti.consts)
        return [c64(x) for x in (cv if isinstance(cv, tuple) else (cv,))]
    except Exception:
        pass
    t = lw.ti.type_of(node)
    if isinstance(t, T.Tuple):
        return [S.cast(lw, x, xt, T.I64) for x, xt in zip(v.items, t.items)]
    return [S.cast(lw, v, t, T.I64)]


def _kw(node, name):
    for k in node.keywords:
        if k.arg == name:
            return k.value
    return None


# ------------------------------------------------------------------------------ rule helpers

def sum_to(lw, g, gt, target_shape):
    """Sum array ``g`` down to ``target_shape`` (the adjoint of broadcasting)."""
    b = lw.b
    out = full(lw, gt.dtype, list(target_shape), S.const(gt.dtype, 0))
    nd = gt.ndim
    lead = nd - len(target_shape)
    ostr, gstr, shape = [], [], []
    for d in range(nd):
        j = d - lead
        if j < 0:
            ostr.append(ZERO)
            gstr.append(g.strides[d])
            shape.append(g.shape[d])
            continue
        tj, gd = target_shape[j], g.shape[d]
        # an axis of size 1 in g (a zero adjoint kept small) broadcasts up, as numpy's does
        g_one = b.icmp_signed("==", gd, ONE)
        ok = b.or_(b.or_(b.icmp_signed("==", tj, gd), b.icmp_signed("==", tj, ONE)), g_one)
        with lw.cold_if(b.xor(ok, ir.Constant(L.I1, 1))):
            lw.fail("ValueError", "cannot sum an axis of size {} to size {} (axis {})", gd, tj, c64(d))
        ostr.append(b.select(b.icmp_signed("==", tj, ONE), ZERO, out.strides[j]))
        gstr.append(b.select(g_one, ZERO, g.strides[d]))
        shape.append(b.select(g_one, tj, gd))

    def body(offs, idx):
        x = load_at(lw, g, offs[0])
        store_at(lw, out, offs[1], _combine(lw, "sum", load_at(lw, out, offs[1]), x, gt.dtype))
    strided_nest(lw, shape, [gstr, ostr], body)
    return out


def sum_to_or_same(lw, g, gt, target_shape):
    """sum_to, but ``g`` itself when its shape already is the target (numpy returns g too)."""
    b = lw.b
    if gt.ndim != len(target_shape):
        return sum_to(lw, g, gt, target_shape)
    same = ir.Constant(L.I1, 1)
    for d, t in zip(g.shape, target_shape):
        same = b.and_(same, b.icmp_signed("==", d, t))
    slot = lw.alloca(L.array_ll(gt.ndim))
    b.store(L.pack(b, gt, g), slot)
    with lw.cold_if(b.xor(same, ir.Constant(L.I1, 1))):
        b.store(L.pack(b, gt, sum_to(lw, g, gt, target_shape)), slot)
    return L.unpack(b, gt, b.load(slot, typ=L.array_ll(gt.ndim)))


def unreduce(lw, g, gt, like, liket, axis, keepdims):
    if not isinstance(liket, T.Array):
        return g
    shape = list(like.shape)
    if isinstance(gt, T.Array) and axis is not None and not keepdims:
        axes = sorted({x % liket.ndim for x in (axis if isinstance(axis, tuple) else (axis,))})
        gs, gst = list(g.shape), list(g.strides)
        for a in axes:
            gs.insert(a, ONE)
            gst.insert(a, ZERO)
        g = L.ArrayVal(T.Array(gt.dtype, len(gs)), g.data, gs, gst)
        gt = g.type
    return broadcast_to(lw, g, gt, shape)


def _opt_arg(node, args, pos, name, consts):
    if len(node.args) > pos:
        return T.const_value(node.args[pos], consts)
    kv = _kw(node, name)
    return None if kv is None else T.const_value(kv, consts)


def helper_call(lw, f, node, args, t):
    consts = lw.ti.consts
    if f == "unbroadcast":
        (g, gt), (like, liket) = args
        if not isinstance(liket, T.Array):
            return reduce(lw, "sum", g, gt, None, False, T.dtype_of(gt)) if isinstance(gt, T.Array) else g
        return sum_to_or_same(lw, g, gt, like.shape)
    if f == "sum_to_shape":
        (g, gt), (sh, sht) = args
        if not sht.items:
            return reduce(lw, "sum", g, gt, None, False, T.dtype_of(gt)) if isinstance(gt, T.Array) else g
        if not isinstance(gt, T.Array):
            raise lw.unsupported("sum_to_shape of a scalar")
        return sum_to_or_same(lw, g, gt, [S.cast(lw, x, xt, T.I64) for x, xt in zip(sh.items, sht.items)])
    if f == "unreduce":
        (g, gt), (like, liket) = args[:2]
        axis = _opt_arg(node, args, 2, "axis", consts)
        keepdims = _opt_arg(node, args, 3, "keepdims", consts) or False
        return unreduce(lw, g, gt, like, liket, axis, keepdims)
    if f == "untranspose":
        g, gt = args[0]
        if not isinstance(gt, T.Array):
            return g
        axes = _opt_arg(node, args, 1, "axes", consts)
        if axes is None:
            return transpose(lw, g, None)
        inv = [0] * len(axes)
        for k, a in enumerate(axes):
            inv[a] = k
        return transpose(lw, g, inv)
    if f == "extremum_weights":
        (ans, anst), (like, liket) = args[:2]
        axis = _opt_arg(node, args, 2, "axis", consts)
        keepdims = _opt_arg(node, args, 3, "keepdims", consts) or False
        od = T.dtype_of(t)
        if not isinstance(liket, T.Array):
            return S.const(od, 1)
        ua = unreduce(lw, ans, anst, like, liket, axis, keepdims)
        hit = compare(lw, ast.Eq(), like, liket, ua, ua.type)
        count = reduce(lw, "sum", hit, hit.type, axis, True, T.Array(T.I64, liket.ndim))
        return map_elementwise(lw, od, [(hit, hit.type), (count, count.type)],
                               lambda k, v: k.b.fdiv(S.cast(k, v[0], T.BOOL, od), S.cast(k, v[1], T.I64, od)),
                               key=("extw",))
    if f == "prod_of_others":
        g, gt = args[0]
        axis = _opt_arg(node, args, 1, "axis", consts)
        if not isinstance(gt, T.Array):
            return S.const(gt, 1)
        return prod_of_others(lw, g, gt, axis)
    raise lw.unsupported(f"call to {f}()")


def prod_of_others(lw, x, xt, axis):
    """Each element's product of the others along ``axis`` (all axes when None), without
    division: exclusive products from the left, then multiplied by those from the right."""
    b = lw.b
    dtp = xt.dtype
    src = copy(lw, x)                      # C-contiguous, so lines along an axis have one stride
    out = alloc(lw, dtp, list(src.shape))
    nd = xt.ndim
    if axis is None:
        axes = list(range(nd))
    else:
        axes = sorted({a % nd for a in (axis if isinstance(axis, (tuple, list)) else (axis,))})
    if axes != list(range(axes[0], axes[-1] + 1)) or (axis is not None and len(axes) > 1 and axes[-1] != nd - 1):
        raise lw.unsupported("prod_of_others over non-trailing, non-adjacent axes")
    # the reduced axes are contiguous in memory: line length m, element stride `inner`
    m = size_of(lw, [src.shape[k] for k in axes])
    inner = size_of(lw, [src.shape[k] for k in range(axes[-1] + 1, nd)])
    outer = size_of(lw, [src.shape[k] for k in range(axes[0])])
    ll = L.scalar_ll(dtp)
    acc = lw.alloca(ll)

    def mul(p, q):
        return b.fmul(p, q) if dtp.is_float else b.mul(p, q)

    def line(o, i):
        base = b.add(b.mul(o, b.mul(m, inner)), i)
        b.store(S.const(dtp, 1), acc)

        def left(k):
            off = b.add(base, b.mul(k, inner))
            store_at(lw, out, off, b.load(acc, typ=ll))
            b.store(mul(b.load(acc, typ=ll), load_at(lw, src, off)), acc)
        lw.for_range(m, left)
        b.store(S.const(dtp, 1), acc)

        def right(k):
            off = b.add(base, b.mul(b.sub(b.sub(m, ONE), k), inner))
            store_at(lw, out, off, mul(load_at(lw, out, off), b.load(acc, typ=ll)))
            b.store(mul(b.load(acc, typ=ll), load_at(lw, src, off)), acc)
        lw.for_range(m, right)
    lw.for_range(outer, lambda o: lw.for_range(inner, lambda i: line(o, i)))
    return out
