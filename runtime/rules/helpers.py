"""Shape helpers that derivative rules call.

Each helper is a primitive too, registered right after its numpy implementation: its own rule (so a
gradient computed by a rule can be differentiated again), ``like`` (the argument whose shape the
result has: the analysis and the native type rule read it) and ``native="helper"`` (the native
backend lowers it itself). ``tensor_op`` names the recorded op the tape swaps in when a rule runs on
Tensors, for helpers whose numpy code no tape can follow (in-place writes, cumprod).
"""
import numpy as np

from .table import define, linear, primitive


def _shape(x):
    """``np.shape(x)``, read straight off arrays/scalars/Tensors (np.shape's dispatch costs ~0.3 us)."""
    s = getattr(x, "shape", None)
    if s is None:
        return () if type(x) is float or type(x) is int else np.shape(x)
    return s


def sum_to_shape(g, shape):
    """Sum ``g`` over the axes that broadcasting added or stretched to reach ``g``'s shape."""
    g_shape = _shape(g)
    if type(shape) is not tuple:
        shape = tuple(shape)
    if g_shape == shape:
        return g
    lead = len(g_shape) - len(shape)
    if lead < 0 or any(a == 1 and b != 1 for a, b in zip(g_shape[lead:], shape)):
        # g smaller than the input (a zero adjoint kept as a scalar): it broadcasts up
        return np.broadcast_to(g, np.broadcast_shapes(g_shape, shape)) if lead < 0 else \
            sum_to_shape(np.broadcast_to(g, np.broadcast_shapes(g_shape, shape)), shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and g_shape[lead + i] != 1)
    g = np.sum(g, axis=axes, keepdims=True)
    return np.reshape(g, shape)


def unbroadcast(g, like):
    """The adjoint ``g`` of a broadcast result, reduced to the shape of the input ``like``."""
    return sum_to_shape(g, _shape(like))


def unreduce(g, like, axis=None, keepdims=False):
    """Spread the adjoint of a reduction over ``axis`` back to the shape of its input ``like``."""
    if axis is not None and not keepdims:
        g = np.expand_dims(g, axis)
    return np.broadcast_to(g, np.shape(like))


def extremum_weights(ans, like, axis=None, keepdims=False):
    """Where ``like`` attains its max/min ``ans``: 1/(number of ties) there, 0 elsewhere."""
    hit = like == unreduce(ans, like, axis, keepdims)
    return hit / np.sum(hit, axis=axis, keepdims=True)


def unslice(g, like, index):
    """Adjoint of ``like[index]``: zeros shaped like ``like`` with ``g`` added at ``index``."""
    out = np.zeros(np.shape(like), dtype=np.result_type(g, np.float32))
    np.add.at(out, index, g)
    return out


def untranspose(g, axes=None):
    """Adjoint of ``np.transpose(x, axes)``."""
    if axes is None:
        return np.transpose(g)
    return np.transpose(g, np.argsort(axes))


def unconcat(g, axis, *xs):
    """Adjoint of ``np.concatenate(xs, axis)``: ``g`` split back into pieces shaped like ``xs``."""
    if axis is None:   # the inputs were flattened first
        sizes = [np.size(x) for x in xs]
        parts = np.split(np.reshape(g, (-1,)), np.cumsum(sizes)[:-1])
        return tuple(np.reshape(p, np.shape(x)) for p, x in zip(parts, xs))
    sizes = [np.shape(x)[axis] for x in xs]
    return tuple(np.split(g, np.cumsum(sizes)[:-1], axis=axis))


def untile(g, like, multiples, tf_multiples=None):
    """Adjoint of ``np.tile(like, multiples)``: the copies summed back onto ``like``'s shape.
    As numpy does, short ``multiples`` are padded with leading 1s and a short shape likewise.
    (``tf_multiples``: the same, under the name TensorFlow's tile op records it with.)"""
    if multiples is None:
        multiples = tf_multiples
    shape = np.shape(like)
    reps = tuple(multiples) if isinstance(multiples, (tuple, list)) else (multiples,)
    nd = max(len(reps), len(shape))
    reps = (1,) * (nd - len(reps)) + reps
    full = (1,) * (nd - len(shape)) + tuple(shape)
    pairs = [d for m, n in zip(reps, full) for d in (m, n)]
    return np.reshape(np.sum(np.reshape(g, pairs), axis=tuple(range(0, 2 * nd, 2))), shape)


def prod_of_others(x, axis=None):
    """For each element, the product of the other elements along ``axis``, without dividing
    (so it is exact where x has zeros): exclusive cumulative products from both ends."""
    if axis is None:
        return np.reshape(prod_of_others(np.reshape(x, -1), 0), np.shape(x))
    if isinstance(axis, (tuple, list)):
        # several axes: bring them to the end, merge them into one, and undo both afterwards
        nd = np.ndim(x)
        axes = [a % nd for a in axis]
        order = [a for a in range(nd) if a not in axes] + axes
        xt = np.transpose(x, order)
        shape = np.shape(xt)
        merged = np.reshape(xt, shape[:nd - len(axes)] + (-1,))
        return np.transpose(np.reshape(prod_of_others(merged, -1), shape), np.argsort(order))
    x = np.moveaxis(np.asarray(x), axis, -1)
    ones = np.ones(x.shape[:-1] + (1,), dtype=x.dtype)
    left = np.concatenate([ones, np.cumprod(x[..., :-1], axis=-1)], axis=-1)
    right = np.concatenate([np.cumprod(x[..., :0:-1], axis=-1)[..., ::-1], ones], axis=-1)
    return np.moveaxis(left * right, -1, axis)


def einsum_adjoints(g, equation, *xs):
    """Adjoints of ``np.einsum(equation, *xs)`` (explicit ``->`` form, no repeated index within
    an operand): each is an einsum of ``g`` with the other operands, broadcast over indices that
    only its own operand had."""
    ins, out = equation.replace(" ", "").split("->")
    specs = ins.split(",")
    grads = []
    for i, spec in enumerate(specs):
        others = [s for j, s in enumerate(specs) if j != i]
        have = set(out).union(*others)
        kept = "".join(c for c in spec if c in have)
        gi = np.einsum(",".join([out] + others) + "->" + kept, g, *[x for j, x in enumerate(xs) if j != i])
        shape = np.shape(xs[i])
        expanded = tuple(shape[k] if c in have else 1 for k, c in enumerate(spec))
        grads.append(np.broadcast_to(np.reshape(gi, expanded), shape))
    return tuple(grads)


# --- the helpers as primitives ------------------------------------------------------------------
@primitive("Unbroadcast", unbroadcast, n_inputs=2, like=1, native="helper")
def d_unbroadcast(g, ans, x, like):
    return np.broadcast_to(g, np.shape(x)), None


linear("Unbroadcast")


@primitive("SumToShape", sum_to_shape, native="helper")
def d_sum_to_shape(g, ans, x, shape=None):
    return np.broadcast_to(g, np.shape(x))


linear("SumToShape")


@primitive("Unreduce", unreduce, n_inputs=2, like=1, native="helper")
def d_unreduce(g, ans, x, like, axis=None, keepdims=False):
    return np.sum(g, axis=axis, keepdims=keepdims), None


linear("Unreduce")


@primitive("Untranspose", untranspose, like=0, native="helper")
def d_untranspose(g, ans, x, axes=None):
    return np.transpose(g, axes)


linear("Untranspose")


@primitive("Unslice", unslice, n_inputs=2, like=1, tensor_op="unslice_op")
def d_unslice(g, ans, x, like, index=None):
    return g[index], None


linear("Unslice")


# weights of a max/min's adjoint, and the exclusive products of prod's: no gradient of their own
define("ExtremumWeights", extremum_weights, kind="nondiff", like=1, native="helper")
define("ProdOfOthers", prod_of_others, kind="nondiff", like=0, native="helper",
       tensor_op="prod_of_others_op")


# --- helpers of the array functions' rules (runtime/rules/arrays.py) -----------------------------
# Plain Python: the python backend calls them by name; native refuses them (no lowering yet).
def untake(g, like, indices, axis=None):
    """Adjoint of ``np.take(like, indices, axis)``: ``g`` added back at the indices (np.add.at,
    so repeated indices accumulate). Without an axis numpy takes from the flattened array."""
    if axis is None:
        flat = unslice(np.reshape(g, -1), np.reshape(like, -1), np.reshape(indices, -1))
        return np.reshape(flat, np.shape(like))
    axis = axis % np.ndim(like)
    index = (slice(None),) * axis + (np.asarray(indices),)
    return unslice(g, like, index)


def along_axis_index(indices, axis):
    """The fancy index that ``np.take_along_axis(x, indices, axis)`` reads with."""
    indices = np.asarray(indices)
    nd = indices.ndim
    axis = axis % nd
    grid = list(np.ogrid[tuple(slice(n) for n in indices.shape)])
    grid[axis] = indices
    return tuple(grid)


def untake_along_axis(g, like, indices, axis):
    """Adjoint of ``np.take_along_axis``: scatter-add ``g`` back (repeats accumulate)."""
    if axis is None:
        flat = unslice(np.reshape(g, -1), np.reshape(like, -1), np.reshape(indices, -1))
        return np.reshape(flat, np.shape(like))
    return unslice(g, like, along_axis_index(indices, axis))


def unrepeat(g, like, repeats, axis=None):
    """Adjoint of ``np.repeat(like, repeats, axis)``: each element gets the sum of its copies."""
    n = np.size(like) if axis is None else np.shape(like)[axis]
    return untake(g, like, np.repeat(np.arange(n), repeats), axis)


def unpad(g, like, pad_width, mode="constant"):
    """Adjoint of ``np.pad(like, pad_width)`` in constant mode: the interior of ``g``. Other
    modes copy edge values into the border, which this adjoint would drop: refused."""
    if mode != "constant":
        raise NotImplementedError(f"np.pad(mode={mode!r}) has no gradient rule in tapeflow "
                                  "(only mode='constant')")
    nd = np.ndim(like)
    # numpy's reading of pad_width: n, (n,), (before, after), ((b, a),) or one pair per axis
    widths = np.broadcast_to(np.asarray(pad_width, dtype=int), (nd, 2))
    shape = np.shape(like)
    return g[tuple(slice(int(lo), int(lo) + n) for (lo, _), n in zip(widths, shape))]


def undiff(g, n=1, axis=-1):
    """Adjoint of ``np.diff(x, n, axis)``: n times the adjoint of one difference, which turns
    g (one shorter) into [-g0, g0 - g1, ..., g_last]."""
    g = np.moveaxis(g, axis, -1)
    zero = np.zeros(np.shape(g)[:-1] + (1,), dtype=np.result_type(g, np.float32))
    for _ in range(n):
        g = np.concatenate([zero, g], axis=-1) - np.concatenate([g, zero], axis=-1)
    return np.moveaxis(g, -1, axis)


def uncumprod(g, x, axis=None):
    """Adjoint of ``np.cumprod(x, axis)`` without dividing by x (exact at zeros):
    dx_k = sum_{i >= k} g_i * prod_{j <= i, j != k} x_j, one masked cumprod per position."""
    if axis is None:
        return np.reshape(uncumprod(np.reshape(g, -1), np.reshape(x, -1), 0), np.shape(x))
    xm = np.moveaxis(np.asarray(x, dtype=np.result_type(x, np.float32)), axis, -1)
    gm = np.moveaxis(g, axis, -1)
    n = xm.shape[-1]
    out = []
    for k in range(n):
        masked = np.concatenate([xm[..., :k], np.ones_like(xm[..., k:k + 1]), xm[..., k + 1:]],
                                axis=-1)
        out.append(np.sum(gm[..., k:] * np.cumprod(masked, axis=-1)[..., k:], axis=-1))
    return np.moveaxis(np.stack(out, axis=-1), -1, axis)


def sort_permutation(x, axis=-1, kind=None):
    """The indices ``np.sort`` moved each element from (ties keep their order: stable)."""
    if axis is None:
        return np.argsort(np.reshape(x, -1), kind="stable")
    return np.argsort(x, axis=axis, kind="stable")
