"""The C-callable entry of a compiled function: unpack numpy arrays, run, build the Python result.

    PyObject* entry(<args>)        (ctypes PYFUNCTYPE with restype py_object: called with the GIL)
The body runs with the GIL released (releases_gil) unless it calls Python (print).
Scalars arrive as double/float/i64/i8; arrays arrive as the ``PyArrayObject*`` itself (a ctypes
``py_object`` argument costs nothing to convert) and the entry reads data/dimensions/strides/flags
from numpy's stable struct layout, so Python never touches ``arr.ctypes``. The result object is
built here: floats/ints/bools/tuples through the CPython API, arrays through numpy's PyArray_New.
A result array that is exactly one arena block is adopted without a copy (a capsule frees the
block when numpy releases the array). Errors become Python exceptions via PyErr_Format (NULL
return). The call's arena of temporaries is released on every path.
"""
from llvmlite import ir

from .. import typing as T
from . import types as L
from .errors import emit_message_switch
from .lower import FunctionLowerer
from .module import PyAPI

# numpy's PyArrayObject_fields (stable ABI): PyObject_HEAD (16 bytes), data, nd, dimensions, strides,
# base, descr, flags
ARR_DATA, ARR_DIMS, ARR_STRIDES, ARR_FLAGS = 16, 32, 40, 64
NPY_C_CONTIGUOUS = 0x1
NPY_CARRAY = 0x1 | 0x100 | 0x400          # C-contiguous | aligned | writeable
TYPENUM = {"float64": 12, "float32": 11, "int64": 7, "bool": 0}


def c_arg_ll(t):
    if isinstance(t, T.Scalar):
        return [L.I8 if t == T.BOOL else L.scalar_ll(t)]
    if isinstance(t, T.Array):
        return [L.PTR]
    if isinstance(t, T.Tuple):
        return [x for it in t.items for x in c_arg_ll(it)]
    raise TypeError(t)


class _Emitter:
    """Just enough of FunctionLowerer (builder, function, loops) for the entry."""
    for_range = FunctionLowerer.for_range
    loop_nest = FunctionLowerer.loop_nest

    def __init__(self, fn, b, mctx):
        self.fn, self.b, self.m = fn, b, mctx


def _c(v, ty=L.I64):
    return ir.Constant(ty, v)


def build_entry(mctx, body, ti, name, contig_body=None):
    fnty = ir.FunctionType(L.PTR, [x for t in ti.arg_types for x in c_arg_ll(t)])
    fn = ir.Function(mctx.module, fnty, name)
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    em = _Emitter(fn, b, mctx)
    api = PyAPI(mctx)
    ctx = L.alloca(b, L.CTX_STRUCT)
    b.store(ir.Constant(L.CTX_STRUCT, None), ctx)
    result = L.alloca(b, L.PTR)
    b.store(ir.Constant(L.PTR, None), result)
    args = iter(fn.args)
    flat, contig = [], []

    def take(t):
        if isinstance(t, T.Scalar):
            v = next(args)
            flat.append(b.icmp_unsigned("!=", v, ir.Constant(L.I8, 0)) if t == T.BOOL else v)
        elif isinstance(t, T.Array):
            p = next(args)

            def field(off, ty=L.PTR):
                return b.load(b.gep(p, [_c(off)], source_etype=L.I8), typ=ty)
            data, dims, strides = field(ARR_DATA), field(ARR_DIMS), field(ARR_STRIDES)
            if t.ndim:
                flags = field(ARR_FLAGS, L.I32)
                contig.append(b.icmp_unsigned("!=", b.and_(flags, _c(NPY_C_CONTIGUOUS, L.I32)), _c(0, L.I32)))
            shift = _c({1: 0, 4: 2, 8: 3}[L.itemsize(t.dtype)])
            flat.append(data)
            flat.extend(b.load(b.gep(dims, [_c(k)], source_etype=L.I64), typ=L.I64) for k in range(t.ndim))
            # byte strides -> element strides (numpy strides of aligned arrays are multiples)
            flat.extend(b.ashr(b.load(b.gep(strides, [_c(k)], source_etype=L.I64), typ=L.I64), shift)
                        for k in range(t.ndim))
        else:
            for it in t.items:
                take(it)
    for t in ti.arg_types:
        take(t)
    rt = ti.ret
    slot = L.alloca(b, L.ll_type(rt))
    release = releases_gil(mctx, ti)
    if release:         # the body touches no Python object: other threads run meanwhile
        tstate = b.call(api.fn("PyEval_SaveThread", L.PTR, []), [])
    if contig_body is not None and contig:
        # all array arguments C-contiguous: the version compiled with unit inner strides
        allc = contig[0]
        for c in contig[1:]:
            allc = b.and_(allc, c)
        with b.if_else(allc) as (then, otherwise):
            with then:
                st1 = b.call(contig_body, [slot, ctx] + flat)
                bb1 = b.block
            with otherwise:
                st2 = b.call(body, [slot, ctx] + flat)
                bb2 = b.block
        st = b.phi(L.I32)
        st.add_incoming(st1, bb1)
        st.add_incoming(st2, bb2)
    else:
        st = b.call(body, [slot, ctx] + flat)
    if release:
        b.call(api.fn("PyEval_RestoreThread", L.VOID, [L.PTR]), [tstate])
    ok = b.icmp_signed("==", st, _c(0, L.I32))
    with b.if_else(ok) as (then, otherwise):
        with then:
            res = L.unpack(b, rt, b.load(slot, typ=L.ll_type(rt)))
            b.store(_box(em, api, ctx, rt, res), result)
        with otherwise:
            _raise_recorded(em, api, ctx)
    b.call(mctx.arena_free(), [ctx])
    b.ret(b.load(result, typ=L.PTR))
    return fn


def releases_gil(mctx, ti):
    """Whether the entry drops the GIL around the body: never when the body calls Python
    (print); only when it has loops or arrays, so that a call of a few nanoseconds does not
    pay for the release (~40 ns)."""
    import ast
    if getattr(mctx, "calls_python", False):
        return False
    fdefs = [ti.fdef] + list(mctx.mfuncs.values())
    return (any(isinstance(n, (ast.For, ast.While)) for f in fdefs for n in ast.walk(f))
            or any(isinstance(t, T.Array) for t in list(ti.names.values()) + list(ti.arg_types)))


def _box(em, api, ctx, t, v, adopt=True):
    """A new reference to the Python object for value ``v`` of type ``t`` (NULL on failure)."""
    b = em.b
    if t == T.NONE:
        none = api.object_address("_Py_NoneStruct")
        b.call(api.fn("Py_IncRef", L.VOID, [L.PTR]), [none])
        return none
    if isinstance(t, T.Scalar):
        if t.is_float:
            x = v if t == T.F64 else b.fpext(v, L.F64)
            return b.call(api.fn("PyFloat_FromDouble", L.PTR, [L.F64]), [x])
        if t == T.I64:
            return b.call(api.fn("PyLong_FromLongLong", L.PTR, [L.I64]), [v])
        return b.call(api.fn("PyBool_FromLong", L.PTR, [L.I64]), [b.zext(v, L.I64)])
    if isinstance(t, T.Array):
        return _box_array(em, api, ctx, v, adopt)
    # tuple: build items, then the tuple (PyTuple_SetItem steals each item)
    items = [_box(em, api, ctx, it, iv, adopt) for it, iv in zip(t.items, v.items)]
    tup = b.call(api.fn("PyTuple_New", L.PTR, [L.I64]), [_c(len(items))])
    bad = b.icmp_unsigned("==", tup, ir.Constant(L.PTR, None))
    for it in items:
        bad = b.or_(bad, b.icmp_unsigned("==", it, ir.Constant(L.PTR, None)))
    out = L.alloca(b, L.PTR)
    with b.if_else(bad) as (then, otherwise):
        with then:
            dec = api.fn("Py_DecRef", L.VOID, [L.PTR])
            for o in items + [tup]:
                with b.if_then(b.icmp_unsigned("!=", o, ir.Constant(L.PTR, None))):
                    b.call(dec, [o])
            b.store(ir.Constant(L.PTR, None), out)
        with otherwise:
            setitem = api.fn("PyTuple_SetItem", L.I32, [L.PTR, L.I64, L.PTR])
            for k, o in enumerate(items):
                b.call(setitem, [tup, _c(k), o])
            b.store(tup, out)
    return b.load(out, typ=L.PTR)


def _box_array(em, api, ctx, a, adopt=True):
    from . import arrays as A
    from .indexing import is_c_contiguous
    b = em.b
    mctx = em.m
    nd = a.ndim
    dims = L.alloca(b, ir.ArrayType(L.I64, max(nd, 1)))
    for k in range(nd):
        b.store(a.shape[k], b.gep(dims, [_c(0), _c(k)], source_etype=ir.ArrayType(L.I64, max(nd, 1))))
    n = A.size_of(em, a.shape)
    nbytes = b.mul(n, _c(L.itemsize(a.dtype)))
    new = api.np_fn("PyArray_New", L.PTR, [L.PTR, L.I32, L.PTR, L.I32, L.PTR, L.PTR, L.I32, L.I32, L.PTR])
    atype = api.np_object("PyArray_Type")
    typenum = _c(TYPENUM[a.dtype.name], L.I32)
    null = ir.Constant(L.PTR, None)
    out = L.alloca(b, L.PTR)
    # adopt the arena block when the result is exactly one fresh contiguous block
    if adopt:
        blk = b.select(is_c_contiguous(em, a), b.call(mctx.arena_adopt(), [ctx, a.data, nbytes]), null)
    else:       # the code goes on using the memory: always copy
        blk = null
    with b.if_else(b.icmp_unsigned("!=", blk, null)) as (then, otherwise):
        with then:
            obj = b.call(new, [atype, _c(nd, L.I32), dims, typenum, null, a.data, _c(0, L.I32),
                               _c(NPY_CARRAY, L.I32), null])
            b.store(obj, out)
            with b.if_else(b.icmp_unsigned("==", obj, null)) as (failed, made):
                with failed:
                    b.call(mctx.free(), [blk])
                with made:
                    # the capsule owns the block: the array's base, freeing it with the array
                    cap = b.call(api.fn("PyCapsule_New", L.PTR, [L.PTR, L.PTR, L.PTR]),
                                 [blk, null, api.capsule_free()])
                    decref = api.fn("Py_DecRef", L.VOID, [L.PTR])
                    with b.if_else(b.icmp_unsigned("==", cap, null), likely=False) as (no_cap, capped):
                        with no_cap:        # the array does not own its data: drop it, then the block
                            b.call(decref, [obj])
                            b.call(mctx.free(), [blk])
                            b.store(null, out)
                        with capped:
                            # SetBaseObject consumes the capsule even when it fails (freeing the block)
                            st = b.call(api.np_fn("PyArray_SetBaseObject", L.I32, [L.PTR, L.PTR]), [obj, cap])
                            with b.if_then(b.icmp_signed("!=", st, _c(0, L.I32)), likely=False):
                                b.call(decref, [obj])
                                b.store(null, out)
        with otherwise:
            obj = b.call(new, [atype, _c(nd, L.I32), dims, typenum, null, null, _c(0, L.I32),
                               _c(0, L.I32), null])
            with b.if_then(b.icmp_unsigned("!=", obj, null)):
                data = b.load(b.gep(obj, [_c(ARR_DATA)], source_etype=L.I8), typ=L.PTR)
                dst = L.ArrayVal(a.type, data, a.shape, _c_strides(b, a.shape))
                A.strided_nest(em, a.shape, [a.strides, dst.strides],
                               lambda offs, idx: b.store(b.load(A.elem_ptr(em, a, offs[0]),
                                                                typ=L.elem_ll(a.dtype)),
                                                         A.elem_ptr(em, dst, offs[1])))
            b.store(obj, out)
    return b.load(out, typ=L.PTR)


def _raise_recorded(em, api, ctx):
    """Turn the error record (message id, three integers) into a Python exception."""
    b = em.b
    fmt_fn = api.fn("PyErr_Format", L.PTR, [L.PTR, L.PTR], var_arg=True)

    def raise_(exc, cformat, x, y, z):
        s = api.cstring(cformat)
        excp = b.load(api.global_ptr("PyExc_" + exc), typ=L.PTR)
        b.call(fmt_fn, [excp, b.gep(s, [_c(0), _c(0)], source_etype=s.value_type), x, y, z])
    emit_message_switch(b, em.fn, em.m, ctx, raise_)


def _c_strides(b, shape):
    strides = [None] * len(shape)
    s = ir.Constant(L.I64, 1)
    for k in range(len(shape) - 1, -1, -1):
        strides[k] = s
        s = b.mul(s, shape[k])
    return strides
