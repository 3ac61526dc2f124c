"""Fusion of elementwise expression trees into one loop nest.

Lowered one operator at a time, ``dh * (t2 >= 0.0)`` writes a boolean array and sweeps it again
for the product: every inner node of an elementwise expression costs a fresh array and a pass
over memory. Here the whole tree becomes one loop whose body computes each element in registers:
the leaves (names, calls, subscripts: anything that is not an elementwise operator) are
evaluated once, in source order, broadcast together, and the operators run per element with the
same scalar lowering (types, casts, errors) each of them has on its own.

Broadcasting all leaves at once is the same as broadcasting node by node: two shapes fail to
broadcast in one order exactly when they fail in the other.

A matrix product among the leaves (``np.dot(dt3, np.transpose(w2)) * (t2 >= 0.0)``, which
sink_products.py builds from the MLP's gradient) is fused too: when its inner dimension is 1 at
run time, ``A @ B`` of an (n, 1) and a (1, m) array is the broadcast product ``A * B`` (with
numpy's and BLAS's sum started at +0.0, so ``0.0 + a * b``: a -0.0 product becomes +0.0 as
there), and the kernel reads A and B instead of an n x m temporary. Otherwise the product is
computed as on its own (same checks, BLAS) and read as a leaf. The output shape, and the
alignment and broadcast errors in numpy's order (product first), are the same on both paths.
"""
import ast

from .. import typing as T
from ..call_names import call_name
from . import products as P
from . import scalars as S
from .arrays import ONE, alloc, broadcast_shape, bstrides, emit_elementwise


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


def product_operands(lw, node):
    """The operands of a 2-d product of two 2-d arrays of the result's float dtype, or None."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
        ops = [node.left, node.right]
    elif (isinstance(node, ast.Call) and call_name(node.func) in ("np.dot", "np.matmul")
          and len(node.args) == 2 and not node.keywords):
        ops = list(node.args)
    else:
        return None
    t = lw.ti.type_of(node)
    if not (isinstance(t, T.Array) and t.ndim == 2 and t.dtype.is_float):
        return None
    for o in ops:
        ot = lw.ti.type_of(o)
        if not (isinstance(ot, T.Array) and ot.ndim == 2 and ot.dtype == t.dtype):
            return None
    return ops


def _leaf_nodes(lw, n):
    if is_inner(lw, n):
        return [leaf for c in children(n) for leaf in _leaf_nodes(lw, c)]
    return [n]


def lower_fused(lw, node, extra=None):
    """Lower the elementwise tree rooted at ``node`` as one loop nest into a fresh array.
    ``extra(shape)``, if given, is called once the result's shape is known and returns
    (key, operands, after): array operands broadcast to that shape that the loop also passes to
    ``after`` (emit_elementwise), and the key naming what ``after`` does (fused_pairs.py)."""
    nodes = _leaf_nodes(lw, node)
    products = [n for n in nodes if product_operands(lw, n)]
    if products:
        return _lower_with_product(lw, node, nodes, products[0], extra)
    leaves = [(lw.expr(n), lw.ti.type_of(n)) for n in nodes]
    out_t = lw.ti.type_of(node)
    arrays = [v for v, t in leaves if isinstance(t, T.Array)]
    shape = broadcast_shape(lw, [a.shape for a in arrays])
    out = alloc(lw, out_t.dtype, shape)
    _fill(lw, node, None, leaves, out, shape, extra(shape) if extra else None)
    return out


def _lower_with_product(lw, node, nodes, prod, extra):
    """As lower_fused, with ``prod`` (one of the leaf ``nodes``, a 2-d product) fused when its
    inner dimension is 1 at run time and computed apart otherwise."""
    b = lw.b
    pos = next(i for i, n in enumerate(nodes) if n is prod)
    evaluated = []       # (value, type) of each leaf in source order; (a, b) pairs for prod
    shapes = []          # of the array leaves, the product's (n, m) among them
    for i, n in enumerate(nodes):
        if i == pos:
            (av, at), (bv, bt) = [(lw.expr(o), lw.ti.type_of(o)) for o in product_operands(lw, n)]
            P.check_aligned(lw, av.shape[-1], bv.shape[0])     # where numpy's dot would raise
            evaluated.append(((av, at), (bv, bt)))
            shapes.append([av.shape[0], bv.shape[1]])
        else:
            v, t = lw.expr(n), lw.ti.type_of(n)
            evaluated.append((v, t))
            if isinstance(t, T.Array):
                shapes.append(v.shape)
    shape = broadcast_shape(lw, shapes)
    dtype = lw.ti.type_of(node).dtype
    out = alloc(lw, dtype, shape)
    more = extra(shape) if extra else None
    with b.if_else(b.icmp_signed("==", av.shape[-1], ONE)) as (outer, general):
        with outer:
            leaves = [x for i, e in enumerate(evaluated) for x in (e if i == pos else [e])]
            _fill(lw, node, prod, leaves, out, shape, more)
        with general:
            pt = lw.ti.type_of(prod)
            r = P.matmul(lw, av, at, bv, bt, pt)
            leaves = [(r, pt) if i == pos else e for i, e in enumerate(evaluated)]
            _fill(lw, node, None, leaves, out, shape, more)
    return out


def _fill(lw, node, prod, leaves, out, shape, more=None):
    """out = the tree at ``node`` per element over ``leaves`` (lowered values in source order);
    ``prod``: the product leaf computed per element from two leaves (its operands), or None;
    ``more``: lower_fused's (key, operands, after), the operands placed after the tree's leaves
    (compute never reaches them)."""
    out_t = lw.ti.type_of(node)
    after, more_key = None, None
    if more is not None:
        more_key, operands, after = more
        leaves = leaves + list(operands)

    def plan(n):
        """A description of the tree (the kernel's cache key)."""
        if n is prod:
            return ("outer", T.dtype_of(lw.ti.type_of(n)).name)
        if is_inner(lw, n):
            t = lw.ti.type_of(n)
            sub = tuple(plan(c) for c in children(n))
            op = type(n.ops[0] if isinstance(n, ast.Compare) else n.op).__name__
            return (type(n).__name__, op, T.dtype_of(t).name, sub)
        return ("leaf",)

    tree_key = plan(node)

    def compute(k, n, vals, it):
        """Element value of ``n`` (lowered with ``k``); ``it`` walks the leaf values in order."""
        if n is prod:
            pd = lw.ti.type_of(n).dtype
            x, y = next(it), next(it)
            return S.binop(k, ast.Add(), S.const(pd, 0.0), pd,
                           S.binop(k, ast.Mult(), x, pd, y, pd, pd), pd, pd)
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
    stride_lists = [bstrides(lw, a, shape) for a in arrays] + [out.strides]
    if shape:
        from .kernels import call_elementwise_kernel
        call_elementwise_kernel(lw, ("fused", tree_key, more_key), out_t.dtype, leaves, body, out,
                                shape, stride_lists, after)
    else:
        emit_elementwise(lw, leaves, body, out, shape, stride_lists, after)
