"""Analyze: kinds (scalar, int, array, ...), activity and stability of every name in the IR.

* kind: what a name holds, inferred forward from the arguments' kinds. It decides how adjoints
  are initialised and lets templates drop shape bookkeeping that is provably a no-op.
* active: depends on a differentiated input (varied) AND influences the result (useful). Only
  active names get adjoints. Integers, booleans and conditions never are.
* stable: assigned once, outside any loop. Its value survives to the adjoint sweep, so reading
  it there needs no save-stack.
"""
import operator

import gast
import numpy as np

from tapeflow.runtime import rules

from . import resolve

SCALAR = ("float", "int", "bool")

BINOPS = {gast.Add: operator.add, gast.Sub: operator.sub, gast.Mult: operator.mul,
          gast.Div: operator.truediv, gast.Pow: operator.pow, gast.MatMult: operator.matmul,
          gast.FloorDiv: operator.floordiv, gast.Mod: operator.mod}


def _role(role):
    """ids of the callables whose table entry has this role (a view of runtime/rules)."""
    return {id(c) for e in rules.ENTRIES if e.role == role for c in e.callables}


REDUCTIONS = _role("reduction")
SHAPE_OPS = _role("shape")       # a new array whose ndim the call decides
INT_RESULTS = _role("int")
# rule helpers whose result has the shape of one of their arguments
LIKE_ARGUMENT = {id(c): e.like for e in rules.ENTRIES if e.like is not None for c in e.callables}


def merge(a, b):
    if a is None or a == b:
        return b
    if b is None:
        return a
    pair = {a, b}
    if pair <= {"int", "bool"}:
        return "int"
    if pair <= {"int", "bool", "float"}:
        return "float"
    if "array" in pair and pair <= {"array", "float", "int", "bool"}:
        return "array"
    return "any"


def statements(stmts):
    """Every statement, nested ones included, with the number of loops around it."""
    def walk(body, depth):
        for s in body:
            yield s, depth
            if isinstance(s, gast.If):
                yield from walk(s.body, depth)
                yield from walk(s.orelse, depth)
            elif isinstance(s, (gast.For, gast.While)):
                yield from walk(s.body, depth + 1)
    return list(walk(stmts, 0))


def is_differentiable_op(value):
    """The callable of a differentiable operation statement, or None."""
    if isinstance(value, gast.BinOp):
        fn = BINOPS.get(type(value.op))
        return fn if fn is not operator.floordiv else None
    if isinstance(value, gast.UnaryOp) and isinstance(value.op, gast.USub):
        return operator.neg
    if isinstance(value, gast.Call) and getattr(value, "callee", None) is not None:
        kind = resolve.classify(value.callee)
        if kind in ("rule", "identity"):
            return value.callee
    return None


def is_variadic(fn):
    entry = rules.entry_of(fn)
    return entry is not None and entry.n_inputs == -1


def differentiable_reads(value):
    """Names that ``value`` reads in positions where their value changes the result smoothly:
    everything but comparisons, nondiff calls (shapes, masks), indices and array facts."""
    if isinstance(value, gast.Name):
        return {value.id}
    if isinstance(value, (gast.Tuple, gast.List)):
        return set().union(*[differentiable_reads(e) for e in value.elts])
    if isinstance(value, gast.BinOp):
        if isinstance(value.op, gast.FloorDiv):
            return set()
        return differentiable_reads(value.left) | differentiable_reads(value.right)
    if isinstance(value, gast.UnaryOp):
        return set() if isinstance(value.op, gast.Not) else differentiable_reads(value.operand)
    if isinstance(value, gast.Subscript):
        # a differentiable value used as an index (np.r_[x, y] indexes an object with x and y)
        # is read where no gradient flows back: reported, so the transform refuses it
        return differentiable_reads(value.value) | differentiable_reads(value.slice)
    if isinstance(value, gast.Slice):
        return set()
    if isinstance(value, gast.Attribute):
        return set() if value.attr in resolve.ARRAY_ATTRIBUTES_NONDIFF else \
            differentiable_reads(value.value)
    if isinstance(value, gast.Call):
        if getattr(value, "stack_op", None) is not None:
            return set()
        callee = getattr(value, "callee", None)
        if callee is not None and resolve.classify(callee) == "nondiff":
            return set()
        parts = list(value.args) + [k.value for k in value.keywords]
        return set().union(*[differentiable_reads(p) for p in parts])
    return set()


def operands(value):
    """The operands of an expression through which a gradient can flow."""
    if isinstance(value, gast.Name):
        return [value.id]
    if isinstance(value, gast.BinOp):
        if is_differentiable_op(value) is None:
            return []
        return [a.id for a in (value.left, value.right) if isinstance(a, gast.Name)]
    if isinstance(value, gast.UnaryOp):
        return [value.operand.id] if isinstance(value.op, gast.USub) and \
            isinstance(value.operand, gast.Name) else []
    if isinstance(value, gast.Call):
        if getattr(value, "stack_op", None) == "pop":
            return [value.func.value.id]
        fn = is_differentiable_op(value)
        if fn is None:
            return []
        args = value.args
        if fn is np.where:
            args = args[1:]
        if args and isinstance(args[0], gast.Tuple) and is_variadic(fn):
            args = list(args[0].elts)     # np.concatenate((a, x)): the items are the inputs
        return [a.id for a in args if isinstance(a, gast.Name)]
    if isinstance(value, gast.Subscript):
        return [value.value.id] if isinstance(value.value, gast.Name) else []
    if isinstance(value, gast.Tuple):
        return [e.id for e in value.elts if isinstance(e, gast.Name)]
    return []


class Analysis:
    def __init__(self, fn, arg_kinds, wrt, constant_kinds=()):
        self.fn = fn
        self.params = [a.id for a in fn.args.args]
        self.all = statements(fn.body)
        named = list(zip(self.params, arg_kinds)) + list(dict(constant_kinds).items())
        self.kinds = {n: k for n, (k, _) in named}
        self.ndims = {n: nd for n, (_, nd) in named}
        self.tuple_lengths = {}
        self.infer_kinds()
        self.count_assignments()
        self.activity(wrt)

    # kinds
    def kind(self, atom):
        if isinstance(atom, gast.Constant):
            v = atom.value
            return "bool" if isinstance(v, bool) else "int" if isinstance(v, int) else \
                "float" if isinstance(v, float) else "none" if v is None else "any"
        if isinstance(atom, gast.Name):
            return self.kinds.get(atom.id)
        return "any"

    def ndim(self, atom):
        if isinstance(atom, gast.Name):
            k = self.kinds.get(atom.id)
            return 0 if k in SCALAR else self.ndims.get(atom.id)
        return 0

    def kind_of(self, value):
        k = self.kind
        if isinstance(value, (gast.Name, gast.Constant)):
            return k(value), self.ndim(value)
        if isinstance(value, gast.BinOp):
            a, b = k(value.left), k(value.right)
            if isinstance(value.op, gast.MatMult):
                return self.matmul_kind(value.left, value.right)
            if "array" in (a, b):
                return "array", max_ndim(self.ndim(value.left), self.ndim(value.right))
            if None in (a, b):
                return None, None
            if "any" in (a, b):
                return "any", None
            if isinstance(value.op, gast.Div):
                return "float", 0
            return merge(a, b), 0
        if isinstance(value, gast.UnaryOp):
            if isinstance(value.op, gast.Not):
                return "bool", 0
            return k(value.operand), self.ndim(value.operand)
        if isinstance(value, gast.Compare):
            a, b = k(value.left), k(value.comparators[0])
            if "array" in (a, b):
                return "array", max_ndim(self.ndim(value.left), self.ndim(value.comparators[0]))
            return "bool", 0
        if isinstance(value, gast.Attribute):
            return ("tuple", None) if value.attr == "shape" else ("int", 0) \
                if value.attr in ("ndim", "size") else ("any", None)
        if isinstance(value, gast.Tuple):
            return "tuple", None
        if isinstance(value, gast.Subscript):
            base = k(value.value)
            if base == "tuple":
                return ("int", 0) if isinstance(value.slice, (gast.Name, gast.Constant)) \
                    else ("tuple", None)
            if base in SCALAR:
                return "any", None
            nd = self.ndim(value.value)
            idx = value.slice.elts if isinstance(value.slice, gast.Tuple) else [value.slice]
            if any(isinstance(i, gast.Slice) or self.kind(i) not in ("int", "bool") for i in idx):
                if all(isinstance(i, gast.Slice) or self.kind(i) == "int" for i in idx) and nd:
                    ints = sum(1 for i in idx if not isinstance(i, gast.Slice))
                    return "array", nd - ints
                return "array" if base == "array" else "any", None
            if nd is not None:
                return ("float", 0) if len(idx) == nd else ("array", nd - len(idx))
            return "any", None
        if isinstance(value, gast.Call):
            return self.call_kind(value)
        return "any", None

    def matmul_kind(self, a, b):
        na, nb = self.ndim(a), self.ndim(b)
        if na == 1 and nb == 1:
            return "float", 0
        if na is None or nb is None:
            return "any", None
        return "array", na + nb - 2 if min(na, nb) >= 1 else max(na, nb)

    def call_kind(self, call):
        if getattr(call, "stack_op", None) == "pop":
            return "any", None
        if getattr(call, "stack_op", None) == "push":
            return "none", None
        fn = call.callee
        args = call.args
        kinds = [self.kind(a) for a in args]
        if fn is resolve.Stack:
            return "stack", None
        if id(fn) in INT_RESULTS:
            return "int", 0
        if fn is np.shape:
            return "tuple", None
        if fn is print:
            return "none", None
        if id(fn) in SHAPE_OPS:
            return "array", self.shape_op_ndim(fn, call)
        if id(fn) in REDUCTIONS:
            kw = {k.arg: k.value for k in call.keywords}
            axis = kw.get("axis", args[1] if len(args) > 1 else None)
            if axis is None or isinstance(axis, gast.Constant) and axis.value is None:
                if kinds and kinds[0] in SCALAR:
                    return "float", 0
                return ("float", 0) if kinds and kinds[0] == "array" else ("any", None)
            nd = self.ndim(args[0])
            keep = kw.get("keepdims")
            if nd is not None and not (isinstance(keep, gast.Constant) and keep.value):
                return ("array", nd - 1) if nd > 1 else ("float", 0)
            return "array", None
        if fn in (np.dot, np.matmul):
            return self.matmul_kind(args[0], args[1])
        if fn in (np.stack, np.concatenate) and args and isinstance(args[0], gast.Tuple):
            nds = {self.ndim(e) for e in args[0].elts}   # the items: one rank, or unknown
            nd = nds.pop() if len(nds) == 1 else None
            if nd is not None and fn is np.stack:
                return "array", nd + 1
            axis = {k.arg: k.value for k in call.keywords}.get("axis")
            if isinstance(axis, gast.Constant) and axis.value is None:
                return "array", 1
            return "array", nd
        like = LIKE_ARGUMENT.get(id(fn))
        if like is not None and len(args) > like:
            return self.kind(args[like]), self.ndim(args[like])   # shaped like that argument
        if fn is float:
            return "float", 0
        if None in kinds:
            return None, None
        if "array" in kinds:
            return "array", max_ndim(*[self.ndim(a) for a, kk in zip(args, kinds)
                                       if kk == "array"])
        if "any" in kinds or "tuple" in kinds:
            return "any", None
        if fn in (np.sign, np.floor, np.ceil, np.round, np.rint):
            return "float", 0
        if fn in (np.isnan, np.isfinite, np.isinf):
            return "bool", 0
        return "float", 0

    def shape_op_ndim(self, fn, call):
        args = call.args
        if fn in (np.zeros, np.ones, np.empty, np.full) and args:
            return self.shape_ndim(args[0])
        if fn in (np.zeros_like, np.ones_like, np.empty_like, np.transpose):
            return self.ndim(args[0]) if args else None
        if fn in (np.eye, np.identity, np.outer):
            return 2
        if fn in (np.arange, np.linspace):
            return 1
        if fn is np.reshape and len(args) > 1:
            return self.shape_ndim(args[1])
        if fn is np.broadcast_to and len(args) > 1:
            return self.shape_ndim(args[1])
        if fn is np.expand_dims and args and self.ndim(args[0]) is not None:
            return self.ndim(args[0]) + 1
        return None

    def shape_ndim(self, atom):
        """How many dimensions a shape argument (an int, or a tuple) describes."""
        kind = self.kind(atom)
        if kind == "int":
            return 1
        if isinstance(atom, gast.Name):
            return self.tuple_lengths.get(atom.id)
        return None

    def infer_kinds(self):
        for _ in range(20):
            changed = False
            for s, _depth in self.all:
                if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name):
                    target = s.targets[0].id
                    kind, nd = self.kind_of(s.value)
                    if isinstance(s.value, gast.Tuple):
                        self.tuple_lengths[target] = len(s.value.elts)
                    elif isinstance(s.value, gast.Attribute) and s.value.attr == "shape":
                        self.tuple_lengths[target] = self.ndim(s.value.value)
                    new = merge(self.kinds.get(target), kind)
                    new_nd = nd if target not in self.ndims or self.ndims[target] == nd else None
                    if new != self.kinds.get(target) or new_nd != self.ndims.get(target):
                        self.kinds[target], self.ndims[target] = new, new_nd
                        changed = True
                elif isinstance(s, gast.For):
                    t = s.target.id
                    if self.kinds.get(t) != "int":
                        self.kinds[t], self.ndims[t] = "int", 0
                        changed = True
            if not changed:
                break

    # stability
    def count_assignments(self):
        self.assignments = {p: 1 for p in self.params}
        self.in_loop = set()
        for s, depth in self.all:
            targets = []
            if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name):
                targets = [s.targets[0].id]
            elif isinstance(s, gast.For):
                targets = [s.target.id]
            for t in targets:
                self.assignments[t] = self.assignments.get(t, 0) + 1
                if depth > 0 or isinstance(s, gast.For):
                    self.in_loop.add(t)
        self.stable = {n for n, c in self.assignments.items() if c == 1 and n not in self.in_loop}

    def is_stable(self, name_):
        return name_ in self.stable or name_ not in self.assignments

    # activity
    def activity(self, wrt):
        differentiable = ("float", "array", "any", "stack", None)
        varied = set(wrt)
        useful = set()
        ret = self.fn.body[-1]
        if isinstance(ret, gast.Return) and isinstance(ret.value, gast.Name):
            useful.add(ret.value.id)
        for _ in range(100):
            before = (len(varied), len(useful))
            for s, _depth in self.all:
                if isinstance(s, gast.Assign):
                    target = s.targets[0]
                    if isinstance(target, gast.Name):
                        t = target.id
                        ops = operands(s.value)
                        if self.kinds.get(t) in differentiable and any(o in varied for o in ops):
                            varied.add(t)
                        if t in useful:
                            useful.update(ops)
                    elif isinstance(target, gast.Subscript):
                        base, value = target.value.id, s.value
                        if isinstance(value, gast.Name) and value.id in varied:
                            varied.add(base)
                        if base in useful and isinstance(value, gast.Name):
                            useful.add(value.id)
                elif isinstance(s, gast.Expr) and getattr(s.value, "stack_op", None) == "push":
                    stack, value = s.value.func.value.id, s.value.args[0]
                    if isinstance(value, gast.Name):
                        if value.id in varied:
                            varied.add(stack)
                        if stack in useful:
                            useful.add(value.id)
            if (len(varied), len(useful)) == before:
                break
        self.active = {n for n in varied & useful
                       if self.kinds.get(n) in differentiable or n in wrt}
        self.dropped = self.dropped_gradients(varied, useful)

    def dropped_gradients(self, varied, useful):
        """Statements that read a differentiable value where no gradient can flow back from
        (inside a list or tuple literal, or a container the transform does not follow), while
        their result matters: (statement, names). The pipeline refuses these instead of
        returning a zero gradient for them."""
        found = []
        for s, _depth in self.all:
            if not (isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name)):
                continue
            target = s.targets[0].id
            if target not in useful:
                continue
            reads = differentiable_reads(s.value) & varied
            # read but not followed, or followed into a value that holds no gradient (a tuple)
            hidden = reads if target not in varied else reads - set(operands(s.value))
            if hidden:
                found.append((s, sorted(hidden)))
        return found


def max_ndim(*nds):
    if any(n is None for n in nds):
        return None
    return max(nds) if nds else 0
