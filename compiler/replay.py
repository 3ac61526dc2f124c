"""Vector mode for reverse: k cotangents pulled through one primal sweep.

A vector-Jacobian product needs the primal sweep (values, save stacks) and an adjoint sweep.
For k cotangents (the rows of a Jacobian) the primal sweep is the same every time: run it once,
keep its stacks, and replay the adjoint sweep once per cotangent row:

    def grad_vjp_of_f(x, cotangent_rows):
        cotangent = cotangent_rows[0]
        ... primal sweep, pushing on x_stack ...
        x_stack_saved = x_stack.copy()
        dx_rows = np.zeros((rows,) + np.shape(x))
        for row in range(rows):
            cotangent = cotangent_rows[row]
            ... seed, zero adjoints, adjoint sweep (popping x_stack) ...
            dx_rows[row] = dx
            x_stack.extend(x_stack_saved)      # every push has one pop: the stack is empty

The adjoint sweep reads a value that changes (a name assigned again, an array element
overwritten) only after popping it, so only the stacks, the adjoints and the arrays the adjoint
sweep restores in place need care: the first two are reset per row; a function whose adjoint
restores array elements, or zeroes an adjoint where its array may not be bound, is refused (the
caller then makes k separate calls).
"""
import gast

from .errors import TransformError
from .nodes import assign, attr, call, const, name



def rows_function(r, stacks, primal, sweep, grads):
    """The gradient FunctionDef of Reverse ``r`` taking parameters ``r.rows`` as k rows."""
    if r.restore_arrays:
        raise TransformError("vector mode: the adjoint sweep restores overwritten array "
                             "elements, so it cannot be replayed", r.filename, None, "rows")
    inits = []
    for var, stmt in r.placed_inits:
        if not any(s is stmt for s in primal):   # placed only inside a branch or a loop
            raise TransformError(f"vector mode: the adjoint of {var} starts inside a block",
                                 r.filename, None, "rows")
        inits.append(assign(stmt.targets[0].id, stmt.value))
    rows_of = {p: r.fresh(p + "_rows") for p in r.rows}
    rows, row = r.fresh("rows"), r.fresh("row")
    first = [assign(p, gast.Subscript(value=name(rows_of[p]), slice=const(0), ctx=gast.Load()))
             for p in r.rows]
    count = assign(rows, gast.Subscript(value=attr(rows_of[r.rows[0]], "shape"),
                                        slice=const(0), ctx=gast.Load()))
    saved = {s: r.fresh(s + "_saved") for s in r.stacks_used}
    keep = [assign(saved[s], call(attr(s, "copy"))) for s in r.stacks_used]
    outs, allocs, stores = [], [], []
    for p, g in zip(r.wrt, grads):
        out = r.fresh(g.id + "_rows")
        outs.append(name(out))
        shape = gast.BinOp(left=gast.Tuple(elts=[name(rows)], ctx=gast.Load()), op=gast.Add(),
                           right=call(attr("np", "shape"), name(p)))
        allocs.append(assign(out, call(attr("np", "zeros"), shape)))
        stores.append(assign(gast.Subscript(value=name(out), slice=name(row), ctx=gast.Store()),
                             g))
    per_row = [assign(p, gast.Subscript(value=name(rows_of[p]), slice=name(row),
                                        ctx=gast.Load())) for p in r.rows]
    refill = [gast.Expr(value=call(attr(s, "extend"), name(saved[s]))) for s in r.stacks_used]
    loop = gast.For(target=gast.Name(id=row, ctx=gast.Store(), annotation=None,
                                     type_comment=None),
                    iter=call(name("range"), name(rows)),
                    body=per_row + inits + sweep + stores + refill, orelse=[], type_comment=None)
    params = [rows_of.get(p, p) for p in r.a.params]
    result = outs[0] if len(outs) == 1 else gast.Tuple(elts=outs, ctx=gast.Load())
    fn = gast.FunctionDef(
        name="grad_rows_" + r.ir.name,
        args=gast.arguments(args=[gast.Name(id=p, ctx=gast.Param(), annotation=None,
                                            type_comment=None) for p in params],
                            posonlyargs=[], vararg=None, kwonlyargs=[], kw_defaults=[],
                            kwarg=None, defaults=[]),
        body=first + stacks + primal + [count] + keep + allocs + [loop, gast.Return(value=result)],
        decorator_list=[], returns=None, type_comment=None, type_params=[])
    fn.adjoint_names = dict(r.adjoint_names)
    fn.returns_value = False
    return fn
