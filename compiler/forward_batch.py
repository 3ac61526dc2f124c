"""Vector mode of the forward transform: tangents with a leading batch axis of k directions.

Elementwise rules need nothing more (numpy broadcasting); here is what the batch axis changes
elsewhere: a tangent of lower rank than the result gets the missing axes after the batch axis,
a linear primitive with an axis or a shape gets it moved past the batch axis, a product of a
batch with a 1-d right operand multiplies from the other side. What is not known to work batched
is refused (jacfwd then runs one direction at a time). Also the small AST builders the forward
transform shares.
"""
import gast

from .normalize import const, name

BATCH = "batch"   # the number of directions, in vector-mode code


def call(fn_expr, *args, **kwargs):
    return gast.Call(func=fn_expr, args=list(args),
                     keywords=[gast.keyword(arg=k, value=v) for k, v in kwargs.items()])


def np_attr(*names):
    node = name("np")
    for n in names:
        node = gast.Attribute(value=node, attr=n, ctx=gast.Load())
    return node


def add(a, b):
    return gast.BinOp(left=a, op=gast.Add(), right=b)


def batch_index(index):
    """``index`` with a leading ``:`` for the batch axis."""
    full = gast.Slice(lower=None, upper=None, step=None)
    parts = index.elts if isinstance(index, gast.Tuple) else [index]
    return gast.Tuple(elts=[full] + list(parts), ctx=gast.Load())


class BatchAxis:
    """The vector-mode parts of ``forward.Forward`` (a mixin: it reads ``self.batched``,
    ``self.dot``, ``self.ndim`` and ``self.error``)."""

    def batch_ready(self, atom, nd_ans, s):
        """The tangent of ``atom`` as a rule may read it: in vector mode with the axes it
        lacks against the result inserted after the batch axis (numpy aligns trailing axes)."""
        t = name(self.dot(atom.id))
        if not self.batched:
            return t
        nd = self.ndim(atom)
        if nd is None or nd_ans is None:
            self.error("vector mode: the dimensions of an operand are not known before the "
                       "function runs", s)
        if nd >= nd_ans:
            return t
        index = [gast.Slice(lower=None, upper=None, step=None)] + [const(None)] * (nd_ans - nd)
        return gast.Subscript(value=t, slice=gast.Tuple(elts=index, ctx=gast.Load()),
                              ctx=gast.Load())

    def batched_variadic(self, s, rule, items, rest, keywords):
        """concatenate/stack of batched tangents: a non-negative axis moves past the batch
        axis (a negative one counts from the end, unchanged); items of one rank only."""
        ranks = {self.ndim(e) if isinstance(e, gast.Name) else 0 for e in items}
        axis_kw = [k for k in keywords if k.arg == "axis"]
        axis = axis_kw[0].value if axis_kw else rest[0] if rest else const(0)
        if rest or len(ranks) != 1 or None in ranks or not (
                isinstance(axis, gast.Constant) and isinstance(axis.value, int)):
            self.error(f"vector mode: {rule.name} with these items or this axis is not known "
                       f"to take a batch of tangents", s)
        shifted = const(axis.value + 1 if axis.value >= 0 else axis.value)
        return [k for k in keywords if k.arg != "axis"] + [gast.keyword(arg="axis",
                                                                        value=shifted)]

    def batched_product(self, s, rule, inputs, k, t, term):
        """A product's term with a batch of tangents: the batch axis of a 2-d-or-less operand
        stays in front except for a 1-d right operand, which multiplies from the left."""
        nx, ny = self.ndim(inputs[0]), self.ndim(inputs[1])
        if rule.name not in ("MatMul", "Dot") or nx is None or ny is None or                 not (1 <= nx <= 2 and 1 <= ny <= 2):
            self.error(f"vector mode: {rule.name} of these operands is not known to take a "
                       f"batch of tangents", s)
        if k == 1 and ny == 1:
            return call(np_attr("matmul"), t, call(np_attr("transpose"), inputs[0]))
        return term

    def batched_linear(self, s, rule, x, args, keywords):
        nd = self.ndim(x)
        if rule.name in ("Sum", "Mean"):
            axis_kw = [k for k in keywords if k.arg == "axis"]
            axis = axis_kw[0].value if axis_kw else args[1] if len(args) > 1 else const(None)
            shifted = self.shift_axis(axis, nd, s, rule)
            rest = [k for k in keywords if k.arg != "axis"]
            return [args[0]], rest + [gast.keyword(arg="axis", value=shifted)]
        if rule.name == "Transpose" and len(args) == 1 and not keywords and nd is not None:
            order = [0] + list(range(nd, 0, -1))
            return [args[0], const(tuple(order))], []
        if rule.name == "Reshape" and len(args) == 2 and not keywords:
            shape = args[1]
            lead = gast.Tuple(elts=[name(BATCH)], ctx=gast.Load())
            if isinstance(shape, gast.Constant) and isinstance(shape.value, int):
                return [args[0], gast.Tuple(elts=[name(BATCH), shape], ctx=gast.Load())], []
            if isinstance(shape, gast.Constant) and isinstance(shape.value, tuple):
                return [args[0], const((-1,) + shape.value)], []
            return [args[0], add(lead, call(name("tuple"), shape))], []
        self.error(f"vector mode: {rule.name} is not known to take a batch of tangents", s)

    def shift_axis(self, axis, nd, s, rule):
        if isinstance(axis, gast.Constant) and axis.value is None:
            if nd is None:
                self.error(f"vector mode: {rule.name} over an array of unknown rank", s)
            return const(tuple(range(1, nd + 1)))
        if isinstance(axis, gast.Constant) and isinstance(axis.value, int):
            return const(axis.value + 1 if axis.value >= 0 else axis.value)
        if isinstance(axis, gast.Constant) and isinstance(axis.value, tuple):
            return const(tuple(a + 1 if a >= 0 else a for a in axis.value))
        self.error(f"vector mode: {rule.name} with an axis known only when the function runs", s)
