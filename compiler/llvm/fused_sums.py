"""A bias's adjoint summed in the loop that produces the gradient it sums.

Reverse mode writes the adjoint of ``t2 = t + b1`` (t 2-d, b1 1-d) as two statements in a row:
    dt2 = dh * (t2 >= 0.0)          # an elementwise tree: one fused loop (fusion.py)
    db1 = unbroadcast(dt2, b1)      # its sum over the rows: a second pass over dt2
Here the first loop also adds each element into a zeroed row of column sums, in the order
sum_to would (rows ascending, from +0.0), so the second pass disappears. Which path the sum
takes is decided at run time: when ``b1`` has one element per column of ``dt2`` the fused sums
are the result; any other shape (a (1,)-shaped bias, a mismatch that must raise) lowers the
second statement as written, reading ``dt2`` as stored.

The pair must be adjacent, the second target differ from the first, and the types be exactly
the ones inferred for the names (no conversion on either store), so the fused path stores the
same values the two statements would.
"""
import ast

from .. import typing as T
from . import fusion


def match(lw, s, nxt):
    """True when ``s`` and ``nxt`` are ``d = <2-d float elementwise tree>`` and
    ``r = unbroadcast(d, e)`` with ``e`` a 1-d array of the same dtype."""
    if nxt is None:
        return False
    for st in (s, nxt):
        if not (isinstance(st, ast.Assign) and len(st.targets) == 1
                and isinstance(st.targets[0], ast.Name)):
            return False
    d, r, call = s.targets[0].id, nxt.targets[0].id, nxt.value
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
            and call.func.id == "unbroadcast" and "unbroadcast" not in lw.m.mfuncs
            and "unbroadcast" not in lw.ti.names and len(call.args) == 2 and not call.keywords):
        return False
    g, like = call.args
    if not (r != d and isinstance(g, ast.Name) and g.id == d and isinstance(like, ast.Name)
            and like.id != d and isinstance(s.value, (ast.BinOp, ast.UnaryOp, ast.Compare))):
        return False
    if not all(id(n) in lw.ti.node_types for n in (s.value, call, like)):
        return False          # code the typing never reached (after a return)
    if not fusion.worth_fusing(lw, s.value):
        return False
    dt = lw.ti.type_of(s.value)
    if not (isinstance(dt, T.Array) and dt.ndim == 2 and dt.dtype.is_float):
        return False
    return (lw.ti.names.get(d) == dt and lw.ti.type_of(like) == T.Array(dt.dtype, 1)
            and lw.ti.type_of(call) == T.Array(dt.dtype, 1) and lw.ti.names.get(r) == T.Array(dt.dtype, 1))


def lower_pair(lw, s, nxt):
    b = lw.b
    d, r = s.targets[0].id, nxt.targets[0].id
    dt = lw.ti.type_of(s.value)
    out, sums = fusion.lower_fused(lw, s.value, column_sums=True)
    lw.store_name(d, out, dt)
    lw.lineno = getattr(nxt, "lineno", lw.lineno)
    lw.bounds.at(nxt)
    like = lw.expr(nxt.value.args[1])
    with b.if_else(b.icmp_signed("==", like.shape[0], out.shape[1])) as (fused, written):
        with fused:
            lw.store_name(r, sums, T.Array(dt.dtype, 1))
        with written:
            lw.stmt(nxt)
