"""``jit(f)``: compile a plain Python function written in the subset, once per argument signature."""
import ast
import functools
import inspect
import textwrap

import numpy as np

from .. import typing as T


def _module_functions(fn, tree_fn, seen=None):
    """Functions of fn's module that fn calls by bare name (transitively), as FunctionDefs."""
    seen = {} if seen is None else seen
    g = getattr(fn, "__globals__", {})
    for node in ast.walk(tree_fn):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            name = node.func.id
            target = g.get(name)
            if name in seen or not inspect.isfunction(target):
                continue
            target = getattr(target, "py_func", target)
            try:
                fdef = _parse(target)
            except (OSError, TypeError):
                continue
            seen[name] = fdef
            _module_functions(target, fdef, seen)
    return seen


def _parse(fn):
    src = textwrap.dedent(inspect.getsource(fn))
    tree = ast.parse(src)
    fdef = next(n for n in tree.body if isinstance(n, (ast.FunctionDef,)))
    fdef.decorator_list = []
    return fdef


class Dispatcher:
    """Callable that compiles ``py_func`` per signature (dtype, ndim, scalar kind) and caches it."""

    def __init__(self, py_func, boundscheck=True):
        self.py_func = py_func
        self.boundscheck = boundscheck
        self._fdef = None
        self._mfuncs = None
        self._cache = {}
        self._fast = {}
        functools.update_wrapper(self, py_func)

    def _signature(self, args):
        return tuple(T.typeof(a, f"argument {i}") for i, a in enumerate(args))

    def compile(self, sig):
        from .compile import compile_function
        if self._fdef is None:
            self._fdef = _parse(self.py_func)
            self._mfuncs = _module_functions(self.py_func, self._fdef)
        nf = compile_function(self._fdef, sig, self._mfuncs, boundscheck=self.boundscheck,
                              constants=self._constants())
        self._cache[sig] = nf
        return nf

    def __call__(self, *args):
        # fast key: the argument classes, and (dtype, ndim) for arrays — a dict hit costs far
        # less than computing static types
        key = tuple((a.dtype, a.ndim) if a.__class__ is np.ndarray else a.__class__ for a in args)
        entry = self._fast.get(key)
        if entry is None:
            sig = self._signature(args)
            nf = self._cache.get(sig)
            if nf is None:
                nf = self.compile(sig)
            entry = self._fast[key] = nf.py_entry
        return entry(*args)

    def _constants(self):
        """Globals and closure cells the function (or its callees) reads: embedded as constants."""
        env = dict(getattr(self.py_func, "__globals__", {}))
        code = getattr(self.py_func, "__code__", None)
        if code is not None and self.py_func.__closure__:
            env.update({n: c.cell_contents for n, c in zip(code.co_freevars, self.py_func.__closure__)})
        names = {n.id for f in [self._fdef] + list(self._mfuncs.values()) for n in ast.walk(f)
                 if isinstance(n, ast.Name)}
        return {n: env[n] for n in names if n in env and T.constant_value(env[n]) is not None}

    @property
    def signatures(self):
        return list(self._cache)


def jit(py_func=None, *, boundscheck=True):
    """Decorator: native compilation of a function written in tapeflow's subset."""
    if py_func is None:
        return lambda f: Dispatcher(f, boundscheck)
    return Dispatcher(py_func, boundscheck)
