"""The local names of one (possibly inlined) function and the IR names they get."""
import gast


class Scope:
    """One (possibly inlined) function: its local names, their IR names, and its namespace."""

    def __init__(self, parsed, rename):
        self.parsed = parsed
        self.rename = rename
        self.namespace = parsed.namespace

    def local(self, id_):
        return self.rename.get(id_)


def parameters(args):
    """A def's named parameters in the order Python binds them: positional-only, positional,
    keyword-only (the IR function takes them all positionally, in this order)."""
    return list(args.posonlyargs) + list(args.args) + list(args.kwonlyargs)


def assigned_names(fn_node):
    """Python's rule: a name assigned anywhere in a function body is local to it."""
    out = {a.id for a in parameters(fn_node.args)}
    for n in gast.walk(fn_node):
        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store):
            out.add(n.id)
        elif isinstance(n, gast.FunctionDef) and n is not fn_node:
            out.add(n.name)
    return out
