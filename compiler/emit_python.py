"""Emit: print an IR or generated FunctionDef as Python source, and load it as a function."""
import astor
import gast


def to_source(fn_node):
    return astor.to_source(gast.gast_to_ast(gast.fix_missing_locations(fn_node)))


def load(fn_node, namespace, filename="<tapeflow>"):
    """Compile the printed source in ``namespace``; the function remembers its source."""
    source = to_source(fn_node)
    code = compile(source, filename, "exec")
    scope = dict(namespace)
    exec(code, scope)
    fn = scope[fn_node.name]
    fn.__tapeflow_source__ = source
    return fn, source
