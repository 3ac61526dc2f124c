"""Lowering of calls: save stacks, functions of the same module, math/numpy/builtins, rule helpers."""
import ast

from llvmlite import ir

from .. import typing as T
from . import types as L
from . import scalars as S
from . import array_stacks


def call(lw, node, t):
    name = T.call_name(node.func)
    if name is None and isinstance(node.func, ast.Attribute):
        attr = node.func.attr
        if attr in ("push", "append", "pop") or attr in ("copy", "extend") and \
                isinstance(node.func.value, ast.Name) and \
                lw.ti.names.get(node.func.value.id) == T.STACK:
            return stack_op(lw, node, attr)
        from .np_calls import np_call
        return np_call(lw, attr, [node.func.value] + list(node.args), node, t, method=True)
    if name in lw.m.mfuncs and name not in lw.ti.names:
        return module_call(lw, name, node, t)
    if name.startswith("np."):
        from .np_calls import np_call
        return np_call(lw, name[3:], list(node.args), node, t)
    if name.startswith("math."):
        return math_call(lw, name[5:], node, t)
    return builtin_call(lw, name, node, t)


# ------------------------------------------------------------------------------- save stacks

def stack_op(lw, node, op):
    b = lw.b
    sname = node.func.value.id
    et = lw.ti.stack_elems[sname]
    ell = L.ll_type(et)
    st = lw.slots[sname]
    datap = b.gep(st, [ir.Constant(L.I32, 0), ir.Constant(L.I32, 0)], source_etype=L.STACK_STRUCT)
    lenp = b.gep(st, [ir.Constant(L.I32, 0), ir.Constant(L.I32, 1)], source_etype=L.STACK_STRUCT)
    capp = b.gep(st, [ir.Constant(L.I32, 0), ir.Constant(L.I32, 2)], source_etype=L.STACK_STRUCT)
    n = b.load(lenp, typ=L.I64)
    if op == "copy":     # the replay's saved stack: its length (typing.stack_call)
        return n
    if op == "extend":   # back to that length: the values above the top are still there
        b.store(lw.expr(node.args[0]), lenp)
        return None
    if op == "pop":
        with lw.cold_if(b.icmp_signed("<=", n, ir.Constant(L.I64, 0))):
            lw.fail("IndexError", f"pop from empty Stack '{sname}'")
        if array_stacks.holds_arrays(et):
            return array_stacks.pop(lw, sname, et, n)
        n1 = b.sub(n, ir.Constant(L.I64, 1))
        b.store(n1, lenp)
        p = b.gep(b.load(datap, typ=L.PTR), [n1], source_etype=ell, inbounds=True)
        return L.unpack(b, et, b.load(p, typ=ell))
    arg = node.args[0]
    if array_stacks.holds_arrays(et) and isinstance(arg, ast.Call) and \
            T.call_name(arg.func) == "np.copy":
        arg = arg.args[0]   # the push copies the elements already
    v = lw.expr(arg)
    vt = lw.ti.type_of(arg)
    v = lw.convert(v, vt, et)
    if array_stacks.holds_arrays(et):
        array_stacks.push(lw, sname, et, v, _ensure_capacity)
        return None
    if id(node) not in lw.unchecked_pushes:
        _ensure_capacity(lw, sname, b.add(n, ir.Constant(L.I64, 1)))
    p = b.gep(b.load(datap, typ=L.PTR), [n], source_etype=ell, inbounds=True)
    b.store(L.pack(b, et, v), p)
    b.store(b.add(n, ir.Constant(L.I64, 1)), lenp)
    return None


def _ensure_capacity(lw, sname, need, unit=None):
    """Grow stack ``sname`` (doubling, at least to ``need`` slots of ``unit`` bytes: by default
    its element's) when it is too small."""
    b = lw.b
    et = lw.ti.stack_elems[sname]
    unit = _sizeof(et) if unit is None else unit
    st = lw.slots[sname]
    datap = b.gep(st, [ir.Constant(L.I32, 0), ir.Constant(L.I32, 0)], source_etype=L.STACK_STRUCT)
    capp = b.gep(st, [ir.Constant(L.I32, 0), ir.Constant(L.I32, 2)], source_etype=L.STACK_STRUCT)
    with lw.cold_if(b.icmp_signed(">", need, b.load(capp, typ=L.I64))):
        cap = b.load(capp, typ=L.I64)
        newcap = b.select(b.icmp_signed("<", cap, ir.Constant(L.I64, 64)), ir.Constant(L.I64, 128),
                          b.mul(cap, ir.Constant(L.I64, 2)))
        newcap = b.select(b.icmp_signed("<", newcap, need), need, newcap)
        new = b.call(lw.m.stack_grow(), [b.load(datap, typ=L.PTR),
                                         b.mul(newcap, ir.Constant(L.I64, unit))])
        with lw.cold_if(b.icmp_unsigned("==", new, ir.Constant(L.PTR, None))):
            lw.fail("MemoryError", f"out of memory growing Stack '{sname}'")
        b.store(new, datap)
        b.store(newcap, capp)


def reserve_stack(lw, sname, extra):
    b = lw.b
    st = lw.slots[sname]
    lenp = b.gep(st, [ir.Constant(L.I32, 0), ir.Constant(L.I32, 1)], source_etype=L.STACK_STRUCT)
    _ensure_capacity(lw, sname, b.add(b.load(lenp, typ=L.I64), extra))


def _sizeof(t):
    """Bytes per stack slot: a scalar's own size (a bool's 1: branch-decision stacks are
    often the longest), else generous (8 per field, which covers alignment)."""
    if isinstance(t, T.Scalar):
        return L.itemsize(t)
    if isinstance(t, T.Array):
        return 8 * (1 + 2 * t.ndim)
    if isinstance(t, T.Tuple):
        return sum(_sizeof(x) for x in t.items) + 8
    return 8


# ------------------------------------------------------------------------- module functions

def module_call(lw, name, node, t):
    from .compile import lower_callee
    b = lw.b
    ats = tuple(lw.ti.type_of(a) for a in node.args)
    callee = lower_callee(lw.m, name, ats)
    args = []
    for a, at in zip(node.args, ats):
        args += L.flatten(at, lw.expr(a))
    rt = callee.ti.ret
    slot = lw.alloca(L.ll_type(rt))
    st = b.call(callee.fn, [slot, lw.ctx] + args)
    lw.check_status(st)
    return L.unpack(b, rt, b.load(slot, typ=L.ll_type(rt)))


# ----------------------------------------------------------------------------- math/builtins

def _args(lw, node):
    return [(lw.expr(a), lw.ti.type_of(a)) for a in node.args]


def math_call(lw, f, node, t):
    args = _args(lw, node)
    if f in ("isnan", "isinf", "isfinite"):
        v, vt = args[0]
        return S.unary_math(lw, f, S.cast(lw, v, vt, T.F64), T.F64)
    if f in ("floor", "ceil", "trunc"):
        v, vt = args[0]
        r = S.unary_math(lw, f, S.cast(lw, v, vt, T.F64), T.F64)
        return S.cast(lw, r, T.F64, T.I64)
    vals = [S.cast(lw, v, vt, T.F64) for v, vt in args]
    if len(vals) == 1:
        return S.unary_math(lw, f, vals[0], T.F64)
    return S.binary_math(lw, f, vals[0], vals[1], T.F64)


def builtin_call(lw, f, node, t):
    if f == "print":
        return print_call(lw, node)
    args = _args(lw, node)
    if f == "abs":
        v, vt = args[0]
        if isinstance(vt, T.Array):
            from . import arrays as A
            return A.unary(lw, "abs", v, t)
        return S.unary_math(lw, "abs", S.cast(lw, v, vt, t), t)
    if f in ("min", "max"):
        (a, at), (bv, bt) = args
        return S.binary_math(lw, f, S.cast(lw, a, at, t), S.cast(lw, bv, bt, t), t)
    if f in ("float", "int", "bool"):
        v, vt = args[0]
        return S.cast(lw, v, vt, t)
    if f == "len":
        v, vt = args[0]
        if isinstance(vt, T.Tuple):
            return ir.Constant(L.I64, len(vt.items))
        if vt.ndim == 0:
            raise lw.unsupported("len() of a 0-d array")
        return v.shape[0]
    from .rule_helpers import helper_call
    return helper_call(lw, f, node, args, t)


# ----------------------------------------------------------------------------------- print

def print_call(lw, node):
    """print(...) through Python's own print (the GIL is held during native calls), so output
    interleaves correctly with Python's. Arrays are shown through temporary numpy views."""
    from .entry import _box, TYPENUM
    from .module import PyAPI, register_object
    b = lw.b
    api = PyAPI(lw.m)
    lw.m.calls_python = True        # the entry keeps the GIL for this body
    null = ir.Constant(L.PTR, None)
    objs = []
    for a in node.args:
        if isinstance(a, ast.Constant) and isinstance(a.value, str):
            s = api.cstring(a.value)
            objs.append(b.call(api.fn("PyUnicode_FromString", L.PTR, [L.PTR]),
                               [b.gep(s, [ir.Constant(L.I64, 0), ir.Constant(L.I64, 0)], source_etype=s.value_type)]))
            continue
        v, vt = lw.expr(a), lw.ti.type_of(a)
        if isinstance(vt, T.Array):
            nd = vt.ndim
            at = ir.ArrayType(L.I64, max(nd, 1))
            dims, strides = lw.alloca(at), lw.alloca(at)
            for k in range(nd):
                b.store(v.shape[k], b.gep(dims, [ir.Constant(L.I64, 0), ir.Constant(L.I64, k)], source_etype=at))
                b.store(b.mul(v.strides[k], ir.Constant(L.I64, L.itemsize(vt.dtype))),
                        b.gep(strides, [ir.Constant(L.I64, 0), ir.Constant(L.I64, k)], source_etype=at))
            new = api.np_fn("PyArray_New", L.PTR, [L.PTR, L.I32, L.PTR, L.I32, L.PTR, L.PTR, L.I32, L.I32, L.PTR])
            objs.append(b.call(new, [api.np_object("PyArray_Type"), ir.Constant(L.I32, nd), dims,
                                     ir.Constant(L.I32, TYPENUM[vt.dtype.name]), strides, v.data,
                                     ir.Constant(L.I32, 0), ir.Constant(L.I32, 0), null]))
        else:
            objs.append(_box(lw, api, lw.ctx, vt, v, adopt=False))
    tup = b.call(api.fn("PyTuple_New", L.PTR, [L.I64]), [ir.Constant(L.I64, len(objs))])
    setitem = api.fn("PyTuple_SetItem", L.I32, [L.PTR, L.I64, L.PTR])
    for k, o in enumerate(objs):
        b.call(setitem, [tup, ir.Constant(L.I64, k), o])     # steals o (NULL only on failure)
    pr = api.object_address(register_object("print", print))
    r = b.call(api.fn("PyObject_CallObject", L.PTR, [L.PTR, L.PTR]), [pr, tup])
    dec = api.fn("Py_DecRef", L.VOID, [L.PTR])
    b.call(dec, [tup])
    with b.if_else(b.icmp_unsigned("==", r, null)) as (failed, ok):
        with failed:
            b.call(api.fn("PyErr_Clear", L.VOID, []), [])
        with ok:
            b.call(dec, [r])
    return None
