"""Constant folding of shape leftovers in the generated gradient.

Derivative rules are written for every axis at once (``d_mean`` scales by
``np.size(ans) / np.size(x)``); once the rule is instantiated for a full reduction, ``ans`` is a
scalar and its size is the constant 1. After fusion ``ans`` is often the reduction itself
(``np.size(np.mean(t5))``), which would recompute the mean only to count one element. This pass
writes those sizes as the constants they are, so neither backend computes them and a reader of
``tapeflow.source`` sees ``1 / np.size(t5)``.

Only what is certain is folded: the size of a number literal, and of a numpy reduction called
with its array alone (or ``axis=None``, ``keepdims=False`` spelled out), whose result is a scalar
for every input. Rules that branch on an argument's form (``d_tensordot``:
``... if isinstance(axes, int) else ...``) are folded the same way once the argument is a
literal, so the reader sees the branch that runs (and Python no longer warns that ``(1)[0]``
cannot be subscripted).
"""
import gast

FULL_REDUCTIONS = {"sum", "mean", "prod", "max", "min", "amax", "amin", "average", "var", "std",
                   "nansum", "nanmean", "nanmax", "nanmin", "nanprod", "median"}


def numpy_call(node, names):
    """``np.<name>(...)`` for a name in ``names`` (the generated code's numpy is ``np``)."""
    return isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) and \
        isinstance(node.func.value, gast.Name) and node.func.value.id in ("np", "numpy") and \
        node.func.attr in names


def is_none(node):
    return isinstance(node, gast.Constant) and node.value is None


def is_false(node):
    return isinstance(node, gast.Constant) and node.value is False


def is_full_reduction(node):
    """A numpy reduction whose result is one number: no axis, no keepdims, no out."""
    if not numpy_call(node, FULL_REDUCTIONS) or len(node.args) != 1 or \
            isinstance(node.args[0], gast.Starred):
        return False
    for k in node.keywords:
        if k.arg == "axis" and is_none(k.value) or k.arg == "keepdims" and is_false(k.value):
            continue
        return False
    return True


def scalar_sized(node):
    """The size of ``node`` is 1 whatever the inputs."""
    if isinstance(node, gast.Constant) and type(node.value) in (int, float):
        return True
    return is_full_reduction(node)


LITERAL_TYPES = {"int": int, "float": float, "bool": bool, "tuple": tuple, "list": list}


def literal_isinstance(node):
    """The value of ``isinstance(<literal>, <builtin type>)``, or None if it is not that."""
    if not (isinstance(node, gast.Call) and isinstance(node.func, gast.Name) and
            node.func.id == "isinstance" and len(node.args) == 2 and not node.keywords):
        return None
    value, kind = node.args
    if not (isinstance(kind, gast.Name) and kind.id in LITERAL_TYPES):
        return None
    if isinstance(value, gast.Constant):
        return isinstance(value.value, LITERAL_TYPES[kind.id])
    if isinstance(value, (gast.Tuple, gast.List)):
        return kind.id == type(value).__name__.lower()
    return None


def constant(value, node):
    return gast.copy_location(gast.Constant(value=value, kind=None), node)


class FoldSizes(gast.NodeTransformer):
    def visit_Call(self, node):
        self.generic_visit(node)
        if numpy_call(node, ("size",)) and len(node.args) == 1 and not node.keywords and \
                scalar_sized(node.args[0]):
            return constant(1, node)
        known = literal_isinstance(node)
        return node if known is None else constant(known, node)

    def visit_IfExp(self, node):
        self.generic_visit(node)
        if isinstance(node.test, gast.Constant) and isinstance(node.test.value, bool):
            return node.body if node.test.value else node.orelse
        return node


def fold_sizes(fn):
    """Rewrite, in place, every ``np.size`` that is certainly 1 as the constant 1, and every
    ``isinstance`` of a literal (and the conditional expression it decides) as its value."""
    FoldSizes().visit(fn)
    return fn
