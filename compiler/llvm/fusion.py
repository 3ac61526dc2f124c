"""Fusion of elementwise expression trees into one loop nest.

Lowered one operator at a time, ``dh * (t2 >= 0.0)`` writes a boolean array and sweeps it again
for the product: every inner node of an elementwise expression costs a fresh array and a pass
over memory. Here the whole tree becomes one loop whose body computes each element in registers:
the leaves (names, calls, subscripts: anything that is not an elementwise operator) are
evaluated once, in source order, broadcast together, and the operators run per element with the
same scalar lowering (types, casts, errors) each of them has on its own.

Broadcasting all leaves at once is the same as broadcasting node by node: two shapes fail to
broadcast in one order exactly when they fail in the other.
"""
import ast

from .. import typing as T
from . import scalars as S
from .arrays import alloc, broadcast_shape, bstrides, emit_elementwise


def _operand_types_ok(lw, nodes):
    return all(isinstance(lw.ti.type_of(n), (T.Array, T.Scalar)) for n in nodes)


def is_inner(lw, node):
    """An elementwise operator producing an array: a node fusion can compute per element."""
    if not isinstance(lw.ti.type_of(node), T.Array):
        return False
    if isinstance(node, ast.BinOp):
        return not isinstance(node.op, ast.MatMult) and _operand_types_ok(lw, (node.left, node.right))
    if isinstance(node, ast.UnaryOp):
        return isinstance(node.op, ast.USub) and _operand_types_ok(lw, (node.operand,))
    if isinstance(node, ast.Compare):
        return len(node.ops) == 1 and _operand_types_ok(lw, (node.left, node.comparators[0]))
    return False


def children(node):
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    return [node.left, node.comparators[0]]


def worth_fusing(lw, node):
    """A tree with at least two operators (one alone is already a single loop)."""
    return is_inner(lw, node) and any(is_inner(lw, c) for c in children(node))


def lower_fused(lw, node):
    """Lower the elementwise tree rooted at ``node`` as one loop nest into a fresh array."""
    leaves = []          # (value, type), in source order

    def plan(n):
        """A description of the tree (the kernel's cache key) with leaves numbered."""
        if is_inner(lw, n):
            t = lw.ti.type_of(n)
            sub = tuple(plan(c) for c in children(n))
            op = type(n.ops[0] if isinstance(n, ast.Compare) else n.op).__name__
            return (type(n).__name__, op, T.dtype_of(t).name, sub)
        t = lw.ti.type_of(n)
        leaves.append((lw.expr(n), t))
        return ("leaf", len(leaves) - 1)

    tree_key = plan(node)
    out_t = lw.ti.type_of(node)

    def compute(k, n, vals, it):
        """Element value of ``n`` (lowered with ``k``); ``it`` walks the leaf values in order."""
        if not is_inner(lw, n):
            return next(it)
        t = lw.ti.type_of(n)
        subs = [(compute(k, c, vals, it), lw.ti.type_of(c)) for c in children(n)]
        if isinstance(n, ast.BinOp):
            (a, at), (b, bt) = subs
            return S.binop(k, n.op, a, T.dtype_of(at), b, T.dtype_of(bt), t.dtype)
        if isinstance(n, ast.Compare):
            (a, at), (b, bt) = subs
            return S.compare(k, n.ops[0], a, T.dtype_of(at), b, T.dtype_of(bt))
        (a, at), = subs
        return S.unary_math(k, "negative", S.cast(k, a, T.dtype_of(at), t.dtype), t.dtype)

    def body(k, vals):
        return compute(k, node, vals, iter(vals))

    arrays = [v for v, t in leaves if isinstance(t, T.Array)]
    shape = broadcast_shape(lw, [a.shape for a in arrays])
    out = alloc(lw, out_t.dtype, shape)
    stride_lists = [bstrides(lw, a, shape) for a in arrays] + [out.strides]
    if shape:
        from .kernels import call_elementwise_kernel
        call_elementwise_kernel(lw, ("fused", tree_key), out_t.dtype, leaves, body, out, shape,
                                stride_lists)
    else:
        emit_elementwise(lw, leaves, body, out, shape, stride_lists)
    return out
