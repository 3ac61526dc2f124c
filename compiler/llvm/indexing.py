"""Array indexing and views: subscripts (ints, slices, newaxis) as loads, stores and strided
views; transpose, broadcast_to and reshape, which rewrite extents and strides only."""
import ast

from llvmlite import ir

from .. import typing as T
from . import types as L
from . import scalars as S
from .arrays import (ONE, ZERO, alloc, _arith, array_name, c64, copy, dt, inplace, load_at,
                     map_elementwise, norm_index, size_of, store_at)


# ------------------------------------------------------------------------------ indexing

def resolve_index(lw, node):
    """(array value, offset, view or None) for ``a[...]``: an element when view is None."""
    b = lw.b
    a = lw.expr(node.value)
    name = array_name(node.value)
    sl = node.slice
    parts = list(sl.elts) if isinstance(sl, ast.Tuple) else [sl]
    off = ZERO
    shape, strides = [], []
    d = -1
    for p in parts:
        if isinstance(p, ast.Constant) and p.value is None:      # np.newaxis: a unit axis
            shape.append(ONE)
            strides.append(ZERO)
            continue
        d += 1
        n, st = a.shape[d], a.strides[d]
        if isinstance(p, ast.Slice):
            start, length, step = slice_bounds(lw, p, n)
            off = b.add(off, b.mul(start, st))
            shape.append(length)
            strides.append(b.mul(st, step))
        else:
            i = S.cast(lw, lw.expr(p), lw.ti.type_of(p), T.I64)
            bounds = getattr(lw, "bounds", None)
            if bounds is None or not bounds.in_bounds(node.value, d, p):
                i = norm_index(lw, i, n, d, name)
            off = b.add(off, b.mul(i, st))
    for d in range(d + 1, a.ndim):
        shape.append(a.shape[d])
        strides.append(a.strides[d])
    if not shape:
        return a, off, None
    view = L.ArrayVal(T.Array(a.dtype, len(shape)), lw.b.gep(a.data, [off], source_etype=L.elem_ll(a.dtype)),
                      shape, strides)
    return a, off, view


def slice_bounds(lw, p, n):
    """start, length, step of ``lower:upper:step`` over an axis of size n (slice.indices rules)."""
    b = lw.b

    def val(x):
        if x is None or (isinstance(x, ast.Constant) and x.value is None):
            return None
        return S.cast(lw, lw.expr(x), lw.ti.type_of(x), T.I64)
    step = val(p.step)
    step = ONE if step is None else step
    if not isinstance(step, ir.Constant):
        with lw.cold_if(b.icmp_signed("==", step, ZERO)):
            lw.fail("ValueError", "slice step cannot be zero")
    elif step.constant == 0:
        raise lw.unsupported("slice step cannot be zero")
    neg = b.icmp_signed("<", step, ZERO)
    m1 = c64(-1)
    nm1 = b.sub(n, ONE)

    def adjust(x, default_pos, default_neg):
        if x is None:
            return b.select(neg, default_neg, default_pos)
        y = b.select(b.icmp_signed("<", x, ZERO), b.add(x, n), x)
        low = b.select(neg, m1, ZERO)
        high = b.select(neg, nm1, n)
        y = b.select(b.icmp_signed("<", y, ZERO), low, y)
        return b.select(b.icmp_signed(">=", y, n), high, y)
    start = adjust(val(p.lower), ZERO, nm1)
    stop = adjust(val(p.upper), n, m1)
    pos_len = b.select(b.icmp_signed("<", start, stop),
                       b.add(b.sdiv(b.sub(b.sub(stop, start), ONE), step), ONE), ZERO)
    nstep = b.neg(step)
    neg_len = b.select(b.icmp_signed("<", stop, start),
                       b.add(b.sdiv(b.sub(b.sub(start, stop), ONE), nstep), ONE), ZERO)
    return start, b.select(neg, neg_len, pos_len), step


def getitem(lw, node):
    a, off, view = resolve_index(lw, node)
    if view is None:
        return load_at(lw, a, off)
    return view


def setitem(lw, tgt, v, vt):
    a, off, view = resolve_index(lw, tgt)
    if view is None:
        if isinstance(vt, T.Array):      # a 1-element array into one element (numpy allows it)
            b = lw.b
            with lw.cold_if(b.icmp_signed("!=", size_of(lw, v.shape), ONE)):
                lw.fail("ValueError", "setting an array element with a sequence of {} elements",
                        size_of(lw, v.shape))
            v, vt = load_at(lw, v, ZERO), vt.dtype
        store_at(lw, a, off, S.cast(lw, v, dt(vt), a.dtype))
        return
    if isinstance(vt, T.Array):
        v = copy(lw, v)      # the source may overlap the destination (a[1:] = a[:-1])
        map_elementwise(lw, a.dtype, [(v, vt)], lambda k, x: S.cast(k, x[0], vt.dtype, a.dtype), out=view,
                        key=("cast",))
    else:
        sv = S.cast(lw, v, vt, a.dtype)
        map_elementwise(lw, a.dtype, [(sv, a.dtype)], lambda k, x: x[0], out=view, key=("copy",))


def aug_setitem(lw, s):
    a, off, view = resolve_index(lw, s.target)
    val, vt = lw.expr(s.value), lw.ti.type_of(s.value)
    rt = _arith(s.op, T.promote(a.dtype, False, dt(vt), False))
    if view is None:
        cur = load_at(lw, a, off)
        res = S.binop(lw, s.op, cur, a.dtype, val, dt(vt), rt, acc=True)
        store_at(lw, a, off, S.cast(lw, res, rt, a.dtype))
        return
    inplace(lw, s.op, view, val, vt)


# ------------------------------------------------------------------------------ views

def transpose(lw, a, axes):
    if axes is None:
        axes = list(range(a.ndim - 1, -1, -1))
    return L.ArrayVal(a.type, a.data, [a.shape[k] for k in axes], [a.strides[k] for k in axes])


def broadcast_to(lw, v, vt, shape):
    b = lw.b
    if not isinstance(vt, T.Array):
        one = alloc(lw, vt, [])
        store_at(lw, one, ZERO, v)
        v, vt = one, one.type
    nd = len(shape)
    if vt.ndim > nd:
        raise lw.unsupported("broadcast_to a shape with fewer dimensions")
    strides = []
    for d in range(nd):
        j = d - (nd - vt.ndim)
        if j < 0:
            strides.append(ZERO)
            continue
        x = v.shape[j]
        ok = b.or_(b.icmp_signed("==", x, shape[d]), b.icmp_signed("==", x, ONE))
        with lw.cold_if(b.xor(ok, ir.Constant(L.I1, 1))):
            lw.fail("ValueError", "cannot broadcast an axis of size {} to size {} (axis {})", x, shape[d], c64(d))
        strides.append(b.select(b.icmp_signed("==", x, ONE), ZERO, v.strides[j]))
    return L.ArrayVal(T.Array(vt.dtype, nd), v.data, list(shape), strides)


def is_c_contiguous(lw, a):
    b = lw.b
    ok = ir.Constant(L.I1, 1)
    expect = ONE
    for k in range(a.ndim - 1, -1, -1):
        good = b.or_(b.icmp_signed("==", a.shape[k], ONE), b.icmp_signed("==", a.strides[k], expect))
        ok = b.and_(ok, good)
        expect = b.mul(expect, a.shape[k])
    return ok


def reshape(lw, a, shape):
    b = lw.b
    total = size_of(lw, a.shape)
    known = ONE
    unknown = None
    for k, d in enumerate(shape):
        if isinstance(d, ir.Constant) and d.constant == -1:
            if unknown is not None:
                raise lw.unsupported("can only specify one unknown dimension")
            unknown = k
        else:
            known = b.mul(known, d)
    shape = list(shape)
    if unknown is not None:
        with lw.cold_if(b.icmp_signed("==", known, ZERO)):
            lw.fail("ValueError", "cannot reshape an array of size {} with an unknown dimension", total)
        shape[unknown] = b.sdiv(total, known)
    with lw.cold_if(b.icmp_signed("!=", size_of(lw, shape), total)):
        lw.fail("ValueError", "cannot reshape array of size {} into a shape of size {}", total, size_of(lw, shape))
    # contiguous data is reinterpreted in place; anything else is copied first (as numpy does)
    slot = lw.alloca(L.PTR)
    b.store(a.data, slot)
    with lw.cold_if(b.xor(is_c_contiguous(lw, a), ir.Constant(L.I1, 1))):
        b.store(copy(lw, a).data, slot)
    data = b.load(slot, typ=L.PTR)
    strides = [None] * len(shape)
    s = ONE
    for k in range(len(shape) - 1, -1, -1):
        strides[k] = s
        s = b.mul(s, shape[k])
    return L.ArrayVal(T.Array(a.dtype, len(shape)), data, shape, strides)
