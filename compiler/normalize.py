"""Normalize: rewrite a parsed function into the compiler's IR, one operation per statement.

The IR is plain Python (a gast FunctionDef) in a small subset, so the same tree is printed by the
Python emitter and lowered to LLVM:

    t = a OP b | t = -a | t = not a | t = a CMP b | t = a | t = f(a, b, k=c) | t = a[i, j:k]
    t = a.shape | t = (a, b) | a[i] = b | if c: ... else: ... | while c: ... | print(...)
    for i in range(a, b, s): ...          (a loop may end with `if flag: break`, its only break)
    return a                              (once, at the end)

where a, b, c, ... are names or constants. Along the way: user functions that are called are
inlined (their names prefixed), array methods become numpy calls, `return`/`break`/`continue`
inside loops and branches become flags, `while c` is rotated so `c` is computed before the loop
and at the end of each pass, and global names are resolved to the values they refer to.
Each call node carries the resolved callable in ``node.callee``.
"""
import builtins

import gast

from . import resolve
from .errors import TransformError
from .exits import lower_loop_exits, lower_returns
from .flatten import UNSUPPORTED, ExpressionFlattener
from .inline import CallRewriter
from .local_kinds import LocalKinds
from .nodes import assign, const, if_, is_atom, name, not_, store, strip_docstring
from .scope import Scope, assigned_names, parameters

BUILTIN_NAMES = set(dir(builtins))


class Normalizer(ExpressionFlattener, CallRewriter):
    def __init__(self, parsed, param_kinds=None, gradient_of=None, reads=None):
        self.top = parsed
        # gradient_of(fn, argnums, kinds, forward=False) -> the Generated code of a gradient
        # (forward: the tangent code, for jvp) called
        # inside the function (given by the pipeline: no pass imports the driver)
        self.gradient_of = gradient_of
        # every Parsed function read (the top one and those inlined), for the pipeline to
        # know which globals, closure cells and callees the result depends on
        self.reads = reads if reads is not None else []
        self.reads.append(parsed)
        self.param_kinds = dict(param_kinds or {})
        self.used = set()
        for n in gast.walk(parsed.node):
            if isinstance(n, gast.Name):
                self.used.add(n.id)
        self.constants = {}      # extra names the generated code needs -> values
        self.local_kinds = LocalKinds(self.param_kinds, self.constants)   # gradients of locals
        self.out = []
        self.lineno = parsed.node.lineno
        self.inlining = []       # functions being inlined, to detect recursion
        self.stacks = set()      # names bound to Stack() (only in generated code we re-transform)
        self.local_defs = {}     # IR name of a nested def -> (its node, the enclosing scope)
        self.tuples = {}         # name -> atoms of the tuple literal it holds
        self.call_site = None    # while inlining: the line of the outermost call
        self.scope = None

    # names
    def fresh(self, base):
        """A new local name from ``base`` that shadows nothing the code can see."""
        base = base.strip("_") or "t"
        candidate, k = base, 2
        scope = self.scope
        # an inlined function's source names map to prefixed IR names: a bare source name of it
        # would be read back as the function's own variable, so it is not free either
        while candidate in self.used or candidate in BUILTIN_NAMES or \
                candidate in self.top.namespace or scope is not None and \
                (candidate in scope.namespace or
                 scope.rename.get(candidate, candidate) != candidate):
            candidate, k = f"{base}{k}", k + 1
        self.used.add(candidate)
        if scope is not None:
            scope.rename.setdefault(candidate, candidate)
        return candidate

    def error(self, message, construct=None, lineno=None):
        raise TransformError(message, self.scope.parsed.filename, lineno or self.lineno, construct)

    def emit(self, stmt):
        # inlined code is attributed to the line of the call in the user's function
        stmt.lineno = self.call_site or getattr(stmt, "lineno", None) or self.lineno
        self.out.append(stmt)
        if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name):
            # a tuple literal is remembered by its parts until one of them is rebound
            bound = stmt.targets[0].id
            self.local_kinds.bound(bound, stmt.value)
            for t, parts in list(self.tuples.items()):
                if t == bound or any(isinstance(p, gast.Name) and p.id == bound for p in parts):
                    del self.tuples[t]

    def forget_tuples(self, s):
        """Tuples bound, or with a part rebound, anywhere in ``s``: after a branch or in a loop
        the name may hold either value, so it is no longer known by its parts."""
        bound = {self.scope.local(n.id) or n.id for n in gast.walk(s)
                 if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
        for t, parts in list(self.tuples.items()):
            if t in bound or any(isinstance(p, gast.Name) and p.id in bound for p in parts):
                del self.tuples[t]

    def merge_tuples(self, s, *branches):
        """A name bound to a tuple of the same length in both branches of ``s``: each branch
        ends by binding the items to the same fresh names, which the tuple is known by after."""
        bound = {self.scope.local(n.id) or n.id for n in gast.walk(s)
                 if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
        exits = (gast.Return, gast.Break, gast.Continue)
        merged = {}
        for t in sorted(bound):
            found = [known.get(t) for _, known in branches]
            if any(f is None for f in found) or len({len(f) for f in found}) != 1 or \
                    any(body and isinstance(body[-1], exits) for body, _ in branches):
                continue
            items = [self.fresh(f"{t}_item") for _ in found[0]]
            for (body, _), parts in zip(branches, found):
                body.extend(assign(item, part, self.lineno) for item, part in zip(items, parts))
            merged[t] = [name(item) for item in items]
        return merged

    def block(self, stmts):
        saved, self.out = self.out, []
        for s in stmts:
            self.statement(s)
        result, self.out = self.out, saved
        return result

    # entry
    def run(self):
        node = self.top.node
        params = [a.id for a in parameters(node.args)]
        star = node.args.vararg or node.args.kwarg
        if star:
            stars = "*" if star is node.args.vararg else "**"
            raise TransformError(f"the parameter {stars}{star.id} is not supported (give each "
                                 f"argument its own parameter)", self.top.filename,
                                 node.lineno, "signature")
        self.scope = Scope(self.top, {n: n for n in assigned_names(node)})
        body = strip_docstring(node.body)
        returns = [s for s in gast.walk(node) if isinstance(s, gast.Return)]
        if not returns or (len(returns) == 1 and body[-1] is returns[0]):
            ir_body = self.block(body)
            if not returns:
                ir_body.append(gast.Return(value=const(None)))
        else:
            result, flag = self.fresh("result"), self.fresh("returned")
            ir_body = self.block([assign(flag, const(False), node.lineno)] +
                                 lower_returns(body, result, flag, False))
            ir_body.append(gast.Return(value=name(result)))
        fn = gast.FunctionDef(name=node.name, args=gast.arguments(
            args=[gast.Name(id=p, ctx=gast.Param(), annotation=None, type_comment=None)
                  for p in params], posonlyargs=[], vararg=None, kwonlyargs=[], kw_defaults=[],
            kwarg=None, defaults=[]), body=ir_body, decorator_list=[], returns=None,
            type_comment=None, type_params=[])
        fn.lineno = node.lineno
        self.local_kinds.check(fn)
        return fn

    # statements
    def statement(self, s):
        self.lineno = getattr(s, "lineno", None) or self.lineno
        kind = type(s)
        if kind in UNSUPPORTED:
            self.error(f"{UNSUPPORTED[kind]} are not supported by the source transform",
                       UNSUPPORTED[kind])
        if kind is gast.Assign:
            if len(s.targets) != 1:
                self.error("chained assignment (a = b = ...) is not supported", "assignment")
            self.assign_to(s.targets[0], s.value)
        elif kind is gast.AugAssign:
            target = s.target
            load = gast.Subscript(value=target.value, slice=target.slice, ctx=gast.Load()) \
                if isinstance(target, gast.Subscript) else \
                name(target.id) if isinstance(target, gast.Name) else None
            if load is None:
                self.error("augmented assignment to this target is not supported", "assignment")
            self.assign_to(target, gast.BinOp(left=load, op=s.op, right=s.value))
            if isinstance(target, gast.Name):
                self.out[-1].inplace = True   # arrays: other names bound to it see the change
        elif kind is gast.AnnAssign:
            if s.value is not None:
                self.assign_to(s.target, s.value)
        elif kind is gast.Expr:
            if isinstance(s.value, gast.Constant):
                return
            if type(s.value) in UNSUPPORTED:
                self.error(f"{UNSUPPORTED[type(s.value)]} are not supported by the source "
                           f"transform", UNSUPPORTED[type(s.value)])
            if not isinstance(s.value, gast.Call):
                self.error("an expression statement other than a call", "expression")
            value = self.expr(s.value)
            if isinstance(value, gast.Call) and resolve.classify(value.callee) == "nondiff":
                self.emit(gast.Expr(value=value))
            elif isinstance(value, gast.Call) and getattr(value, "stack_op", None) == "push":
                self.emit(gast.Expr(value=value))
            elif not is_atom(value):
                self.emit(assign(self.fresh("unused"), value))
        elif kind is gast.If:
            test = self.atom(s.test, "cond")
            known = dict(self.tuples)   # a tuple bound in one branch is not known in the other
            body = self.block(s.body)
            after_body, self.tuples = self.tuples, dict(known)
            orelse = self.block(s.orelse)
            after_else, self.tuples = self.tuples, known
            merged = self.merge_tuples(s, (body, after_body), (orelse, after_else))
            self.emit(if_(test, body, orelse, self.lineno))
            self.forget_tuples(s)
            self.tuples.update(merged)
        elif kind in (gast.For, gast.While):
            self.forget_tuples(s)       # the body sees the values of the previous iteration
            self.for_loop(s) if kind is gast.For else self.while_loop(s)
            self.forget_tuples(s)
        elif kind is gast.Return:
            value = self.atom(s.value) if s.value is not None else const(None)
            self.emit(gast.Return(value=value))
        elif kind is gast.Break:
            self.emit(gast.Break())
        elif kind is gast.Pass:
            return
        elif kind is gast.FunctionDef:
            self.local_function(s)
        elif kind is gast.Assert:
            # run in the primal, no adjoint: its operands are atoms like any other statement's
            test = self.atom(s.test, "cond")
            msg = self.atom(s.msg, "message") if s.msg is not None else None
            self.emit(gast.Assert(test=test, msg=msg))
        elif kind is gast.Raise:
            self.emit(s)  # kept in the primal; no adjoint
        elif kind is gast.Continue:
            self.error("continue outside a loop", "continue")
        else:
            self.error(f"{kind.__name__} statements are not supported", kind.__name__)

    def local_function(self, s):
        # A def inside the function: a closure over the enclosing names, inlined where called.
        ir_name = self.scope.rename[s.name]
        self.local_defs[ir_name] = (s, self.scope)

    def assign_to(self, target, value):
        if isinstance(target, gast.Name):
            ir = self.scope.local(target.id)
            val = self.expr(value, hint=ir)
            if isinstance(val, gast.Call) and getattr(val.callee, "__name__", None) == "Stack":
                self.stacks.add(ir)
            self.emit(assign(ir, val))
            if isinstance(val, gast.Tuple):
                self.tuples[ir] = list(val.elts)
            elif isinstance(val, gast.Name) and val.id in self.tuples:   # out = f(x): out[1]
                self.tuples[ir] = list(self.tuples[val.id])
        elif isinstance(target, (gast.Tuple, gast.List)):
            if isinstance(value, (gast.Tuple, gast.List)) and len(value.elts) == len(target.elts):
                # a, b = b, a*b: evaluate every right-hand side first, then bind
                parts = [self.atom(v, "t") for v in value.elts]
                targets = {self.scope.local(t.id) for t in target.elts if isinstance(t, gast.Name)}
                parts = [self.copy_if_name(p) if isinstance(p, gast.Name) and p.id in targets
                         else p for p in parts]
            else:
                whole = self.expr(value)
                if isinstance(whole, gast.Name) and whole.id in self.tuples:
                    whole = gast.Tuple(elts=self.tuples[whole.id], ctx=gast.Load())
                if isinstance(whole, gast.Tuple) and len(whole.elts) == len(target.elts):
                    parts = list(whole.elts)
                else:
                    packed = self.as_atom(whole, "packed")
                    parts = []
                    for k in range(len(target.elts)):
                        part = gast.Subscript(value=packed, slice=const(k), ctx=gast.Load())
                        parts.append(self.as_atom(part, "part"))
            for t, p in zip(target.elts, parts):
                if isinstance(t, gast.Name):
                    self.emit(assign(self.scope.local(t.id), p))
                else:   # p is in IR names, normalized again below: they resolve to themselves
                    self.own_names(p)
                    self.assign_to(t, p)
        elif isinstance(target, gast.Subscript):
            base = self.expr(target.value)
            if not isinstance(base, gast.Name):
                self.error("assignment into an element of an expression", "subscript")
            if base.id in self.tuples:
                self.error("assignment into an item of a list or tuple is not supported by the "
                           "source transform", "list item assignment")
            index = self.index(target.slice)
            val = self.atom(value)
            self.emit(assign(gast.Subscript(value=base, slice=index, ctx=gast.Store()), val))
        else:
            self.error(f"assignment to {type(target).__name__} is not supported", "assignment")

    def own_names(self, node):
        """IR names in ``node`` (normalized already) resolve to themselves in this scope."""
        for n in gast.walk(node):
            if isinstance(n, gast.Name):
                self.scope.rename.setdefault(n.id, n.id)

    def copy_if_name(self, atom):
        if isinstance(atom, gast.Name):
            copy = self.fresh(atom.id + "_old")
            self.emit(assign(copy, name(atom.id)))
            return name(copy)
        return atom

    def for_loop(self, s):
        it = s.iter
        target = s.target
        per_item = []  # assignments at the top of the body for `for v in arr` and enumerate
        fn = self.static(it.func) if isinstance(it, gast.Call) else None
        if fn is range:
            args = [self.atom(a, "n") for a in it.args]
            if not isinstance(target, gast.Name):
                self.error("a range loop needs a single loop variable", "for")
            loop_var = self.scope.local(target.id)
        elif fn is reversed and isinstance(it.args[0], gast.Call) and \
                self.static(it.args[0].func) is range:
            # for i in reversed(range(a, b, s)): count k up, i = a + (count - 1 - k) * s
            bounds = [self.atom(a, "n") for a in it.args[0].args]
            start, stop, step = (([const(0)] + bounds) if len(bounds) == 1 else
                                 bounds)[:3] + ([const(1)] if len(bounds) < 3 else [])
            if not isinstance(step, gast.Constant) or not step.value:
                self.error("reversed(range(...)) with a step that is not a nonzero constant",
                           "for")
            s_ = step.value
            span = self.as_atom(gast.BinOp(left=stop, op=gast.Sub(), right=start), "span")
            if s_ != 1:
                span = self.as_atom(gast.BinOp(left=span, op=gast.Add(),
                                               right=const(s_ - (1 if s_ > 0 else -1))), "span")
                span = self.as_atom(gast.BinOp(left=span, op=gast.FloorDiv(), right=const(s_)),
                                    "count")
            args = [span]
            loop_var = self.fresh("k")
            last = self.as_atom(gast.BinOp(left=span, op=gast.Sub(), right=const(1)), "last")
            back = gast.BinOp(left=last, op=gast.Sub(), right=name(loop_var))
            if s_ != 1:
                back = gast.BinOp(left=back, op=gast.Mult(), right=const(s_))
            per_item.append((target, gast.BinOp(left=start, op=gast.Add(), right=back)))
        elif fn is enumerate and len(it.args) == 1 and isinstance(target, gast.Tuple):
            seq = self.atom(it.args[0], "seq")
            args = [self.as_atom(self.call_value(len, [seq], {}), "n")]
            loop_var = self.scope.local(target.elts[0].id)
            per_item.append((target.elts[1], seq))
        elif fn is zip and isinstance(target, gast.Tuple):
            seqs = [self.atom(a, "seq") for a in it.args]
            args = [self.as_atom(self.call_value(len, [seqs[0]], {}), "n")]
            loop_var = self.fresh("k")
            per_item.extend(zip(target.elts, seqs))
        else:
            seq = self.atom(it, "seq")
            if isinstance(seq, gast.Constant):
                self.error("a for loop over a constant", "for")
            if isinstance(seq, gast.Name) and seq.id in self.tuples:
                return self.unrolled_loop(s, self.tuples[seq.id])
            args = [self.as_atom(self.call_value(len, [seq], {}), "n")]
            loop_var = self.fresh("k")
            per_item.append((target, seq))
        prefix = []
        for tgt, seq in per_item:
            # seq is already in IR names, and the prefix is normalized again with the body: in
            # an inlined function those names must resolve to themselves, not to globals
            self.own_names(seq)
            value = seq if isinstance(seq, (gast.BinOp, gast.Subscript)) else gast.Subscript(
                value=seq, slice=name(loop_var), ctx=gast.Load())
            prefix.append(gast.Assign(targets=[tgt], value=value, type_comment=None))
            prefix[-1].lineno = s.lineno
        loop = gast.For(target=store(loop_var), iter=None, body=prefix + list(s.body), orelse=[],
                        type_comment=None)
        loop.lineno = s.lineno
        init, loop = lower_loop_exits(loop, self.fresh)
        for stmt in init:
            self.emit(stmt)
        rng = gast.Call(func=name("range"), args=args, keywords=[])
        rng.callee = range
        body = self.block(loop.body)
        node = gast.For(target=store(loop_var), iter=rng, body=body, orelse=[], type_comment=None)
        node.lineno = s.lineno
        self.emit(node)
        if s.orelse:   # for/else: the else block runs unless the loop was left by break
            if init:
                self.emit(if_(self.as_atom(not_(name(init[0].targets[0].id)), "finished"),
                              self.block(s.orelse), lineno=s.lineno))
            else:
                for stmt in s.orelse:
                    self.statement(stmt)

    def unrolled_loop(self, s, items):
        """``for v in (a, x)``: the body once per item (a tuple's items can have different
        kinds, so no loop with an index can hold them)."""
        if any(isinstance(n, (gast.Break, gast.Continue)) for n in gast.walk(s)):
            self.error("break or continue in a loop over a list or tuple", "for")
        for item in items:
            self.assign_to(s.target, item)
            for stmt in s.body:
                self.statement(stmt)
        for stmt in s.orelse:
            self.statement(stmt)

    def while_loop(self, s):
        if s.orelse:
            self.error("while/else is not supported", "while-else")
        init, loop = lower_loop_exits(s, self.fresh)
        for stmt in init:
            self.emit(stmt)
        lineno = self.lineno
        if isinstance(s.test, gast.Constant):
            test = const(bool(s.test.value))
            body = self.block(loop.body)
        else:
            cond = self.fresh("running")
            self.emit(assign(cond, self.expr(s.test), lineno))
            body = self.block(loop.body)
            saved, self.out = self.out, body
            self.lineno = lineno
            self.emit(assign(cond, self.expr(s.test), lineno))
            self.out = saved
            test = name(cond)
        node = gast.While(test=test, body=body, orelse=[])
        node.lineno = lineno
        self.emit(node)


def normalize(parsed, param_kinds=None, gradient_of=None, reads=None):
    """The IR FunctionDef of ``parsed`` and the constants its code refers to.
    ``gradient_of(fn, argnums, kinds)``: the generated gradient of a gradient function called
    (grad of grad); ``reads``: a list the Parsed functions read are appended to."""
    n = Normalizer(parsed, param_kinds, gradient_of, reads)
    fn = n.run()
    return fn, n.constants, n.used
