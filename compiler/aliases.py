"""Aliases of written arrays: a write into an array is seen through every name bound to it.

The transform treats a name as a value: after ``v = b``, ``b[0] = e`` or ``b += e`` (numpy
changes ``b`` in place) changes what ``v`` holds too, but nothing would flow from ``v`` back to
``e``. This pass follows, flow-sensitively, which names must and which may share memory, and at
each write into an array:

* a name that surely is the same array (bound by ``v = b`` on every path) and is read later is
  rebound after the write (``v = b``), so its gradient flows through the write;
* a name that only may share memory (a view such as ``b[1:]`` or ``b.T``, a call that may return
  its argument, a name bound to b on one path only) and is read later is refused: no guess.
"""
import gast
import numpy as np

from tapeflow.runtime import rules

from .errors import TransformError
from .nodes import assign, name

ARRAY_LIKE = ("array", "any", None)   # kinds that may hold an array (a scalar never aliases)
_REDUCTIONS = {id(c) for e in rules.ENTRIES if e.role == "reduction" for c in e.callables}
# calls that always return a new array (or a scalar); any other call given an array may
# return a view of it or the array itself
_FRESH = {id(f) for f in (np.copy, np.array, np.dot, np.matmul, np.zeros_like, np.ones_like,
                          np.empty_like, np.full_like, np.outer, np.inner, np.concatenate,
                          np.stack, np.cumsum, np.cumprod, np.diff, np.sort, np.kron,
                          np.where, np.clip, np.zeros, np.ones, np.empty, np.full, np.eye,
                          np.identity, np.arange, np.linspace, float, int, len, print)}


def pair(a, b):
    return frozenset((a, b))


class State:
    """must: pairs of names that surely are one array; may: pairs that may share memory."""
    __slots__ = ("must", "may")

    def __init__(self, must=frozenset(), may=frozenset()):
        self.must, self.may = frozenset(must), frozenset(may)

    def join(self, other):
        return State(self.must & other.must, self.may | other.may)

    def __eq__(self, other):
        return self.must == other.must and self.may == other.may

    def kill(self, t):
        return State({p for p in self.must if t not in p}, {p for p in self.may if t not in p})

    def partners(self, t, which):
        return {n for p in getattr(self, which) if t in p for n in p if n != t}

    def copy_of(self, t, s):
        """After ``t = s``: t is s, and whatever s is or may be."""
        st = self.kill(t)
        must = set(st.must) | {pair(t, s)} | {pair(t, u) for u in st.partners(s, "must")}
        may = set(st.may) | must | {pair(t, u) for u in st.partners(s, "may")}
        return State(must, may)

    def view_of(self, t, sources):
        """After ``t = view(sources)``: t may share memory with them and their partners."""
        st = self.kill(t)
        may = set(st.may)
        for s in sources:
            may |= {pair(t, s)} | {pair(t, u) for u in st.partners(s, "may")}
        return State(st.must, may)


def _loads(node):
    return {n.id for n in gast.walk(node) if isinstance(n, gast.Name)
            and isinstance(n.ctx, gast.Load)}


class Liveness:
    """Names possibly read after each statement (backward, loops to a fixed point)."""

    def __init__(self, body):
        self.after = {}      # id(statement) -> names live after it
        self.loops = []      # (live at the loop's head, live after the loop)
        self.block(body, set())

    def block(self, body, live):
        for s in reversed(body):
            self.after[id(s)] = self.after.get(id(s), set()) | live
            live = self.statement(s, live)
        return live

    def statement(self, s, live):
        if isinstance(s, gast.Assign):
            target = s.targets[0]
            if isinstance(target, gast.Name):
                return (live - {target.id}) | _loads(s.value)
            return live | _loads(target) | _loads(s.value)
        if isinstance(s, gast.Return):
            return _loads(s.value) if s.value is not None else set()
        if isinstance(s, gast.If):
            return _loads(s.test) | self.block(s.body, set(live)) | \
                self.block(s.orelse, set(live))
        if isinstance(s, (gast.For, gast.While)):
            head = set(live)
            while True:
                self.loops.append((head, live))
                inner = self.block(s.body, set(head))
                self.loops.pop()
                if isinstance(s, gast.For):
                    inner = (inner - _loads(s.target)) | _loads(s.iter)
                    new = head | inner
                else:
                    new = head | inner | _loads(s.test)
                if new == head:
                    return head | self.block(s.orelse, set(live))
                head = new
        if isinstance(s, (gast.Break, gast.Continue)):
            head, after = self.loops[-1]
            return live | head | after
        return live | _loads(s)


class Aliases:
    def __init__(self, fn, kinds, filename):
        self.kinds, self.filename = kinds, filename
        self.live = Liveness(fn.body).after
        self.rebinds = {}    # id(write statement) -> names to rebind after it

    def arrayish(self, n):
        return self.kinds.get(n) in ARRAY_LIKE

    def view_sources(self, value):
        """Names an assigned value may share memory with (empty: a new value)."""
        if isinstance(value, gast.Subscript):
            base = value.value
            if not isinstance(base, gast.Name) or self.kinds.get(base.id) not in ARRAY_LIKE:
                return set()
            return {base.id}    # basic indexing is a view unless it gives a scalar
        if isinstance(value, gast.Attribute):
            if value.attr in ("shape", "ndim", "size", "dtype"):
                return set()
            return {n for n in _loads(value) if self.arrayish(n)}
        if isinstance(value, gast.Call):
            fn = getattr(value, "callee", None)
            if getattr(value, "stack_op", None) is not None or \
                    isinstance(fn, np.ufunc) or id(fn) in _REDUCTIONS or id(fn) in _FRESH \
                    or getattr(fn, "__module__", None) == "math":
                return set()
            return {n for a in list(value.args) + [k.value for k in value.keywords]
                    for n in _loads(a) if self.arrayish(n)}
        if isinstance(value, gast.IfExp):
            return {n for n in (_loads(value.body) | _loads(value.orelse)) if self.arrayish(n)}
        return set()    # arithmetic, constants, comparisons: new values

    # forward: the alias state before each statement
    def block(self, body, st):
        for s in body:
            st = self.statement(s, st)
        return st

    def statement(self, s, st):
        if isinstance(s, gast.Assign):
            target = s.targets[0]
            if isinstance(target, gast.Subscript):
                if isinstance(target.value, gast.Name):
                    self.write(s, target.value.id, st)
                return st
            if not isinstance(target, gast.Name):
                return st
            t, value = target.id, s.value
            if getattr(s, "inplace", False) and self.arrayish(t):
                self.write(s, t, st)   # numpy changes t itself: its aliases stay aliases
                return st
            if isinstance(value, gast.Name) and self.arrayish(t) and self.arrayish(value.id) \
                    and value.id != t:
                return st.copy_of(t, value.id)
            sources = self.view_sources(value) - {t}
            if sources and self.arrayish(t):
                return st.view_of(t, sources)
            return st.kill(t)
        if isinstance(s, gast.If):
            return self.block(s.body, st).join(self.block(s.orelse, st))
        if isinstance(s, (gast.For, gast.While)):
            head = st
            while True:
                seen = [head.kill(s.target.id) if isinstance(s, gast.For) else head]
                cur = seen[0]
                for inner in s.body:   # any point of the body may continue or break
                    cur = self.statement(inner, cur)
                    seen.append(cur)
                new = head
                for x in seen:
                    new = new.join(x)
                if new == head:
                    return self.block(s.orelse, head)
                head = new
        return st

    def write(self, s, base, st):
        live = self.live.get(id(s), set())
        for other in sorted(st.partners(base, "may")):
            if other not in live:
                continue
            if other in st.partners(base, "must"):
                names = self.rebinds.setdefault(id(s), [])
                if other not in names:
                    names.append(other)
                continue
            raise TransformError(
                f"this line writes into the array {base}, which {other} (read later) may share "
                f"memory with (a view, or a name bound to it on one path only); the source "
                f"transform cannot follow a write through such an alias (copy it explicitly: "
                f"np.copy)", self.filename, getattr(s, "lineno", None), "aliased write")

    def rewrite(self, body):
        out = []
        for s in body:
            out.append(s)
            if isinstance(s, gast.If):
                s.body, s.orelse = self.rewrite(s.body), self.rewrite(s.orelse)
            elif isinstance(s, (gast.For, gast.While)):
                s.body, s.orelse = self.rewrite(s.body), self.rewrite(s.orelse)
            base = _written(s)
            for other in self.rebinds.get(id(s), ()):
                out.append(assign(other, name(base), getattr(s, "lineno", None)))
        return out


def _written(s):
    target = s.targets[0] if isinstance(s, gast.Assign) else None
    if isinstance(target, gast.Subscript) and isinstance(target.value, gast.Name):
        return target.value.id
    return target.id if isinstance(target, gast.Name) else None


def propagate_writes(fn, kinds, filename=None):
    """Rebind the aliases of every written array after the write (see the module's doc);
    TransformError where a name read later may or may not be the written array."""
    aliases = Aliases(fn, kinds, filename)
    aliases.block(fn.body, State())
    fn.body = aliases.rewrite(fn.body)
    return fn
