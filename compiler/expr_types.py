"""The inferer's typing of expressions: names, constants, operators, attributes, subscripts."""
import ast


from .call_names import const_value
from .llvm.errors import TypingError
from .native_types import (BOOL, F64, I64, NONE, Array, Scalar, Tuple, _Conflict, _Unknown,
                           dtype_of, make, ndim_of, promote, unify)


class ExprTyper:
    """Mixed into the inferer: the types of expressions."""

    # -- expressions
    def lookup(self, name, node):
        t = self.names.get(name)
        if t is None:
            if name in self.mfuncs:
                self.err(f"function {name!r} used as a value", node)
            raise _Unknown(name)
        return t

    def weak(self, node):
        return isinstance(node, ast.Constant) or (
            isinstance(node, ast.UnaryOp) and isinstance(node.operand, ast.Constant))

    def expr(self, node):
        t = self._expr(node)
        self.node_types[id(node)] = t
        return t

    def _expr(self, node):
        if isinstance(node, ast.Constant):
            v = node.value
            if isinstance(v, bool):
                return BOOL
            if isinstance(v, int):
                if not -2**63 <= v < 2**63:
                    self.err("integer constant does not fit in 64 bits", node)
                return I64
            if isinstance(v, float):
                return F64
            if v is None:
                return NONE
            self.err(f"unsupported constant {v!r}", node)
        if isinstance(node, ast.Name):
            return self.lookup(node.id, node)
        if isinstance(node, ast.Tuple):
            return Tuple(tuple(self.expr(e) for e in node.elts))
        if isinstance(node, ast.BinOp):
            lt, rt = self.expr(node.left), self.expr(node.right)
            return self.binop_type(node.op, lt, self.weak(node.left), rt, self.weak(node.right), node)
        if isinstance(node, ast.UnaryOp):
            t = self.expr(node.operand)
            if isinstance(node.op, ast.Not):
                if not isinstance(t, Scalar):
                    self.err("`not` on an array", node)
                return BOOL
            if isinstance(node.op, (ast.USub, ast.UAdd)):
                if dtype_of(t) == BOOL:
                    return make(I64, ndim_of(t))
                if isinstance(t, (Scalar, Array)):
                    return t
            self.err("unsupported unary operator", node)
        if isinstance(node, ast.Compare):
            if len(node.ops) != 1:
                self.err("chained comparison is not supported", node)
            lt, rt = self.expr(node.left), self.expr(node.comparators[0])
            if isinstance(node.ops[0], (ast.Is, ast.IsNot, ast.In, ast.NotIn)):
                self.err("unsupported comparison operator", node)
            for t in (lt, rt):
                if not isinstance(t, (Scalar, Array)):
                    self.err(f"cannot compare {t!r}", node)
            return make(BOOL, max(ndim_of(lt), ndim_of(rt)))
        if isinstance(node, ast.BoolOp):
            ts = [self.expr(v) for v in node.values]
            out = None
            for t in ts:
                if not isinstance(t, Scalar):
                    self.err("and/or need scalar operands", node)
                out = unify(out, t)
            return out
        if isinstance(node, ast.IfExp):
            self.cond(node.test)
            a, b = self.expr(node.body), self.expr(node.orelse)
            u = unify(a, b)
            if isinstance(u, _Conflict):
                self.err(f"conditional expression mixes {a!r} and {b!r}", node)
            return u
        if isinstance(node, ast.Attribute):
            return self.attribute(node)
        if isinstance(node, ast.Subscript):
            return self.subscript(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        self.err(f"unsupported expression {type(node).__name__}", node)

    def binop_type(self, op, lt, lw, rt, rw, node):
        if isinstance(op, ast.MatMult):
            return self.matmul_type(lt, rt, node)
        if isinstance(op, (ast.BitAnd, ast.BitOr, ast.BitXor, ast.LShift, ast.RShift)):
            if dtype_of(lt).is_float or dtype_of(rt).is_float:
                self.err("bitwise operator on floats", node)
            dt = BOOL if dtype_of(lt) == dtype_of(rt) == BOOL and not isinstance(op, (ast.LShift, ast.RShift)) else I64
            return make(dt, max(ndim_of(lt), ndim_of(rt)))
        if isinstance(lt, Tuple) and isinstance(rt, Tuple) and isinstance(op, ast.Add):
            return Tuple(lt.items + rt.items)
        for t in (lt, rt):
            if not isinstance(t, (Scalar, Array)):
                self.err(f"unsupported operand type {t!r}", node)
        dt = promote(dtype_of(lt), lw, dtype_of(rt), rw)
        nd = max(ndim_of(lt), ndim_of(rt))
        if isinstance(op, ast.Div):
            if not dt.is_float:
                dt = F64
        elif isinstance(op, (ast.Add, ast.Sub, ast.Mult, ast.FloorDiv, ast.Mod, ast.Pow)):
            if dt == BOOL:
                dt = I64
        else:
            self.err(f"unsupported operator {type(op).__name__}", node)
        return make(dt, nd)

    def matmul_type(self, lt, rt, node):
        if not (isinstance(lt, Array) and isinstance(rt, Array)):
            self.err("@ needs two arrays", node)
        dt = promote(lt.dtype, False, rt.dtype, False)
        if dt == BOOL:
            dt = I64
        nd = {(1, 1): 0, (2, 2): 2, (2, 1): 1, (1, 2): 1}.get((lt.ndim, rt.ndim))
        if nd is None:
            self.err(f"matmul of {lt.ndim}-d and {rt.ndim}-d arrays is not supported natively", node)
        return make(dt, nd)

    def attribute(self, node):
        v = node.value
        if isinstance(v, ast.Name) and v.id == "math" and v.id not in self.names:
            if node.attr in ("pi", "e", "inf", "nan", "tau"):
                return F64
            self.err(f"unsupported math attribute {node.attr!r}", node)
        if isinstance(v, ast.Name) and v.id in ("np", "numpy") and v.id not in self.names:
            if node.attr in ("pi", "e", "inf", "nan"):
                return F64
            self.err(f"unsupported numpy attribute {node.attr!r}", node)
        t = self.expr(v)
        if isinstance(t, Array):
            if node.attr == "shape":
                return Tuple((I64,) * t.ndim)
            if node.attr in ("ndim", "size"):
                return I64
            if node.attr == "T":
                return t
            self.err(f"unsupported array attribute {node.attr!r}", node)
        if isinstance(t, Scalar) and node.attr in ("real",):
            return t
        self.err(f"unsupported attribute {node.attr!r} of {t!r}", node)

    def index_parts(self, sl):
        return list(sl.elts) if isinstance(sl, ast.Tuple) else [sl]

    def subscript(self, node):
        vt = self.expr(node.value)
        sl = node.slice
        if isinstance(vt, Tuple):
            try:
                k = const_value(sl, self.consts)
            except TypingError:
                k = None
            if isinstance(k, int):
                if not -len(vt.items) <= k < len(vt.items):
                    self.err("tuple index out of range", node)
                return vt.items[k]
            it = self.expr(sl)
            if isinstance(it, Scalar) and not it.is_float and len(set(vt.items)) == 1:
                return vt.items[0]
            self.err("tuple index must be a constant integer", node)
        if not isinstance(vt, Array):
            self.err(f"{vt!r} is not subscriptable", node)
        parts = self.index_parts(sl)
        newaxes = sum(1 for p in parts if isinstance(p, ast.Constant) and p.value is None)
        if len(parts) - newaxes > vt.ndim:
            self.err(f"too many indices for a {vt.ndim}-d array", node)
        nd = vt.ndim + newaxes
        for p in parts:
            if isinstance(p, ast.Constant) and p.value is None:     # np.newaxis
                self.node_types[id(p)] = NONE
                continue
            if isinstance(p, ast.Slice):
                for b in (p.lower, p.upper, p.step):
                    if b is not None:
                        bt = self.expr(b)
                        if not (isinstance(bt, Scalar) and not bt.is_float) and bt != NONE:
                            self.err("slice bounds must be integers", node)
            else:
                it = self.expr(p)
                if not (isinstance(it, Scalar) and not it.is_float):
                    self.err("array indices must be integers (fancy indexing is not supported natively)", node)
                nd -= 1
        return make(vt.dtype, nd)
