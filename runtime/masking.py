"""Adjoints that skip inputs needing no gradient, derived from the rules' own source.

A rule returns one adjoint per input, e.g. ``return np.dot(g, y.T), np.dot(x.T, g)``. When only
some inputs need a gradient (a matmul of constant data by a weight), computing the others is wasted
work. Like TF's ``skip_input_indices``, the tape then calls a variant of the rule whose ``return``
tuples have ``None`` in the unneeded places: built once per (rule, mask) by rewriting the rule's
AST, so no derivative formula is written twice. Rules whose source cannot be rewritten are used as is.
"""
import ast
import inspect
import textwrap

__all__ = ["masked_adjoint"]

_cache = {}


class _MaskReturns(ast.NodeTransformer):
    def __init__(self, mask):
        self.mask = mask
        self.changed = False

    def visit_FunctionDef(self, node):
        if getattr(self, "_entered", False):
            return node  # nested functions keep their own returns
        self._entered = True
        node.decorator_list = []
        self.generic_visit(node)
        return node

    def visit_Lambda(self, node):
        return node

    def visit_Return(self, node):
        v = node.value
        if isinstance(v, ast.Tuple) and len(v.elts) == len(self.mask):
            v.elts = [e if keep else ast.Constant(None) for e, keep in zip(v.elts, self.mask)]
            self.changed = True
        return node


def _build(fn, mask):
    try:
        src = textwrap.dedent(inspect.getsource(fn))
        tree = ast.parse(src)
    except (OSError, TypeError, SyntaxError):
        return fn
    if not tree.body or not isinstance(tree.body[0], ast.FunctionDef) or fn.__closure__:
        return fn
    t = _MaskReturns(mask)
    tree = ast.fix_missing_locations(t.visit(tree))
    if not t.changed:
        return fn
    ns = {}
    code = compile(tree, inspect.getsourcefile(fn) or "<rule>", "exec")
    exec(code, fn.__globals__, ns)
    out = ns[tree.body[0].name]
    out.__defaults__ = fn.__defaults__
    out.__kwdefaults__ = fn.__kwdefaults__
    return out


def masked_adjoint(fn, mask):
    """``fn`` returning None for the inputs whose ``mask`` entry is False."""
    key = (fn, mask)
    f = _cache.get(key)
    if f is None:
        f = _cache[key] = _build(fn, mask)
    return f
