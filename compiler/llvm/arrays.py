"""Array lowering: elements, allocation, loop nests, elementwise operations with broadcasting.

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
    return L.ArrayVal(T.Array(dtype, len(shape)), data, shape, c_strides(b, shape))


def c_strides(b, shape):
    """Element strides of a C-contiguous array of extents ``shape``."""
    strides, s = [None] * len(shape), ONE
    for k in range(len(shape) - 1, -1, -1):
        strides[k] = s
        s = b.mul(s, shape[k])
    return strides


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


def emit_elementwise(lw, operands, fn, out, shape, stride_lists, after=None):
    """The loop nest of map_elementwise. ``after(k, arrays, offsets, value)``, if given, runs
    per element after the store, with the array operands and their element offsets (fusion.py
    uses it for a second output or a running column sum in the same loop)."""
    def body(offs, idx):
        vals, k = [], 0
        for v, t in operands:
            if isinstance(t, T.Array):
                vals.append(load_at(lw, v, offs[k]))
                k += 1
            else:
                vals.append(v)
        r = fn(lw, vals)
        store_at(lw, out, offs[-1], r)
        if after is not None:
            after(lw, [v for v, t in operands if isinstance(t, T.Array)], offs, r)
    strided_nest(lw, shape, stride_lists, body)


def dt(t):
    return T.dtype_of(t)


# ------------------------------------------------------------------------------ operators

def binop(lw, op, lv, lt, rv, rt, t):
    if isinstance(op, ast.MatMult):
        from .products import matmul   # products builds on this module
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
