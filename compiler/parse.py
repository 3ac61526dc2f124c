"""Parse: a Python function (or a generated gradient) into a gast FunctionDef plus its namespace.

Line numbers in the tree are made absolute (the line in the user's file), so errors can name them.
"""
import inspect
import textwrap

import gast

from .errors import TransformError


class Parsed:
    """A function's tree, the file it came from, and the values its free names refer to."""
    __slots__ = ("node", "filename", "namespace", "fn")

    def __init__(self, node, filename, namespace, fn):
        self.node = node
        self.filename = filename
        self.namespace = namespace
        self.fn = fn


def namespace_of(fn):
    """Globals, builtins and closure cells the function can see, closure cells winning."""
    ns = dict(vars(__builtins__)) if not isinstance(__builtins__, dict) else dict(__builtins__)
    ns.update(fn.__globals__)
    if fn.__closure__:
        for name, cell in zip(fn.__code__.co_freevars, fn.__closure__):
            try:
                ns[name] = cell.cell_contents
            except ValueError:  # a cell not filled yet: the name is assigned after the def
                pass
    return ns


def parse_function(fn):
    generated = getattr(fn, "__tapeflow_source__", None)
    if generated is not None:  # a gradient we generated: differentiate its source again
        source, namespace, first = generated, namespace_of(fn), 1
        filename = fn.__code__.co_filename
    else:
        if not inspect.isfunction(fn):
            raise TypeError(f"tapeflow can only transform Python functions, got {type(fn).__name__}")
        filename = inspect.getsourcefile(fn) or "<unknown>"
        try:
            lines, first = inspect.getsourcelines(fn)
        except (OSError, TypeError) as e:
            raise TransformError(f"the source of {fn.__qualname__} is not available ({e})",
                                 filename, fn.__code__.co_firstlineno, "source") from None
        source = textwrap.dedent("".join(lines))
        namespace = namespace_of(fn)
    tree = gast.parse(source)
    node = tree.body[0]
    if not isinstance(node, gast.FunctionDef):
        what = "a lambda" if fn.__name__ == "<lambda>" else type(node).__name__
        raise TransformError(f"{what} cannot be transformed; write a def", filename, first, "lambda")
    for n in gast.walk(node):
        if hasattr(n, "lineno"):
            n.lineno += first - 1
    node.decorator_list = []
    return Parsed(node, filename, namespace, fn)
