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
import copy

import gast
import numpy as np

from tapeflow.runtime import rules

from . import resolve, templates
from .analyze import is_differentiable_op, statements
from .errors import TransformError
from .normalize import assign, const, if_, name, store


ANS = "ans__"   # stands for a statement's own result in a template until it is placed


class NeedsSplit(Exception):
    """`y = f(...)` whose adjoint reads both the old y (an operand, or through a recomputed
    operand) and the new one: give the new one a name of its own."""


def simple_call(stmt):
    """``v = f(a)``: one call of a known callable on one name."""
    return isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name) and \
        isinstance(stmt.value, gast.Call) and getattr(stmt.value, "callee", None) is not None \
        and len(stmt.value.args) == 1 and isinstance(stmt.value.args[0], gast.Name) and \
        not stmt.value.keywords


def call(fn_expr, *args):
    return gast.Call(func=fn_expr, args=list(args), keywords=[])


def attr(base, *names):
    node = name(base) if isinstance(base, str) else base
    for n in names:
        node = gast.Attribute(value=node, attr=n, ctx=gast.Load())
    return node


def index_value(index):
    """A subscript's index as an expression (``1:3`` as ``slice(1, 3, None)``), to pass it on."""
    if isinstance(index, gast.Slice):
        none = gast.Constant(value=None, kind=None)
        return call(name("slice"), *[p if p is not None else none
                                     for p in (index.lower, index.upper, index.step)])
    if isinstance(index, gast.Tuple):
        return gast.Tuple(elts=[index_value(e) for e in index.elts], ctx=gast.Load())
    return index


def add(a, b):
    return gast.BinOp(left=a, op=gast.Add(), right=b)


class Reverse:
    def __init__(self, ir, analysis, wrt, used, filename):
        self.ir = ir
        self.a = analysis
        self.wrt = wrt
        self.used = set(used)
        self.filename = filename
        self.adjoint_names = {}
        self.stack_names = {}
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

    def stack(self, var, own=False):
        """The stack saving ``var``: the one of its name, or (``own``) a new one for one site."""
        if own or var not in self.stack_names:
            stack = self.fresh(var + "_stack")
            self.stacks_used.append(stack)
            if own:
                return stack
            self.stack_names[var] = stack
        return self.stack_names[var]

    def save(self, var, own=False):
        push = gast.Expr(value=call(attr(self.stack(var, own), "push"), name(var)))
        push.saved_var = var
        return push

    def restore(self, push):
        """The pop pairing with ``push``: same stack, back into the same name."""
        var = push.saved_var
        pop = assign(var, call(attr(push.value.func.value.id, "pop")))
        pop.restored_var, pop.pair = var, push
        return pop

    def needs_save(self, var, restored):
        return not self.a.is_stable(var) and var not in restored

    def error(self, message, node):
        raise TransformError(message, self.filename, getattr(node, "lineno", None), "reverse")

    # entry
    def run(self):
        body = self.ir.body
        ret = body[-1]
        assert isinstance(ret, gast.Return)
        self.depth = 0
        primal, adjoint = self.block(body[:-1], frozenset())
        result = ret.value
        seed = []
        inits = []
        for var in sorted(self.a.active, key=self.order_key):
            if isinstance(result, gast.Name) and var == result.id:
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
                    return assign(self.d(var), call(attr("np", "zeros_like"), name(var)))
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

    def share_saves(self, primal, adjoint, last_push):
        """A save of a value saved earlier in the block, unchanged since, replaces that one
        (its pop runs first in the adjoint sweep, so the value is there for both readers)."""
        for stmt in primal:
            var = getattr(stmt, "saved_var", None)
            if var is None:   # the statement itself: what it assigns has changed
                if isinstance(stmt, gast.Assign):
                    for n in self.assigned(stmt):
                        last_push.pop(n, None)
                else:
                    last_push.clear()
                continue
            if var in last_push:
                older_push, older_pop = last_push[var]
                older_push.dead = older_pop.dead = True
            pop = next(x for x in adjoint if getattr(x, "pair", None) is stmt)
            last_push[var] = (stmt, pop)

    def share_recomputations(self, s, adjoint, last_recompute):
        """The same recomputation for a later statement makes an earlier one redundant (it
        runs first in the adjoint sweep) while its operands are unchanged in between."""
        for stmt in adjoint:
            if getattr(stmt, "recomputed", False):
                key = gast.dump(stmt)
                if key in last_recompute:
                    last_recompute[key].dead = True
                last_recompute[key] = stmt
        changed = self.assigned(s) if isinstance(s, gast.Assign) else None
        for key, stmt in list(last_recompute.items()):
            if key == gast.dump(s):   # the primal definition itself: same value
                continue
            if changed is None or changed & (self.assigned(stmt) | {
                    n.id for n in gast.walk(stmt.value) if isinstance(n, gast.Name)}):
                del last_recompute[key]

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

    def with_saves(self, s, reads_before, reads_after, restored, adjoint):
        """Wrap statement ``s`` and its adjoint code with the saves its adjoint needs: a value
        cheap to compute again from saved or unchanged ones is recomputed instead of saved.
        A loop or a branch reads its bounds or its decision before it runs backwards, while its
        body's saves are popped later, inside it: what it reads goes on stacks of its own, as it
        was (a decision is replayed as it was taken, not decided again)."""
        compound = isinstance(s, (gast.If, gast.For, gast.While))
        before, chain = [], []
        for v in dict.fromkeys(reads_before):
            if compound:
                if self.needs_save(v, restored):
                    before.append(v)
            else:
                self.provide(v, restored, before, chain)
        after = [v for v in dict.fromkeys(reads_after) if self.needs_save(v, restored)]
        if set(after) & set(before):
            # both the old and the new value of one name (the new one directly, the old one
            # through a recomputation): a single restored name cannot hold both
            raise NeedsSplit()
        pushes = [self.save(v, own=compound) for v in before]
        after_pushes = [self.save(v) for v in after]
        pops = [self.restore(push) for push in reversed(pushes + after_pushes)]
        return pushes + [s] + after_pushes, pops + chain + adjoint

    def provide(self, var, restored, saves, chain):
        """Arrange for ``var`` to hold, in the adjoint of the current statement, the value it has
        when the statement runs: free if it cannot change, else recomputed or saved."""
        if not self.needs_save(var, restored) or var in saves or \
                any(self.assigned(c) == {var} for c in chain):
            return
        definition = self.recomputable(var, restored)
        if definition is None:
            saves.append(var)
            return
        for operand in sorted({n.id for n in gast.walk(definition.value)
                               if isinstance(n, gast.Name)} - {"np", "math"}):
            self.provide(operand, restored, saves, chain)
        again = copy.deepcopy(definition)
        again.recomputed = True
        chain.append(again)

    def recomputable(self, var, restored):
        """The definition of ``var`` if it is a cheap, pure operation in this block whose
        operands have, where it stands, the values they have at the current statement."""
        if self.a.assignments.get(var) != 1 or self.context is None:
            return None
        stmts, index, current = self.context
        here = index.get(id(current))
        for k, d in enumerate(stmts):
            if isinstance(d, gast.Assign) and isinstance(d.targets[0], gast.Name) and \
                    d.targets[0].id == var:
                break
        else:
            return None
        if k == here or not self.cheap(d.value):
            return None
        operands = {n.id for n in gast.walk(d.value) if isinstance(n, gast.Name)}
        return d if self.unchanged(operands, k, here) else None

    def unchanged(self, names, k, here):
        """``names`` hold the same values at statement k as just before statement ``here``."""
        stmts = self.context[0]
        between = stmts[k + 1:here] if k < here else stmts[here:k]
        return not any(self.assigned(x) & names or isinstance(x, gast.For) and
                       x.target.id in names for b in between for x, _ in statements([b]))

    def cheap(self, value):
        scalar = ("float", "int", "bool")
        if isinstance(value, gast.BinOp):
            return not isinstance(value.op, gast.MatMult) and all(
                self.a.kind(a) in scalar for a in (value.left, value.right))
        if isinstance(value, (gast.UnaryOp, gast.Compare)):
            return True
        if isinstance(value, gast.Attribute):   # x.shape and the like
            return isinstance(value.value, gast.Name) and self.a.is_stable(value.value.id)
        if isinstance(value, gast.Subscript):
            base = value.value.id if isinstance(value.value, gast.Name) else None
            return base not in self.written_arrays and \
                self.a.kind_of(value)[0] in scalar
        if isinstance(value, gast.Call):
            fn = getattr(value, "callee", None)
            return fn is not None and getattr(fn, "__module__", None) == "math" or \
                (isinstance(fn, np.ufunc) and all(self.a.kind(a) in scalar for a in value.args))
        return False

    # statements
    def assignment(self, s, target, restored):
        value = s.value
        if isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name) and \
                value.value.id in self.written_arrays and self.a.kinds.get(target) != "float":
            # a slice is a view: copy it, since the array is overwritten later
            s.value = call(attr("np", "copy"), value)
        if target not in self.a.active:
            if getattr(value, "stack_op", None) == "pop":
                return [s], []
            return [s], []
        dy = name(self.d(target))
        contributions = []   # (input variable, expression)
        reads_before, reads_after, prelude = [], [], []
        if isinstance(value, gast.Name):
            if value.id in self.a.active:
                contributions.append((value.id, dy))
        elif isinstance(value, gast.Constant):
            pass
        elif isinstance(value, gast.Subscript):
            base = value.value.id
            if base in self.a.active:
                index_names = [n.id for n in gast.walk(value.slice) if isinstance(n, gast.Name)]
                reads_before += index_names
                if self.fancy(value.slice):
                    # a repeated index must accumulate: np.add.at, not +=, which keeps one
                    prelude.append(gast.Expr(value=call(attr("np", "add", "at"), name(self.d(base)),
                                                        index_value(value.slice), dy)))
                else:
                    dbase = gast.Subscript(value=name(self.d(base)), slice=value.slice,
                                           ctx=gast.Store())
                    prelude.append(gast.AugAssign(target=dbase, op=gast.Add(), value=dy))
        elif getattr(value, "stack_op", None) == "pop":
            stack_var = value.func.value.id
            prelude.append(gast.Expr(value=call(attr(self.d(stack_var), "push"), dy)))
        else:
            fn = is_differentiable_op(value)
            if fn is not None:   # otherwise a value that does not depend on the inputs
                contributions, reads_before, reads_after, prelude = self.rule_adjoint(
                    s, fn, value, target, dy)
        adjoint = prelude[:]
        sources = [v for v, _ in contributions]
        if target in sources:
            new = None
            for v, e in contributions:
                if v == target:
                    new = e if new is None else add(new, e)
            if isinstance(new, gast.Name) and new.id == dy.id:   # y = y + e: dy flows unchanged
                for v, e in contributions:
                    if v != target:
                        adjoint.append(self.accumulate(v, e))
                return self.with_saves(s, reads_before, reads_after, restored, adjoint)
            tmp = self.fresh(self.d(target) + "_new") if len(contributions) > 1 else None
            if tmp:
                adjoint.append(assign(tmp, new))
            for v, e in contributions:
                if v != target:
                    adjoint.append(self.accumulate(v, e))
            adjoint.append(assign(self.d(target), name(tmp) if tmp else new))
        else:
            for v, e in contributions:
                adjoint.append(self.accumulate(v, e))
            if not self.a.is_stable(target):
                zero = call(attr("np", "zeros_like"), dy) if target in self.buffers else const(0.0)
                adjoint.append(assign(self.d(target), zero))
        return self.with_saves(s, reads_before, reads_after, restored, adjoint)

    def split(self, s):
        """``y = f(...)`` as ``y_new = f(...)``; ``y = y_new``."""
        target = s.targets[0].id
        new = self.fresh(target + "_new")
        self.a.kinds[new] = self.a.kinds.get(target)
        self.a.ndims[new] = self.a.ndims.get(target)
        self.a.active.add(new)
        self.a.assignments[new] = 1
        (self.a.in_loop if self.depth else self.a.stable).add(new)
        first = assign(new, s.value, s.lineno)
        second = assign(target, name(new), s.lineno)
        return [first, second]

    def fancy(self, index):
        """Whether an index may select an element more than once (an index array or list)."""
        parts = index.elts if isinstance(index, gast.Tuple) else [index]
        for p in parts:
            if isinstance(p, (gast.List, gast.Tuple)):
                return True
            if isinstance(p, gast.Name) and self.a.kinds.get(p.id) not in ("int", "bool"):
                return True
        return False

    def accumulate(self, var, expr):
        d = self.d(var)
        return assign(d, add(name(d), expr))

    def rule_adjoint(self, s, fn, value, target, dy):
        if isinstance(value, gast.BinOp):
            inputs, params = [value.left, value.right], {}
        elif isinstance(value, gast.UnaryOp):
            inputs, params = [value.operand], {}
        else:
            inputs = list(value.args)
            params = {k.arg: k.value for k in value.keywords}
        if resolve.classify(fn) == "identity":
            return ([(inputs[0].id, dy)] if isinstance(inputs[0], gast.Name) and
                    inputs[0].id in self.a.active else []), [], [], []
        rule = rules.lookup(fn)
        if rule is None:
            self.error(f"no derivative rule for {getattr(fn, '__name__', fn)}", s)
        if len(inputs) > rule.n_inputs:   # extra positionals are parameters (axis, shape...)
            tree = templates.rule_tree(rule)
            names = [a.id for a in tree.args.args][2 + rule.n_inputs:]
            for pname, atom in zip(names, inputs[rule.n_inputs:]):
                params[pname] = atom
            inputs = inputs[:rule.n_inputs]
        wanted = [k for k, a in enumerate(inputs)
                  if isinstance(a, gast.Name) and a.id in self.a.active]
        if not wanted:
            return [], [], [], []
        self.a.kinds.setdefault(dy.id, self.a.kinds.get(target))
        self.a.kinds[ANS], self.a.ndims[ANS] = self.a.kinds.get(target), self.a.ndims.get(target)
        try:
            inst = templates.instantiate(rule, dy, name(ANS), inputs, params, self.a,
                                         self.fresh, wanted)
        except templates.Undecided as e:
            self.error(str(e), s)
        self.reuse_primal_values(inst)
        reads = inst.reads() - {dy.id} - {n for p in inst.prelude for n in self.assigned(p)}
        reads -= {"np", "math"} | set(dir(rules))
        reads_after = []
        if ANS in reads:
            if any(isinstance(a, gast.Name) and a.id == target for a in inputs):
                raise NeedsSplit()
            inst.rename(ANS, target)
            reads_after = [target]
        reads_before = sorted(r for r in reads if r != ANS and r in self.a.kinds)
        contributions = []
        for k in wanted:
            e = inst.outputs.get(k)
            if e is None:
                continue
            if templates.expr_is_scalar(e, self.a):
                e = templates.scalarize(e, lambda a: templates.expr_is_scalar(a, self.a))
            contributions.append((inputs[k].id, e))
        prelude = []
        for p in inst.prelude:
            if isinstance(p, gast.Assign) and templates.expr_is_scalar(p.value, self.a):
                p.value = templates.scalarize(p.value, lambda a: templates.expr_is_scalar(a, self.a))
            prelude.append(p)
        # a template temporary is typed like a float when everything it reads is scalar
        for p in prelude:
            for t in self.assigned(p):
                self.a.kinds.setdefault(t, "float" if templates.expr_is_scalar(p.value, self.a)
                                        else "any")
        return contributions, reads_before, reads_after, prelude

    def reuse_primal_values(self, inst):
        """A rule's ``np.sin(x)`` where the primal already has ``sin_x = math.sin(x)`` (same x)
        reads sin_x instead: the adjoint then recomputes or saves it once, not twice."""
        if self.context is None:
            return
        stmts, index, current = self.context
        here = index.get(id(current))
        known = {}
        for k, d in enumerate(stmts):
            if k != here and simple_call(d) and self.a.assignments.get(d.targets[0].id) == 1:
                rule = rules.lookup(d.value.callee)
                if rule is not None and self.unchanged({d.value.args[0].id}, k, here):
                    known[(rule.name, d.value.args[0].id)] = d.targets[0].id

        class Reuse(gast.NodeTransformer):
            def visit_Call(self, node):
                self.generic_visit(node)
                f = node.func
                if isinstance(f, gast.Attribute) and isinstance(f.value, gast.Name) and \
                        len(node.args) == 1 and isinstance(node.args[0], gast.Name):
                    module = {"np": np, "math": __import__("math")}.get(f.value.id)
                    rule = rules.lookup(getattr(module, f.attr, None)) if module else None
                    hit = rule and known.get((rule.name, node.args[0].id))
                    if hit:
                        return name(hit)
                return node

        for k, e in inst.outputs.items():
            if e is not None:
                inst.outputs[k] = Reuse().visit(e)
        inst.prelude = [Reuse().visit(p) for p in inst.prelude]

    @staticmethod
    def assigned(stmt):
        if isinstance(stmt, gast.Assign):
            return {n.id for n in gast.walk(stmt.targets[0]) if isinstance(n, gast.Name)}
        return set()

    def selects_array(self, target):
        """Whether ``base[index]`` is a view (a slice, or fewer indices than dimensions, as
        h[i] of a matrix) rather than one element."""
        index = target.slice
        items = index.elts if isinstance(index, gast.Tuple) else [index]
        if any(isinstance(n, gast.Slice) or isinstance(n, gast.Constant) and n.value is None
               for n in items):
            return True
        ndim = self.a.ndims.get(target.value.id) if isinstance(target.value, gast.Name) else None
        return ndim is None or len(items) < ndim

    def element_write(self, s, target, restored):
        base = target.value.id
        value = s.value
        index_names = [n.id for n in gast.walk(target.slice) if isinstance(n, gast.Name)]
        adjoint = []
        primal_before = []
        if base in self.a.active:
            dslot = gast.Subscript(value=name(self.d(base)), slice=target.slice, ctx=gast.Load())
            if self.selects_array(target):
                dslot = call(attr("np", "copy"), dslot)   # the slot is zeroed right after
            if isinstance(value, gast.Name) and value.id in self.a.active:
                adjoint.append(self.accumulate(value.id, dslot))
            adjoint.append(assign(gast.Subscript(value=name(self.d(base)), slice=target.slice,
                                                 ctx=gast.Store()), const(0.0)))
        restore = base in self.restore_arrays
        if restore:
            old = gast.Subscript(value=name(base), slice=target.slice, ctx=gast.Load())
            if self.selects_array(target):
                old = call(attr("np", "copy"), old)   # a view would see the overwrite
            primal_before.append(gast.Expr(value=call(attr(self.stack(base), "push"), old)))
            adjoint.append(assign(gast.Subscript(value=name(base), slice=target.slice,
                                                 ctx=gast.Store()),
                                  call(attr(self.stack(base), "pop"))))
        if not adjoint:
            return [s], []
        primal, adj = self.with_saves(s, index_names, [], restored, adjoint)
        return primal_before + primal, adj

    def stack_push(self, s, restored):
        value = s.value.args[0]
        stack_var = s.value.func.value.id
        if stack_var in self.a.active and isinstance(value, gast.Name) and \
                value.id in self.a.active:
            return [s], [self.accumulate(value.id, call(attr(self.d(stack_var), "pop")))]
        return [s], []

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


def reverse(ir, analysis, wrt, used, filename, with_value=True):
    """The gradient function of ``ir``; it returns ``(value, gradients)``, or only the
    gradients when ``with_value`` is false and the value is known to be a scalar."""
    r = Reverse(ir, analysis, wrt, used, filename)
    r.with_value = with_value
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
