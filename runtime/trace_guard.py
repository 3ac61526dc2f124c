"""Strict tracing: while the tape backend runs a function, its Tensors refuse to leave the trace
and numpy calls without a rule refuse traced inputs (per thread: tensor.py reads the guard).
"""
import ast
import contextlib
import inspect
import textwrap

import numpy as np

from . import tensor as _tensor
from .tensor import Tensor
from .buffers import Buffer, TraceEscape, _escape, _where_in_user_code, _write_outputs, is_traced



NONDIFF_NUMPY = frozenset(id(f) for f in (
    np.sign, np.floor, np.ceil, np.trunc, np.fix, np.rint, np.round, np.around,
    np.floor_divide, np.heaviside,
    np.zeros_like, np.ones_like, np.empty_like, np.full_like,
    np.zeros, np.ones, np.empty, np.full, np.eye, np.identity,
    np.shape, np.size, np.ndim, np.argmax, np.argmin, np.isnan, np.isfinite, np.isinf,
    np.all, np.any, np.count_nonzero,
))


def _carries_gradient(result):
    """Whether a result has a float or complex part (integers and booleans carry no gradient)."""
    if isinstance(result, (list, tuple)):
        return any(_carries_gradient(r) for r in result)
    if isinstance(result, Tensor):
        result = result._v
    if isinstance(result, (np.ndarray, np.generic)):
        return result.dtype.kind in "fc"
    return isinstance(result, (float, complex))


def _numpy_name(func, method="__call__"):
    module = getattr(func, "__module__", None) or "numpy"
    module = "np" + module[len("numpy"):] if module.startswith("numpy") else module
    name = f"{module}.{getattr(func, '__name__', repr(func))}"
    return name if method == "__call__" else f"{name}.{method}"


class Guard:
    """Strict tracing on one thread: what a traced value leaving the trace does (it raises,
    naming the line in the user's code). Installed in ``tensor.strict.guard`` by ``_strict``;
    Tensor's conversions and numpy's fallthrough for callables without a rule ask it."""

    def __init__(self, files, outer=None):
        # the traced functions' files, by reference: the tracer adds a file when it first copies
        # a function, which happens while the trace runs; an outer trace's files count too
        self._files = (files,) + (outer._files if outer is not None else ())

    def knows(self, filename):
        return any(filename in files for files in self._files)

    def converting(self, t, what):
        if is_traced(t):
            _escape(what)

    def writing(self, t):
        _mutation()

    def no_rule(self, func, method, args, kwargs, on_values):
        """numpy has no rule for ``func``: ``on_values()`` computes it on plain values, fine for
        a constant, an error for a traced input whose result would pretend to be one."""
        out = kwargs.get("out")
        if isinstance(func, np.ufunc) and out is not None and \
                any(isinstance(o, Buffer) for o in out):
            # np.sin(x, out=buffer): the op (with its rule, if it has one) then a write into the
            # buffer, which the tape follows
            rest = {k: v for k, v in kwargs.items() if k != "out"}
            return _write_outputs(out, getattr(func, method)(*args, **rest))
        result = on_values()
        name = _numpy_name(func, method)
        if (method == "at" or result is None) and (is_traced(args) or is_traced(kwargs)):
            # np.add.at(a, i, t), np.copyto(a, t), np.put...: numpy wrote the values in place
            raise TraceEscape(f"{_where_in_user_code()}{name} writes a traced value into a "
                              f"numpy array made outside the function, so its gradient would "
                              f"be lost; build the array from the result instead")
        if id(func) in NONDIFF_NUMPY or not _carries_gradient(result):
            return result
        if not (is_traced(args) or is_traced(kwargs)):
            return result
        if out is not None:
            raise TraceEscape(f"{_where_in_user_code()}{name}(..., out=...) writes a traced value "
                              f"into a numpy array, so its gradient would be lost; use the "
                              f"result instead of out=")
        raise TraceEscape(f"{_where_in_user_code()}{name} has no derivative rule in tapeflow: "
                          f"its result would be a constant and the gradient through it silently "
                          f"zero; write it with operations that have rules")


def _check_aliasing(fn, args=None):
    """``b = a`` then ``b += 1``: numpy changes the array both names see; on the tape ``+=``
    makes a new value, so ``a`` would keep the old one. Such functions are refused, by line,
    unless every name sharing that value provably holds a scalar (``s = x; s += 1.0`` with x a
    float argument: Python rebinds s there too)."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return
    copies, links = set(), []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Name):
            names = {node.value.id} | {t.id for t in node.targets if isinstance(t, ast.Name)}
            copies |= names
            links.append(names)
    scalars = _ScalarNames(tree, fn, args, links) if args is not None else None
    for node in ast.walk(tree):
        if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) and \
                node.target.id in copies and not (scalars and scalars.holds_scalars(node.target.id)):
            line = fn.__code__.co_firstlineno + node.lineno - 1
            raise TraceEscape(
                f"{fn.__code__.co_filename}, line {line}: '{node.target.id} "
                f"{type(node.op).__name__.lower()}=' on a name bound to the same array as another "
                f"name: numpy changes both, the tape cannot (the python backend handles this)")


class _ScalarNames:
    """Which names of a function's source only ever hold Python or numpy scalars (immutable,
    so ``+=`` rebinds them under numpy as on the tape), given the call's arguments: a group of
    names copied from each other is scalar when each of them is a scalar argument or bound
    only to a number, another name of the group, or (by ``+=`` & co.) a number or a scalar
    argument never rebound."""

    def __init__(self, tree, fn, args, links):
        code = fn.__code__
        params = code.co_varnames[:code.co_argcount]
        self.scalar_args = {p for p, a in zip(params, args) if _is_scalar(a)}
        self.params = set(code.co_varnames[:code.co_argcount + code.co_kwonlyargcount])
        self.bindings = {}             # name -> list of bound expressions (None: unknown)
        top = tree.body[0] if tree.body and isinstance(tree.body[0], (ast.FunctionDef, ast.Lambda)) else None
        for node in ast.walk(tree):
            if isinstance(node, (ast.Assign, ast.AnnAssign, ast.NamedExpr)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    self._bind(t, node.value if isinstance(t, ast.Name) else None)
            elif isinstance(node, ast.AugAssign):
                self._bind(node.target, ("aug", node.value))
            elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
                self._bind(node.target, None)
            elif isinstance(node, ast.withitem) and node.optional_vars is not None:
                self._bind(node.optional_vars, None)
            elif isinstance(node, (ast.Global, ast.Nonlocal)):
                for n in node.names:
                    self.bindings.setdefault(n, []).append(None)
            elif isinstance(node, ast.arg) and (top is None or node not in _own_args(top)):
                self.bindings.setdefault(node.arg, []).append(None)
        self.groups = {}
        for names in links:
            merged = set(names)
            for n in names:
                merged |= self.groups.get(n, set())
            for n in merged:
                self.groups[n] = merged

    def _bind(self, target, value):
        for n in ast.walk(target):
            if isinstance(n, ast.Name):
                self.bindings.setdefault(n.id, []).append(value if n is target else None)

    def holds_scalars(self, name):
        group = self.groups.get(name, {name})
        for n in group:
            if n in self.params and n not in self.scalar_args:
                return False
            for v in self.bindings.get(n, []):
                if isinstance(v, tuple):          # n += v: keeps a scalar a scalar
                    v = v[1]
                    if isinstance(v, ast.Name) and v.id in self.scalar_args and \
                            v.id not in self.bindings:
                        continue
                    if not _number(v):
                        return False
                elif not (_number(v) or isinstance(v, ast.Name) and v.id in group):
                    return False
        return True


def _own_args(fdef):
    a = fdef.args
    return set(a.posonlyargs + a.args + a.kwonlyargs + [x for x in (a.vararg, a.kwarg) if x])


def _number(v):
    while isinstance(v, ast.UnaryOp) and isinstance(v.op, (ast.USub, ast.UAdd)):
        v = v.operand
    return isinstance(v, ast.Constant) and type(v.value) in (int, float, bool)


def _is_scalar(value):
    return isinstance(value, (int, float, np.generic)) and not isinstance(value, np.ndarray)


def _mutation():
    raise TraceEscape(f"{_where_in_user_code()}writing into an element of an array computed from "
                      f"the inputs: the tape's values are immutable (arrays made with np.zeros & "
                      f"co. can be written; the python backend handles this function)")


@contextlib.contextmanager
def _strict(files):
    """While tracing on this thread, traced values that would leave the trace raise (float(t),
    t.item(), np.asarray(t), t[i] = v, numpy functions without a rule). Only this thread's flag
    changes, so other threads are unaffected; a nested trace adds its files and restores the
    outer guard when it ends."""
    outer = _tensor.strict.guard
    _tensor.strict.guard = Guard(files, outer)
    try:
        yield
    finally:
        _tensor.strict.guard = outer


# math functions that are right to compute on a traced value's number: their derivative is zero
# wherever it exists, or their result is not a float (the math entries of resolve.py's NONDIFF).
