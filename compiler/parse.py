"""Parse: a Python function (or a generated gradient) into a gast FunctionDef plus its namespace.

Line numbers in the tree are made absolute (the line in the user's file), so errors can name them.
"""
import functools
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


class Namespace(dict):
    """The names a function can see; remembers which ones the transform read (``read``), so a
    cached derivative can tell when one of them is rebound (see pipeline.Reads)."""

    def __init__(self, *args):
        super().__init__(*args)
        self.read = set()
        self.attributes = []   # (object, attribute, value) read through a dotted name: mymod.A

    def __getitem__(self, key):
        self.read.add(key)
        return dict.__getitem__(self, key)


def namespace_of(fn):
    """Globals, builtins and closure cells the function can see, closure cells winning."""
    ns = Namespace(vars(__builtins__) if not isinstance(__builtins__, dict) else __builtins__)
    ns.update(fn.__globals__)
    if fn.__closure__:
        for name, cell in zip(fn.__code__.co_freevars, fn.__closure__):
            try:
                ns[name] = cell.cell_contents
            except ValueError:  # a cell not filled yet: the name is assigned after the def
                pass
    return ns


def lambda_as_def(tree, fn):
    """The lambda of ``fn`` in its source line, as an equivalent def (or None)."""
    if tree is None or fn.__name__ != "<lambda>":
        return None
    params = list(fn.__code__.co_varnames[:fn.__code__.co_argcount])
    found = [n for n in gast.walk(tree) if isinstance(n, gast.Lambda)
             and [a.id for a in n.args.args] == params]
    if len(found) != 1:
        return None
    lam = found[0]
    ret = gast.Return(value=lam.body)
    ret.lineno = getattr(lam, "lineno", 1)
    node = gast.FunctionDef(name="lambda_", args=lam.args, body=[ret], decorator_list=[],
                            returns=None, type_comment=None, type_params=[])
    node.lineno = ret.lineno
    return node


def parse_function(fn):
    generated = getattr(fn, "__tapeflow_source__", None)
    if generated is not None:  # a gradient we generated: differentiate its source again
        source, namespace, first = generated, namespace_of(fn), 1
        filename = fn.__code__.co_filename
    else:
        if not inspect.isfunction(fn):
            what = "a bound method" if inspect.ismethod(fn) else \
                "a functools.partial object" if isinstance(fn, functools.partial) else \
                f"a callable {type(fn).__name__} object"
            raise TransformError(f"the source transform takes plain functions, not {what} (the "
                                 f"tape differentiates it)", construct="callable")
        # the function's own code, never what ``__wrapped__`` points at: inspect follows it, and
        # a functools.wraps decorator's wrapper (``2 * f(x)``) is not f
        filename = inspect.getsourcefile(fn.__code__) or "<unknown>"
        try:
            lines, first = inspect.getsourcelines(fn.__code__)
        except (OSError, TypeError) as e:
            raise TransformError(f"the source of {fn.__qualname__} is not available ({e})",
                                 filename, fn.__code__.co_firstlineno, "source") from None
        source = textwrap.dedent("".join(lines))
        namespace = namespace_of(fn)
    try:
        tree = gast.parse(source)
    except SyntaxError:   # e.g. a lambda in the middle of a multi-line expression
        tree = None
    node = tree.body[0] if tree is not None else None
    if isinstance(node, gast.AsyncFunctionDef):
        raise TransformError("async functions are not supported by the source transform",
                             filename, first, "async")
    if not isinstance(node, gast.FunctionDef):
        node = lambda_as_def(tree, fn)
        if node is None:
            raise TransformError("this lambda cannot be found in its source line; write a def",
                                 filename, first, "lambda")
    for n in gast.walk(node):
        if hasattr(n, "lineno"):
            n.lineno += first - 1
    node.decorator_list = []
    wrapped = getattr(fn, "__wrapped__", None)
    if wrapped is not None and (node.args.vararg or node.args.kwarg):
        star = f"*{node.args.vararg.id}" if node.args.vararg else f"**{node.args.kwarg.id}"
        raise TransformError(
            f"{fn.__qualname__} is a functools.wraps wrapper whose own code "
            f"({fn.__code__.co_name}) takes {star}: the source transform reads the wrapper, not "
            f"{getattr(wrapped, '__qualname__', wrapped)!s}; give the wrapper named parameters "
            f"or differentiate the undecorated function", filename, first, "functools.wraps")
    return Parsed(node, filename, namespace, fn)
