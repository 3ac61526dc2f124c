"""Types of calls for the native backend: the inferer's typing of builtin, math, helper, stack and
numpy calls (numpy families: np_types; the table's views by native family: call_names)."""
import ast

from tapeflow.runtime import rules

from .call_names import DTYPE_NAMES, HELPERS, MATH_FLOAT, call_name
from .np_types import np_call_type
from .native_types import (BOOL, F64, I64, NONE, STACK, Array, Scalar, Tuple, _Unknown,
                           dtype_of, make, ndim_of, promote)


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
        return np_call_type(self, f, args, node, recv_method)
