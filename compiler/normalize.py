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
import copy
import math
import numbers
import operator

import gast
import numpy as np

from tapeflow.runtime import rules

from . import resolve
from .errors import TransformError
from .kinds import kind_of_argument
from .parse import Parsed, namespace_of, parse_function

UNSUPPORTED = {
    gast.Try: "try/except", gast.With: "with statements", gast.AsyncWith: "async with",
    gast.Global: "global statements", gast.Nonlocal: "nonlocal statements",
    gast.Yield: "generators (yield)", gast.YieldFrom: "generators (yield from)",
    gast.Lambda: "lambda expressions", gast.ListComp: "list comprehensions",
    gast.DictComp: "dict comprehensions", gast.SetComp: "set comprehensions",
    gast.GeneratorExp: "generator expressions", gast.Dict: "dicts", gast.Set: "sets",
    gast.List: "lists", gast.Await: "await", gast.AsyncFunctionDef: "async functions",
    gast.AsyncFor: "async for", gast.Delete: "del statements", gast.ClassDef: "class definitions",
    gast.Import: "imports", gast.ImportFrom: "imports", gast.Starred: "starred arguments",
    gast.JoinedStr: "f-strings", gast.NamedExpr: "assignment expressions",
}


BUILTIN_NAMES = set(dir(builtins))
# modules whose attributes nobody rebinds (np.sin): not checked before each reuse of a derivative
_FIXED_MODULES = (np, np.linalg, np.random, math, operator, builtins)
OPERATOR_BINOPS = {operator.add: gast.Add, operator.sub: gast.Sub, operator.mul: gast.Mult,
                   operator.truediv: gast.Div, operator.pow: gast.Pow, operator.mod: gast.Mod,
                   operator.floordiv: gast.FloorDiv, operator.matmul: gast.MatMult}


# ---- small tree builders (every node is built here, so gast changes stay in one file) --------
def name(id_, ctx=None):
    return gast.Name(id=id_, ctx=ctx or gast.Load(), annotation=None, type_comment=None)


def store(id_):
    return name(id_, gast.Store())


def const(value):
    return gast.Constant(value=value, kind=None)


def assign(target, value, lineno=None):
    node = gast.Assign(targets=[store(target) if isinstance(target, str) else target], value=value,
                       type_comment=None)
    node.lineno = lineno
    return node


def if_(test, body, orelse=(), lineno=None):
    node = gast.If(test=test, body=list(body), orelse=list(orelse))
    node.lineno = lineno
    return node


def not_(atom):
    return gast.UnaryOp(op=gast.Not(), operand=atom)


def is_atom(node):
    return isinstance(node, (gast.Name, gast.Constant))


def literal(node):
    """The value of a (nested) list of numeric constants, or None."""
    if isinstance(node, gast.Constant) and isinstance(node.value, (int, float)) and \
            not isinstance(node.value, bool):
        return node.value
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, (gast.USub, gast.UAdd)):
        v = literal(node.operand)
        return None if v is None else -v if isinstance(node.op, gast.USub) else v
    if isinstance(node, gast.List):
        values = [literal(e) for e in node.elts]
        return None if any(v is None for v in values) else values
    return None


def strip_docstring(body):
    body = list(body)
    if body and isinstance(body[0], gast.Expr) and isinstance(body[0].value, gast.Constant) \
            and isinstance(body[0].value.value, str):
        return body[1:]
    return body


def walk_no_loops(stmts):
    """Statements of ``stmts`` and their branches, not entering nested loops or functions."""
    for s in stmts:
        yield s
        if isinstance(s, gast.If):
            yield from walk_no_loops(s.body)
            yield from walk_no_loops(s.orelse)


def contains(stmts, kinds, enter_loops):
    for s in stmts:
        if isinstance(s, kinds):
            return True
        if isinstance(s, gast.If) and contains(s.body + s.orelse, kinds, enter_loops):
            return True
        if enter_loops and isinstance(s, (gast.For, gast.While)) and contains(s.body, kinds, True):
            return True
    return False


# ---- exits: return, break and continue become flags --------------------------------------
def lower_returns(stmts, ret, flag, in_loop):
    out = []
    for i, s in enumerate(stmts):
        if isinstance(s, gast.Return):
            out.append(assign(ret, s.value if s.value is not None else const(None), s.lineno))
            out.append(assign(flag, const(True), s.lineno))
            if in_loop:
                out.append(gast.Break())
            return out
        returns = contains([s], gast.Return, True)
        if isinstance(s, gast.If):
            s.body = lower_returns(s.body, ret, flag, in_loop)
            s.orelse = lower_returns(s.orelse, ret, flag, in_loop)
        elif isinstance(s, (gast.For, gast.While)):
            s.body = lower_returns(s.body, ret, flag, True)
        out.append(s)
        if returns:
            rest = lower_returns(stmts[i + 1:], ret, flag, in_loop)
            if in_loop and isinstance(s, (gast.For, gast.While)):
                out.append(if_(name(flag), [gast.Break()], lineno=s.lineno))
                out.extend(rest)
            elif in_loop:  # the returning branch already breaks out of the loop
                out.extend(rest)
            elif rest:
                out.append(if_(not_(name(flag)), rest, lineno=s.lineno))
            return out
    return out


def lower_loop_exits(loop, fresh):
    """Give ``loop`` a body without break/continue, but for one trailing `if broke: break`."""
    has_break = contains(loop.body, gast.Break, False)
    has_continue = contains(loop.body, gast.Continue, False)
    if not (has_break or has_continue):
        return [], loop
    broke = fresh("broke") if has_break else None
    skip = fresh("skip") if has_continue else None
    flags = [f for f in (broke, skip) if f]
    guard_test = not_(name(flags[0])) if len(flags) == 1 else not_(
        gast.BoolOp(op=gast.Or(), values=[name(f) for f in flags]))

    def guard(stmts):
        out = []
        for i, s in enumerate(stmts):
            if isinstance(s, gast.Break):
                out.append(assign(broke, const(True)))
                return out
            if isinstance(s, gast.Continue):
                out.append(assign(skip, const(True)))
                return out
            exits = isinstance(s, gast.If) and contains([s], (gast.Break, gast.Continue), False)
            if exits:
                s.body, s.orelse = guard(s.body), guard(s.orelse)
            out.append(s)
            if exits:
                rest = guard(stmts[i + 1:])
                if rest:
                    out.append(if_(guard_test, rest, lineno=s.lineno))
                return out
        return out

    body = guard(loop.body)
    if skip:
        body.insert(0, assign(skip, const(False)))
    if broke:
        body.append(if_(name(broke), [gast.Break()]))
    loop.body = body
    return ([assign(broke, const(False))] if broke else []), loop


# ---- the normalizer --------------------------------------------------------------------
class Scope:
    """One (possibly inlined) function: its local names, their IR names, and its namespace."""

    def __init__(self, parsed, rename):
        self.parsed = parsed
        self.rename = rename
        self.namespace = parsed.namespace

    def local(self, id_):
        return self.rename.get(id_)


def parameters(args):
    """A def's named parameters in the order Python binds them: positional-only, positional,
    keyword-only (the IR function takes them all positionally, in this order)."""
    return list(args.posonlyargs) + list(args.args) + list(args.kwonlyargs)


def assigned_names(fn_node):
    """Python's rule: a name assigned anywhere in a function body is local to it."""
    out = {a.id for a in parameters(fn_node.args)}
    for n in gast.walk(fn_node):
        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store):
            out.add(n.id)
        elif isinstance(n, gast.FunctionDef) and n is not fn_node:
            out.add(n.name)
    return out


class Normalizer:
    def __init__(self, parsed, param_kinds=None, gradient_of=None, reads=None):
        self.top = parsed
        # gradient_of(fn, argnums, kinds) -> the Generated code of a gradient called
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
        while candidate in self.used or candidate in BUILTIN_NAMES or \
                candidate in self.top.namespace or scope is not None and \
                candidate in scope.namespace:
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
                else:
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

    def stacked_items(self, tuple_name):
        """The items of a known tuple, nested lists stacked first (np.array([[a, b], [c, d]]))."""
        items = []
        for item in self.tuples[tuple_name]:
            if isinstance(item, gast.Name) and item.id in self.tuples:
                item = self.as_atom(self.call_value(
                    np.stack, [gast.Tuple(elts=self.stacked_items(item.id), ctx=gast.Load())],
                    {}), "stacked")
            items.append(item)
        return items

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

    # expressions
    def as_atom(self, value, hint="t"):
        if is_atom(value):
            return value
        tmp = self.fresh(hint)
        self.emit(assign(tmp, value))
        if isinstance(value, gast.Tuple):
            self.tuples[tmp] = list(value.elts)
        return name(tmp)

    def atom(self, node, hint="t"):
        return self.as_atom(self.expr(node, hint=None), self.hint_for(node, hint))

    def hint_for(self, node, default):
        """A readable name for the temporary holding ``node``: sin_x for np.sin(x), x_i for
        x[i], else ``default``."""
        if isinstance(node, gast.Call):
            fn = node.func
            base = fn.attr if isinstance(fn, gast.Attribute) else getattr(fn, "id", default)
            arg = node.args[0] if node.args else None
            if isinstance(arg, gast.Name):
                return f"{base}_{self.scope.local(arg.id) or arg.id}"
            return base
        if isinstance(node, gast.Subscript) and isinstance(node.value, gast.Name):
            return f"{self.scope.local(node.value.id) or node.value.id}_i"
        return default

    def static(self, node):
        """The Python object a non-local name or dotted name refers to, or None."""
        if isinstance(node, gast.Name):
            if self.scope.local(node.id) is not None:
                return None
            ns = self.scope.namespace
            if node.id not in ns:
                self.error(f"name '{node.id}' is not defined", "name")
            return ns[node.id]
        if isinstance(node, gast.Attribute):
            base = self.static(node.value)
            if base is None:
                return None
            try:
                value = getattr(base, node.attr)
            except AttributeError:
                self.error(f"'{node.attr}' is not an attribute of {base!r}", "attribute")
            if not any(base is m for m in _FIXED_MODULES):   # mymod.A can be rebound: a read
                reads = getattr(self.scope.namespace, "attributes", None)
                if reads is not None:
                    reads.append((base, node.attr, value))
            return value
        return None

    def value_ref(self, value, hint):
        """An IR expression for a Python value found in the function's namespace."""
        if isinstance(value, (bool, numbers.Number)) and not isinstance(value, np.ndarray):
            return const(value.item() if isinstance(value, np.generic) else value)
        if value is None:
            return const(None)
        for existing, v in self.constants.items():
            if v is value:
                return name(existing)
        ident = self.fresh(hint)
        self.constants[ident] = value
        return name(ident)

    def expr(self, node, hint=None):
        """An IR expression with atomic operands (statements for the operands are emitted)."""
        kind = type(node)
        if kind is gast.List and literal(node) is not None:
            return self.value_ref(np.array(literal(node)), hint or "values")
        if kind is gast.List:   # a list of values used as a shape: a tuple
            return gast.Tuple(elts=[self.atom(e) for e in node.elts], ctx=gast.Load())
        if kind in UNSUPPORTED:
            self.error(f"{UNSUPPORTED[kind]} are not supported by the source transform",
                       UNSUPPORTED[kind])
        if kind is gast.Constant:
            return const(node.value)
        if kind is gast.Name:
            local = self.scope.local(node.id)
            if local is not None:
                return name(local)
            value = self.static(node)
            if callable(value) and not isinstance(value, np.ndarray):
                self.error(f"the function '{node.id}' used as a value", "function value")
            return self.value_ref(value, node.id)
        if kind is gast.BinOp:
            left, right = self.atom(node.left), self.atom(node.right)
            return gast.BinOp(left=left, op=node.op, right=right)
        if kind is gast.UnaryOp:
            operand = self.atom(node.operand)
            if isinstance(node.op, gast.UAdd):
                return operand
            if isinstance(operand, gast.Constant) and isinstance(node.op, gast.USub):
                return const(-operand.value)
            return gast.UnaryOp(op=node.op, operand=operand)
        if kind is gast.Compare:
            return self.compare(node)
        if kind is gast.BoolOp:
            return self.bool_op(node)
        if kind is gast.IfExp:
            result = self.fresh(hint or "choice")
            test = self.atom(node.test, "cond")
            body = self.block([gast.Assign(targets=[store(result)], value=node.body,
                                           type_comment=None)])
            orelse = self.block([gast.Assign(targets=[store(result)], value=node.orelse,
                                             type_comment=None)])
            self.emit(if_(test, body, orelse))
            return name(result)
        if kind is gast.Call:
            return self.call(node, hint)
        if kind is gast.Attribute:
            value = self.static(node)
            if value is not None or self.is_static_path(node):
                return self.value_ref(value, node.attr)
            base = self.atom(node.value)
            if node.attr == "T":
                return self.call_value(np.transpose, [base], {})
            if node.attr in resolve.ARRAY_ATTRIBUTES_NONDIFF:
                return gast.Attribute(value=base, attr=node.attr, ctx=gast.Load())
            self.error(f"the attribute '.{node.attr}' is not supported", "attribute")
        if kind is gast.Subscript:
            base = self.atom(node.value)
            if isinstance(base, gast.Name) and base.id in self.tuples:
                items, k = self.tuples[base.id], literal(node.slice)
                if not (type(k) is int and -len(items) <= k < len(items)):
                    self.error("a list or tuple indexed by anything but a constant in range "
                               "is not supported by the source transform", "list index")
                return items[k]
            return gast.Subscript(value=base, slice=self.index(node.slice), ctx=gast.Load())
        if kind is gast.Tuple:
            return gast.Tuple(elts=[self.atom(e) for e in node.elts], ctx=gast.Load())
        self.error(f"{kind.__name__} expressions are not supported", kind.__name__)

    def is_static_path(self, node):
        while isinstance(node, gast.Attribute):
            node = node.value
        return isinstance(node, gast.Name) and self.scope.local(node.id) is None

    def index(self, node):
        if isinstance(node, gast.Slice):
            parts = [self.atom(p, "bound") if p is not None else None
                     for p in (node.lower, node.upper, node.step)]
            return gast.Slice(lower=parts[0], upper=parts[1], step=parts[2])
        if isinstance(node, gast.Tuple):
            return gast.Tuple(elts=[self.index(e) for e in node.elts], ctx=gast.Load())
        return self.atom(node, "index")

    def compare(self, node):
        operands = [node.left] + list(node.comparators)
        atoms = [self.atom(operands[0])]
        parts = []
        for op, right in zip(node.ops, node.comparators):
            atoms.append(self.atom(right))
            parts.append(gast.Compare(left=atoms[-2], ops=[op], comparators=[atoms[-1]]))
        if len(parts) == 1:
            return parts[0]
        result = self.fresh("cond")
        self.emit(assign(result, parts[0]))
        for part in parts[1:]:
            self.emit(if_(name(result), [assign(result, part)]))
        return name(result)

    def bool_op(self, node):
        # short-circuit: later operands are evaluated only when needed
        result = self.fresh("cond")
        self.emit(assign(result, self.expr(node.values[0])))
        is_and = isinstance(node.op, gast.And)
        for value in node.values[1:]:
            saved, self.out = self.out, []
            self.emit(assign(result, self.expr(value)))
            body, self.out = self.out, saved
            test = name(result) if is_and else self.as_atom(not_(name(result)), "cond")
            self.emit(if_(test, body))
        return name(result)

    # calls
    def call(self, node, hint):
        func = node.func
        if any(isinstance(a, gast.Starred) for a in node.args) or \
                any(k.arg is None for k in node.keywords):
            self.error("*args/**kwargs in a call are not supported", "starred arguments")
        # a method call on a local value: x.sum(), stack.push(v)
        if isinstance(func, gast.Attribute) and not self.is_static_path(func):
            receiver = self.atom(func.value)
            if isinstance(receiver, gast.Name) and receiver.id in self.stacks and \
                    func.attr in ("push", "append", "pop"):
                call = gast.Call(func=gast.Attribute(value=receiver, attr=func.attr,
                                                     ctx=gast.Load()),
                                 args=[self.atom(a) for a in node.args], keywords=[])
                call.callee = None
                call.stack_op = "pop" if func.attr == "pop" else "push"
                return call
            method = resolve.ARRAY_METHODS.get(func.attr)
            if method is None:
                what = "list.append" if func.attr == "append" else f".{func.attr}()"
                self.error(f"the method call {what} is not supported by the source transform",
                           func.attr)
            if resolve.classify(method) == "composite":   # x.var(): inlined as np.var(x) is
                parsed = parse_function(rules.entry_of(method).impl)
                call = gast.Call(func=func, args=[receiver] + list(node.args),
                                 keywords=node.keywords)
                return self.inline((parsed.node, parsed), call)
            args = [self.atom(a) for a in node.args]
            if func.attr in ("reshape", "transpose") and len(args) > 1:
                args = [self.as_atom(gast.Tuple(elts=args, ctx=gast.Load()), "shape")]
            kwargs = {k.arg: self.atom(k.value) for k in node.keywords}
            if func.attr == "astype":
                args, kwargs = [], {}
            return self.call_value(method, [receiver] + args, kwargs)
        fn = self.static(func)
        if fn is None:
            if isinstance(func, gast.Name) and self.scope.local(func.id) in self.local_defs:
                return self.inline(self.local_defs[self.scope.local(func.id)], node)
            self.error("a call of a computed function value is not supported", "call")
        if fn in (max, min) and len(node.args) == 2 and not node.keywords:
            fn = np.maximum if fn is max else np.minimum
        if fn in OPERATOR_BINOPS and len(node.args) == 2 and not node.keywords:
            # operator.mul(a, b) is a * b: one spelling for every pass and backend
            return self.expr(gast.BinOp(left=node.args[0], op=OPERATOR_BINOPS[fn](),
                                        right=node.args[1]), hint)
        kind = resolve.classify(fn)
        if kind in ("user", "composite"):   # a composite is inlined from its definition
            parsed = parse_function(rules.entry_of(fn).impl if kind == "composite" else fn)
            self.reads.append(parsed)
            return self.inline((parsed.node, parsed), node)
        if kind == "gradient":
            return self.inline_gradient(fn, node)
        if kind == "unknown":
            label = getattr(fn, "__qualname__", None) or repr(fn)
            module = getattr(fn, "__module__", None)
            full = f"{module}.{label}" if module and module != "builtins" else label
            self.error(f"a call to {full}, which the source transform does not know "
                       f"(no derivative rule, not Python source)", "unknown call")
        if fn is isinstance and len(node.args) == 2 and not node.keywords:
            # the class (or tuple of classes) is a value read from the namespace, not a
            # function called; the test itself is not differentiable (resolve.NONDIFF)
            classes = self.static(node.args[1]) if not isinstance(node.args[1], gast.Tuple) \
                else tuple(self.static(e) for e in node.args[1].elts)
            if not (isinstance(classes, type) or isinstance(classes, tuple) and
                    all(isinstance(c, type) for c in classes)):
                self.error("isinstance() with a class that is not a global name", "isinstance")
            return self.call_value(fn, [self.atom(node.args[0]), self.value_ref(classes, "cls")],
                                   {})
        out = next((k.value for k in node.keywords if k.arg == "out"), None)
        if out is not None:
            return self.call_with_out(fn, node, out)
        args = [self.atom(a) for a in node.args]
        kwargs = {k.arg: self.atom(k.value) for k in node.keywords}
        entry = rules.entry_of(fn)
        if entry is not None and args and isinstance(args[0], gast.Name) and \
                args[0].id in self.tuples:
            if entry.n_inputs == -1:
                # np.concatenate((a, x)): the sequence's items are the call's inputs
                args[0] = gast.Tuple(elts=self.stacked_items(args[0].id), ctx=gast.Load())
            elif entry.kind in ("rule", "composite", "identity") and entry.role != "shape":
                # np.mean([x, x + 2]), np.array([x, 2 * x]): numpy reads the list as the
                # array it stacks to
                args[0] = self.as_atom(self.call_value(
                    np.stack, [gast.Tuple(elts=self.stacked_items(args[0].id),
                                          ctx=gast.Load())], {}), "stacked")
        if fn is len and len(args) == 1 and isinstance(args[0], gast.Name) and \
                args[0].id in self.tuples:
            return const(len(self.tuples[args[0].id]))
        if fn is np.ravel:
            return self.call_value(np.reshape, [args[0], const(-1)], {})
        if fn in (max, min, sum):
            self.error(f"builtin {fn.__name__}() over a sequence is not supported; "
                       f"use np.{fn.__name__}", fn.__name__)
        return self.call_value(fn, args, kwargs)

    def call_with_out(self, fn, node, out):
        """``np.sin(x, out=y)`` is ``y[...] = np.sin(x)``, whose value is ``y``: a write the
        transform follows. Only a ufunc writing into one local array; anything else (a global
        array, a tuple of outputs) is refused rather than given a gradient that skips the write."""
        if isinstance(out, gast.Tuple) and len(out.elts) == 1:
            out = out.elts[0]
        if not (isinstance(fn, np.ufunc) and fn.nout == 1 and isinstance(out, gast.Name)
                and self.scope.local(out.id) is not None):
            self.error("out= is supported only for a ufunc writing into a local array of the "
                       "function (not a global, a closure value or several outputs); use the "
                       "result instead", "out=")
        args = [self.atom(a) for a in node.args]
        kwargs = {k.arg: self.atom(k.value) for k in node.keywords if k.arg != "out"}
        target = self.atom(out)
        value = self.as_atom(self.call_value(fn, args, kwargs), self.hint_for(node, "t"))
        self.emit(assign(gast.Subscript(value=target, slice=const(Ellipsis), ctx=gast.Store()),
                         value, self.lineno))
        return target

    def call_value(self, fn, args, kwargs):
        ref = resolve.canonical_name(fn)
        if ref is None:
            func = self.value_ref(fn, getattr(fn, "__name__", "fn"))
        else:
            parts = ref.split(".")
            func = name(parts[0])
            for p in parts[1:]:
                func = gast.Attribute(value=func, attr=p, ctx=gast.Load())
        call = gast.Call(func=func, args=list(args),
                         keywords=[gast.keyword(arg=k, value=v) for k, v in kwargs.items()])
        call.callee = fn
        return call

    def inline(self, target, node):
        fn_node, owner = target
        parsed = owner.parsed if isinstance(owner, Scope) else owner
        key = id(fn_node) if isinstance(owner, Scope) else id(owner.fn)
        if key in self.inlining:
            self.error(f"recursion (a call of {fn_node.name} from itself) is not supported by "
                       f"the source transform", "recursion")
        a = fn_node.args
        if a.vararg or a.kwarg:
            self.error(f"calling {fn_node.name}: *args/**kwargs parameters are not supported",
                       "signature")
        positional = [p.id for p in a.posonlyargs + a.args]
        params = positional + [p.id for p in a.kwonlyargs]
        if len(node.args) > len(positional):
            self.error(f"{fn_node.name}() takes {len(positional)} positional arguments but "
                       f"{len(node.args)} were given", "call")
        bound = {}
        for p, v in zip(positional, node.args):
            bound[p] = self.atom(v)
        for k in node.keywords:
            if k.arg not in params:
                self.error(f"{fn_node.name}() got an unexpected keyword argument '{k.arg}'", "call")
            bound[k.arg] = self.atom(k.value)
        defaults = self.defaults_of(fn_node, owner)
        for p in params:
            if p not in bound:
                if p not in defaults:
                    self.error(f"{fn_node.name}() missing argument '{p}'", "call")
                bound[p] = defaults[p]
        prefix = fn_node.name
        rename = {}
        for n in assigned_names(fn_node):
            rename[n] = self.fresh(f"{prefix}_{n}")
        if isinstance(owner, Scope):  # a nested def: free names are the enclosing locals
            for outer, ir in owner.rename.items():
                rename.setdefault(outer, ir)
            inner_parsed = owner.parsed
        else:
            inner_parsed = parsed
        inner = Scope(inner_parsed, rename)
        if isinstance(owner, Scope):
            inner.namespace = owner.namespace
        saved_scope, saved_site = self.scope, self.call_site
        self.call_site = self.call_site or self.lineno
        self.inlining.append(key)
        for p in params:
            self.emit(assign(rename[p], bound[p]))
            if isinstance(bound[p], gast.Name) and bound[p].id in self.tuples:
                self.tuples[rename[p]] = list(self.tuples[bound[p].id])   # tup[0] in the callee
        self.scope = inner
        result = self.fresh(f"{prefix}_result")
        body = self.prepare_inline(fn_node, result)
        saved_scope.rename.setdefault(result, result)
        for s in body:
            self.statement(s)
        self.scope, self.call_site = saved_scope, saved_site
        self.inlining.pop()
        return name(result)

    def prepare_inline(self, fn_node, result):
        body = strip_docstring(fn_node.body)
        returns = [s for s in gast.walk(fn_node) if isinstance(s, gast.Return)]
        if not returns:
            return body + [assign(result, const(None))]
        if len(returns) == 1 and body[-1] is returns[0]:
            return body[:-1] + [gast.Assign(targets=[store(result)], value=body[-1].value or
                                            const(None), type_comment=None)]
        flag = self.fresh(f"{fn_node.name}_returned")
        return [assign(flag, const(False))] + lower_returns(body, result, flag, False)

    def inline_gradient(self, gf, node):
        """A call of a tapeflow gradient: inline its generated code (higher-order derivatives)."""
        if self.gradient_of is None:
            self.error("a gradient function called here (no pipeline to generate it)",
                       "gradient call")
        kinds = []
        for a in node.args:
            if isinstance(a, gast.Name) and self.scope.local(a.id) in self.param_kinds:
                kinds.append(self.param_kinds[self.scope.local(a.id)])
            elif isinstance(a, gast.Constant):
                kinds.append(kind_of_argument(a.value, False))
            else:
                self.error("a gradient function called on a computed value (its kinds are not "
                           "known before the call)", "gradient call")
        argnums = tuple(i % len(kinds) for i in gf.argnums)
        kinds = tuple(("float", 0) if i in argnums and k[0] in ("int", "bool") else k
                      for i, k in enumerate(kinds))
        gen = self.gradient_of(gf.fn, argnums, kinds)
        parsed = Parsed(copy.deepcopy(gen.ir), gen.filename, namespace_of(gen.fn), gen.fn)
        both = self.inline((parsed.node, parsed), node)
        if gf.with_value:
            return both
        return self.tuples[both.id][1]

    def defaults_of(self, fn_node, owner):
        a = fn_node.args
        out = {}
        params = [p.id for p in a.posonlyargs + a.args]
        fn = owner.fn if not isinstance(owner, Scope) else None
        if fn is not None:   # the values the defaults had when the def ran
            for p, v in zip(params[len(params) - len(fn.__defaults__ or ()):],
                            fn.__defaults__ or ()):
                out[p] = self.value_ref(v, p)
            for p, v in (fn.__kwdefaults__ or {}).items():
                out[p] = self.value_ref(v, p)
            return out
        for p, d in zip(params[len(params) - len(a.defaults):], a.defaults):
            out[p] = self.atom(d)
        for p, d in zip(a.kwonlyargs, a.kw_defaults):
            if d is not None:
                out[p.id] = self.atom(d)
        return out


def normalize(parsed, param_kinds=None, gradient_of=None, reads=None):
    """The IR FunctionDef of ``parsed`` and the constants its code refers to.
    ``gradient_of(fn, argnums, kinds)``: the generated gradient of a gradient function called
    (grad of grad); ``reads``: a list the Parsed functions read are appended to."""
    n = Normalizer(parsed, param_kinds, gradient_of, reads)
    fn = n.run()
    return fn, n.constants, n.used
