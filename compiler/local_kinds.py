"""The kinds of local names, as far as the normalizer can tell them before typing.

A gradient called inside a function is generated for the kinds of its arguments ("float",
("array", ndim), ...), which must be known when the call is inlined. Parameters have theirs;
this tracks locals bound by plain assignments whose value's kind follows from known kinds: a
name, a number, a unary or binary operation (numpy broadcasting: the larger ndim), an item
``a[i]``, a gradient's result (the kind of the argument it is taken for), ``np.zeros_like``,
``np.ones_like``, ``np.copy``, ``np.array`` or ``np.stack`` of a list literal of numbers or of
arrays of one ndim. A gradient call may rely on a local only if every binding of it, including
those later in the text (a loop's next iteration), has that same kind, and so has every local
its kind was read from: ``check`` walks the finished function and refuses otherwise.
"""
import gast
import numpy as np

from .errors import TransformError
from .kinds import kind_of_argument

FLOAT = ("float", 0)


LIKE = (np.zeros_like, np.ones_like, np.copy)   # the kind of their argument
INT_OPS = (gast.Add, gast.Sub, gast.Mult, gast.FloorDiv, gast.Mod)


class LocalKinds:
    def __init__(self, param_kinds, constants):
        self.params = param_kinds
        self.constants = constants   # names of values from the namespace (never rebound)
        self.seen = {}        # local -> kinds of each plain binding seen (None: not known)
        self.depends = {}     # local -> the locals whose kinds went into its bindings' kinds
        self.declared = {}    # gradient results -> the kind of the differentiated argument
        self.relied = {}      # local -> (kind, file, line) a gradient call was generated for

    def of(self, node, deps=None):
        """The kind of an atom or a flattened expression, or None; the locals it was read
        from are added to ``deps``."""
        deps = set() if deps is None else deps
        if isinstance(node, gast.Name):
            if node.id in self.declared:
                return self.declared[node.id]
            if node.id in self.params:
                return self.params[node.id]
            if node.id in self.constants and node.id not in self.seen:
                k = kind_of_argument(self.constants[node.id], False)
                return k if k[0] != "any" else None
            kinds = self.seen.get(node.id)
            if kinds and None not in kinds and len(set(kinds)) == 1:
                deps.add(node.id)
                return kinds[0]
            return None
        if isinstance(node, gast.Constant):
            v = node.value
            if isinstance(v, bool):
                return ("bool", 0)
            if isinstance(v, int):
                return ("int", 0)
            if isinstance(v, float):
                return FLOAT
            return None
        if isinstance(node, (gast.List, gast.Tuple)) and node.elts:
            kinds = {self.of(e, deps) for e in node.elts}
            if len(kinds) == 1 or kinds <= {FLOAT, ("int", 0), ("bool", 0)}:
                k = kinds.pop()
                if k is not None and k[0] in ("float", "int", "bool", "array"):
                    return ("list", k[1])    # of numbers (0) or of arrays of one ndim
            return None
        if isinstance(node, gast.Call) and getattr(node, "callee", None) in LIKE and \
                len(node.args) == 1 and not node.keywords:
            k = self.of(node.args[0], deps)
            return k if k is not None and k[0] in ("float", "array") else None
        if isinstance(node, gast.Call) and getattr(node, "callee", None) in (np.array,
                                                                               np.asarray,
                                                                               np.stack):
            if len(node.args) == 1 and not node.keywords:
                k = self.of(node.args[0], deps)
                if k is not None and k[0] == "list":
                    return ("array", k[1] + 1)
                if k is not None and k[0] == "array":
                    return k
            return None
        if isinstance(node, gast.Subscript):    # a[i], i an int: one dimension fewer
            a, i = self.of(node.value, deps), self.of(node.slice, deps)
            if a is not None and a[0] == "array" and i == ("int", 0):
                return ("array", a[1] - 1) if a[1] > 1 else FLOAT
            return None
        if isinstance(node, gast.UnaryOp) and isinstance(node.op, (gast.USub, gast.UAdd)):
            return self.of(node.operand, deps)
        if isinstance(node, gast.BinOp) and not isinstance(node.op, gast.MatMult):
            a, b = self.of(node.left, deps), self.of(node.right, deps)
            if a is None or b is None:
                return None
            if "array" in (a[0], b[0]):     # broadcasting: the larger ndim
                return ("array", max(a[1], b[1]))
            if "float" in (a[0], b[0]):
                return FLOAT
            if a == b == ("int", 0) and isinstance(node.op, INT_OPS):
                return ("int", 0)
            return None    # bools, int / int, int ** int: the value decides
        return None

    def bound(self, ir, value):
        """``ir = value`` was emitted."""
        deps = set()
        self.seen.setdefault(ir, []).append(self.of(value, deps))
        self.depends.setdefault(ir, set()).update(deps)

    def rely(self, ir, kind, filename, lineno):
        self.relied.setdefault(ir, (kind, filename, lineno))

    def check(self, fn):
        """Every local a gradient call relied on, and every local its kind was read from, is
        bound only by the plain assignments seen, all of one kind (a binding later in the text,
        such as a loop's next iteration, may have changed it)."""
        if not self.relied:
            return
        stores = {}
        for n in gast.walk(fn):
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store):
                stores[n.id] = stores.get(n.id, 0) + 1
        for ir, (kind, filename, lineno) in self.relied.items():
            todo, done = [ir], set()
            while todo:
                local = todo.pop()
                if local in done or local in self.declared or local in self.params:
                    continue
                done.add(local)
                kinds = self.seen.get(local, [])
                if stores.get(local, 0) != len(kinds) or len(set(kinds)) != 1 or \
                        kinds[0] is None:
                    raise TransformError(
                        f"a gradient function called on {ir!r}, whose kind ({kind}) depends on "
                        f"{local!r}, which is not always of one kind (bound to values of kinds "
                        f"{[k or 'unknown' for k in kinds]}, or bound otherwise)", filename,
                        lineno, "gradient call")
                todo.extend(self.depends.get(local, ()))
