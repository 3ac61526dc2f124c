"""Optimize the generated gradient: fold known-zero adjoints, drop dead code and idle saves."""
import gast

from .analyze import statements


def optimize(fn):
    fn.body = first_contribution_assigns(fn.body)
    fn.body = drop_dead(fn.body, fn)
    return fn


def loads(node):
    return {n.id for n in gast.walk(node) if isinstance(n, gast.Name)
            and isinstance(n.ctx, gast.Load)}


def first_contribution_assigns(body):
    """At the top level, `dx = 0.0` followed (before any other use) by `dx = dx + e` is `dx = e`."""
    out = []
    zero = {}
    for s in body:
        if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name):
            t = s.targets[0].id
            v = s.value
            if isinstance(v, gast.Constant) and v.value == 0.0 and type(v.value) is float:
                zero[t] = len(out)
                out.append(s)
                continue
            if t in zero and isinstance(v, gast.BinOp) and isinstance(v.op, gast.Add) and \
                    isinstance(v.left, gast.Name) and v.left.id == t and t not in loads(v.right):
                out[zero.pop(t)] = None
                s.value = v.right
                out.append(s)
                continue
        for n in loads(s):
            zero.pop(n, None)
        if not isinstance(s, gast.Assign):
            for n in gast.walk(s):
                if isinstance(n, gast.Name):
                    zero.pop(n.id, None)
        elif isinstance(s.targets[0], gast.Name):
            zero.pop(s.targets[0].id, None)
        out.append(s)
    return [s for s in out if s is not None]


def drop_dead(body, fn):
    """Remove top-level assignments to names nothing reads (the adjoint sweep's leftovers)."""
    while True:
        used = set()
        for s, _ in statements(body):
            used |= loads(s)
            if isinstance(s, gast.Assign) and not isinstance(s.targets[0], gast.Name):
                used |= loads(s.targets[0]) | {n.id for n in gast.walk(s.targets[0])
                                               if isinstance(n, gast.Name)}
        kept = [s for s in body if not (isinstance(s, gast.Assign) and
                                        isinstance(s.targets[0], gast.Name) and
                                        s.targets[0].id not in used and pure(s.value))]
        if len(kept) == len(body):
            return body
        body = kept


def pure(value):
    return isinstance(value, (gast.Constant, gast.Name, gast.BinOp, gast.UnaryOp))
