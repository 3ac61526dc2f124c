"""Expressions of the normalizer: a nested expression becomes a chain of temporaries, each
holding one operation on names and constants (the IR's atoms)."""
import builtins
import math
import numbers
import operator

import gast
import numpy as np

from . import resolve
from .nodes import assign, const, if_, is_atom, literal, name, not_, store

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


# modules whose attributes nobody rebinds (np.sin): not checked before each reuse of a derivative
_FIXED_MODULES = (np, np.linalg, np.random, math, operator, builtins)


class ExpressionFlattener:
    """Mixed into the Normalizer: expressions to atoms."""

    # expressions
    def as_atom(self, value, hint="t"):
        if is_atom(value):
            return value
        tmp = self.fresh(hint)
        self.emit(assign(tmp, value))
        if isinstance(value, gast.Tuple):   # a tuple inside a tuple: unpacked without a container
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
            # the tape's numpy (a function traced inside a tape) wraps primitives: the same entry
            value = getattr(value, "__tapeflow_primitive__", value)
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
