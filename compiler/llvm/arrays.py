"""Array lowering: indexing and views, elementwise loops with broadcasting, reductions, matmul.

Arrays are (data, extents, strides in elements). Every array result is a loop nest that writes
into a fresh C-contiguous buffer from the call's arena; views (slices, transpose, broadcast_to,
reshape of contiguous data) only rewrite extents and strides. Broadcasting gives an operand a
zero stride along a stretched axis, so one loop nest handles every shape combination, and LLVM
versions the innermost loop on unit stride to vectorize it.
"""
import ast

from llvmlite import ir

from .. import typing as T
from . import types as L
from . import scalars as S

ZERO = ir.Constant(L.I64, 0)
ONE = ir.Constant(L.I64, 1)


def c64(v):
    return ir.Constant(L.I64, v)


# ------------------------------------------------------------------------------ elements

def elem_ptr(lw, a, offset):
    return lw.b.gep(a.data, [offset], source_etype=L.elem_ll(a.dtype))


def offset_of(lw, a, idx):
    b = lw.b
    off = ZERO
    for i, s in zip(idx, a.strides):
        off = b.add(off, b.mul(i, s))
    return off


def load_at(lw, a, off):
    v = lw.b.load(elem_ptr(lw, a, off), typ=L.elem_ll(a.dtype))
    if a.dtype == T.BOOL:
        v = lw.b.icmp_unsigned("!=", v, ir.Constant(L.I8, 0))
    return v


def store_at(lw, a, off, v):
    if a.dtype == T.BOOL:
        v = lw.b.zext(v, L.I8)
    lw.b.store(v, elem_ptr(lw, a, off))


def array_name(node):
    return node.id if isinstance(node, ast.Name) else "<expr>"


def norm_index(lw, i, n, axis, name):
    """Python semantics for one index: negatives count from the end; out of range raises."""
    b = lw.b
    if not lw.m.boundscheck:
        return b.select(b.icmp_signed("<", i, ZERO), b.add(i, n), i)
    # once LLVM knows i >= 0 (loop counters), the select folds and the check becomes i <u n
    j = b.select(b.icmp_signed("<", i, ZERO), b.add(i, n), i)
    with lw.cold_if(b.icmp_unsigned(">=", j, n)):
        lw.fail("IndexError", "index {} is out of bounds for axis {} with size {} (array '%s')" % name,
                i, c64(axis), n)
    return j


# ------------------------------------------------------------------------------ allocation

def alloc(lw, dtype, shape):
    """A fresh C-contiguous array in the call's arena (uninitialized)."""
    b = lw.b
    n = ONE
    for d in shape:
        with lw.cold_if(b.icmp_signed("<", d, ZERO)):
            lw.fail("ValueError", "negative dimensions are not allowed")
        n = b.mul(n, d)
    data = lw.arena_alloc(b.mul(n, c64(L.itemsize(dtype))))
    strides = [None] * len(shape)
    s = ONE
    for k in range(len(shape) - 1, -1, -1):
        strides[k] = s
        s = b.mul(s, shape[k])
    return L.ArrayVal(T.Array(dtype, len(shape)), data, shape, strides)


def scalar_as_array(lw, v, t):
    """A scalar as a 1-element array of t.ndim dimensions that broadcasts to any shape."""
    one = alloc(lw, t.dtype, [])
    store_at(lw, one, ZERO, v)
    return L.ArrayVal(t, one.data, [ONE] * t.ndim, [ZERO] * t.ndim)


def size_of(lw, shape):
    n = ONE
    for d in shape:
        n = lw.b.mul(n, d)
    return n


def fill(lw, a, v):
    """Store scalar ``v`` in every element of contiguous fresh array ``a``."""
    n = size_of(lw, a.shape)
    if isinstance(v, ir.Constant) and v.constant in (0, 0.0, False) and str(v.constant) != "-0.0":
        lw.b.call(lw.m.memset(), [a.data, ir.Constant(L.I8, 0), lw.b.mul(n, c64(L.itemsize(a.dtype))),
                                  ir.Constant(L.I1, 0)])
        return
    lw.for_range(n, lambda k: store_at(lw, a, k, v))


def full(lw, dtype, shape, v):
    a = alloc(lw, dtype, shape)
    fill(lw, a, v)
    return a


# ------------------------------------------------------------------------------ loop nests

def strided_nest(lw, shape, strides_list, body):
    """Loops over ``shape``; per operand a list of element strides; ``body(offsets, idx)``."""
    b = lw.b

    def level(d, offs, idx):
        if d == len(shape):
            body(offs, idx)
            return

        def inner(k):
            level(d + 1, [b.add(o, b.mul(k, st[d])) for o, st in zip(offs, strides_list)], idx + [k])
        lw.for_range(shape[d], inner)
    level(0, [ZERO] * len(strides_list), [])


def broadcast_shape(lw, shapes, what="operands could not be broadcast together"):
    b = lw.b
    nd = max(len(s) for s in shapes)
    out = []
    for d in range(nd):
        res = None
        for s in shapes:
            j = d - (nd - len(s))
            if j < 0:
                continue
            x = s[j]
            if res is None:
                res = x
                continue
            ok = b.or_(b.or_(b.icmp_signed("==", x, res), b.icmp_signed("==", x, ONE)),
                       b.icmp_signed("==", res, ONE))
            with lw.cold_if(b.xor(ok, ir.Constant(L.I1, 1))):
                lw.fail("ValueError", what + " (axis {}: sizes {} and {})", c64(d), res, x)
            res = b.select(b.icmp_signed("==", res, ONE), x, res)
        out.append(res)
    return out


def bstrides(lw, a, out_shape):
    """Strides of ``a`` broadcast against ``out_shape`` (0 on stretched or missing axes)."""
    b = lw.b
    nd = len(out_shape)
    res = []
    for d in range(nd):
        j = d - (nd - a.ndim)
        if j < 0:
            res.append(ZERO)
        else:
            res.append(b.select(b.icmp_signed("==", a.shape[j], ONE), ZERO, a.strides[j]))
    return res


def map_elementwise(lw, out_dtype, operands, fn, out=None, key=None):
    """out[...] = fn(k, element values...) over operands broadcast together.

    ``operands``: list of (value, type); scalars are passed through unchanged. With ``out`` the
    result is written into that array (an in-place update), whose shape must already be the
    broadcast shape. ``fn`` emits with lowerer ``k``. With a ``key`` (what fn computes, given the
    operand types) the loop nest is an out-of-line kernel shared by every identical use in the
    module: the caller's function stays small, and LLVM optimizes each kernel once.
    """
    arrays = [v for v, t in operands if isinstance(t, T.Array)]
    if out is None:
        shape = broadcast_shape(lw, [a.shape for a in arrays])
        out = alloc(lw, out_dtype, shape)
    else:
        shape = out.shape
        b = lw.b
        for a in arrays:
            for j in range(a.ndim):
                d = j + len(shape) - a.ndim
                if d < 0:
                    raise lw.unsupported("in-place update would change the array's rank")
                ok = b.or_(b.icmp_signed("==", a.shape[j], shape[d]), b.icmp_signed("==", a.shape[j], ONE))
                with lw.cold_if(b.xor(ok, ir.Constant(L.I1, 1))):
                    lw.fail("ValueError", "non-broadcastable operand for an in-place update (axis {}: {} into {})",
                            c64(d), a.shape[j], shape[d])
    stride_lists = [bstrides(lw, a, shape) for a in arrays] + [out.strides]
    if key is not None and shape:
        from .kernels import call_elementwise_kernel
        call_elementwise_kernel(lw, key, out_dtype, operands, fn, out, shape, stride_lists)
        return out
    emit_elementwise(lw, operands, fn, out, shape, stride_lists)
    return out


def emit_elementwise(lw, operands, fn, out, shape, stride_lists):
    def body(offs, idx):
        vals, k = [], 0
        for v, t in operands:
            if isinstance(t, T.Array):
                vals.append(load_at(lw, v, offs[k]))
                k += 1
            else:
                vals.append(v)
        store_at(lw, out, offs[-1], fn(lw, vals))
    strided_nest(lw, shape, stride_lists, body)


def dt(t):
    return T.dtype_of(t)


# ------------------------------------------------------------------------------ operators

def binop(lw, op, lv, lt, rv, rt, t):
    if isinstance(op, ast.MatMult):
        return matmul(lw, lv, lt, rv, rt, t)
    return map_elementwise(lw, t.dtype, [(lv, lt), (rv, rt)],
                           lambda k, v: S.binop(k, op, v[0], dt(lt), v[1], dt(rt), t.dtype),
                           key=("bin", type(op).__name__))


def compare(lw, op, lv, lt, rv, rt):
    return map_elementwise(lw, T.BOOL, [(lv, lt), (rv, rt)],
                           lambda k, v: S.compare(k, op, v[0], dt(lt), v[1], dt(rt)),
                           key=("cmp", type(op).__name__))


def unary(lw, f, v, t):
    """Elementwise np.<f> on an array; ``t`` the result type."""
    src = v.dtype

    def fn(k, vals):
        x = S.cast(k, vals[0], src, t.dtype) if f not in ("isnan", "isinf", "isfinite") else vals[0]
        return S.unary_math(k, f, x, t.dtype if f not in ("isnan", "isinf", "isfinite") else src)
    return map_elementwise(lw, t.dtype, [(v, v.type)], fn, key=("unary", f, lw.use_sincos))


def astype(lw, v, dtype):
    return map_elementwise(lw, dtype, [(v, v.type)], lambda k, vals: S.cast(k, vals[0], v.dtype, dtype),
                           key=("cast",))


def copy(lw, v):
    return map_elementwise(lw, v.dtype, [(v, v.type)], lambda k, vals: vals[0], key=("copy",))


def inplace(lw, op, cur, val, vt):
    ct = cur.type
    rt = T.promote(ct.dtype, False, dt(vt), False)
    map_elementwise(lw, ct.dtype, [(cur, ct), (val, vt)],
                    lambda k, v: S.cast(k, S.binop(k, op, v[0], ct.dtype, v[1], dt(vt), _arith(op, rt), acc=True),
                                        _arith(op, rt), ct.dtype), out=cur, key=("inplace", type(op).__name__))


def _arith(op, rt):
    if isinstance(op, ast.Div) and not rt.is_float:
        return T.F64
    return T.I64 if rt == T.BOOL else rt


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


# ------------------------------------------------------------------------------ products

def matmul(lw, lv, lt, rv, rt, t):
    b = lw.b
    if not isinstance(lt, T.Array) or not isinstance(rt, T.Array):
        return map_elementwise(lw, t.dtype, [(lv, lt), (rv, rt)],
                               lambda k, v: S.binop(k, ast.Mult(), v[0], dt(lt), v[1], dt(rt), t.dtype),
                               key=("bin", "Mult")) \
            if isinstance(t, T.Array) else S.binop(lw, ast.Mult(), lv, lt, rv, rt, t)
    od = T.dtype_of(t)
    flags = S.FAST_ACC

    def ld(a, off):
        return S.cast(lw, load_at(lw, a, off), a.dtype, od)

    def mul(x, y):
        return b.fmul(x, y, flags=flags) if od.is_float else b.mul(x, y)

    def add(x, y):
        return b.fadd(x, y, flags=flags) if od.is_float else b.add(x, y)
    kl = lv.shape[-1]
    kr = rv.shape[0]
    with lw.cold_if(b.icmp_signed("!=", kl, kr)):
        lw.fail("ValueError", "matmul: shapes not aligned: {} (last axis of the first operand) != {} "
                "(first axis of the second)", kl, kr)
    if lt.ndim == 1 and rt.ndim == 1:
        slot = lw.alloca(L.scalar_ll(od))
        b.store(S.const(od, 0), slot)
        lw.for_range(kl, lambda k: b.store(add(b.load(slot, typ=L.scalar_ll(od)),
                                               mul(ld(lv, b.mul(k, lv.strides[0])), ld(rv, b.mul(k, rv.strides[0])))),
                                           slot))
        return b.load(slot, typ=L.scalar_ll(od))
    if lt.ndim == 2 and rt.ndim == 1:
        out = alloc(lw, od, [lv.shape[0]])

        def row(i):
            slot = lw.alloca(L.scalar_ll(od))
            b.store(S.const(od, 0), slot)
            base = b.mul(i, lv.strides[0])
            lw.for_range(kl, lambda k: b.store(
                add(b.load(slot, typ=L.scalar_ll(od)),
                    mul(ld(lv, b.add(base, b.mul(k, lv.strides[1]))), ld(rv, b.mul(k, rv.strides[0])))), slot))
            store_at(lw, out, i, b.load(slot, typ=L.scalar_ll(od)))
        lw.for_range(lv.shape[0], row)
        return out
    if lt.ndim == 1 and rt.ndim == 2:
        n = rv.shape[1]
        out = full(lw, od, [n], S.const(od, 0))

        def krow(k):
            x = ld(lv, b.mul(k, lv.strides[0]))
            base = b.mul(k, rv.strides[0])
            lw.for_range(n, lambda j: store_at(lw, out, j, add(load_at(lw, out, j),
                                                               mul(x, ld(rv, b.add(base, b.mul(j, rv.strides[1])))))))
        lw.for_range(kl, krow)
        return out
    m, n = lv.shape[0], rv.shape[1]
    out = full(lw, od, [m, n], S.const(od, 0))
    if lw.m.blas_dgemm and od == T.F64 and lt.dtype == T.F64 and rt.dtype == T.F64:
        blas_or_loops(lw, lv, rv, out, m, n, kl, lambda: matmul_loops(lw, lv, rv, out, m, n, kl,
                                                                        ld, add, mul))
        return out
    matmul_loops(lw, lv, rv, out, m, n, kl, ld, add, mul)
    return out


def blas_or_loops(lw, lv, rv, out, m, n, k, loops):
    """C = A @ B through CBLAS dgemm when each operand has a unit stride on one axis (any
    transposed or sliced-by-rows view qualifies), else through ``loops()``."""
    b = lw.b
    i32 = ir.IntType(32)

    def layout(a, rows, cols):
        # row-major with leading dimension strides[0], or its transpose (column-major)
        plain = b.and_(b.icmp_signed("==", a.strides[1], ONE),
                       b.icmp_signed(">=", a.strides[0], b.select(b.icmp_signed(">", cols, ONE),
                                                                   cols, ONE)))
        flipped = b.and_(b.icmp_signed("==", a.strides[0], ONE),
                         b.icmp_signed(">=", a.strides[1], b.select(b.icmp_signed(">", rows, ONE),
                                                                     rows, ONE)))
        trans = b.select(plain, ir.Constant(i32, 111), ir.Constant(i32, 112))
        lead = b.select(plain, a.strides[0], a.strides[1])
        return b.or_(plain, flipped), trans, lead

    ok_a, trans_a, lda = layout(lv, m, k)
    ok_b, trans_b, ldb = layout(rv, k, n)
    ldc = b.select(b.icmp_signed(">", n, ONE), n, ONE)
    dbl = ir.DoubleType()
    gemm = lw.m.declare(lw.m.blas_dgemm, ir.VoidType(),
                           [i32, i32, i32, L.I64, L.I64, L.I64, dbl, L.PTR, L.I64, L.PTR, L.I64,
                            dbl, L.PTR, L.I64])
    with b.if_else(b.and_(ok_a, ok_b)) as (blas, fallback):
        with blas:
            b.call(gemm, [ir.Constant(i32, 101), trans_a, trans_b, m, n, k,
                          ir.Constant(dbl, 1.0), lv.data, lda, rv.data, ldb,
                          ir.Constant(dbl, 0.0), out.data, ldc])
        with fallback:
            loops()


def matmul_loops(lw, lv, rv, out, m, n, kl, ld, add, mul):
    b = lw.b

    def irow(i):
        obase = b.mul(i, n)

        def kk(k):
            x = ld(lv, b.add(b.mul(i, lv.strides[0]), b.mul(k, lv.strides[1])))
            base = b.mul(k, rv.strides[0])
            lw.for_range(n, lambda j: store_at(lw, out, b.add(obase, j), add(
                load_at(lw, out, b.add(obase, j)), mul(x, ld(rv, b.add(base, b.mul(j, rv.strides[1])))))))
        lw.for_range(kl, kk)
    lw.for_range(m, irow)


def outer(lw, av, at, bv, bt, t):
    if at.ndim != 1 or bt.ndim != 1:
        raise lw.unsupported("np.outer of arrays that are not 1-d")
    a2 = L.ArrayVal(T.Array(at.dtype, 2), av.data, [av.shape[0], ONE], [av.strides[0], ZERO])
    b2 = L.ArrayVal(T.Array(bt.dtype, 2), bv.data, [ONE, bv.shape[0]], [ZERO, bv.strides[0]])
    return map_elementwise(lw, t.dtype, [(a2, a2.type), (b2, b2.type)],
                           lambda k, v: S.binop(k, ast.Mult(), v[0], at.dtype, v[1], bt.dtype, t.dtype),
                           key=("bin", "Mult"))


# ------------------------------------------------------------------------------ numpy calls

def shape_values(lw, node):
    try:      # literal shapes stay constants (reshape needs to see a literal -1)
        cv = T.const_value(node, lw.ti.consts)
        return [c64(x) for x in (cv if isinstance(cv, tuple) else (cv,))]
    except Exception:
        pass
    t = lw.ti.type_of(node)
    v = lw.expr(node)
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
