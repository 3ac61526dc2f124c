"""Reverse: from the IR of f, the IR of its gradient (a primal sweep, then an adjoint sweep).

Each statement's adjoint is its derivative rule inlined as a template (templates.py). A value
the adjoint of a statement reads is, in order of preference: read directly (assigned once,
outside loops, or the loop variable of a loop replayed backwards), recomputed (a cheap pure
operation whose operands are themselves available), or saved on a stack by the primal sweep
(``x_stack.push(x)``) and popped right where it is read (``x = x_stack.pop()``): every push has
exactly one pop, and one save serves all reads of an unchanged value.
Branches save their condition; loops are replayed backwards (``reversed(range(...))``), or, when
their trip count is not known in advance (``while``, ``break``), a counted number of times.
"""

import gast

from . import resolve
from .adjoints import NeedsSplit, StatementAdjoints, add
from .analyze import is_differentiable_op, statements
from .errors import TransformError
from .nodes import assign, attr, call, const, if_, name, store
from .replay import rows_function
from .saves import SaveOrRecompute


class Reverse(SaveOrRecompute, StatementAdjoints):
    def __init__(self, ir, analysis, wrt, used, filename):
        self.ir = ir
        self.a = analysis
        self.wrt = wrt
        self.used = set(used)
        self.filename = filename
        self.adjoint_names = {}
        self.stack_names = {}
        self.shape_stacks = {}   # buffer var -> the stack of the shapes it takes, in order
        self.shape_names = {}    # var -> the name its saved shape is popped into
        self.buffers = set()   # active arrays whose elements get adjoints: dA is an ndarray
        self.stacks_used = []
        for s, _ in analysis.all:
            if isinstance(s, gast.Assign) and isinstance(s.value, gast.Subscript) and \
                    isinstance(s.value.value, gast.Name) and s.value.value.id in analysis.active:
                self.buffers.add(s.value.value.id)
            if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Subscript) and \
                    s.targets[0].value.id in analysis.active:
                self.buffers.add(s.targets[0].value.id)
        self.restore_arrays = set()
        self.context = None   # (statements of the current block, their index, the current one)
        self.written_arrays = {s.targets[0].value.id for s, _ in analysis.all
                               if isinstance(s, gast.Assign) and
                               isinstance(s.targets[0], gast.Subscript)}

    # names
    def fresh(self, base):
        candidate, k = base, 2
        while candidate in self.used:
            candidate, k = f"{base}{k}", k + 1
        self.used.add(candidate)
        return candidate

    def d(self, var):
        if var not in self.adjoint_names:
            self.adjoint_names[var] = self.fresh("d" + var)
        return self.adjoint_names[var]

    def error(self, message, node):
        raise TransformError(message, self.filename, getattr(node, "lineno", None), "reverse")

    # entry
    def run(self):
        body = self.ir.body
        ret = body[-1]
        assert isinstance(ret, gast.Return)
        self.depth = 0
        self.placed_inits = []   # (var, dvar = np.zeros_like(var)) placed in the primal sweep
        primal, adjoint = self.block(body[:-1], frozenset())
        result = ret.value
        result_name = result.id if isinstance(result, gast.Name) else None
        seed = []
        inits = []
        for var in sorted(self.a.active, key=self.order_key):
            if var in self.shape_stacks:   # its adjoint starts at the shape of its last value
                if var != result_name:
                    inits.append(self.shape_reset(var, continued=False))
                    continue
                seed.append(self.shape_reset(var, continued=True))   # the seed is the start
            if var == result_name:
                continue
            if self.a.kinds.get(var) == "stack":
                zero = call(name("Stack"))
            elif var in self.buffers:
                zero = call(attr("np", "zeros_like"), name(var))
            elif var in self.a.params and self.a.kinds.get(var) == "array":
                # the gradient of an array argument has its shape even where nothing flows
                # (a branch not taken); optimize treats it as 0.0, being no alias of anything
                zero = call(attr("np", "zeros_like"), name(var))
                zero.fresh_zero = True
            else:
                zero = const(0.0)
            if var in self.buffers and var not in self.a.params:
                # var may be unbound at the end (an early return, a branch not taken): its
                # adjoint starts where var gets its value, on every path that binds it
                def init(var=var):
                    stmt = assign(self.d(var), call(attr("np", "zeros_like"), name(var)))
                    self.placed_inits.append((var, stmt))
                    return stmt
                if init_after_binding(primal, var, init):
                    continue
            inits.append(assign(self.d(var), zero))
        if isinstance(result, gast.Name) and result.id in self.a.active:
            seed.append(assign(self.d(result.id), const(1.0)))   # the seed: d result/d result
        grads = []
        for p in self.wrt:
            if p not in self.a.active:
                seed.append(assign(self.d(p), const(0.0)))
            grads.append(name(self.d(p)))
        stacks = [assign(stack, call(name("Stack"))) for stack in self.stacks_used]
        stacks += [self.first_shape(var) for var in sorted(self.shape_stacks)]
        if self.rows:   # vector mode: one primal sweep, the adjoint sweep once per cotangent row
            return rows_function(self, stacks, primal, seed + inits + adjoint, grads)
        # without the value, whatever only computed it is dead code (grad alone is cheaper)
        self.returns_value = self.with_value or self.a.kind(result) not in ("float", "int", "bool")
        if self.returns_value and isinstance(result, gast.Name) and \
                not self.a.is_stable(result.id):
            # the adjoint sweep restores earlier values of the name: keep the result aside
            kept = self.fresh(self.ir.name + "_value")
            primal.append(assign(kept, result))
            result = name(kept)
        grad_value = grads[0] if len(grads) == 1 else gast.Tuple(elts=grads, ctx=gast.Load())
        out = gast.Return(value=gast.Tuple(elts=[result, grad_value], ctx=gast.Load())
                          if self.returns_value else grad_value)
        fn = gast.FunctionDef(
            name="grad_" + self.ir.name,
            args=gast.arguments(args=[gast.Name(id=p, ctx=gast.Param(), annotation=None,
                                                type_comment=None) for p in self.a.params],
                                posonlyargs=[], vararg=None, kwonlyargs=[], kw_defaults=[],
                                kwarg=None, defaults=[]),
            body=stacks + primal + seed + inits + adjoint + [out], decorator_list=[],
            returns=None, type_comment=None, type_params=[])
        fn.adjoint_names = dict(self.adjoint_names)
        fn.returns_value = self.returns_value
        return fn

    def first_shape(self, var):
        """The shape stack's bottom: an argument's own shape; for a local, a placeholder of its
        rank that stands for 'not bound yet' (no adjoint of it can run there)."""
        if var in self.a.params:
            shape = call(attr("np", "shape"), name(var))
        else:
            rank = self.a.ndims.get(var) or 1
            shape = gast.Tuple(elts=[const(0)] * rank, ctx=gast.Load())
        return gast.Expr(value=call(attr(self.shape_stacks[var], "push"), shape))

    def order_key(self, var):
        return (var not in self.a.params, var)

    # blocks
    def block(self, stmts, restored):
        """Primal and adjoint code of a list of statements. Within it, one save serves every
        read of an unchanged value, and one recomputation every use of it."""
        primal, adjoint = [], []
        outer = self.context
        last_push = {}        # var -> (push, pop) of its latest save here, while unchanged
        last_recompute = {}   # recomputation -> its latest copy here, while still valid
        stmts = list(stmts)
        k = 0
        while k < len(stmts):
            s = stmts[k]
            index = {id(x): j for j, x in enumerate(stmts)}
            self.context = (stmts, index, s)
            try:
                p, a = self.statement(s, restored)
            except NeedsSplit:   # in place, so the rest of the block still sees its neighbours
                stmts[k:k + 1] = self.split(s)
                continue
            k += 1
            self.share_recomputations(s, a, last_recompute)
            self.share_saves(p, a, last_push)
            primal.extend(p)
            adjoint[:0] = a
        self.context = outer
        alive = lambda x: not getattr(x, "dead", False)  # noqa: E731
        return [x for x in primal if alive(x)], [x for x in adjoint if alive(x)]

    def statement(self, s, restored):
        if isinstance(s, gast.Assign):
            target = s.targets[0]
            if isinstance(target, gast.Name):
                return self.assignment(s, target.id, restored)
            return self.element_write(s, target, restored)
        if isinstance(s, gast.If):
            return self.branch(s, restored)
        if isinstance(s, gast.For):
            return self.for_loop(s, restored)
        if isinstance(s, gast.While):
            return self.counted_loop(s, restored, None)
        if isinstance(s, gast.Expr) and getattr(s.value, "stack_op", None) == "push":
            return self.stack_push(s, restored)
        return [s], []   # break, print, assert: primal only

    def branch(self, s, restored):
        pb, ab = self.block(s.body, restored)
        po, ao = self.block(s.orelse, restored)
        primal_if = if_(s.test, pb, po, s.lineno)
        if not ab and not ao:
            return [primal_if], []
        adjoint_if = if_(s.test, ab, ao, s.lineno)
        cond = [s.test.id] if isinstance(s.test, gast.Name) else []
        return self.with_saves(primal_if, cond, [], restored, [adjoint_if])

    def for_loop(self, s, restored):
        body = s.body
        breaks = bool(body) and isinstance(body[-1], gast.If) and \
            body[-1].body and isinstance(body[-1].body[0], gast.Break)
        loop_var = s.target.id
        assigned_in_body = self.assigns(body, loop_var)
        if breaks:
            return self.counted_loop(s, restored, loop_var)
        inner = restored | {loop_var} if not assigned_in_body else restored
        self.depth += 1
        pb, ab = self.block(body, inner)
        self.depth -= 1
        primal = gast.For(target=s.target, iter=s.iter, body=pb, orelse=[], type_comment=None)
        primal.lineno = s.lineno
        if not ab:
            return [primal], []
        backwards = call(name("reversed"), s.iter)
        adjoint = gast.For(target=store(loop_var), iter=backwards, body=ab, orelse=[],
                           type_comment=None)
        bounds = [a.id for a in s.iter.args if isinstance(a, gast.Name)]
        return self.with_saves(primal, bounds, [], restored, [adjoint])

    def assigns(self, body, var):
        for x, _ in statements(body):
            if isinstance(x, gast.Assign) and isinstance(x.targets[0], gast.Name) and \
                    x.targets[0].id == var:
                return True
            if isinstance(x, gast.For) and x.target.id == var:
                return True
        return False

    def counted_loop(self, s, restored, loop_var):
        """A loop whose trip count is only known once it has run: count it, replay that often."""
        self.depth += 1
        pb, ab = self.block(s.body, restored)
        self.depth -= 1
        if isinstance(s, gast.For):
            primal = gast.For(target=s.target, iter=s.iter, body=pb, orelse=[], type_comment=None)
        else:
            primal = gast.While(test=s.test, body=pb, orelse=[])
        primal.lineno = s.lineno
        if not ab:
            return [primal], []
        count = self.fresh("iterations")
        self.a.kinds[count] = "int"
        primal.body = [assign(count, add(name(count), const(1)))] + primal.body
        replay = gast.For(target=store(self.fresh("_")), iter=call(name("range"), name(count)),
                          body=ab, orelse=[], type_comment=None)
        init = assign(count, const(0))
        if self.depth > 0:   # inside another loop: the count changes before the replay
            push = self.save(count)
            return [init, primal, push], [self.restore(push), replay]
        return [init, primal], [replay]


def init_after_binding(block, var, make):
    """Insert ``make()`` after each assignment of ``var`` in ``block`` that can be the first to
    run: one in a nested block, then up to the first one in ``block`` itself."""
    placed = False
    for k, s in enumerate(block):
        if isinstance(s, gast.Assign) and var in Reverse.assigned(s):
            block.insert(k + 1, make())
            return True
        if isinstance(s, (gast.If, gast.For, gast.While)):
            placed = init_after_binding(s.body, var, make) | \
                init_after_binding(s.orelse, var, make) or placed
    return placed


def reverse(ir, analysis, wrt, used, filename, with_value=True, rows=None):
    """The gradient function of ``ir``; it returns ``(value, gradients)``, or only the
    gradients when ``with_value`` is false and the value is known to be a scalar.
    ``rows``: parameters (cotangents) that take k rows at once (replay.py)."""
    r = Reverse(ir, analysis, wrt, used, filename)
    r.with_value = with_value
    r.rows = tuple(rows or ())
    # arrays whose contents an adjoint reads must be restored when their elements are overwritten
    r.restore_arrays = arrays_read_by_adjoints(r, ir)
    return r.run()


def arrays_read_by_adjoints(r, ir):
    """Array names read by some derivative template (a dry run of the templates)."""
    out = set()
    writes = {s.targets[0].value.id for s, _ in statements(ir.body)
              if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Subscript)}
    if not writes:
        return out
    for s, _ in statements(ir.body):
        if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name) and \
                s.targets[0].id in r.a.active:
            fn = is_differentiable_op(s.value)
            if fn is None or resolve.classify(fn) == "identity":
                continue
            for a in gast.walk(s.value):
                if isinstance(a, gast.Name) and a.id in writes:
                    out.add(a.id)
    return out
