"""Types of numpy calls for the native backend, one rule per native family of the primitive table.

``np_call_type`` asks the table (``typing.native_family``) which family ``np.<f>`` belongs to and
calls the type rule registered for it. Each rule gets the inferer ``ti``, the function's numpy
name, the argument nodes and their types, and returns the result type, or None when the arguments
do not fit (the call is then refused natively, with its name). The lowering side of each family is
``compiler/llvm/np_calls.py``, under the same name.
"""
import ast

from .call_names import DTYPE_NAMES, const_value, dtype_from_node, native_family
from .native_types import (BOOL, F64, I64, NONE, Array, Scalar, Tuple, dtype_of, make, ndim_of,
                           promote)

TYPE_RULES = {}
_KEYWORDS = ("axis", "keepdims", "dtype")


def types(*families):
    def register(fn):
        for f in families:
            TYPE_RULES[f] = fn
        return fn
    return register


def np_call_type(ti, f, args, node, recv_method=False):
    ats = [ti.expr(a) for a in args]
    for k in node.keywords:
        if k.arg == "out":
            ti.err("out= is not supported natively", node)
        if k.arg not in _KEYWORDS and not (f == "reshape" and k.arg == "order"):
            ti.err(f"np.{f}: keyword {k.arg!r} is not supported natively", node)
    if f == "astype" and recv_method:
        if len(args) != 2:
            ti.err("astype(dtype) expected", node)
        ti.node_types[id(args[1])] = NONE
        return Array(dtype_from_node(args[1], ti.raw_constants), ats[0].ndim)
    rule = TYPE_RULES.get(native_family(f, recv_method))
    t = rule(ti, f, args, ats, node, recv_method) if rule is not None else None
    if t is None:
        ti.err(f"np.{f} with these arguments is not supported natively", node)
    return t


def _dtype_kw(ti, node, default):
    dt_node = ti.kw(node, "dtype")
    return dtype_from_node(dt_node, ti.raw_constants) if dt_node is not None else default


@types("unary_float")
def _unary_float(ti, f, args, ats, node, method):
    if len(ats) != 1:
        return None
    dt = dtype_of(ats[0])
    if f in ("floor", "ceil") and not dt.is_float:
        return ats[0]
    return make(dt if dt.is_float else F64, ndim_of(ats[0]))


@types("unary_same")
def _unary_same(ti, f, args, ats, node, method):
    if len(ats) != 1:
        return None
    if dtype_of(ats[0]) == BOOL and f != "abs":
        return make(I64, ndim_of(ats[0]))
    return ats[0]


_OPERATORS = {"add": ast.Add(), "subtract": ast.Sub(), "multiply": ast.Mult(), "divide": ast.Div(),
              "true_divide": ast.Div(), "power": ast.Pow()}


@types("binary")
def _binary(ti, f, args, ats, node, method):
    if len(ats) != 2:
        return None
    op = _OPERATORS.get(f)
    if op is not None:
        return ti.binop_type(op, ats[0], ti.weak(args[0]), ats[1], ti.weak(args[1]), node)
    dt = promote(dtype_of(ats[0]), ti.weak(args[0]), dtype_of(ats[1]), ti.weak(args[1]))
    if f in ("arctan2", "hypot", "copysign", "fmod") and not dt.is_float:
        dt = F64
    return make(dt, max(ndim_of(ats[0]), ndim_of(ats[1])))


@types("predicate")
def _predicate(ti, f, args, ats, node, method):
    return make(BOOL, ndim_of(ats[0])) if len(ats) == 1 else None


@types("where")
def _where(ti, f, args, ats, node, method):
    if len(ats) != 3:
        return None
    dt = promote(dtype_of(ats[1]), ti.weak(args[1]), dtype_of(ats[2]), ti.weak(args[2]))
    return make(dt, max(ndim_of(t) for t in ats))


@types("clip")
def _clip(ti, f, args, ats, node, method):
    if len(ats) != 3:
        return None
    dt = dtype_of(ats[0])
    for a, t in zip(args[1:], ats[1:]):
        dt = promote(dt, False, dtype_of(t), ti.weak(a))
    return make(dt, max(ndim_of(t) for t in ats))


@types("reduction")
def _reduction(ti, f, args, ats, node, method):
    if len(ats) == 2 and ti.kw(node, "axis") is None:
        # np.sum(x, 0): the axis given positionally becomes the keyword lowering reads
        node.keywords = list(node.keywords) + [ast.keyword(arg="axis", value=args[1])]
        node.args = list(node.args[:-1]) if method else [node.args[0]]
        ats = ats[:1]
    if len(ats) != 1:
        return None
    t = ats[0]
    dt = dtype_of(t)
    if f in ("sum", "prod") and dt == BOOL:
        dt = I64
    if f == "mean" and not dt.is_float:
        dt = F64
    dt = _dtype_kw(ti, node, dt)
    axis_node, kd_node = ti.kw(node, "axis"), ti.kw(node, "keepdims")
    axis = None if axis_node is None else const_value(axis_node, ti.consts)
    keepdims = False if kd_node is None else const_value(kd_node, ti.consts)
    if not isinstance(t, Array):
        return dt
    if axis is None:
        return Array(dt, t.ndim) if keepdims else dt
    axes = axis if isinstance(axis, tuple) else (axis,)
    for a in axes:
        if not isinstance(a, int) or not -t.ndim <= a < t.ndim:
            ti.err(f"axis {a} is out of bounds for a {t.ndim}-d array", node)
    return make(dt, t.ndim if keepdims else t.ndim - len(set(a % t.ndim for a in axes)))


@types("matmul")
def _matmul(ti, f, args, ats, node, method):
    if len(ats) != 2:
        return None
    if isinstance(ats[0], Scalar) or isinstance(ats[1], Scalar):
        return ti.binop_type(ast.Mult(), ats[0], False, ats[1], False, node)
    return ti.matmul_type(ats[0], ats[1], node)


@types("outer")
def _outer(ti, f, args, ats, node, method):
    if len(ats) != 2:
        return None
    dt = promote(dtype_of(ats[0]), False, dtype_of(ats[1]), False)
    return Array(I64 if dt == BOOL else dt, 2)


@types("transpose")
def _transpose(ti, f, args, ats, node, method):
    if len(ats) not in (1, 2):
        return None
    if len(ats) == 2:
        axes = const_value(args[1], ti.consts)
        if sorted(axes) != list(range(ndim_of(ats[0]))):
            ti.err("transpose axes must be a permutation", node)
    return ats[0]


@types("copy")
def _copy(ti, f, args, ats, node, method):
    return ats[0] if len(ats) == 1 else None


@types("reshape")
def _reshape(ti, f, args, ats, node, method):
    if len(ats) == 2:
        nd = ti.shape_ndim(args[1])
    elif method and len(ats) > 2:
        nd = len(ats) - 1
    else:
        return None
    return make(dtype_of(ats[0]), nd)


@types("creation")
def _creation(ti, f, args, ats, node, method):
    return make(_dtype_kw(ti, node, F64), ti.shape_ndim(args[0])) if len(ats) == 1 else None


@types("full")
def _full(ti, f, args, ats, node, method):
    if len(ats) != 2 or not isinstance(ats[1], Scalar):   # an array fill: not lowered
        return None
    default = F64 if ti.weak(args[1]) and ats[1].is_float else ats[1]
    return make(_dtype_kw(ti, node, default), ti.shape_ndim(args[0]))


@types("like")
def _like(ti, f, args, ats, node, method):
    return make(_dtype_kw(ti, node, dtype_of(ats[0])), ndim_of(ats[0])) if len(ats) == 1 else None


@types("full_like")
def _full_like(ti, f, args, ats, node, method):
    if len(ats) == 2 and not isinstance(ats[1], Scalar):
        return None
    return make(_dtype_kw(ti, node, dtype_of(ats[0])), ndim_of(ats[0])) if len(ats) == 2 else None


@types("broadcast_to")
def _broadcast_to(ti, f, args, ats, node, method):
    return make(dtype_of(ats[0]), ti.shape_ndim(args[1])) if len(ats) == 2 else None


@types("shape")
def _shape(ti, f, args, ats, node, method):
    return Tuple((I64,) * ndim_of(ats[0])) if len(ats) == 1 else None


@types("size")
def _size(ti, f, args, ats, node, method):
    return I64 if len(ats) == 1 else None


@types("arange")
def _arange(ti, f, args, ats, node, method):
    if not 1 <= len(ats) <= 3 or not all(isinstance(t, Scalar) for t in ats):
        return None
    return Array(_dtype_kw(ti, node, F64 if any(t.is_float for t in ats) else I64), 1)


@types("eye")
def _eye(ti, f, args, ats, node, method):
    if len(ats) != 1 or not isinstance(ats[0], Scalar) or ats[0].is_float:
        return None
    return Array(_dtype_kw(ti, node, F64), 2)


@types("scalar_cast")
def _scalar_cast(ti, f, args, ats, node, method):
    return DTYPE_NAMES[f] if len(ats) == 1 and isinstance(ats[0], Scalar) else None


@types("array")
def _array(ti, f, args, ats, node, method):
    if len(ats) != 1 or not isinstance(ats[0], (Array, Scalar)):
        return None
    return make(_dtype_kw(ti, node, dtype_of(ats[0])), ndim_of(ats[0]))
