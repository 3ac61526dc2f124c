"""Which locals may be read before any assignment (Python raises UnboundLocalError there).

A conservative "definitely assigned" analysis over the AST. Names it cannot prove assigned at a
read get a runtime flag (set on assignment, tested on read); LLVM folds the flag away wherever
the assignment dominates the read, so the check costs nothing on the usual paths, and reading a
never-assigned local raises instead of returning garbage.
"""
import ast

_ALL = None          # the "everything is assigned" set of a path that never falls through


def _names_read(node):
    return [n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)]


def _bound(target):
    if isinstance(target, ast.Name):
        return {target.id}
    if isinstance(target, (ast.Tuple, ast.List)):
        return set().union(*(_bound(e) for e in target.elts)) if target.elts else set()
    return set()


def _meet(a, b):
    if a is _ALL:
        return b
    if b is _ALL:
        return a
    return a & b


def maybe_unbound(fdef, locals_, initially):
    """Names in ``locals_`` read somewhere they may not be assigned yet."""
    flagged = set()

    def reads(node, d):
        if d is _ALL:
            return
        for n in _names_read(node):
            if n in locals_ and n not in d:
                flagged.add(n)

    def block(stmts, d):
        for s in stmts:
            if d is _ALL:
                return d
            d = stmt(s, d)
        return d

    def stmt(s, d):
        if isinstance(s, ast.Assign):
            reads(s.value, d)
            for t in s.targets:
                if not isinstance(t, ast.Name):
                    reads(t, d)
            return d | set().union(*(_bound(t) for t in s.targets))
        if isinstance(s, ast.AugAssign):
            reads(s.value, d)
            reads(s.target if not isinstance(s.target, ast.Name) else ast.Name(s.target.id, ast.Load()), d)
            return d
        if isinstance(s, ast.Expr):
            reads(s.value, d)
            return d
        if isinstance(s, ast.Return):
            if s.value is not None:
                reads(s.value, d)
            return _ALL
        if isinstance(s, (ast.Break, ast.Continue)):
            return _ALL
        if isinstance(s, ast.If):
            reads(s.test, d)
            return _meet(block(s.body, set(d)), block(s.orelse, set(d)))
        if isinstance(s, ast.For):
            reads(s.iter, d)
            block(s.body, d | _bound(s.target))
            return d                       # the loop may not run at all
        if isinstance(s, ast.While):
            reads(s.test, d)
            block(s.body, set(d))
            return d
        return d

    block(fdef.body, set(initially))
    return flagged
