"""Forward: from the IR of f, the IR of its Jacobian-vector product (tangent code).

Every statement that computes an active value is followed (or preceded, when it overwrites an
operand its tangent reads) by one tangent statement: ``t = np.sin(x)`` gets
``t_dot = x_dot * np.cos(x)``, the forward rule of the primitive inlined as a template (the
terms of the inputs that have a tangent, summed). Loops and branches keep their shape, element
reads and writes act on the tangent arrays too, and stacks (in gradient code being
differentiated again: forward over reverse) get tangent stacks pushed and popped alongside.

Vector mode (``batched``): each tangent carries a leading dimension of k directions. Elementwise
rules need nothing more (numpy broadcasting; a tangent of a value of lower rank than the result
is given the missing axes first); linear primitives with an axis or a shape get it shifted past
the batch axis (forward_batch.py). What is not known to work batched is refused (jacfwd then
runs one direction at a time). ``batched="loops"`` (native code) then puts the scalar tangent
lines in loops over the directions (forward_loops.py).
"""
import inspect

import gast

from tapeflow.runtime import rules

from . import resolve, templates
from .analyze import (SCALAR, differentiable_reads, is_differentiable_op, operands,
                      statements)
from .errors import TransformError
from .forward_batch import BATCH, BatchAxis, add, batch_index, call, np_attr
from .forward_loops import direction_loops
from .nodes import inputs_and_params
from .normalize import assign, const, name

ANS = "ans__"
DIFFERENTIABLE = ("float", "array", "any", "stack", None)


def loads(node):
    return {n.id for n in gast.walk(node) if isinstance(n, gast.Name)
            and isinstance(n.ctx, gast.Load)}


class Forward(BatchAxis):
    def __init__(self, ir, analysis, wrt, used, filename, batched, with_value=True):
        self.with_value = with_value
        self.ir = ir
        self.a = analysis
        self.wrt = wrt
        self.used = set(used)
        self.filename = filename
        self.batched = batched
        self.tangent_names = {}
        self.tuples = {}   # name -> elements, for a returned tuple
        self.written = {s.targets[0].value.id for s, _ in statements(ir.body)
                        if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Subscript)
                        and isinstance(s.targets[0].value, gast.Name)}
        self.active = self.activity()

    # names
    def fresh(self, base):
        candidate, k = base, 2
        while candidate in self.used:
            candidate, k = f"{base}{k}", k + 1
        self.used.add(candidate)
        return candidate

    def dot(self, var):
        if var not in self.tangent_names:
            self.tangent_names[var] = self.fresh(var + "_dot")
        return self.tangent_names[var]

    def error(self, message, node):
        raise TransformError(message, self.filename, getattr(node, "lineno", None), "forward")

    # activity: varied (depends on a wrt input) and useful (reaches the result)
    def activity(self):
        varied, useful = set(self.wrt), set()
        ret = self.ir.body[-1]
        if isinstance(ret, gast.Return):
            useful |= loads(ret.value)
        all_ = statements(self.ir.body)
        for s, _ in all_:
            if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name) and \
                    isinstance(s.value, gast.Tuple):
                self.tuples[s.targets[0].id] = s.value.elts
        for _ in range(100):
            before = (len(varied), len(useful))
            for s, _ in all_:
                if isinstance(s, gast.Assign):
                    target = s.targets[0]
                    if isinstance(target, gast.Name):
                        t = target.id
                        ops = operands(s.value)
                        if any(o in varied for o in ops) and (
                                self.a.kinds.get(t) in DIFFERENTIABLE or t in self.tuples):
                            varied.add(t)
                        if t in useful:
                            useful.update(ops)
                    elif isinstance(target, gast.Subscript):
                        base = target.value.id
                        if isinstance(s.value, gast.Name):
                            if s.value.id in varied:
                                varied.add(base)
                            if base in useful:
                                useful.add(s.value.id)
                elif isinstance(s, gast.Expr) and getattr(s.value, "stack_op", None) == "push":
                    stack, value = s.value.func.value.id, s.value.args[0]
                    if isinstance(value, gast.Name):
                        if value.id in varied:
                            varied.add(stack)
                        if stack in useful:
                            useful.add(value.id)
            if (len(varied), len(useful)) == before:
                break
        for s, _ in all_:   # a varied value where no tangent is followed: refused, never zero
            if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name) and \
                    s.targets[0].id in useful:
                reads = differentiable_reads(s.value) & varied
                if s.targets[0].id in varied:
                    reads -= set(operands(s.value))
                if reads:
                    self.error("forward mode: a differentiable value reaches this line inside a "
                               "list (or another container) that the transform cannot carry a "
                               "tangent through", s)
        return varied & useful

    def ndim(self, atom):
        return self.a.ndim(atom) if isinstance(atom, gast.Name) else 0

    # zeros
    def zero(self, var):
        kind = self.a.kinds.get(var)
        if kind == "stack":
            return call(name("Stack"))
        if var in self.tuples:
            return gast.Tuple(elts=[self.tangent_or_zero(e) for e in self.tuples[var]],
                              ctx=gast.Load())
        if kind in SCALAR:
            return call(np_attr("zeros"), name(BATCH)) if self.batched else const(0.0)
        like = name(var)
        if self.batched:
            shape = add(gast.Tuple(elts=[name(BATCH)], ctx=gast.Load()),
                        call(np_attr("shape"), like))
            return call(np_attr("zeros"), shape)
        return call(np_attr("zeros_like"), like, dtype=np_attr("float64"))

    def fresh_zero(self, value):
        """For a new array (np.zeros(n), np.ones_like(x)...), zeros made the same way: so the
        tangent does not read the array itself (which may then be dead code)."""
        if self.batched or not (isinstance(value, gast.Call) and value.args and
                                isinstance(value.func, gast.Attribute) and
                                isinstance(value.func.value, gast.Name) and
                                value.func.value.id == "np"):
            return None
        shape_first = ("zeros", "ones", "empty", "full")
        like_first = ("zeros_like", "ones_like", "empty_like", "full_like")
        if value.func.attr in shape_first:
            return call(np_attr("zeros"), value.args[0])
        if value.func.attr in like_first:
            return call(np_attr("zeros_like"), value.args[0], dtype=np_attr("float64"))
        return None

    def tangent_or_zero(self, atom):
        if isinstance(atom, gast.Name) and atom.id in self.active:
            return name(self.dot(atom.id))
        if isinstance(atom, gast.Name):
            return self.zero(atom.id)
        return const(0.0) if not self.batched else call(np_attr("zeros"), name(BATCH))

    # entry
    def run(self):
        body = self.ir.body
        ret = body[-1]
        if not isinstance(ret, gast.Return):
            self.error("the function must end with a return", ret)
        out = self.block(body[:-1])
        result = ret.value
        if isinstance(result, gast.Name):
            tangent = self.tangent_or_zero(result)
        else:
            tangent = const(0.0) if not self.batched else call(np_attr("zeros"), name(BATCH))
        head = []
        if self.batched:
            first = self.dot(self.wrt[0])
            head.append(assign(BATCH, gast.Subscript(
                value=call(np_attr("shape"), name(first)), slice=const(0), ctx=gast.Load())))
        for p in self.a.params:   # a parameter not differentiated that a varied value
            if p in self.active and p not in self.wrt:   # rebinds starts with a zero tangent
                head.append(assign(self.dot(p), self.zero(p)))
        for p in self.wrt:   # the caller's tangent array is not written into
            if p in self.written:
                head.append(assign(self.dot(p), call(np_attr("array"), name(self.dot(p)),
                                                     dtype=np_attr("float64"))))
        tangent_params = [self.dot(p) for p in self.wrt]
        params = self.a.params + tangent_params
        fn = gast.FunctionDef(
            name=("jvp_" if not self.batched else "jvps_") + self.ir.name,
            args=gast.arguments(args=[gast.Name(id=p, ctx=gast.Param(), annotation=None,
                                                type_comment=None) for p in params],
                                posonlyargs=[], vararg=None, kwonlyargs=[], kw_defaults=[],
                                kwarg=None, defaults=[]),
            body=head + out + [gast.Return(value=gast.Tuple(elts=[result, tangent],
                                                            ctx=gast.Load())
                                           if self.with_value else tangent)],
            decorator_list=[], returns=None, type_comment=None, type_params=[])
        if self.batched == "loops":   # native vector mode: a loop over the directions
            fn = direction_loops(self, fn, len(head)) or fn
        fn.tangent_names = dict(self.tangent_names)
        if not self.batched:   # for the native bounds proofs; Tangents checks it per call
            fn.same_shape = {self.dot(p): p for p in self.wrt}
        return fn

    def block(self, stmts):
        out = []
        for s in stmts:
            out.extend(self.statement(s))
        return out

    def statement(self, s):
        if isinstance(s, gast.Assign):
            target = s.targets[0]
            if isinstance(target, gast.Name):
                return self.assignment(s, target.id)
            return self.element_write(s, target)
        if isinstance(s, gast.If):
            return [gast.If(test=s.test, body=self.block(s.body) or [gast.Pass()],
                            orelse=self.block(s.orelse))]
        if isinstance(s, gast.For):
            loop = gast.For(target=s.target, iter=s.iter, body=self.block(s.body) or
                            [gast.Pass()], orelse=[], type_comment=None)
            loop.lineno = getattr(s, "lineno", None)
            return [loop]
        if isinstance(s, gast.While):
            return [gast.While(test=s.test, body=self.block(s.body) or [gast.Pass()], orelse=[])]
        if isinstance(s, gast.Expr) and getattr(s.value, "stack_op", None) == "push":
            stack = s.value.func.value.id
            if stack in self.active:
                push = gast.Expr(value=call(gast.Attribute(value=name(self.dot(stack)),
                                                           attr="push", ctx=gast.Load()),
                                            self.tangent_or_zero(s.value.args[0])))
                push.value.stack_op = "push"
                push.value.callee = None
                return [s, push]
        return [s]

    def element_write(self, s, target):
        base = target.value.id
        if base not in self.active:
            return [s]
        index = batch_index(target.slice) if self.batched else target.slice
        slot = gast.Subscript(value=name(self.dot(base)), slice=index, ctx=gast.Store())
        write = assign(slot, self.tangent_or_zero(s.value), s.lineno)
        # before the primal write: what the tangent reads may be a view of the array written
        return [write, s]

    def assignment(self, s, target):
        out = self.assignment_tangent(s, target)
        if target in self.written:
            # its tangent gets element writes: a fresh array, never an alias of another tangent
            # (y = x * 1.0 has the tangent x_dot) or of the caller's
            t_dot = self.tangent_names.get(target)
            for x in out:
                if isinstance(x, gast.Assign) and isinstance(x.targets[0], gast.Name) and \
                        x.targets[0].id == t_dot and not (
                            isinstance(x.value, gast.Call) and
                            isinstance(x.value.func, gast.Attribute) and
                            x.value.func.attr in ("zeros", "zeros_like")):
                    x.value = call(np_attr("array"), x.value, dtype=np_attr("float64"))
        return out

    def assignment_tangent(self, s, target):
        if target not in self.active:
            return [s]
        value = s.value
        t_dot = self.dot(target)
        if isinstance(value, gast.Name):
            return [s, assign(t_dot, self.tangent_or_zero(value), s.lineno)]
        if isinstance(value, gast.Tuple):
            return [s, assign(t_dot, gast.Tuple(elts=[self.tangent_or_zero(e)
                                                      for e in value.elts], ctx=gast.Load()))]
        if isinstance(value, gast.Subscript):
            base = value.value
            if isinstance(base, gast.Name) and base.id in self.active:
                index = batch_index(value.slice) if self.batched else value.slice
                read = gast.Subscript(value=name(self.dot(base.id)), slice=index, ctx=gast.Load())
                return self.place(s, target, [], read, reads_ans=False)
            return [s, assign(t_dot, self.zero(target), s.lineno)]
        if getattr(value, "stack_op", None) == "pop":
            stack = value.func.value.id
            if stack in self.active:
                pop = call(gast.Attribute(value=name(self.dot(stack)), attr="pop",
                                          ctx=gast.Load()))
                pop.stack_op, pop.callee = "pop", None
                return [s, assign(t_dot, pop, s.lineno)]
            return [s, assign(t_dot, self.zero(target), s.lineno)]
        fn = is_differentiable_op(value)
        if fn is None or not any(o in self.active for o in operands(value)):
            # a constant, a piecewise-constant function (floor, sign), a shape: no tangent
            return [s, assign(t_dot, self.fresh_zero(value) or self.zero(target), s.lineno)]
        prelude, expr, reads_ans = self.rule_tangent(s, fn, value, target)
        if expr is None:   # no tangent flows (only shapes are read): zero, shaped by the result
            return [s, assign(t_dot, self.zero(target), s.lineno)]
        return self.place(s, target, prelude, expr, reads_ans)

    def place(self, s, target, prelude, expr, reads_ans):
        """The tangent before the primal statement (it reads the operands as they were), or
        after it when it reads the result; both: the result gets a name of its own first."""
        t_dot = self.dot(target)
        tangent = prelude + [assign(t_dot, expr, s.lineno)]
        reads = set().union(*[loads(x) for x in tangent])
        if not reads_ans:
            return tangent + [s]
        if target not in reads:
            for x in tangent:
                rename(x, ANS, target)
            return [s] + tangent
        new = self.fresh(target + "_new")
        for x in tangent:
            rename(x, ANS, new)
        self.a.kinds[new], self.a.ndims[new] = self.a.kinds.get(target), self.a.ndims.get(target)
        return [assign(new, s.value, s.lineno)] + tangent + [assign(target, name(new), s.lineno)]

    # rules
    def rule_tangent(self, s, fn, value, target):
        """(prelude, tangent expression, whether it reads the result) of one operation."""
        inputs, params = inputs_and_params(value)
        if resolve.classify(fn) == "identity":
            return [], self.tangent_or_zero(inputs[0]), False
        rule = rules.lookup(fn)
        label = getattr(fn, "__name__", str(fn))
        if rule is None:
            self.error(f"no derivative rule for {label}", s)
        if rule.linear == "each":
            return [], self.multilinear_tangent(s, rule, value, inputs, target), False
        if rule.linear:
            return [], self.linear_tangent(s, rule, value, inputs), False
        if rule.forward is None:
            self.error(f"forward mode: {label} ({rule.name}) has no forward rule yet", s)
        if self.batched and not rule.forward.__module__.endswith(("arithmetic",
                                                                   "math_functions")):
            self.error(f"vector mode: the forward rule of {label} is not known to take a "
                       f"batch of tangents", s)
        n = rule.n_inputs
        if n < 0:
            self.error(f"forward mode: variadic {label} needs a linear rule", s)
        if len(inputs) > n:   # extra positionals are parameters (axis, shape...)
            names = [a.id for a in templates.rule_tree(rule, forward=True).args.args][2 * n + 1:]
            for pname, atom in zip(names, inputs[n:]):
                params[pname] = atom
            inputs = inputs[:n]
        if len(inputs) < n:   # optional inputs left out (arange's stop, step): their defaults
            params_of = list(inspect.signature(rule.forward).parameters.values())
            absent = params_of[n + 1 + len(inputs):2 * n + 1]
            if any(p.default is inspect.Parameter.empty for p in absent):
                self.error(f"forward mode: {label} called with too few arguments", s)
            inputs = inputs + [const(p.default) for p in absent]
        wanted = [k for k, a in enumerate(inputs)
                  if isinstance(a, gast.Name) and a.id in self.active]
        nd_ans = self.a.ndims.get(target) if self.a.kinds.get(target) not in SCALAR else 0
        tangents = [self.batch_ready(a, nd_ans, s) if k in wanted else None
                    for k, a in enumerate(inputs)]
        self.a.kinds[ANS] = self.a.kinds.get(target)
        self.a.ndims[ANS] = self.a.ndims.get(target)
        try:
            inst = templates.instantiate(rule, None, name(ANS), inputs, params, self.a,
                                         self.fresh, wanted, tangents=tangents)
        except templates.Undecided as e:
            self.error(str(e), s)
        terms = []
        for k in wanted:
            e = inst.outputs.get(k)
            if e is None:
                continue
            if templates.expr_is_scalar(e, self.a):
                e = templates.scalarize(e, lambda x: templates.expr_is_scalar(x, self.a))
            terms.append((k, e))
        for p in inst.prelude:
            if isinstance(p, gast.Assign) and templates.expr_is_scalar(p.value, self.a):
                p.value = templates.scalarize(p.value,
                                              lambda x: templates.expr_is_scalar(x, self.a))
            for t in {n.id for n in gast.walk(p.targets[0]) if isinstance(n, gast.Name)}:
                self.a.kinds.setdefault(t, "float" if templates.expr_is_scalar(p.value, self.a)
                                        else "any")
        if not terms:
            return [], None, False
        expr = terms[0][1]
        for _, e in terms[1:]:
            expr = add(expr, e)
        if not self.full_shape(inputs, [k for k, _ in terms], target):
            # a term of a smaller operand (x_dot of a scalar added to an array) broadcasts
            expr = add(expr, call(np_attr("zeros_like"), name(ANS)))
        reads = set().union(loads(expr), *[loads(p) for p in inst.prelude])
        return inst.prelude, expr, ANS in reads

    def full_shape(self, inputs, term_inputs, target):
        """Whether the sum of the terms has the result's shape already: the result is a
        scalar, or some term comes from the only array operand (the others are scalars)."""
        if self.a.kinds.get(target) in SCALAR:
            return True
        kinds = [self.a.kind(a) for a in inputs]
        arrays = {a.id if isinstance(a, gast.Name) else k for k, (a, kind) in
                  enumerate(zip(inputs, kinds)) if kind not in SCALAR}
        from_arrays = {inputs[k].id for k in term_inputs if isinstance(inputs[k], gast.Name)}
        return len(arrays) == 1 and arrays <= from_arrays

    def linear_tangent(self, s, rule, value, inputs):
        """The primitive applied to the tangent of its first input, other arguments as they
        are (in vector mode, an axis or a shape moved past the batch axis)."""
        x = inputs[0]
        if isinstance(x, (gast.Tuple, gast.List)) and rule.n_inputs < 0:
            # variadic (concatenate, stack): jointly linear in the items, so the primitive of
            # their tangents (zeros for the constant ones)
            if not any(isinstance(e, gast.Name) and e.id in self.active for e in x.elts):
                return None
            items = gast.Tuple(elts=[self.tangent_or_zero(e) for e in x.elts],
                               ctx=gast.Load())
            keywords = list(value.keywords)
            if self.batched:
                keywords = self.batched_variadic(s, rule, x.elts, value.args[1:], keywords)
            return gast.Call(func=value.func, args=[items] + list(value.args[1:]),
                             keywords=keywords)
        if not (isinstance(x, gast.Name) and x.id in self.active):
            return None   # the other inputs give a shape only (unbroadcast's like): zero
        args = [name(self.dot(x.id))] + list(value.args[1:])
        keywords = list(value.keywords)
        if self.batched:
            args, keywords = self.batched_linear(s, rule, x, args, keywords)
        return gast.Call(func=value.func, args=args, keywords=keywords)

    def multilinear_tangent(self, s, rule, value, inputs, target):
        """Linear in each input: the sum over the inputs with a tangent of the primitive with
        that input replaced by its tangent."""
        n = rule.n_inputs
        terms = []
        for k, x in enumerate(inputs[:n]):
            if not (isinstance(x, gast.Name) and x.id in self.active):
                continue
            t = name(self.dot(x.id))
            if isinstance(value, gast.BinOp):
                left, right = (t, value.right) if k == 0 else (value.left, t)
                term = gast.BinOp(left=left, op=value.op, right=right)
            else:
                args = list(value.args)
                args[k] = t
                term = gast.Call(func=value.func, args=args, keywords=list(value.keywords))
            if self.batched:
                term = self.batched_product(s, rule, inputs, k, t, term)
            terms.append(term)
        expr = terms[0]
        for e in terms[1:]:
            expr = add(expr, e)
        return expr





def rename(node, old, new):
    for n in gast.walk(node):
        if isinstance(n, gast.Name) and n.id == old:
            n.id = new


def forward(ir, analysis, wrt, used, filename, batched=False, with_value=True):
    """The JVP function of ``ir``: ``jvp_f(*params, *tangents)`` returns ``(value, tangent)``
    (only the tangent without ``with_value``: what only computed the value is then dead code)
    for the tangents of the ``wrt`` parameters (with a leading batch axis if ``batched``)."""
    return Forward(ir, analysis, wrt, used, filename, batched, with_value).run()
