"""Emit: print an IR or generated FunctionDef as Python source, and load it as a function."""
import ast
import math

import astor
import gast


class _NegativeConstants(ast.NodeTransformer):
    """astor prints a negative constant bare, so ``(-1.5) ** 2`` would read ``-1.5 ** 2``;
    as a negation it gets its parentheses."""

    def visit_Constant(self, node):
        v = node.value
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.copysign(1, v) < 0:
            return ast.UnaryOp(op=ast.USub(), operand=ast.Constant(value=-v))
        return node


def to_source(fn_node):
    tree = gast.gast_to_ast(gast.fix_missing_locations(fn_node))
    return astor.to_source(_NegativeConstants().visit(tree))


def load(fn_node, namespace, filename="<tapeflow>"):
    """Compile the printed source in ``namespace``; the function remembers its source."""
    source = to_source(fn_node)
    code = compile(source, filename, "exec")
    scope = dict(namespace)
    exec(code, scope)
    fn = scope[fn_node.name]
    fn.__tapeflow_source__ = source
    return fn, source
