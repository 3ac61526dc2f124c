"""Calls of the normalizer: array methods become the numpy calls they are, operator-module
calls become operators, and user functions (nested defs, composites, gradients called inside
the function) are inlined with their names prefixed."""
import copy
import math
import operator

import gast
import numpy as np

from tapeflow.runtime import rules

from . import resolve
from .exits import lower_returns
from .kinds import kind_of_argument
from .nodes import assign, const, name, store, strip_docstring
from .parse import Parsed, namespace_of, parse_function
from .scope import Scope, assigned_names

OPERATOR_BINOPS = {operator.add: gast.Add, operator.sub: gast.Sub, operator.mul: gast.Mult,
                   operator.truediv: gast.Div, operator.pow: gast.Pow, operator.mod: gast.Mod,
                   operator.floordiv: gast.FloorDiv, operator.matmul: gast.MatMult}
OPERATOR_UNARYOPS = {operator.neg: gast.USub, operator.pos: gast.UAdd}


class CallRewriter:
    """Mixed into the Normalizer: calls rewritten or inlined."""

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
        if fn is math.log and len(node.args) == 2 and not node.keywords:
            # math.log(x, base) is log(x) / log(base) (the entry's np.log reads a second
            # argument as out=)
            def log_of(a):
                return gast.Call(func=func, args=[a], keywords=[])
            return self.expr(gast.BinOp(left=log_of(node.args[0]), op=gast.Div(),
                                        right=log_of(node.args[1])), hint)
        if fn in (max, min) and len(node.args) == 2 and not node.keywords:
            fn = np.maximum if fn is max else np.minimum
        if fn in OPERATOR_BINOPS and len(node.args) == 2 and not node.keywords:
            # operator.mul(a, b) is a * b: one spelling for every pass and backend
            return self.expr(gast.BinOp(left=node.args[0], op=OPERATOR_BINOPS[fn](),
                                        right=node.args[1]), hint)
        if fn in OPERATOR_UNARYOPS and len(node.args) == 1 and not node.keywords:
            return self.expr(gast.UnaryOp(op=OPERATOR_UNARYOPS[fn](), operand=node.args[0]),
                             hint)
        if fn is operator.getitem and len(node.args) == 2 and not node.keywords:
            return self.expr(gast.Subscript(value=node.args[0], slice=node.args[1],
                                            ctx=gast.Load()), hint)
        if getattr(fn, "__tapeflow_jvp__", False):
            return self.inline_jvp(node)
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
        if fn in (np.array, np.asarray) and len(args) == 1 and not kwargs and \
                isinstance(args[0], gast.Name) and args[0].id in self.tuples and \
                all(isinstance(e, gast.Constant) for e in self.tuples[args[0].id]):
            # np.array([True, False]): a constant array, as a list of numbers already is
            return self.value_ref(np.array([e.value for e in self.tuples[args[0].id]]), "values")
        if entry is not None and args and isinstance(args[0], gast.Name) and \
                args[0].id in self.tuples:
            if entry.n_inputs == -1:
                # np.concatenate((a, x)): the sequence's items are the call's inputs
                args[0] = gast.Tuple(elts=self.stacked_items(args[0].id), ctx=gast.Load())
            elif entry.kind in ("rule", "composite", "identity") and entry.role != "shape" \
                    and not all(isinstance(e, gast.Constant) for e in self.tuples[args[0].id]):
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
        saved_scope, saved_site, saved_line = self.scope, self.call_site, self.lineno
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
        # the rest of the calling statement is located in the caller's file at its line
        self.scope, self.call_site, self.lineno = saved_scope, saved_site, saved_line
        self.inlining.pop()
        return name(result)

    def prepare_inline(self, fn_node, result):
        body = strip_docstring(fn_node.body)
        returns = [s for s in gast.walk(fn_node) if isinstance(s, gast.Return)]
        if not returns:
            return body + [assign(result, const(None))]
        if len(returns) == 1 and body[-1] is returns[0]:
            last = gast.Assign(targets=[store(result)], value=body[-1].value or const(None),
                               type_comment=None)
            # the return's own line: a refusal in its expression names it (not the line
            # before, nor the line of the caller, e.g. jacrev's generated wrapper)
            last.lineno = getattr(body[-1], "lineno", None)
            return body[:-1] + [last]
        flag = self.fresh(f"{fn_node.name}_returned")
        return [assign(flag, const(False))] + lower_returns(body, result, flag, False)

    def argument_kinds(self, args):
        """The kinds of call arguments, known before the call: parameters, constants and
        locals whose kind follows from theirs (see local_kinds.py)."""
        kinds = []
        for a in args:
            local = self.scope.local(a.id) if isinstance(a, gast.Name) else None
            if local in self.param_kinds:
                kinds.append(self.param_kinds[local])
            elif isinstance(a, gast.Constant):
                kinds.append(kind_of_argument(a.value, False))
            elif local is not None and self.local_kinds.of(name(local)) is not None and \
                    self.local_kinds.of(name(local))[0] != "list":
                kinds.append(self.local_kinds.of(name(local)))
                self.local_kinds.rely(local, kinds[-1], self.scope.parsed.filename, self.lineno)
            else:
                self.error("a gradient function called on a computed value (its kinds are not "
                           "known before the call)", "gradient call")
        return kinds

    def inline_generated(self, gen, node):
        parsed = Parsed(copy.deepcopy(gen.ir), gen.filename, namespace_of(gen.fn), gen.fn)
        return self.inline((parsed.node, parsed), node)

    def inline_gradient(self, gf, node):
        """A call of a tapeflow gradient: inline its generated code (higher-order derivatives)."""
        if self.gradient_of is None:
            self.error("a gradient function called here (no pipeline to generate it)",
                       "gradient call")
        kinds = self.argument_kinds(node.args)
        argnums = tuple(i % len(kinds) for i in gf.argnums)
        kinds = tuple(("float", 0) if i in argnums and k[0] in ("int", "bool") else k
                      for i, k in enumerate(kinds))
        both = self.inline_generated(self.gradient_of(gf.fn, argnums, kinds), node)
        if not gf.tuple_out:   # the gradient has the kind of its argument
            out = self.tuples[both.id][1]
            if isinstance(out, gast.Name):
                self.local_kinds.declared[out.id] = kinds[argnums[0]]
        if gf.with_value:
            return both
        return self.tuples[both.id][1]

    def inline_jvp(self, node):
        """``tapeflow.jvp(f, (x, y), (dx, None))``: the tangent code of f inlined, giving the
        tuple (value, tangent). The primals and tangents must be tuple literals."""
        if self.gradient_of is None:
            self.error("jvp called here (no pipeline to generate it)", "jvp call")
        # backend= says where a jvp called from Python runs; here it is inlined whatever it says
        if len(node.args) != 3 or any(k.arg != "backend" for k in node.keywords) or not all(
                isinstance(a, (gast.Tuple, gast.List)) for a in node.args[1:]) or \
                len(node.args[1].elts) != len(node.args[2].elts):
            self.error("jvp inside a transformed function takes (f, (primals...), "
                       "(tangents...)) with tuples written out, one tangent per primal",
                       "jvp call")
        fn = self.static(node.args[0])
        if fn is None or resolve.classify(fn) != "user":
            self.error("jvp of a function that is not a plain Python function", "jvp call")
        primals, tangents = node.args[1].elts, node.args[2].elts
        kinds = self.argument_kinds(primals)
        argnums = tuple(i for i, t in enumerate(tangents)
                        if not (isinstance(t, gast.Constant) and t.value is None))
        kinds = tuple(("float", 0) if i in argnums and k[0] in ("int", "bool") else k
                      for i, k in enumerate(kinds))
        gen = self.gradient_of(fn, argnums, kinds, forward=True)
        call = gast.Call(func=node.func, args=list(primals) + [tangents[i] for i in argnums],
                         keywords=[])
        return self.inline_generated(gen, call)

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
