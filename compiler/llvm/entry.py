"""The C-callable entry of a compiled function: unpack numpy arrays, run, hand results back.

    i32 entry(i64* out, i64* err, <args>)
Scalars arrive as double/float/i64/i8; arrays arrive as the ``PyArrayObject*`` itself (a ctypes
``py_object`` argument costs nothing to convert), and the entry reads data/dimensions/strides from
numpy's stable struct layout — so the Python side never touches ``arr.ctypes``. Results go to
8-byte slots of ``out``; an array result is copied into one malloc'd C-contiguous block that the
wrapper adopts. The call's arena of temporaries is released here on every path.
"""
from llvmlite import ir

from .. import typing as T
from . import types as L
from .lower import FunctionLowerer

# numpy's PyArrayObject_fields (stable ABI): PyObject_HEAD (16 bytes), data, nd, dimensions, strides
ARR_DATA, ARR_DIMS, ARR_STRIDES = 16, 32, 40


def c_arg_ll(t):
    if isinstance(t, T.Scalar):
        return [L.I8 if t == T.BOOL else L.scalar_ll(t)]
    if isinstance(t, T.Array):
        return [L.PTR]
    if isinstance(t, T.Tuple):
        return [x for it in t.items for x in c_arg_ll(it)]
    raise TypeError(t)


def out_slots(t):
    """Layout of a result in 8-byte slots: list of (kind, dtype/ndim) leaves."""
    if t == T.NONE:
        return []
    if isinstance(t, T.Scalar):
        return [("scalar", t)]
    if isinstance(t, T.Array):
        return [("array", t)]
    if isinstance(t, T.Tuple):
        return [leaf for it in t.items for leaf in out_slots(it)]
    raise TypeError(t)


class _Emitter:
    """Just enough of FunctionLowerer (builder, function, loops, failure) for the entry."""
    for_range = FunctionLowerer.for_range
    loop_nest = FunctionLowerer.loop_nest

    def __init__(self, fn, b, mctx):
        self.fn, self.b, self.m = fn, b, mctx


def build_entry(mctx, body, ti, name):
    fnty = ir.FunctionType(L.I32, [L.PTR, L.PTR] + [x for t in ti.arg_types for x in c_arg_ll(t)])
    fn = ir.Function(mctx.module, fnty, name)
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    em = _Emitter(fn, b, mctx)
    out, err = fn.args[0], fn.args[1]
    ctx = L.alloca(b, L.CTX_STRUCT)
    b.store(ir.Constant(L.CTX_STRUCT, None), ctx)
    args = iter(fn.args[2:])
    flat = []

    def take(t):
        if isinstance(t, T.Scalar):
            v = next(args)
            flat.append(b.icmp_unsigned("!=", v, ir.Constant(L.I8, 0)) if t == T.BOOL else v)
        elif isinstance(t, T.Array):
            p = next(args)

            def field(off):
                return b.load(b.gep(p, [ir.Constant(L.I64, off)], source_etype=L.I8), typ=L.PTR)
            data, dims, strides = field(ARR_DATA), field(ARR_DIMS), field(ARR_STRIDES)
            shift = ir.Constant(L.I64, {1: 0, 4: 2, 8: 3}[L.itemsize(t.dtype)])
            flat.append(data)
            flat.extend(b.load(b.gep(dims, [ir.Constant(L.I64, k)], source_etype=L.I64), typ=L.I64)
                        for k in range(t.ndim))
            flat.extend(b.ashr(b.load(b.gep(strides, [ir.Constant(L.I64, k)], source_etype=L.I64), typ=L.I64),
                               shift) for k in range(t.ndim))
        else:
            for it in t.items:
                take(it)
    for t in ti.arg_types:
        take(t)
    rt = ti.ret
    slot = L.alloca(b, L.ll_type(rt))
    st = b.call(body, [slot, ctx] + flat)
    status = b.alloca(L.I32)
    b.store(st, status)
    ok = b.icmp_signed("==", st, ir.Constant(L.I32, 0))
    with b.if_then(ok):
        res = L.unpack(b, rt, b.load(slot, typ=L.ll_type(rt)))
        leaves = []

        def collect(t, v):
            if isinstance(t, T.Tuple):
                for it, iv in zip(t.items, v.items):
                    collect(it, iv)
            elif t != T.NONE:
                leaves.append((t, v))
        collect(rt, res)
        k = 0
        for t, v in leaves:
            if isinstance(t, T.Scalar):
                v = {"float64": lambda: v, "float32": lambda: b.fpext(v, L.F64),
                     "int64": lambda: v, "bool": lambda: b.zext(v, L.I64)}[t.name]()
                b.store(v, b.gep(out, [ir.Constant(L.I64, k)], source_etype=L.I64))
                k += 1
            else:
                _emit_array_result(em, out, err, status, k, v)
                k += 1 + t.ndim
    # error record and arena release happen on every path
    for j in range(4):
        src = b.gep(ctx, [ir.Constant(L.I32, 0), ir.Constant(L.I32, j + 1)], source_etype=L.CTX_STRUCT)
        dst = b.gep(err, [ir.Constant(L.I64, j)], source_etype=L.I64)
        with b.if_then(b.icmp_signed("!=", b.load(status, typ=L.I32), ir.Constant(L.I32, 0))):
            b.store(b.load(src, typ=L.I64), dst)
    b.call(mctx.arena_free(), [ctx])
    b.ret(b.load(status, typ=L.I32))
    return fn


def _emit_array_result(em, out, err, status, k, a):
    """Copy array ``a`` into a malloc'd C-contiguous block; store pointer and shape in slots."""
    from . import arrays as A
    b = em.b
    mctx = em.m
    n = A.size_of(em, a.shape)
    isz = L.itemsize(a.dtype)
    nbytes = b.mul(n, ir.Constant(L.I64, isz))
    blk = b.call(mctx.malloc(), [b.add(nbytes, ir.Constant(L.I64, 8))])
    is_null = b.icmp_unsigned("==", blk, ir.Constant(L.PTR, None))
    with b.if_else(is_null) as (then, otherwise):
        with then:
            mid = mctx.message("MemoryError", "out of memory allocating the result ({} bytes)")
            b.store(ir.Constant(L.I64, mid), b.gep(err, [ir.Constant(L.I64, 0)], source_etype=L.I64))
            b.store(nbytes, b.gep(err, [ir.Constant(L.I64, 1)], source_etype=L.I64))
            b.store(ir.Constant(L.I32, 1), status)
        with otherwise:
            dst = L.ArrayVal(a.type, blk, a.shape, _c_strides(b, a.shape))
            A.strided_nest(em, a.shape, [a.strides, dst.strides],
                           lambda offs, idx: b.store(b.load(A.elem_ptr(em, a, offs[0]), typ=L.elem_ll(a.dtype)),
                                                     A.elem_ptr(em, dst, offs[1])))
    b.store(blk, b.gep(out, [ir.Constant(L.I64, k)], source_etype=L.I64))
    for d in range(a.ndim):
        b.store(a.shape[d], b.gep(out, [ir.Constant(L.I64, k + 1 + d)], source_etype=L.I64))


def _c_strides(b, shape):
    strides = [None] * len(shape)
    s = ir.Constant(L.I64, 1)
    for k in range(len(shape) - 1, -1, -1):
        strides[k] = s
        s = b.mul(s, shape[k])
    return strides
