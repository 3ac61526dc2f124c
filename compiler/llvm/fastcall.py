"""A METH_FASTCALL builtin in front of the entry: the Python call goes straight to native code.

    PyObject* fast(PyObject* self, PyObject* const* args, Py_ssize_t nargs)

It checks each argument natively on the common path only (exact float/int/bool objects; exact
ndarrays with the compiled dtype, native byte order, ndim and alignment) and then calls the entry.
Anything else (wrong count, numpy scalars, wrong dtype, ...) is passed unchanged to the Python
checking wrapper, which converts or raises the precise TypeError, so behaviour is identical and
only the overhead differs (~0.1 us instead of ~0.5 us through ctypes).
"""
import ctypes

from llvmlite import ir

from .. import typing as T
from . import types as L
from .module import PyAPI

# numpy 2 PyArray_Descr: PyObject_HEAD, typeobj, kind, type, byteorder, flags(char), type_num(int)
DESCR_BYTEORDER, DESCR_TYPE_NUM = 26, 28
ARR_ND, ARR_DESCR, ARR_FLAGS = 24, 56, 64
NPY_ALIGNED = 0x100
NPY_WRITEABLE = 0x400
FLOAT_VAL = 16          # PyFloatObject: PyObject_HEAD then double ob_fval
METH_FASTCALL = 0x80


def supported(ti):
    return all(isinstance(t, (T.Scalar, T.Array)) for t in ti.arg_types)


def build_fastcall(mctx, entry_fn, ti, name):
    from .entry import TYPENUM
    api = PyAPI(mctx)
    fn = ir.Function(mctx.module, ir.FunctionType(L.PTR, [L.PTR, L.PTR, L.I64]), name)
    _, argv, nargs = fn.args
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    slow = fn.append_basic_block("slow")
    fallback = ir.GlobalVariable(mctx.module, L.PTR, name + ".fallback")
    fallback.initializer = ir.Constant(L.PTR, None)
    fallback.type = L.PTR

    def bail_if(cond):
        ok = fn.append_basic_block("ok")
        b.cbranch(cond, slow, ok).set_weights([1, 1000])
        b.position_at_end(ok)

    def ld(p, off, ty):
        return b.load(b.gep(p, [ir.Constant(L.I64, off)], source_etype=L.I8), typ=ty)

    bail_if(b.icmp_signed("!=", nargs, ir.Constant(L.I64, len(ti.arg_types))))
    float_t = api.object_address("PyFloat_Type")
    long_t = api.object_address("PyLong_Type")
    true_o = api.object_address("_Py_TrueStruct")
    false_o = api.object_address("_Py_FalseStruct")
    arr_t = api.np_object("PyArray_Type")
    cargs = []
    for k, t in enumerate(ti.arg_types):
        o = b.load(b.gep(argv, [ir.Constant(L.I64, k)], source_etype=L.PTR), typ=L.PTR)
        typ = ld(o, 8, L.PTR)
        if t == T.F64 or t == T.F32:
            bail_if(b.icmp_unsigned("!=", typ, float_t))
            v = ld(o, FLOAT_VAL, L.F64)
            cargs.append(v if t == T.F64 else b.fptrunc(v, L.F32))
        elif t == T.I64:
            bail_if(b.icmp_unsigned("!=", typ, long_t))
            v = b.call(api.fn("PyLong_AsLongLong", L.I64, [L.PTR]), [o])
            # -1 may be an overflow error: let the Python path report it
            err = b.and_(b.icmp_signed("==", v, ir.Constant(L.I64, -1)),
                         b.icmp_unsigned("!=", b.call(api.fn("PyErr_Occurred", L.PTR, []), []),
                                         ir.Constant(L.PTR, None)))
            with b.if_then(err):
                b.call(api.fn("PyErr_Clear", L.VOID, []), [])
            bail_if(err)
            cargs.append(v)
        elif t == T.BOOL:
            is_t = b.icmp_unsigned("==", o, true_o)
            bail_if(b.and_(b.xor(is_t, ir.Constant(L.I1, 1)), b.icmp_unsigned("!=", o, false_o)))
            cargs.append(b.zext(is_t, L.I8))
        else:
            bail_if(b.icmp_unsigned("!=", typ, arr_t))
            descr = ld(o, ARR_DESCR, L.PTR)
            bad = b.icmp_signed("!=", ld(descr, DESCR_TYPE_NUM, L.I32), ir.Constant(L.I32, TYPENUM[t.dtype.name]))
            bad = b.or_(bad, b.icmp_unsigned("==", ld(descr, DESCR_BYTEORDER, L.I8), ir.Constant(L.I8, ord(">"))))
            bad = b.or_(bad, b.icmp_signed("!=", ld(o, ARR_ND, L.I32), ir.Constant(L.I32, t.ndim)))
            flags = ld(o, ARR_FLAGS, L.I32)
            need = NPY_ALIGNED | (NPY_WRITEABLE if ti.params[k] in ti.written_params else 0)
            bad = b.or_(bad, b.icmp_unsigned("!=", b.and_(flags, ir.Constant(L.I32, need)),
                                              ir.Constant(L.I32, need)))
            bail_if(bad)
            cargs.append(o)
    b.ret(b.call(entry_fn, cargs))
    b.position_at_end(slow)
    vc = api.fn("PyObject_Vectorcall", L.PTR, [L.PTR, L.PTR, L.I64, L.PTR])
    b.ret(b.call(vc, [b.load(fallback, typ=L.PTR), argv, nargs, ir.Constant(L.PTR, None)]))
    return fn, fallback.name


class _MethodDef(ctypes.Structure):
    _fields_ = [("ml_name", ctypes.c_char_p), ("ml_meth", ctypes.c_void_p),
                ("ml_flags", ctypes.c_int), ("ml_doc", ctypes.c_char_p)]


_new_cfunction = ctypes.pythonapi.PyCFunction_NewEx
_new_cfunction.restype = ctypes.py_object
_new_cfunction.argtypes = [ctypes.c_void_p, ctypes.py_object, ctypes.py_object]


def make_builtin(name, address, fallback_slot_address, fallback):
    """A builtin function object calling ``address``; returns (builtin, keepalive)."""
    # the native code reads the fallback wrapper from its global: point it at the Python wrapper
    ctypes.c_void_p.from_address(fallback_slot_address).value = id(fallback)
    mdef = _MethodDef(name.encode(), address, METH_FASTCALL, None)
    keep = [mdef, fallback]
    # the builtin's self (which the native entry ignores) keeps the method table, the fallback
    # and, once compile adds it, the engine owning the code alive for as long as the builtin
    fobj = _new_cfunction(ctypes.addressof(mdef), keep, None)
    return fobj, keep
