"""What an adjoint reads: a value read directly, recomputed from available operands, or saved
on a stack by the primal sweep and popped where the adjoint reads it (one pop per push)."""
import copy

import gast
import numpy as np

from .adjoints import NeedsSplit
from .analyze import statements
from .nodes import assign, attr, call, name


class SaveOrRecompute:
    """Mixed into Reverse."""

    def stack(self, var, own=False):
        """The stack saving ``var``: the one of its name, or (``own``) a new one for one site."""
        if own or var not in self.stack_names:
            stack = self.fresh(var + "_stack")
            self.stacks_used.append(stack)
            if own:
                return stack
            self.stack_names[var] = stack
        return self.stack_names[var]

    def shape_stack(self, var):
        """The stack of the shapes ``var`` takes (see StatementAdjoints.resets_buffer)."""
        if var not in self.shape_stacks:
            self.shape_stacks[var] = self.fresh(var + "_shapes")
            self.stacks_used.append(self.shape_stacks[var])
        return self.shape_stacks[var]

    def save(self, var, own=False, shape=False):
        """The push saving ``var``'s value, or (``shape``) only its shape."""
        value = name(var)
        if shape:
            value = call(attr("np", "shape"), value)
            stack = self.stack(self.shape_name(var), own)
        else:
            if self.a.kinds.get(var) == "array" and self.written_arrays:
                # the array, or one aliasing it, may be written in place later: save its value
                value = call(attr("np", "copy"), value)
            stack = self.stack(var, own)
        push = gast.Expr(value=call(attr(stack, "push"), value))
        push.saved_var = self.shape_name(var) if shape else var
        return push

    def restore(self, push):
        """The pop pairing with ``push``: same stack, back into the same name (``v_shape`` for
        a saved shape)."""
        var = push.saved_var
        pop = assign(var, call(attr(push.value.func.value.id, "pop")))
        pop.restored_var, pop.pair = var, push
        return pop

    def needs_save(self, var, restored):
        return not self.a.is_stable(var) and var not in restored

    def share_saves(self, primal, adjoint, last_push):
        """A save of a value saved earlier in the block, unchanged since, replaces that one
        (its pop runs first in the adjoint sweep, so the value is there for both readers)."""
        for stmt in primal:
            var = getattr(stmt, "saved_var", None)
            if getattr(stmt, "changes_nothing", False):
                continue
            if var is None:   # the statement itself: what it assigns has changed
                if isinstance(stmt, gast.Assign):
                    for n in self.assigned(stmt):
                        last_push.pop(n, None)
                        last_push.pop(self.shape_names.get(n), None)
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

    def with_saves(self, s, reads_before, reads_after, restored, adjoint):
        """Wrap statement ``s`` and its adjoint code with the saves its adjoint needs: a value
        cheap to compute again from saved or unchanged ones is recomputed instead of saved.
        A loop or a branch reads its bounds or its decision before it runs backwards, while its
        body's saves are popped later, inside it: what it reads goes on stacks of its own, as it
        was (a decision is replayed as it was taken, not decided again)."""
        compound = isinstance(s, (gast.If, gast.For, gast.While))
        # an array the adjoint reads only for its shape: its shape is saved, nothing recomputed
        likes = {} if compound else self.shape_reads(reads_before + reads_after, adjoint)
        shaped = {v for v in likes if self.needs_save(v, restored)}
        before, chain = [], []
        for v in dict.fromkeys(reads_before):
            if compound or v in shaped:
                if self.needs_save(v, restored) and v not in before:
                    before.append(v)
            else:
                self.provide(v, restored, before, chain)
        after = [v for v in dict.fromkeys(reads_after) if self.needs_save(v, restored)]
        if set(after) & set(before):
            # both the old and the new value of one name (the new one directly, the old one
            # through a recomputation): a single restored name cannot hold both
            raise NeedsSplit()
        # a recomputation that reads one of them needs its value after all
        shaped -= {n.id for c in chain for n in gast.walk(c) if isinstance(n, gast.Name)}
        for v in shaped:
            self.read_shape(v, likes[v])
        pushes = [self.save(v, own=compound, shape=v in shaped) for v in before]
        after_pushes = [self.save(v, shape=v in shaped) for v in after]
        pops = [self.restore(push) for push in reversed(pushes + after_pushes)]
        return pushes + [s] + after_pushes, pops + chain + adjoint

    def shape_reads(self, names, adjoint):
        """The arrays among ``names`` that ``adjoint`` reads only as the ``like`` of
        ``unbroadcast(e, v)`` or of a whole reduction's ``unreduce(e, v, None, keepdims)``,
        each with those calls. Given the shape instead, they are ``sum_to_shape(e, v_shape)``
        and ``np.broadcast_to(e, v_shape)``."""
        candidates = {v for v in names if self.a.kinds.get(v) == "array" and
                      (self.a.ndims.get(v) or 0) >= 1}
        likes, loads = {}, {}   # var -> the calls reading it as their like; its reads
        for stmt in adjoint:
            for node in gast.walk(stmt):
                if isinstance(node, gast.Name) and node.id in candidates:
                    loads[node.id] = loads.get(node.id, 0) + 1
                like = shape_like(node)
                if like is not None:
                    likes.setdefault(like, []).append(node)
        return {v: likes[v] for v in candidates if loads.get(v, 0) == len(likes.get(v, ())) > 0}

    def read_shape(self, var, calls):
        """The calls reading ``var`` as their like read its saved shape instead."""
        for c in calls:
            if c.func.id == "unbroadcast":
                c.func.id = "sum_to_shape"
            else:
                c.func = attr("np", "broadcast_to")
            c.args[1:] = [name(self.shape_name(var))]

    def shape_name(self, var):
        if var not in self.shape_names:
            self.shape_names[var] = self.fresh(var + "_shape")
        return self.shape_names[var]

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
        if isinstance(value, gast.Name):   # another name for the same value
            return value.id not in self.written_arrays
        if isinstance(value, gast.Subscript):
            base = value.value.id if isinstance(value.value, gast.Name) else None
            # an element, or a view (basic index) of an array never written in place: as
            # cheap to take again as to pop, and no copy to push
            return base is not None and base not in self.written_arrays and (
                self.a.kind_of(value)[0] in scalar or not self.fancy(value.slice))
        if isinstance(value, gast.Call):
            fn = getattr(value, "callee", None)
            return fn is not None and getattr(fn, "__module__", None) == "math" or \
                (isinstance(fn, np.ufunc) and all(self.a.kind(a) in scalar for a in value.args))
        return False


def shape_like(node):
    """The name ``node`` reads only for its shape: ``unbroadcast(e, v)``, or ``unreduce(e, v)``
    of a reduction over all axes (axis None)."""
    if not (isinstance(node, gast.Call) and isinstance(node.func, gast.Name) and
            len(node.args) >= 2 and isinstance(node.args[1], gast.Name)):
        return None
    if node.func.id == "unbroadcast" and len(node.args) == 2 and not node.keywords:
        return node.args[1].id
    if node.func.id == "unreduce" and not node.keywords and (
            len(node.args) < 3 or isinstance(node.args[2], gast.Constant) and
            node.args[2].value is None):
        return node.args[1].id
    return None
