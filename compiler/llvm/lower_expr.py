"""Expressions of the function lowerer: constants, names, operators, calls, subscripts,
attributes and tuple items, each to LLVM values of its inferred type."""
import ast

from llvmlite import ir

from .. import typing as T
from . import types as L
from . import scalars as S


class ExprLowerer:
    """Mixed into FunctionLowerer."""

    # ------------------------------------------------------------------ expressions
    def expr(self, node):
        b = self.b
        t = self.ti.type_of(node)
        if isinstance(node, ast.Constant):
            if t == T.NONE:
                return None
            return S.const(t, node.value)
        if isinstance(node, ast.Name):
            return self.load_name(node.id)
        if isinstance(node, ast.Tuple):
            return L.TupleVal(t, [self.expr(e) for e in node.elts])
        if isinstance(node, (ast.BinOp, ast.UnaryOp, ast.Compare)) and isinstance(t, T.Array):
            from . import fusion
            if fusion.worth_fusing(self, node):   # several elementwise operators: one loop
                return fusion.lower_fused(self, node)
        if isinstance(node, ast.BinOp):
            lt, rt_ = self.ti.type_of(node.left), self.ti.type_of(node.right)
            lv, rv = self.expr(node.left), self.expr(node.right)
            if isinstance(t, T.Array) or isinstance(node.op, ast.MatMult):
                from . import arrays as A
                return A.binop(self, node.op, lv, lt, rv, rt_, t)
            if isinstance(t, T.Tuple):
                return L.TupleVal(t, lv.items + rv.items)
            return S.binop(self, node.op, lv, lt, rv, rt_, t, acc=id(node) in self.acc_ops)
        if isinstance(node, ast.UnaryOp):
            ot = self.ti.type_of(node.operand)
            v = self.expr(node.operand)
            if isinstance(node.op, ast.Not):
                return b.xor(S.truth(self, v, ot), ir.Constant(L.I1, 1))
            if isinstance(node.op, ast.UAdd):
                return v
            if isinstance(ot, T.Array):
                from . import arrays as A
                return A.unary(self, "negative", v, t)
            return S.negate(self, v, ot)
        if isinstance(node, ast.Compare):
            lt, rt_ = self.ti.type_of(node.left), self.ti.type_of(node.comparators[0])
            lv, rv = self.expr(node.left), self.expr(node.comparators[0])
            if isinstance(t, T.Array):
                from . import arrays as A
                return A.compare(self, node.ops[0], lv, lt, rv, rt_)
            return S.compare(self, node.ops[0], lv, lt, rv, rt_)
        if isinstance(node, ast.BoolOp):
            vals = [(self.expr(v), self.ti.type_of(v)) for v in node.values]
            # operands are atoms (no side effects), so Python's short circuit is a select chain
            res = S.cast(self, vals[-1][0], vals[-1][1], t)
            for v, vt in reversed(vals[:-1]):
                c = S.truth(self, v, vt)
                cv = S.cast(self, v, vt, t)
                res = b.select(c, res, cv) if isinstance(node.op, ast.And) else b.select(c, cv, res)
            return res
        if isinstance(node, ast.IfExp):
            c = self.cond_value(node.test)
            a = self.expr(node.body)
            e = self.expr(node.orelse)
            if not isinstance(t, T.Scalar):
                raise self.unsupported("conditional expression of non-scalars")
            a = S.cast(self, a, self.ti.type_of(node.body), t)
            e = S.cast(self, e, self.ti.type_of(node.orelse), t)
            return b.select(c, a, e)
        if isinstance(node, ast.Attribute):
            return self.attribute(node, t)
        if isinstance(node, ast.Subscript):
            vt = self.ti.type_of(node.value)
            if isinstance(vt, T.Tuple):
                return self.tuple_item(node, vt)
            from . import indexing
            return indexing.getitem(self, node)
        if isinstance(node, ast.Call):
            from . import calls as C
            return C.call(self, node, t)
        raise self.unsupported(f"expression {type(node).__name__}")

    def attribute(self, node, t):
        import math
        v = node.value
        if isinstance(v, ast.Name) and v.id in ("math", "np", "numpy") and v.id not in self.ti.names:
            return ir.Constant(L.F64, {"pi": math.pi, "e": math.e, "inf": math.inf, "nan": math.nan,
                                       "tau": math.tau}[node.attr])
        at = self.ti.type_of(v)
        a = self.expr(v)
        if isinstance(at, T.Scalar):
            return a
        if node.attr == "shape":
            return L.TupleVal(t, list(a.shape))
        if node.attr == "ndim":
            return ir.Constant(L.I64, at.ndim)
        if node.attr == "size":
            return self.size_of(a)
        if node.attr == "T":
            from . import indexing
            return indexing.transpose(self, a, None)
        raise self.unsupported(f"attribute {node.attr}")

    def size_of(self, a):
        n = ir.Constant(L.I64, 1)
        for d in a.shape:
            n = self.b.mul(n, d)
        return n

    def tuple_item(self, node, vt):
        tv = self.expr(node.value)
        try:
            k = T.const_value(node.slice, self.ti.consts)
        except Exception:
            k = None
        if isinstance(k, int):
            return tv.items[k]
        # a runtime index into a homogeneous tuple: bounds-check, then a select chain
        b = self.b
        i = S.cast(self, self.expr(node.slice), self.ti.type_of(node.slice), T.I64)
        n = ir.Constant(L.I64, len(tv.items))
        i = b.select(b.icmp_signed("<", i, ir.Constant(L.I64, 0)), b.add(i, n), i)
        with self.cold_if(b.icmp_unsigned(">=", i, n)):
            self.fail("IndexError", "tuple index out of range")
        if not isinstance(vt.items[0], T.Scalar):
            raise self.unsupported("runtime index into a tuple of non-scalars")
        res = tv.items[0]
        for j in range(1, len(tv.items)):
            res = b.select(b.icmp_signed("==", i, ir.Constant(L.I64, j)), tv.items[j], res)
        return res
