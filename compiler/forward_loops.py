"""Vector mode for native code: one loop over the k directions per run of scalar tangent lines.

In vector mode (forward_batch.py) the tangent of a scalar is a k-vector, so inside a loop over
data every tangent line of a scalar computes a small array: natively that is a short loop and a
temporary per line and iteration, slower than k separate jvp calls. Here the consecutive tangent
lines of scalars (and element reads and writes of tangent arrays) become one loop over the
directions, each tangent a plain scalar in it:

    for i in range(n):                        for i in range(n):
        c_dot = -a_dot * np.sin(a)                c = np.cos(a)
        c = np.cos(a)                 ->          for d in range(batch):
        out_dot[:, i] = c_dot * x                     c_dot = -a_dot[d] * np.sin(a)
        out[i] = c * x                                out_dot[d, i] = c_dot * x
                                                  out[i] = c * x

A primal line moves ahead of pending tangent lines only if it writes nothing they read (names,
or arrays that may share memory with what they read). A scalar tangent used outside one run
(across runs, before its assignment in its run, or by another line) stays a k-vector, allocated
once per call and written per direction. Lines this cannot express keep their vector form; a
k-vector another line could hold on to (pushed, aliased, returned as a view) would be written in
place, so such code is left as it was (``None``). Only native code gets this form: in Python a
loop over directions is slower than numpy over the batch axis.
"""
import copy

import gast

from .analyze import SCALAR
from .forward_batch import BATCH, call, np_attr
from .normalize import assign, const, name

FRESH_VALUES = (gast.BinOp, gast.UnaryOp, gast.Compare)
ALLOCATORS = ("zeros", "ones", "empty", "full", "zeros_like", "ones_like", "empty_like",
              "full_like", "shape", "arange", "linspace", "eye")


def _loads(node):
    return {n.id for n in gast.walk(node) if isinstance(n, gast.Name) and
            isinstance(n.ctx, gast.Load)}


def _is_full_slice(s):
    return isinstance(s, gast.Slice) and s.lower is None and s.upper is None and s.step is None


class DirectionLoops:
    def __init__(self, fwd, fn):
        self.fwd, self.fn, self.a = fwd, copy.deepcopy(fn), fwd.a   # fn stays as it was
        self.direction = fwd.fresh("d")
        dots = fwd.tangent_names
        self.scalar_dots = {t for v, t in dots.items() if self.a.kinds.get(v) in SCALAR}
        self.array_dots = {t: v for v, t in dots.items() if self.a.kinds.get(v) not in SCALAR
                           and v not in fwd.tuples}
        self.params_dots = {fwd.dot(p) for p in fwd.wrt}
        self.tangents = set(dots.values())
        self.alias = self.alias_classes()

    # may-alias classes of arrays: a name bound to an expression reading an array may share it
    def alias_classes(self):
        parent = {}

        def find(x):
            while parent.get(x, x) != x:
                x = parent[x]
            return x
        for s in gast.walk(self.fn):
            if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name) and \
                    self.a.kinds.get(s.targets[0].id) not in SCALAR and not self.fresh(s.value):
                for r in _loads(s.value):
                    if self.a.kinds.get(r) not in SCALAR:
                        parent[find(r)] = find(s.targets[0].id)
        names = set(parent) | set(parent.values())
        classes = {}
        for n in names:
            classes.setdefault(find(n), set()).add(n)
        return {n: classes[find(n)] for n in names}

    @staticmethod
    def fresh(value):
        """A value that is a new array (or none): arithmetic, np.zeros(...), np.shape(x)."""
        if isinstance(value, FRESH_VALUES + (gast.Constant, gast.Tuple)):
            return True
        return isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute) and \
            isinstance(value.func.value, gast.Name) and value.func.value.id == "np" and \
            value.func.attr in ALLOCATORS

    def may_alias(self, names):
        out = set()
        for n in names:
            out |= self.alias.get(n, {n})
        return out

    # which lines a direction loop takes
    def element(self, node):
        """``T[:, i, j]`` reading one element of tangent array T per direction."""
        if not (isinstance(node, gast.Subscript) and isinstance(node.value, gast.Name) and
                node.value.id in self.array_dots and isinstance(node.slice, gast.Tuple)):
            return False
        first, *index = node.slice.elts
        primal = self.array_dots[node.value.id]
        return _is_full_slice(first) and len(index) == self.a.ndims.get(primal, -1) and \
            all(self.scalar_atom(i) for i in index)

    def scalar_atom(self, node):
        if isinstance(node, gast.Constant):
            return isinstance(node.value, (int, float, bool))
        return isinstance(node, gast.Name) and node.id not in self.tangents and \
            self.a.kinds.get(node.id) in SCALAR

    def zeros(self, node):
        return isinstance(node, gast.Call) and not node.keywords and len(node.args) == 1 and \
            isinstance(node.args[0], gast.Name) and node.args[0].id == BATCH and \
            isinstance(node.func, gast.Attribute) and node.func.attr == "zeros"

    def scalar_expr(self, node):
        """An expression computing one direction's scalar tangent from scalars."""
        if self.scalar_atom(node) or self.element(node) or self.zeros(node):
            return True
        if isinstance(node, gast.Name):
            return node.id in self.scalar_dots or (node.id in self.params_dots and
                                                   node.id not in self.array_dots)
        if isinstance(node, gast.BinOp):
            return not isinstance(node.op, gast.MatMult) and self.scalar_expr(node.left) and \
                self.scalar_expr(node.right)
        if isinstance(node, gast.UnaryOp):
            return self.scalar_expr(node.operand)
        if isinstance(node, gast.Subscript):   # an element of a primal array
            base = node.value
            index = node.slice.elts if isinstance(node.slice, gast.Tuple) else [node.slice]
            return isinstance(base, gast.Name) and base.id not in self.tangents and \
                len(index) == self.a.ndims.get(base.id, -1) and \
                all(self.scalar_atom(i) for i in index)
        if isinstance(node, gast.Call):          # of primal scalars only: np.sin(a)
            return not node.keywords and all(self.scalar_atom(x) for x in node.args) and \
                not (_loads(node.func) & self.tangents)
        return False

    def takes(self, s):
        if not isinstance(s, gast.Assign):
            return False
        target = s.targets[0]
        if isinstance(target, gast.Name):
            ok = target.id in self.scalar_dots
        else:
            ok = self.element(gast.Subscript(value=target.value, slice=target.slice,
                                             ctx=gast.Load()))
        return ok and self.scalar_expr(s.value)

    def is_tangent_line(self, s):
        names = {n.id for n in gast.walk(s) if isinstance(n, gast.Name)}
        return bool(names & self.tangents)

    @staticmethod
    def writes(s):
        out = set()
        for n in gast.walk(s):
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store):
                out.add(n.id)
            elif isinstance(n, gast.Subscript) and isinstance(n.ctx, gast.Store) and \
                    isinstance(n.value, gast.Name):
                out.add(n.value.id)
        if isinstance(s, gast.Expr) and isinstance(s.value, gast.Call) and \
                isinstance(s.value.func, gast.Attribute) and \
                isinstance(s.value.func.value, gast.Name):
            out.add(s.value.func.value.id)   # stack.push(v) changes the stack
        return out

    # grouping
    def block(self, stmts):
        """``stmts`` with runs as lists: [statement | [run statements]]."""
        out, run, reads = [], [], set()

        def flush():
            nonlocal run, reads
            if run:
                out.append(run)
            run, reads = [], set()
        for s in stmts:
            if self.takes(s):
                run.append(s)
                reads |= self.may_alias(_loads(s.value) | _loads(s.targets[0]))
                continue
            if isinstance(s, (gast.For, gast.While, gast.If)):
                flush()
                s.body = self.block(s.body)
                s.orelse = self.block(s.orelse)
                out.append(s)
                continue
            # a call statement (print, stack.push) or a tangent line the loop does not take
            # stays in order with the tangent lines; an assignment moves ahead if independent
            if not isinstance(s, gast.Assign) or self.is_tangent_line(s) or \
                    self.may_alias(self.writes(s)) & reads:
                flush()
            out.append(s)
        flush()
        return out

    def runs_and_lines(self, grouped, runs, lines):
        for x in grouped:
            if isinstance(x, list):
                runs.append(x)
            else:
                lines.append(x)
                if isinstance(x, (gast.For, gast.While, gast.If)):
                    self.runs_and_lines(x.body, runs, lines)
                    self.runs_and_lines(x.orelse, runs, lines)

    def vectors(self, runs, lines):
        """Scalar tangents that stay k-vectors: used by a line outside the runs, by two runs,
        or read in their run before it assigns them (live across the run's boundary)."""
        keep = set(self.params_dots) - set(self.array_dots)
        for s in lines:
            if isinstance(s, (gast.For, gast.While, gast.If)):
                s = s.test if not isinstance(s, gast.For) else s.iter
            keep |= {n.id for n in gast.walk(s) if isinstance(n, gast.Name)} & self.scalar_dots
        seen = {}
        for k, run in enumerate(runs):
            assigned = set()
            for s in run:
                for r in _loads(s.value) & self.scalar_dots:
                    if r not in assigned:
                        keep.add(r)
                    if seen.setdefault(r, k) != k:
                        keep.add(r)
                t = s.targets[0]
                if isinstance(t, gast.Name):
                    assigned.add(t.id)
                    if seen.setdefault(t.id, k) != k:
                        keep.add(t.id)
        return keep

    def held(self, lines, vectors):
        """Whether a line outside the runs could keep a k-vector that is written in place."""
        tail = set()      # the returned tuples, built after every other line
        for s in reversed(self.fn.body):
            if not (isinstance(s, gast.Return) or isinstance(s, gast.Assign) and
                    isinstance(s.value, gast.Tuple) and isinstance(s.targets[0], gast.Name)):
                break
            tail.add(id(s))
        for s in lines:
            if isinstance(s, (gast.For, gast.While, gast.If)):
                continue
            used = {n.id for n in gast.walk(s) if isinstance(n, gast.Name)} & vectors
            if not used:
                continue
            if isinstance(s, gast.Return):
                continue
            if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Subscript) and \
                    not (_loads(s.targets[0]) & used):
                continue                     # A[...] = v copies v
            if isinstance(s, gast.Assign) and isinstance(s.value, FRESH_VALUES) and \
                    not (self.writes(s) & vectors):
                continue
            if id(s) in tail:
                continue
            return True
        return False

    # rewriting
    def per_direction(self, node, vectors):
        d = name(self.direction)
        if self.zeros(node):
            return const(0.0)
        if isinstance(node, gast.Name) and node.id in vectors:
            return gast.Subscript(value=name(node.id), slice=d, ctx=node.ctx)
        if isinstance(node, gast.Subscript) and isinstance(node.value, gast.Name) and \
                node.value.id in self.array_dots and isinstance(node.slice, gast.Tuple) and \
                node.slice.elts and _is_full_slice(node.slice.elts[0]):
            return gast.Subscript(value=node.value, slice=gast.Tuple(
                elts=[d] + node.slice.elts[1:], ctx=gast.Load()), ctx=node.ctx)
        for field, value in gast.iter_fields(node):
            if isinstance(value, gast.AST):
                setattr(node, field, self.per_direction(value, vectors))
            elif isinstance(value, list):
                setattr(node, field, [self.per_direction(v, vectors) if isinstance(v, gast.AST)
                                      else v for v in value])
        return node

    def emit(self, grouped, vectors):
        out = []
        for x in grouped:
            if not isinstance(x, list):
                if isinstance(x, (gast.For, gast.While, gast.If)):
                    x.body = self.emit(x.body, vectors) or [gast.Pass()]
                    x.orelse = self.emit(x.orelse, vectors)
                out.append(x)
                continue
            body = []
            for s in x:
                target = self.per_direction(s.targets[0], vectors)
                line = assign(target, self.per_direction(s.value, vectors),
                              getattr(s, "lineno", None))
                body.append(line)
            loop = gast.For(target=gast.Name(id=self.direction, ctx=gast.Store(), annotation=None,
                                             type_comment=None),
                            iter=call(name("range"), name(BATCH)), body=body, orelse=[],
                            type_comment=None)
            loop.lineno = getattr(x[0], "lineno", None)
            out.append(loop)
        return out

    def run(self, head_len):
        body = self.fn.body
        head, rest = body[:head_len], body[head_len:]
        written = set()
        for s in gast.walk(self.fn):
            written |= self.writes(s) if isinstance(s, gast.stmt) else set()
        grouped = self.block(rest)
        runs, lines = [], []
        self.runs_and_lines(grouped, runs, lines)
        if not runs:
            return None
        vectors = self.vectors(runs, lines)
        if self.held(lines, vectors):
            return None
        alloc = []
        for v in sorted(vectors):
            if v in self.params_dots:
                if v in written:   # the caller's tangents are not written into
                    alloc.append(assign(v, call(np_attr("array"), name(v),
                                                dtype=np_attr("float64"))))
            else:
                alloc.append(assign(v, call(np_attr("zeros"), name(BATCH))))
        self.fn.body = head + alloc + self.emit(grouped, vectors)
        return self.fn


def direction_loops(fwd, fn, head_len):
    """``fn`` (vector-mode tangent code from forward.Forward) with direction loops, or None
    where they do not apply; ``head_len``: the leading lines (batch size, copies) kept first."""
    return DirectionLoops(fwd, fn).run(head_len)
