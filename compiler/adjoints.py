"""Adjoints of single statements: an assignment's derivative rule inlined as a template, element
writes, tuple splits, fancy indices, stack pushes."""

import gast
import numpy as np

from tapeflow.runtime import rules

from . import resolve, templates
from .analyze import is_differentiable_op
from .nodes import assign, attr, call, const, name, inputs_and_params


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


class StatementAdjoints:
    """Mixed into Reverse."""

    # statements
    def assignment(self, s, target, restored):
        value = s.value
        if isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name) and \
                value.value.id in self.written_arrays and self.a.kinds.get(target) != "float":
            # a slice is a view: copy it, since the array is overwritten later
            s.value = call(attr("np", "copy"), value)
        if target not in self.a.active:
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
        continued = target in sources   # the rule gives the adjoint of the value before
        if continued:
            new = None
            for v, e in contributions:
                if v == target:
                    new = e if new is None else add(new, e)
            unchanged = isinstance(new, gast.Name) and new.id == dy.id   # y = y + e: dy flows on
            tmp = self.fresh(self.d(target) + "_new") \
                if len(contributions) > 1 and not unchanged else None
            if tmp:
                adjoint.append(assign(tmp, new))
            for v, e in contributions:
                if v != target:
                    adjoint.append(self.accumulate(v, e))
            if not unchanged:
                adjoint.append(assign(self.d(target), name(tmp) if tmp else new))
        else:
            for v, e in contributions:
                adjoint.append(self.accumulate(v, e))
        resets = self.resets_buffer(target)
        if resets:
            adjoint.append(self.shape_reset(target, continued))
        elif not continued and not self.a.is_stable(target):
            adjoint.append(assign(self.d(target), const(0.0)))
        primal, adjoint = self.with_saves(s, reads_before, reads_after, restored, adjoint)
        if resets:
            # the adjoint of the value before this one starts at that value's shape, which
            # may differ (v = x[t:] in a loop): the primal sweep saves each new value's shape
            push = gast.Expr(value=call(attr(self.shape_stack(target), "push"),
                                        call(attr("np", "shape"), name(target))))
            push.changes_nothing = True
            primal.append(push)
        return primal, adjoint

    def resets_buffer(self, var):
        """Whether ``var``'s adjoint is an array restarted from zeros where var is assigned."""
        return var in self.buffers and not self.a.is_stable(var)

    def shape_reset(self, var, continued):
        """``dv = np.zeros(v_shapes.pop())``: the adjoint of the value v had before; or, where
        the assignment's rule already gave that adjoint (``continued``: v = v + e), only the pop
        that pairs with the primal sweep's push."""
        popped = call(attr(self.shape_stack(var), "pop"))
        if continued:
            return gast.Expr(value=popped)
        return assign(self.d(var), call(attr("np", "zeros"), popped))

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
        inputs, params = inputs_and_params(value)
        if resolve.classify(fn) == "identity":
            return ([(inputs[0].id, dy)] if isinstance(inputs[0], gast.Name) and
                    inputs[0].id in self.a.active else []), [], [], []
        rule = rules.lookup(fn)
        if rule is None:
            self.error(f"no derivative rule for {getattr(fn, '__name__', fn)}", s)
        variadic = rule.n_inputs == -1 and bool(inputs) and isinstance(inputs[0], gast.Tuple)
        if variadic:   # np.concatenate((a, x)): the literal's items are the inputs
            tree = templates.rule_tree(rule)
            for pname, atom in zip([a.id for a in tree.args.kwonlyargs], inputs[1:]):
                params[pname] = atom
            inputs = list(inputs[0].elts)
        elif rule.n_inputs < 0:
            # a variadic rule (np.concatenate, np.stack) reached with a name: an array whose rows
            # are the sequence, or a list built elsewhere. Its elements are not inputs here.
            if any(isinstance(a, gast.Name) and a.id in self.a.active for a in inputs):
                self.error(f"{getattr(fn, '__name__', fn)} over a sequence held in a name (or "
                           "the rows of an array): the source transform cannot see its items", s)
            return [], [], [], []
        elif len(inputs) > rule.n_inputs:   # extra positionals are parameters (axis, shape...)
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
            instantiate = templates.instantiate_variadic if variadic else templates.instantiate
            inst = instantiate(rule, dy, name(ANS), inputs, params, self.a, self.fresh, wanted)
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

    def element_write(self, s, target, restored):
        base = target.value.id
        value = s.value
        index_names = [n.id for n in gast.walk(target.slice) if isinstance(n, gast.Name)]
        adjoint = []
        primal_before = []
        if base in self.a.active:
            dslot = gast.Subscript(value=name(self.d(base)), slice=target.slice, ctx=gast.Load())
            element = self.a.kind_of(gast.Subscript(value=name(base), slice=target.slice,
                                                    ctx=gast.Load()))[0] == "float"
            if not element:
                # a row or a slice is a view, and the slot is zeroed right after
                dslot = call(attr("np", "copy"), dslot)
            if isinstance(value, gast.Name) and value.id in self.a.active:
                if not element:   # a value broadcast into the slot (h[t] = x[t], a row)
                    if self.a.kinds.get(value.id) in ("float", "int", "bool"):
                        dslot = call(attr("np", "sum"), dslot)
                    else:
                        # the value's shape, as it was here: in a loop it can change
                        dslot = call(name("unbroadcast"), dslot, name(value.id))
                        index_names.append(value.id)
                adjoint.append(self.accumulate(value.id, dslot))
            adjoint.append(assign(gast.Subscript(value=name(self.d(base)), slice=target.slice,
                                                 ctx=gast.Store()), const(0.0)))
        restore = base in self.restore_arrays
        if restore:
            old = gast.Subscript(value=name(base), slice=target.slice, ctx=gast.Load())
            if self.a.kind_of(old)[0] != "float":
                old = call(attr("np", "copy"), old)   # a view would see the overwrite
            push = gast.Expr(value=call(attr(self.stack(base), "push"), old))
            push.changes_nothing = True   # a save of the slot: other saves can be shared across it
            primal_before.append(push)
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
