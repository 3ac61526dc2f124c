"""Two adjacent statements over the same array computed in one loop.

Reverse mode writes pairs whose second statement only re-reads what the first just wrote:
    t2 = t + b1                     # the primal's bias ...
    h = np.maximum(t2, 0.0)         # ... and relu: t2 is kept (the relu's adjoint reads it)
and, in the adjoint of that bias,
    dt2 = dh * (t2 >= 0.0)
    db1 = unbroadcast(dt2, b1)      # the sum of dt2 over its rows
Lowered as written, the second statement is a second pass over an array just written. Here the
first statement's fused loop (fusion.py) also does the second's work per element:
  * chain: ``r = <elementwise function of d and constants>`` (same shape as ``d``, cannot
    raise: float results only) becomes a second output written in the same loop;
  * column sums: ``r = unbroadcast(d, e)``, ``d`` 2-d and ``e`` 1-d: each element is also added
    into a zeroed row of sums, rows ascending from +0.0 as sum_to adds them. Whether the sums are
    the result is decided at run time: when ``e`` has one element per column of ``d``; any other
    shape (a (1,)-shaped bias, a mismatch that must raise) lowers the statement as written,
    reading ``d`` as stored.
Both statements must assign plain names, the second a different one, with exactly the types
inferred for those names (no conversion on either store), so the stores are the ones the two
statements make.
"""
import ast

from .. import typing as T
from ..call_names import call_name
from . import scalars as S
from . import types as L
from . import fusion
from .arrays import ONE, ZERO, alloc, full, load_at, store_at

_ELEMENTWISE = (ast.BinOp, ast.UnaryOp, ast.Compare)


def _assigns_name(st):
    return (isinstance(st, ast.Assign) and len(st.targets) == 1
            and isinstance(st.targets[0], ast.Name))


def _typed(lw, *nodes):
    return all(id(n) in lw.ti.node_types for n in nodes)   # not: code typing never reached


def match(lw, s, nxt):
    """'sums', 'chain' or None for the statement ``s`` followed by ``nxt``."""
    if nxt is None or not (_assigns_name(s) and _assigns_name(nxt)):
        return None
    d, r = s.targets[0].id, nxt.targets[0].id
    if r == d or not isinstance(s.value, _ELEMENTWISE) or not _typed(lw, s.value, nxt.value):
        return None
    dt = lw.ti.type_of(s.value)
    if not (isinstance(dt, T.Array) and dt.dtype.is_float and fusion.is_inner(lw, s.value)
            and lw.ti.names.get(d) == dt and lw.ti.names.get(r) == lw.ti.type_of(nxt.value)):
        return None
    if _is_column_sum(lw, nxt.value, d, dt):
        return "sums"
    rt = lw.ti.type_of(nxt.value)
    if (isinstance(rt, T.Array) and rt.ndim == dt.ndim and rt.dtype.is_float
            and _chain_ok(lw, nxt.value, d)):
        return "chain"
    return None


def _is_column_sum(lw, call, d, dt):
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
            and call.func.id == "unbroadcast" and "unbroadcast" not in lw.m.mfuncs
            and "unbroadcast" not in lw.ti.names and len(call.args) == 2 and not call.keywords):
        return False
    g, like = call.args
    return (dt.ndim == 2 and isinstance(g, ast.Name) and g.id == d and isinstance(like, ast.Name)
            and like.id != d and _typed(lw, like)
            and lw.ti.type_of(like) == T.Array(dt.dtype, 1)
            and lw.ti.type_of(call) == T.Array(dt.dtype, 1))


def _minmax(lw, n):
    return (isinstance(n, ast.Call) and call_name(n.func) in ("np.maximum", "np.minimum")
            and "np" not in lw.ti.names and len(n.args) == 2 and not n.keywords)


def _chain_ok(lw, n, d):
    """An elementwise tree (operators, np.maximum/minimum) over the name d and constants."""
    if isinstance(n, ast.Name):
        return n.id == d
    if isinstance(n, ast.Constant):
        return isinstance(n.value, (int, float)) and not isinstance(n.value, bool)
    if _minmax(lw, n):
        kids = n.args
    elif fusion.is_inner(lw, n):
        kids = fusion.children(n)
    else:
        return False
    return all(_chain_ok(lw, c, d) for c in kids)


def _chain_value(lw, k, n, x):
    """Element of the chain tree ``n`` (lowered with kernel lowerer ``k``), ``x`` that of d."""
    if isinstance(n, ast.Name):
        return x
    if isinstance(n, ast.Constant):
        return S.const(lw.ti.type_of(n), n.value)
    t = T.dtype_of(lw.ti.type_of(n))
    kids = n.args if _minmax(lw, n) else fusion.children(n)
    vals = [(_chain_value(lw, k, c, x), T.dtype_of(lw.ti.type_of(c))) for c in kids]
    if _minmax(lw, n):
        (a, at), (b, bt) = vals
        return S.binary_math(k, call_name(n.func)[3:], S.cast(k, a, at, t), S.cast(k, b, bt, t), t)
    if isinstance(n, ast.BinOp):
        (a, at), (b, bt) = vals
        return S.binop(k, n.op, a, at, b, bt, t)
    if isinstance(n, ast.Compare):
        (a, at), (b, bt) = vals
        return S.compare(k, n.ops[0], a, at, b, bt)
    (a, at), = vals
    return S.unary_math(k, "negative", S.cast(k, a, at, t), t)


def lower_pair(lw, kind, s, nxt):
    d, r = s.targets[0].id, nxt.targets[0].id
    dt = lw.ti.type_of(s.value)
    made = {}

    def sums(shape):
        acc = made["acc"] = full(lw, dt.dtype, [shape[1]], S.const(dt.dtype, 0))
        view = L.ArrayVal(T.Array(dt.dtype, 2), acc.data, [ONE, shape[1]], [ZERO, ONE])

        def add(k, arrays, offs, v):
            from .reductions import _combine
            j = len(arrays) - 1
            store_at(k, arrays[j], offs[j], _combine(k, "sum", load_at(k, arrays[j], offs[j]), v,
                                                     dt.dtype))
        return ("column sums",), [(view, view.type)], add

    def chain(shape):
        rt = lw.ti.type_of(nxt.value)
        out2 = made["out2"] = alloc(lw, rt.dtype, shape)
        types = tuple(str(lw.ti.type_of(n)) for n in ast.walk(nxt.value)
                      if not isinstance(n, ast.expr_context) and id(n) in lw.ti.node_types)

        def write(k, arrays, offs, v):
            j = len(arrays) - 1
            store_at(k, arrays[j], offs[j], _chain_value(lw, k, nxt.value, v))
        return ("chain", ast.dump(nxt.value), types), [(out2, out2.type)], write

    out = fusion.lower_fused(lw, s.value, extra=sums if kind == "sums" else chain)
    lw.store_name(d, out, dt)
    lw.lineno = getattr(nxt, "lineno", lw.lineno)
    lw.bounds.at(nxt)
    if kind == "chain":
        lw.store_name(r, made["out2"], lw.ti.type_of(nxt.value))
        return
    b = lw.b
    like = lw.expr(nxt.value.args[1])
    with b.if_else(b.icmp_signed("==", like.shape[0], out.shape[1])) as (fused, written):
        with fused:
            lw.store_name(r, made["acc"], T.Array(dt.dtype, 1))
        with written:
            lw.stmt(nxt)
