"""Inline a derivative rule of runtime/rules as a template, specialised to the call site.

The rule ``d_mul(g, ans, x, y): return unbroadcast(g * y, x), unbroadcast(g * x, y)`` becomes,
for ``t = a * 0.5`` with scalar ``a``, just ``dt * 0.5`` for the adjoint of ``a``: parameters are
replaced by the call site's operands, branches on ``np.ndim`` are decided from the known kinds,
shape bookkeeping that is provably a no-op is dropped, and constants are folded.
"""
import copy
import inspect
import math
import operator
import textwrap

import gast
import numpy as np

from tapeflow.runtime import rules

from .nodes import const, name

_PARSED = {}


class Undecided(Exception):
    pass


def rule_tree(rule, forward=False):
    """The parsed reverse rule of an entry (``forward``: its tangent rule)."""
    key = (rule.name, forward)
    tree = _PARSED.get(key)
    if tree is None:
        source = textwrap.dedent(inspect.getsource(rule.forward if forward else rule.adjoint))
        tree = gast.parse(source).body[0]
        tree.decorator_list = []
        _PARSED[key] = tree
    return tree


class Instance:
    """A rule specialised to one statement: prelude statements and one expression per input."""

    def __init__(self, prelude, outputs):
        self.prelude = prelude
        self.outputs = outputs      # input position -> expression (None: no gradient)

    def rename(self, old, new):
        for node in self.prelude + [o for o in self.outputs.values() if o is not None]:
            for n in gast.walk(node):
                if isinstance(n, gast.Name) and n.id == old:
                    n.id = new

    def reads(self):
        names = set()
        for node in self.prelude + [o for o in self.outputs.values() if o is not None]:
            for n in gast.walk(node):
                if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load):
                    names.add(n.id)
        return names


class _substitution(gast.NodeTransformer):
    """Reads of a rule's parameters become their bound atoms; its locals get fresh names."""

    def __init__(self, tree, binding, fresh):
        self.binding = binding
        local = dict.fromkeys(n.id for n in gast.walk(tree)
                              if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store))
        self.renamed = {n: fresh(n) for n in local}

    def visit_Name(self, node):
        if node.id in self.binding and isinstance(node.ctx, gast.Load):
            return copy.deepcopy(self.binding[node.id])
        if node.id in self.renamed:
            node.id = self.renamed[node.id]
        return node


def instantiate(rule, g, ans, inputs, params, analysis, fresh, wanted, tangents=None):
    """Specialise ``rule`` for a statement. ``inputs`` are atoms, ``params`` name -> atom.
    With ``tangents`` (one atom per input, None for an input without one), the forward rule
    ``f(*tangents, ans, *inputs, **params)`` instead, ``g`` unused: its terms per input."""
    tree = copy.deepcopy(rule_tree(rule, forward=tangents is not None))
    arg_names = [a.id for a in tree.args.args]
    defaults = dict(zip(arg_names[len(arg_names) - len(tree.args.defaults):], tree.args.defaults))
    n_in = len(inputs)
    lead = [g] if tangents is None else [t if t is not None else const(None) for t in tangents]
    binding = dict(zip(arg_names, lead + [ans]))
    first = len(lead) + 1   # where the inputs start
    for pname, atom in zip(arg_names[first:first + n_in], inputs):
        binding[pname] = atom
    for pname in arg_names[first + n_in:]:
        binding[pname] = params.get(pname, defaults.get(pname, const(None)))
    unknown = sorted(set(params) - set(arg_names[first + n_in:]))
    if unknown:   # a keyword the rule does not read (np.mean(where=...)) would be silently dropped
        raise Undecided(f"the {rule.name} rule does not take the keyword {unknown[0]}=")
    substitute = _substitution(tree, binding, fresh)
    # decide `np.ndim(p) == k` tests from kinds before substituting
    body = decide_ndim_branches(tree.body, {p: analysis.ndim(binding[p]) for p in binding})
    if any(isinstance(n, gast.Return) for s in body[:-1] for n in gast.walk(s)):
        raise Undecided(f"the {rule.name} rule depends on array dimensions that are not known "
                        f"before the function runs")
    body = [substitute.visit(s) for s in body]
    ret = body[-1]
    assert isinstance(ret, gast.Return), rule.name
    value = ret.value
    exprs = value.elts if isinstance(value, gast.Tuple) and rule.n_inputs > 1 else [value]
    outputs = {}
    for k in wanted:
        e = exprs[k]
        if isinstance(e, gast.Constant) and e.value is None:
            outputs[k] = None
            continue
        e = simplify(e, inputs, k, ans, analysis)
        outputs[k] = e
    prelude = dead_code(body[:-1], [o for o in outputs.values() if o is not None])
    return Instance(prelude, outputs)


def instantiate_variadic(rule, g, ans, inputs, params, analysis, fresh, wanted):
    """Specialise a rule of a sequence's items (``d_concat(g, ans, *xs, axis=0)``, returning
    one adjoint per item): ``xs`` is the tuple of the items, the adjoints are its items."""
    tree = copy.deepcopy(rule_tree(rule))
    g_name, ans_name = [a.id for a in tree.args.args]
    binding = {g_name: g, ans_name: ans,
               tree.args.vararg.id: gast.Tuple(elts=list(inputs), ctx=gast.Load())}
    keywords = [a.id for a in tree.args.kwonlyargs]
    for pname, default in zip(keywords, tree.args.kw_defaults):
        binding[pname] = params.get(pname, default if default is not None else const(None))
    unknown = sorted(set(params) - set(keywords))
    if unknown:
        raise Undecided(f"the {rule.name} rule does not take the keyword {unknown[0]}=")
    substitute = _substitution(tree, binding, fresh)
    body = [substitute.visit(s) for s in tree.body]
    if any(isinstance(n, gast.Return) for s in body[:-1] for n in gast.walk(s)):
        raise Undecided(f"the {rule.name} rule has more than one return")
    parts = fresh("d_items")
    unpack = gast.Assign(targets=[name(parts, gast.Store())], value=body[-1].value,
                         type_comment=None)
    outputs = {k: gast.Subscript(value=name(parts), slice=const(k), ctx=gast.Load())
               for k in wanted}
    return Instance(body[:-1] + [unpack], outputs)


def decide_ndim_branches(stmts, ndims):
    out = []
    for s in stmts:
        if isinstance(s, gast.If):
            verdict = static_test(s.test, ndims)
            if verdict is True:
                out.extend(decide_ndim_branches(s.body, ndims))
                if any(isinstance(x, gast.Return) for x in s.body):
                    return out
                continue
            if verdict is False:
                out.extend(decide_ndim_branches(s.orelse, ndims))
                continue
        out.append(s)
    return out


def static_test(test, ndims):
    """True/False if ``test`` is a comparison of np.ndim(param) with a constant we can decide."""
    if isinstance(test, gast.BoolOp):
        parts = [static_test(v, ndims) for v in test.values]
        if isinstance(test.op, gast.And):
            return False if False in parts else True if all(p is True for p in parts) else None
        return True if True in parts else False if all(p is False for p in parts) else None
    if isinstance(test, gast.Compare) and isinstance(test.left, gast.Call) and \
            type(test.ops[0]) in _COMPARE and isinstance(test.comparators[0], gast.Constant):
        call = test.left
        if isinstance(call.func, gast.Attribute) and call.func.attr == "ndim" and \
                isinstance(call.args[0], gast.Name):
            nd = ndims.get(call.args[0].id)
            if nd is not None:
                return _COMPARE[type(test.ops[0])](nd, test.comparators[0].value)
    return None


_COMPARE = {gast.Eq: operator.eq, gast.NotEq: operator.ne, gast.Gt: operator.gt,
            gast.GtE: operator.ge, gast.Lt: operator.lt, gast.LtE: operator.le}


def is_call_to(node, fname):
    return isinstance(node, gast.Call) and isinstance(node.func, gast.Name) and \
        node.func.id == fname


def simplify(expr, inputs, k, ans, analysis):
    """Drop ``unbroadcast(e, x)`` where e already has x's shape; fold constants."""
    scalar = ("float", "int", "bool")

    def same_shape_as_result(atom):
        kind = analysis.kind(atom)
        others = [a for a in inputs if a is not atom and not (
            isinstance(a, gast.Name) and isinstance(atom, gast.Name) and a.id == atom.id)]
        if kind in scalar:
            return analysis.kind(ans) in scalar
        if kind == "array":
            return all(analysis.kind(o) in scalar or isinstance(o, gast.Constant) for o in others)
        return False

    class Simplify(gast.NodeTransformer):
        def visit_Call(self, node):
            self.generic_visit(node)
            if is_call_to(node, "unbroadcast") and same_shape_as_result(node.args[1]):
                return node.args[0]
            if isinstance(node.func, gast.Attribute) and node.func.attr == "power" and \
                    isinstance(node.args[1], gast.Constant) and node.args[1].value == 1:
                return node.args[0]
            if isinstance(node.func, gast.Attribute) and node.func.attr == "where" and \
                    len(node.args) == 3 and isinstance(node.args[0], gast.Constant) and \
                    isinstance(node.args[0].value, bool):   # a condition known here
                return node.args[1] if node.args[0].value else node.args[2]
            return node

        def visit_Compare(self, node):
            self.generic_visit(node)
            l, r = node.left, node.comparators[0]
            if len(node.ops) == 1 and type(node.ops[0]) in _COMPARE and \
                    isinstance(l, gast.Constant) and isinstance(r, gast.Constant) and \
                    isinstance(l.value, (int, float)) and isinstance(r.value, (int, float)):
                return const(bool(_COMPARE[type(node.ops[0])](l.value, r.value)))
            return node

        def visit_BinOp(self, node):
            self.generic_visit(node)
            return fold(node)

    return Simplify().visit(expr)


_FOLD = {gast.Add: operator.add, gast.Sub: operator.sub, gast.Mult: operator.mul,
         gast.Div: operator.truediv}


def fold(node):
    l, r = node.left, node.right
    lc, rc = isinstance(l, gast.Constant), isinstance(r, gast.Constant)
    op = type(node.op)
    if lc and rc and op in _FOLD and isinstance(l.value, (int, float)) and \
            isinstance(r.value, (int, float)) and not (op is gast.Div and r.value == 0):
        return const(_FOLD[op](l.value, r.value))
    if op is gast.Mult and rc and r.value == 1:
        return l
    if op is gast.Mult and lc and l.value == 1:
        return r
    return node


def dead_code(prelude, outputs):
    """Prelude statements the chosen outputs need, in order."""
    needed = set()
    for o in outputs:
        needed |= {n.id for n in gast.walk(o) if isinstance(n, gast.Name)}
    kept = []
    for s in reversed(prelude):
        targets = {n.id for n in gast.walk(s.targets[0]) if isinstance(n, gast.Name)} \
            if isinstance(s, gast.Assign) else set()
        if targets & needed:
            kept.append(s)
            needed |= {n.id for n in gast.walk(s.value) if isinstance(n, gast.Name)}
    return list(reversed(kept))


# numpy calls on scalars are ~20x slower than math's; generated scalar code uses math.
SCALAR_MATH = {"sin", "cos", "tan", "exp", "log", "sqrt", "tanh", "sinh", "cosh", "log1p",
               "expm1", "arcsin", "arccos", "arctan"}
MATH_NAME = {"arcsin": "asin", "arccos": "acos", "arctan": "atan"}


def scalarize(expr, is_scalar):
    """Rewrite np.f(scalars) as math.f(...) and np.where/np.power on scalars as Python."""
    class Rewrite(gast.NodeTransformer):
        def visit_Call(self, node):
            self.generic_visit(node)
            f = node.func
            if not (isinstance(f, gast.Attribute) and isinstance(f.value, gast.Name)
                    and f.value.id == "np" and all(is_scalar(a) for a in node.args)):
                return node
            if f.attr in SCALAR_MATH:
                node.func = gast.Attribute(value=name("math"), attr=MATH_NAME.get(f.attr, f.attr),
                                           ctx=gast.Load())
            elif f.attr == "power":
                return gast.BinOp(left=node.args[0], op=gast.Pow(), right=node.args[1])
            elif f.attr == "where":
                return gast.IfExp(test=node.args[0], body=node.args[1], orelse=node.args[2])
            return node
    return Rewrite().visit(expr)


def expr_is_scalar(expr, analysis):
    for n in gast.walk(expr):
        if isinstance(n, gast.Name) and n.id not in ("np", "math") and \
                analysis.kinds.get(n.id) not in ("float", "int", "bool"):
            return False
        if isinstance(n, gast.Call) and not (isinstance(n.func, gast.Attribute)):
            return False
    return True


__all__ = ["instantiate", "Instance", "scalarize", "expr_is_scalar", "rules", "math", "np"]
