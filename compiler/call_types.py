"""Types of calls for the native backend: the primitive table's views by native family, and
the inferer's typing of builtin, math, helper, stack and numpy calls (numpy families: np_types)."""
import ast
import math

import numpy as np

from tapeflow.runtime import rules

from .llvm.errors import TypingError
from .native_types import (BOOL, F32, F64, I64, NONE, STACK, Array, Scalar, Tuple, _Unknown,
                           dtype_of, make, ndim_of, promote)


# --------------------------------------------------------------------------------- call table

def native_family(name, method=False):
    """The family under which native code types and lowers ``np.<name>`` (or the array method
    ``.<name>()``): read off the primitive table (runtime/rules), None if it has none."""
    fn = rules.method(name) if method else getattr(np, name, None)
    entry = rules.entry_of(fn) if fn is not None else None
    return entry.native if entry is not None else None


def _names(family, module=np):
    return {c.__name__ for e in rules.ENTRIES if e.native == family for c in e.callables
            if getattr(module, getattr(c, "__name__", ""), None) is c}


# views of the table, by family
HELPERS = {c.__name__ for e in rules.ENTRIES if e.native == "helper" for c in e.callables}
UNARY_FLOAT = _names("unary_float")
UNARY_SAME = _names("unary_same")
REDUCTIONS = _names("reduction")
MATH_FLOAT = {n for f in ("unary_float", "unary_same", "binary", "math") for n in _names(f, math)}
DTYPE_NAMES = {"float64": F64, "float32": F32, "int64": I64, "bool_": BOOL, "bool": BOOL,
               "float": F64, "int": I64, "double": F64, "single": F32, "intp": I64}


def call_name(func):
    """'np.sin' / 'math.exp' / 'abs' / 'g' for the func node of a call, or None."""
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        mod = func.value.id
        if mod in ("np", "numpy"):
            return "np." + func.attr
        if mod == "math":
            return "math." + func.attr
    return None


def range_call(it):
    """The range(...) call of a for loop's iterator, looking through reversed(...)."""
    if (isinstance(it, ast.Call) and call_name(it.func) == "reversed" and len(it.args) == 1
            and not it.keywords):
        return it.args[0]
    return it


def const_value(node, consts=None):
    """The Python value of a constant node (ints, floats, None, tuples of them), else raise."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -const_value(node.operand, consts)
    if isinstance(node, ast.Tuple):
        return tuple(const_value(e, consts) for e in node.elts)
    if isinstance(node, ast.Name) and consts is not None and node.id in consts:
        return consts[node.id]
    raise TypingError("expected a constant", getattr(node, "lineno", None))


def dtype_from_node(node, constants=None):
    """The dtype a node names; ``constants``: module-level names (normalize lifts ``np.int64``
    to such a name, bound to the numpy type)."""
    if isinstance(node, ast.Name) and constants and node.id in constants:
        try:
            dtype_name = np.dtype(constants[node.id]).name
        except TypeError:
            dtype_name = None
        if dtype_name in DTYPE_NAMES:
            return DTYPE_NAMES[dtype_name]
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in ("np", "numpy"):
        if node.attr in DTYPE_NAMES:
            return DTYPE_NAMES[node.attr]
    if isinstance(node, ast.Name) and node.id in ("float", "int", "bool"):
        return DTYPE_NAMES[node.id]
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in DTYPE_NAMES:
        return DTYPE_NAMES[node.value]
    raise TypingError("unsupported dtype", getattr(node, "lineno", None))


class CallTyper:
    """Mixed into the inferer: the types of calls."""

    # -- calls
    def call(self, node):
        name = call_name(node.func)
        if name is None and isinstance(node.func, ast.Attribute):
            # array methods: x.sum(axis=0) is np.sum(x, axis=0)
            if node.func.attr in ("push", "append", "pop"):
                return self.stack_call(node)
            if node.func.attr in ("copy", "extend") and isinstance(node.func.value, ast.Name) \
                    and self.names.get(node.func.value.id) == STACK:
                return self.stack_call(node)   # vector mode's replay (compiler/replay.py)
            if node.func.attr in rules.METHODS:
                recv = self.expr(node.func.value)
                if isinstance(recv, Array):
                    return self.np_call(node.func.attr, [node.func.value] + list(node.args), node, recv_method=True)
            self.err(f"unsupported method call .{node.func.attr}()", node)
        if name is None:
            self.err("unsupported call", node)
        if name == self.fdef.name and name not in self.names:
            self.err(f"recursive call of {name} is not supported natively", node)
        if name in self.mfuncs and name not in self.names:
            return self.module_call(name, node)
        if name.startswith("np."):
            return self.np_call(name[3:], list(node.args), node)
        if name.startswith("math."):
            return self.math_call(name[5:], node)
        return self.builtin_call(name, node)

    def stack_call(self, node):
        stack = node.func.value
        if not isinstance(stack, ast.Name) or self.lookup(stack.id, node) != STACK:
            self.err(f".{node.func.attr}() on something that is not a Stack", node)
        if node.func.attr == "pop":
            if node.args:
                self.err("Stack.pop() takes no index natively", node)
            t = self.stack_elems.get(stack.id)
            if t is None:
                raise _Unknown(stack.id + " (stack element)")
            return t
        if node.func.attr == "copy":
            # natively a pop only moves the top down, so the saved contents are the stack's
            # own: ``saved = s.copy()`` keeps its length, ``s.extend(saved)`` moves back to it
            return I64
        if node.func.attr == "extend":
            if len(node.args) != 1 or self.expr(node.args[0]) != I64:
                self.err("Stack.extend() natively takes what its .copy() returned", node)
            return NONE
        self.push(node)
        return NONE

    def kw(self, node, name, default=None):
        for k in node.keywords:
            if k.arg == name:
                return k.value
        return default

    def math_call(self, f, node):
        ats = [self.expr(a) for a in node.args]
        for t in ats:
            if not isinstance(t, Scalar):
                self.err(f"math.{f} needs scalar arguments", node)
        if f in MATH_FLOAT:
            return F64 if f not in ("floor", "ceil", "trunc") else I64
        if f in ("isnan", "isinf", "isfinite"):
            return BOOL
        self.err(f"math.{f} is not supported natively", node)

    def builtin_call(self, f, node):
        if f == "print":      # runs in the compiled code too, through Python's print
            if node.keywords:
                self.err("print() keywords are not supported natively", node)
            for a in node.args:
                if isinstance(a, ast.Constant) and isinstance(a.value, str):
                    self.node_types[id(a)] = NONE
                else:
                    self.expr(a)
            return NONE
        ats = [self.expr(a) for a in node.args]
        if node.keywords:
            self.err(f"keyword arguments to {f}() are not supported natively", node)
        if f == "abs" and len(ats) == 1:
            t = ats[0]
            return make(I64, t.ndim) if dtype_of(t) == BOOL and isinstance(t, Array) else (I64 if t == BOOL else t)
        if f in ("min", "max") and len(ats) == 2:
            if not all(isinstance(t, Scalar) for t in ats):
                self.err(f"{f}() of arrays is not supported natively", node)
            return promote(ats[0], self.weak(node.args[0]), ats[1], self.weak(node.args[1]))
        if f in ("float", "int", "bool") and len(ats) == 1 and isinstance(ats[0], Scalar):
            return DTYPE_NAMES[f]
        if f == "len" and len(ats) == 1:
            if isinstance(ats[0], Array):
                return I64
            if isinstance(ats[0], Tuple):
                return I64
        if f in HELPERS:
            return self.helper_call(f, ats, node)
        if f == "range":
            self.err("range() is only supported as a for-loop iterator", node)
        self.err(f"call to {f}() is not supported natively", node)

    def helper_call(self, f, ats, node):
        g = ats[0]
        if f == "unbroadcast":
            like = ats[1]
            if isinstance(like, Scalar):
                return dtype_of(g)
            if not isinstance(g, Array) or g.ndim < like.ndim:
                self.err("unbroadcast: gradient has fewer dimensions than its input", node)
            return Array(g.dtype, like.ndim)
        if f == "sum_to_shape":
            sh = ats[1]
            if not isinstance(sh, Tuple):
                self.err("sum_to_shape needs a shape tuple", node)
            if not sh.items:
                return dtype_of(g)
            return Array(dtype_of(g), len(sh.items))
        if f == "unreduce":
            like = ats[1]
            if not isinstance(like, Array):
                return g
            return Array(dtype_of(g), like.ndim)
        if f == "untranspose":
            return g
        if f == "extremum_weights":
            like = ats[1]
            dt = dtype_of(like)
            return make(dt if dt.is_float else F64, ndim_of(like))
        if f == "prod_of_others":
            return g
        self.err(f"{f}() is not supported natively", node)

    def shape_ndim(self, node):
        t = self.expr(node)
        if isinstance(t, Tuple):
            if not all(isinstance(x, Scalar) and not x.is_float for x in t.items):
                self.err("a shape must be a tuple of integers", node)
            return len(t.items)
        if isinstance(t, Scalar) and not t.is_float:
            return 1
        self.err("a shape must be an int or a tuple of ints", node)

    def np_call(self, f, args, node, recv_method=False):
        from .np_types import np_call_type
        return np_call_type(self, f, args, node, recv_method)
