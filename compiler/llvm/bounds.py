"""Static proofs that an index is in bounds, so its check (and negative-index fix-up) is omitted.

LLVM folds most checks of forward loops itself, but not those of `for i in reversed(range(n))`,
which every generated gradient has. The pattern is simple enough to prove on the AST:

    n = x.shape[0]          (or s = x.shape; n = s[0], len(x), np.shape(x)[0])
    n2 = n - 1
    dx = np.zeros_like(x)   (same shape as x: *_like, copy)
    for i in reversed(range(n2)):
        index = i + 1
        dx[index] += ...    # 0 <= i + 1 <= (n - 2) + 1 < x.shape[0] = dx.shape[0]

Values are tracked as (base, offset) with base None (a constant), ("dim", array, axis) or
("loop", name). Only names assigned once in the whole function (or parameters never assigned)
take part, so a proof never depends on control flow.
"""
import ast

from .. import typing as T

_LIKE = {"zeros_like", "ones_like", "empty_like", "full_like", "copy"}


def _bound_names(target):
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for e in target.elts for n in _bound_names(e)]
    return []


class BoundsFacts:
    def __init__(self, ti):
        self.ti = ti
        counts, self.value = {}, {}
        for node in ast.walk(ti.fdef):
            if isinstance(node, (ast.Assign, ast.AugAssign, ast.For)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    for n in _bound_names(t):      # a[i] = v rebinds neither a nor i
                        counts[n] = counts.get(n, 0) + (1 if isinstance(node, ast.Assign) else 2)
                if isinstance(node, ast.Assign) and len(targets) == 1 and isinstance(targets[0], ast.Name):
                    self.value[targets[0].id] = node.value
        params = set(ti.params or ())
        self.fixed = {n for n in params if n not in counts}          # never reassigned
        self.single = {n for n, c in counts.items() if c == 1 and n not in params}
        self.loops = []          # (var, lo sym, hi sym) of enclosing unit-step range loops
        # A once-assigned name may stand for its value only where its assignment has surely run
        # in the current iteration: after it, in the same function or loop body (not in an if)
        self.avail = {}
        self._scan(ti.fdef.body, frozenset())
        self.current = frozenset()

    def _scan(self, body, inherited):
        defined = set()
        for st in body:
            here = inherited | defined
            self.avail[id(st)] = here          # nested statements: set by the recursion below
            if isinstance(st, (ast.For, ast.While)):
                self._scan(st.body, here)
            elif isinstance(st, ast.If):
                self._scan_if(st.body, here)
                self._scan_if(st.orelse, here)
            if (isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Name)
                    and st.targets[0].id in self.single):
                defined.add(st.targets[0].id)

    def _scan_if(self, body, inherited):
        for st in body:
            self.avail[id(st)] = inherited
            if isinstance(st, (ast.For, ast.While)):
                self._scan(st.body, inherited)
            elif isinstance(st, ast.If):
                self._scan_if(st.body, inherited)
                self._scan_if(st.orelse, inherited)

    def at(self, stmt):
        """The lowerer is about to emit ``stmt``."""
        self.current = self.avail.get(id(stmt), frozenset())

    # -- symbolic values
    def canon(self, name):
        """The array whose shape ``name`` provably has (itself, or what it was made like)."""
        if name in self.fixed:
            like = getattr(self.ti, "same_shape", {}).get(name)
            return self.canon(like) or name if like in self.fixed else name
        if name in self.single and name in self.current:
            v = self.value[name]
            if isinstance(v, ast.Name):   # another name for the same array
                return self.canon(v.id) or name
            if isinstance(v, ast.Call) and v.args:
                f = T.call_name(v.func)
                src = v.args[0]
                if f is None and isinstance(v.func, ast.Attribute) and v.func.attr == "copy":
                    f, src = "np.copy", v.func.value
                if f and f.split(".")[-1] in _LIKE and isinstance(src, ast.Name):
                    return self.canon(src.id) or name
            return name
        return None

    def sym(self, node, depth=0):
        if depth > 20:
            return None
        if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
            return (None, node.value)
        if isinstance(node, ast.Name):
            if any(v == node.id for v, _, _ in self.loops):
                return (("loop", node.id), 0)
            if node.id in self.single and node.id in self.current:
                return self.sym(self.value[node.id], depth + 1)
            return None
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
            a, b = self.sym(node.left, depth + 1), self.sym(node.right, depth + 1)
            if a is None or b is None:
                return None
            if isinstance(node.op, ast.Add):
                if a[0] is None:
                    a, b = b, a
                return (a[0], a[1] + b[1]) if b[0] is None else None
            if b[0] is None:
                return (a[0], a[1] - b[1])
            return self.reversed_index(a, node.right)
        if isinstance(node, ast.Subscript):
            k = node.slice
            if not (isinstance(k, ast.Constant) and isinstance(k.value, int)):
                return None
            arr = self._shape_of(node.value, depth)
            if arr is not None:
                return (("dim", arr, k.value), 0)
            return None
        if isinstance(node, ast.Call) and T.call_name(node.func) == "len" and len(node.args) == 1:
            a = node.args[0]
            if isinstance(a, ast.Name) and self.canon(a.id):
                return (("dim", self.canon(a.id), 0), 0)
        return None

    def reversed_index(self, last, k):
        """``last - k`` for k over range(span) with last = span - 1: the same values as k
        (in reverse order, which no proof here depends on), so it ranges as k does."""
        if not (isinstance(k, ast.Name) and last[0] is not None):
            return None
        entry = next((e for e in reversed(self.loops) if e[0] == k.id), None)
        if entry is None or entry[1] != (None, 0) or entry[2] is None:
            return None
        return (("loop", k.id), 0) if entry[2] == (last[0], last[1] + 1) else None

    def _shape_of(self, node, depth):
        """The array whose .shape tuple ``node`` is (x.shape, np.shape(x), or a name bound to it)."""
        if isinstance(node, ast.Name) and node.id in self.single and node.id in self.current and depth < 20:
            return self._shape_of(self.value[node.id], depth + 1)
        if isinstance(node, ast.Attribute) and node.attr == "shape" and isinstance(node.value, ast.Name):
            return self.canon(node.value.id)
        if (isinstance(node, ast.Call) and T.call_name(node.func) == "np.shape" and len(node.args) == 1
                and isinstance(node.args[0], ast.Name)):
            return self.canon(node.args[0].id)
        return None

    # -- loops
    def enter_loop(self, for_node, unit_step):
        var = for_node.target.id
        assigned = any(isinstance(n, ast.Name) and n.id == var and isinstance(n.ctx, ast.Store)
                       for st in for_node.body for n in ast.walk(st))
        it = T.range_call(for_node.iter)
        if unit_step and not assigned and len(it.args) in (1, 2):
            start = it.args[0] if len(it.args) == 2 else ast.Constant(0)
            self.loops.append((var, self.sym(start), self.sym(it.args[-1])))
            return True
        return False

    def exit_loop(self):
        self.loops.pop()

    # -- the proof
    def in_bounds(self, arr_node, axis, idx_node):
        if not isinstance(arr_node, ast.Name):
            return False
        arr = self.canon(arr_node.id)
        s = self.sym(idx_node)
        if arr is None or s is None or not (isinstance(s[0], tuple) and s[0][0] == "loop"):
            return False
        var = s[0][1]
        _, lo, hi = next(entry for entry in reversed(self.loops) if entry[0] == var)
        if lo is None or hi is None or lo[0] is not None:
            return False
        # i ranges over [lo, hi - 1] (if the loop runs at all); the index is i + off
        off = s[1]
        return (lo[1] + off >= 0 and hi[0] == ("dim", arr, axis) and hi[1] - 1 + off <= -1)
