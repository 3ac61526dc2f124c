"""Lowering of numpy calls, one function per native family of the primitive table.

``np_call`` asks the table (through ``typing.native_family``) which family ``np.<f>`` belongs to and
calls the lowering registered for it: the lowerer knows families (elementwise of one or two
operands, reductions, creation...), never individual numpy functions. The typing side of each
family is in ``compiler/np_types.py``, under the same name.
"""
import ast

from .. import typing as T
from . import arrays as A
from . import indexing, products, reductions, rule_helpers
from . import scalars as S
from . import types as L

LOWERINGS = {}


def lowers(*families):
    def register(fn):
        for f in families:
            LOWERINGS[f] = fn
        return fn
    return register


def np_call(lw, f, args, node, t, method=False):
    if f == "astype" and method:
        return A.astype(lw, lw.expr(args[0]), t.dtype)
    lower = LOWERINGS.get(T.native_family(f, method))
    if lower is None:
        raise lw.unsupported(f"np.{f}")
    vals = [(lw.expr(a), lw.ti.type_of(a)) for a in args]
    return lower(lw, f, vals, args, node, t, method)


@lowers("unary_float", "unary_same", "predicate")
def _unary(lw, f, vals, args, node, t, method):
    v, vt = vals[0]
    if isinstance(vt, T.Array):
        return A.unary(lw, f, v, t)
    if f in ("isnan", "isinf", "isfinite"):
        return S.unary_math(lw, f, v, vt)
    return S.unary_math(lw, f, S.cast(lw, v, vt, t), t)


_OPERATORS = {"add": ast.Add(), "subtract": ast.Sub(), "multiply": ast.Mult(), "divide": ast.Div(),
              "true_divide": ast.Div(), "power": ast.Pow()}


@lowers("binary")
def _binary(lw, f, vals, args, node, t, method):
    (a, at), (c, ct) = vals
    op = _OPERATORS.get(f)
    od = T.dtype_of(t)
    dt = A.dt
    if op is not None:
        def fn(k, v):
            return S.binop(k, op, v[0], dt(at), v[1], dt(ct), od)
    else:
        def fn(k, v):
            return S.binary_math(k, f, S.cast(k, v[0], dt(at), od), S.cast(k, v[1], dt(ct), od), od)
    if isinstance(t, T.Array):
        return A.map_elementwise(lw, od, vals, fn, key=("np2", f))
    return fn(lw, [a, c])


@lowers("where")
def _where(lw, f, vals, args, node, t, method):
    od = T.dtype_of(t)
    (c, ctp), (x, xt), (y, yt) = vals
    dt = A.dt

    def fn(k, v):
        return k.b.select(S.truth(k, v[0], dt(ctp)), S.cast(k, v[1], dt(xt), od),
                          S.cast(k, v[2], dt(yt), od))
    return A.map_elementwise(lw, od, vals, fn, key=("where",)) if isinstance(t, T.Array) \
        else fn(lw, [c, x, y])


@lowers("clip")
def _clip(lw, f, vals, args, node, t, method):
    od = T.dtype_of(t)
    (x, xt), (lo, lot), (hi, hit) = vals
    dt = A.dt

    def fn(k, v):
        low = S.binary_math(k, "maximum", S.cast(k, v[0], dt(xt), od), S.cast(k, v[1], dt(lot), od), od)
        return S.binary_math(k, "minimum", low, S.cast(k, v[2], dt(hit), od), od)
    return A.map_elementwise(lw, od, vals, fn, key=("clip",)) if isinstance(t, T.Array) \
        else fn(lw, [x, lo, hi])


@lowers("reduction")
def _reduction(lw, f, vals, args, node, t, method):
    axis_node, kd_node = rule_helpers._kw(node, "axis"), rule_helpers._kw(node, "keepdims")
    axis = None if axis_node is None else T.const_value(axis_node, lw.ti.consts)
    keepdims = False if kd_node is None else T.const_value(kd_node, lw.ti.consts)
    v, vt = vals[0]
    return reductions.reduce(lw, f, v, vt, axis, keepdims, t)


@lowers("matmul")
def _matmul(lw, f, vals, args, node, t, method):
    (a, at), (c, ct) = vals
    return products.matmul(lw, a, at, c, ct, t)


@lowers("outer")
def _outer(lw, f, vals, args, node, t, method):
    (a, at), (c, ct) = vals
    return products.outer(lw, a, at, c, ct, t)


@lowers("transpose")
def _transpose(lw, f, vals, args, node, t, method):
    v, vt = vals[0]
    if not isinstance(vt, T.Array):
        return v
    axes = None if len(args) == 1 else list(T.const_value(args[1], lw.ti.consts))
    return indexing.transpose(lw, v, axes)


@lowers("copy", "array")
def _array(lw, f, vals, args, node, t, method):
    v, vt = vals[0]
    if f == "asarray" and isinstance(vt, T.Array) and vt.dtype == t.dtype:
        return v    # asarray of an array of the right dtype is the array itself
    if not isinstance(vt, T.Array):
        return S.cast(lw, v, vt, T.dtype_of(t))
    return A.astype(lw, v, t.dtype)


@lowers("reshape")
def _reshape(lw, f, vals, args, node, t, method):
    v, vt = vals[0]
    if method and len(args) > 2:
        shape = [S.cast(lw, x, xt, T.I64) for x, xt in vals[1:]]
    else:
        shape = rule_helpers.shape_values(lw, args[1], vals[1][0])
    if not isinstance(vt, T.Array):
        raise lw.unsupported("reshape of a scalar")
    return indexing.reshape(lw, v, shape)


_FILL = {"zeros": 0, "ones": 1, "zeros_like": 0, "ones_like": 1}


@lowers("creation", "full")
def _creation(lw, f, vals, args, node, t, method):
    shape = rule_helpers.shape_values(lw, args[0], vals[0][0])
    od = T.dtype_of(t)
    if f == "empty":
        return A.alloc(lw, od, shape)
    fv = S.cast(lw, vals[1][0], vals[1][1], od) if f == "full" else S.const(od, _FILL[f])
    return A.full(lw, od, shape, fv)


@lowers("like", "full_like")
def _like(lw, f, vals, args, node, t, method):
    v, vt = vals[0]
    od = T.dtype_of(t)
    fv = S.cast(lw, vals[1][0], vals[1][1], od) if f == "full_like" else S.const(od, _FILL.get(f, 0))
    if not isinstance(vt, T.Array):
        return fv
    if f == "empty_like":
        return A.alloc(lw, od, list(v.shape))
    return A.full(lw, od, list(v.shape), fv)


@lowers("broadcast_to")
def _broadcast_to(lw, f, vals, args, node, t, method):
    v, vt = vals[0]
    return indexing.broadcast_to(lw, v, vt, rule_helpers.shape_values(lw, args[1], vals[1][0]))


@lowers("shape")
def _shape(lw, f, vals, args, node, t, method):
    v, vt = vals[0]
    return L.TupleVal(t, list(v.shape) if isinstance(vt, T.Array) else [])


@lowers("size")
def _size(lw, f, vals, args, node, t, method):
    v, vt = vals[0]
    if f == "ndim":
        return A.c64(T.ndim_of(vt))
    return A.size_of(lw, v.shape) if isinstance(vt, T.Array) else A.ONE


@lowers("scalar_cast")
def _scalar_cast(lw, f, vals, args, node, t, method):
    v, vt = vals[0]
    return S.cast(lw, v, vt, t)


@lowers("arange")
def _arange(lw, f, vals, args, node, t, method):
    b = lw.b
    od = t.dtype
    ct = T.F64 if any(T.dtype_of(vt).is_float for _, vt in vals) else T.I64
    xs = [S.cast(lw, v, vt, ct) for v, vt in vals]
    start, stop, step = ((S.const(ct, 0), xs[0], S.const(ct, 1)) if len(xs) == 1 else
                         (xs[0], xs[1], S.const(ct, 1)) if len(xs) == 2 else xs)
    if ct.is_float:     # ceil((stop - start) / step), at least 0
        q = b.fdiv(b.fsub(stop, start), step)
        q = b.call(lw.intrinsic("llvm.ceil", L.F64, [L.F64]), [q])
        n = S.cast(lw, q, T.F64, T.I64)
    else:
        with lw.cold_if(b.icmp_signed("==", step, A.ZERO)):
            lw.fail("ZeroDivisionError", "arange: step must not be zero")
        toward = b.select(b.icmp_signed(">", step, A.ZERO), A.ONE, A.c64(-1))
        n = b.sdiv(b.add(b.sub(stop, start), b.sub(step, toward)), step)
    n = b.select(b.icmp_signed("<", n, A.ZERO), A.ZERO, n)
    out = A.alloc(lw, od, [n])

    def element(k):
        offset = S.binop(lw, ast.Mult(), S.cast(lw, k, T.I64, ct), ct, step, ct, ct)
        A.store_at(lw, out, k, S.cast(lw, S.binop(lw, ast.Add(), start, ct, offset, ct, ct), ct, od))
    lw.for_range(n, element)
    return out


@lowers("eye")
def _eye(lw, f, vals, args, node, t, method):
    b = lw.b
    n = S.cast(lw, vals[0][0], vals[0][1], T.I64)
    out = A.full(lw, t.dtype, [n, n], S.const(t.dtype, 0))
    lw.for_range(n, lambda k: A.store_at(lw, out, b.mul(k, b.add(n, A.ONE)), S.const(t.dtype, 1)))
    return out
