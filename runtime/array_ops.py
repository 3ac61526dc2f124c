"""Shape and structure ops (reshape, concat, slicing, gather, scatter...): recorded on the tape
(factories and shape queries: factory_ops)."""
import numpy as np

from . import dtypes as _dt
from .opdef import as_tensor, wrap
from .rules import RULES, unslice
from .recording import state, record, stop_recording_all
from .factory_ops import _shape_arg, fill
from .tensor import Tensor

_int = int
_builtin_range = range   # this module defines TF's range()


def _apply1(rule_name, x, v, params):
    """Wrap a shape op's result and record it with its parameters."""
    out = wrap(v)
    if state.tapes:
        record(RULES[rule_name], out, (x,), (x._v,), params)
    return out


def reshape(tensor, shape, name=None):
    x = as_tensor(tensor)
    shape = _shape_arg(shape)
    return _apply1("Reshape", x, np.reshape(x._v, shape), {"shape": shape})


def transpose(a, perm=None, conjugate=False, name=None):
    x = as_tensor(a)
    if perm is not None:
        perm = tuple(int(p) for p in (perm._v.tolist() if isinstance(perm, Tensor) else perm))
    return _apply1("Transpose", x, np.transpose(x._v, perm), {"axes": perm})


def matrix_transpose(a, name=None):
    x = as_tensor(a)
    n = x._v.ndim
    if n < 2:
        raise ValueError(f"Argument `a` should be a (batch) matrix with rank >= 2.  Received `a` = {x!r} with shape: {x.shape}")
    return transpose(x, tuple(range(n - 2)) + (n - 1, n - 2))


def squeeze(input, axis=None, name=None):
    x = as_tensor(input)
    if isinstance(axis, list):
        axis = tuple(axis)
    if axis is None:
        # record the concrete axes so the rule (and the compiler) never sees None
        axis = tuple(i for i, n in enumerate(x._v.shape) if n == 1)
    try:
        v = np.squeeze(x._v, axis=axis)
    except ValueError:
        from .tensor import InvalidArgumentError
        raise InvalidArgumentError(f"Can not squeeze dim[{axis}], expected a dimension of 1, got "
                                   f"{x._v.shape[axis] if isinstance(axis, int) else x._v.shape} "
                                   f"[Op:Squeeze]") from None
    return _apply1("Squeeze", x, v, {"axis": axis})


def expand_dims(input, axis, name=None):
    x = as_tensor(input)
    axis = int(axis)
    return _apply1("ExpandDims", x, np.expand_dims(x._v, axis), {"axis": axis})


def broadcast_to(input, shape, name=None):
    x = as_tensor(input)
    shape = _shape_arg(shape)
    return _apply1("BroadcastTo", x, np.broadcast_to(x._v, shape), {"shape": shape})


def tile(input, multiples, name=None):
    x = as_tensor(input)
    m = _shape_arg(multiples)
    if len(m) != x._v.ndim:
        raise ValueError(f"Expected multiples argument to be a vector of length {x._v.ndim} but got length {len(m)}")
    return _apply1("Tile", x, np.tile(x._v, m), {"multiples": m})


def reverse(tensor, axis, name=None):
    x = as_tensor(tensor)
    idx = [slice(None)] * x._v.ndim
    for a in (axis if isinstance(axis, (list, tuple)) else [axis]):
        idx[int(a)] = slice(None, None, -1)
    return getitem(x, tuple(idx))


def concat(values, axis, name=None):
    ts = tuple(as_tensor(v) for v in values)
    axis = int(axis)
    vals = tuple(t._v for t in ts)
    out = wrap(np.concatenate([np.atleast_1d(v) if v.ndim == 0 else v for v in vals], axis=axis))
    if state.tapes:
        record(RULES["ConcatV2"], out, ts, vals, {"axis": axis})
    return out


def stack(values, axis=0, name=None):
    ts = tuple(as_tensor(v) for v in values)
    axis = int(axis)
    vals = tuple(t._v for t in ts)
    out = wrap(np.stack(vals, axis=axis))
    if state.tapes:
        record(RULES["Pack"], out, ts, vals, {"axis": axis})
    return out


def unstack(value, num=None, axis=0, name=None):
    x = as_tensor(value)
    axis = int(axis) % max(x._v.ndim, 1)
    idx = (slice(None),) * axis
    return [getitem(x, idx + (i,)) for i in range(x._v.shape[axis])]


def split(value, num_or_size_splits, axis=0, num=None, name=None):
    x = as_tensor(value)
    axis = int(axis)
    n = x._v.shape[axis]
    if isinstance(num_or_size_splits, (int, np.integer)):
        k = int(num_or_size_splits)
        if n % k:
            raise ValueError(f"Dimension size must be evenly divisible by {k} but is {n}")
        sizes = [n // k] * k
    else:
        sizes = [int(s) for s in (num_or_size_splits._v if isinstance(num_or_size_splits, Tensor)
                                  else num_or_size_splits)]
        if -1 in sizes:
            sizes[sizes.index(-1)] = n - (sum(sizes) + 1)
    pre = (slice(None),) * (axis % x._v.ndim)
    out, start = [], 0
    for s in sizes:
        out.append(getitem(x, pre + (slice(start, start + s),)))
        start += s
    return out


# --- indexing ---------------------------------------------------------------------------------
def _index_value(index):
    """An index with Tensors/lists turned into numpy values (numpy's indexing rules then apply)."""
    if isinstance(index, tuple):
        return tuple(_index_value(i) for i in index)
    if isinstance(index, Tensor):
        v = index._v
        return v if v.ndim else v.item()
    if isinstance(index, list):
        return np.asarray([i._v if isinstance(i, Tensor) else i for i in index])
    if hasattr(index, "_read"):
        return _index_value(index._read())
    if isinstance(index, slice):
        return slice(*(_index_value(s) if s is not None else None
                       for s in (index.start, index.stop, index.step)))
    return index


_SLICE = RULES["StridedSlice"]


def getitem(x, index):
    """``x[index]`` with numpy's indexing (slices, ints, None, Ellipsis, int/bool arrays)."""
    x = as_tensor(x)
    index = _index_value(index)
    xv = x._v
    try:
        v = xv[index]
    except IndexError as e:
        from .tensor import InvalidArgumentError
        raise InvalidArgumentError(str(e)) from None
    out = wrap(v)
    if state.tapes:
        record(_SLICE, out, (x,), (xv,), {"index": index})
    return out


def gather(params, indices, validate_indices=None, axis=None, batch_dims=0, name=None):
    if hasattr(params, "_handle") and not axis and not batch_dims:
        return _gather_rows_of_variable(params, indices)
    x = as_tensor(params)
    axis = 0 if axis is None else int(axis) % x._v.ndim
    idx = as_tensor(indices)._v
    return getitem(x, (slice(None),) * axis + (np.asarray(idx),))


def _gather_rows_of_variable(var, indices):
    """TF's ResourceGather: rows read straight from the variable's handle, so that the backward
    sweep gives the variable an IndexedSlices gradient (runtime/backward.py)."""
    h = var._handle
    idx = np.asarray(as_tensor(indices)._v)
    out = wrap(np.take(h.value, idx, axis=0))
    if state.tapes:
        for tape in state.tapes:
            if var.trainable and tape._watch_accessed_variables:
                tape._watch_variable(var, accessed=True)
        record(RULES["GatherV2"], out, (h,), (h.value,), {"indices": idx, "axis": 0})
    return out


def embedding_lookup(params, ids, max_norm=None, name=None):
    """``tf.nn.embedding_lookup``: rows of ``params`` (a variable: sparse gradient, as in TF)."""
    if max_norm is not None:
        raise NotImplementedError("embedding_lookup(max_norm=...) is not supported")
    if isinstance(params, (list, tuple)):
        if len(params) != 1:
            raise NotImplementedError("embedding_lookup over a list of sharded params")
        params = params[0]
    return gather(params, ids)


def gather_nd(params, indices, batch_dims=0, name=None):
    x = as_tensor(params)
    idx = np.asarray(as_tensor(indices)._v)
    return getitem(x, tuple(np.moveaxis(idx, -1, 0)))


def boolean_mask(tensor, mask, axis=None, name=None):
    x = as_tensor(tensor)
    return getitem(x, np.asarray(as_tensor(mask)._v, dtype=bool))


def unslice_op(g, like, index):
    """The helper ``unslice`` as a recorded primitive (used when rules run on Tensors)."""
    g = as_tensor(g)
    lv = like._v if isinstance(like, Tensor) else np.asarray(like)
    out = wrap(unslice(g._v, lv, index))
    if state.tapes:
        record(RULES["Unslice"], out, (g, like), (g._v, lv), {"index": index})
    return out


def prod_of_others(x, axis=None):
    """The helper ``prod_of_others`` from recorded ops, so that it can be differentiated again.

    For each element, the product of the elements before it times the product of those after it
    along ``axis`` (exclusive scans), as the numpy helper does. ``prod / x`` would be shorter but
    is nan or inf wherever x has a zero, which is exactly where the gradient of a product matters
    most (its only nonzero entry). The scans use multiplications and shifts only (no cumprod,
    which no tape follows), so every step has a rule and higher orders stay exact.
    """
    x = as_tensor(x)
    shape = tuple(x._v.shape)
    nd = len(shape)
    if axis is None:
        return reshape(prod_of_others(reshape(x, (-1,)), 0), shape)
    axes = sorted({_int(a) % nd for a in (axis if isinstance(axis, (tuple, list)) else [axis])})
    # the reduced axes last, merged into one: the scans then run along the last axis only
    order = [a for a in _builtin_range(nd) if a not in axes] + axes
    moved = transpose(x, order) if order != list(_builtin_range(nd)) else x
    moved_shape = tuple(moved._v.shape)
    flat = reshape(moved, moved_shape[:nd - len(axes)] + (-1,))
    before = _exclusive_product_scan(flat)
    after = reverse(_exclusive_product_scan(reverse(flat, [-1])), [-1])
    from .math_ops import multiply
    out = reshape(multiply(before, after), moved_shape)
    return transpose(out, np.argsort(order).tolist()) if order != list(_builtin_range(nd)) else out


def _exclusive_product_scan(x):
    """out[..., i] = x[..., 0] * ... * x[..., i-1] (1 for i = 0), along the last axis.

    Shift right by one (a one enters), then the inclusive scan by doubling: after the step with
    shift d every element holds the product of the 2d elements ending at it; log2(n) steps of
    recorded multiplications and concatenations."""
    from .math_ops import multiply
    n = x._v.shape[-1]
    lead = x._v.shape[:-1]

    def shifted(y, d):   # y moved d places to the right along the last axis, ones entering
        ones = Tensor(np.ones(lead + (d,), dtype=y._v.dtype))
        return concat([ones, getitem(y, (Ellipsis, slice(0, n - d)))], -1)

    if n <= 1:
        return Tensor(np.ones(x._v.shape, dtype=x._v.dtype))
    y = shifted(x, 1)
    d = 1
    while d < n:
        y = multiply(y, shifted(y, d))
        d *= 2
    return y


prod_of_others_op = prod_of_others


def scatter_add_inplace(t, index, updates):
    """``np.add.at(t, index, updates)`` on a Tensor: numpy code's in-place accumulation, recorded.

    Tensors are otherwise immutable; this is the one mutation (numpy code traced on Tensors uses
    it). The tape sees it as an op from (old t, updates) to t: earlier uses of t keep their
    recorded values, and the record that produced t keeps answering with the old value.
    """
    from .opdef import operand
    index = _index_value(index)
    u, uv = operand(updates, t._v)
    old = t._v
    new = np.array(old, copy=True)
    np.add.at(new, index, uv)
    for tape in state.tapes:
        ops = tape._ops
        for j in range(len(ops) - 1, -1, -1):
            rec = ops[j]
            if rec[1] is t:
                ops[j] = (_with_ans(rec[0], old),) + rec[1:]
                break
    t._v = new[()] if new.ndim == 0 else new
    if state.tapes:
        record(RULES["TensorScatterAdd"], t, (t, u), (old, uv), {"index": index})
    return None


def _with_ans(rule, ans):
    """``rule`` called with a fixed ``ans`` (the value its output had before a mutation)."""
    from .rules import Rule
    fixed = Tensor(ans)

    def adjoint(g, _ans, *args, **params):
        return rule.adjoint(g, fixed if isinstance(_ans, Tensor) else ans, *args, **params)
    return Rule(rule.name, adjoint, (), rule.n_inputs)


# --- gradient control -------------------------------------------------------------------------
def stop_gradient(input, name=None):
    """The same value, invisible to every tape (nothing downstream of it is recorded through it)."""
    with stop_recording_all():
        if hasattr(input, "_handle"):
            return Tensor(input._handle.value)
        return Tensor(as_tensor(input)._v)


def pad(tensor, paddings, mode="CONSTANT", constant_values=0, name=None):
    x = as_tensor(tensor)
    p = np.asarray(as_tensor(paddings)._v)
    if mode.upper() != "CONSTANT":
        raise NotImplementedError("only mode='CONSTANT' is supported")
    # pad = concatenating constants around x, so the gradient is a slice (recorded via concat)
    out = x
    for axis, (before, after) in enumerate(p):
        parts = []
        shp = list(out._v.shape)
        if before:
            shp[axis] = int(before)
            parts.append(fill(shp, np.asarray(constant_values, dtype=x._v.dtype)))
        parts.append(out)
        if after:
            shp = list(out._v.shape)
            shp[axis] = int(after)
            parts.append(fill(shp, np.asarray(constant_values, dtype=x._v.dtype)))
        if len(parts) > 1:
            out = concat(parts, axis)
    return out


def argsort(values, axis=-1, direction="ASCENDING", stable=False, name=None):
    v = as_tensor(values)._v
    idx = np.argsort(-v if direction == "DESCENDING" else v, axis=axis, kind="stable")
    return wrap(idx.astype(np.int32))


def sort(values, axis=-1, direction="ASCENDING", name=None):
    """Sorted values; differentiable (a gather of the input by the sorting permutation)."""
    x = as_tensor(values)
    axis = int(axis) % x._v.ndim
    idx = argsort(x, axis, direction)._v
    grid = list(np.indices(idx.shape, sparse=True))
    grid[axis] = idx
    return getitem(x, tuple(grid))


def _no_registered_gradient(op_name):
    """An op TF has no gradient for: recorded, and its backward raises TF's LookupError."""
    from .rules import Rule

    def adjoint(g, ans, *inputs, **params):
        raise LookupError(f"gradient registry has no entry for: {op_name}")
    return Rule(op_name, adjoint, (), 1)


_UNIQUE = _no_registered_gradient("Unique")


def unique(x, out_idx=_dt.int32, name=None):
    """(unique values in order of first occurrence, index of each element into them)."""
    t = as_tensor(x)
    v = np.asarray(t._v)
    vals, first, inv = np.unique(v, return_index=True, return_inverse=True)
    order = np.argsort(first)
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    y = wrap(vals[order])
    if state.tapes:
        record(_UNIQUE, y, (t,), (t._v,))
    return y, wrap(rank[inv].reshape(-1).astype(_dt.np_dtype(out_idx)))


# --- scatter/segment ops: built on the recorded in-place add (TensorScatterAdd) ----------------
def _zeros_of(shape, dtype):
    return Tensor(np.zeros(tuple(int(s) for s in shape), dtype=dtype))


def scatter_nd(indices, updates, shape, name=None):
    u = as_tensor(updates)
    idx = np.asarray(as_tensor(indices)._v)
    out = _zeros_of(_shape_arg(shape), u._v.dtype)
    scatter_add_inplace(out, tuple(np.moveaxis(idx, -1, 0)), u)
    return out


def tensor_scatter_nd_add(tensor, indices, updates, name=None):
    from .math_ops import identity
    out = identity(tensor)
    idx = np.asarray(as_tensor(indices)._v)
    scatter_add_inplace(out, tuple(np.moveaxis(idx, -1, 0)), updates)
    return out


def tensor_scatter_nd_update(tensor, indices, updates, name=None):
    """``tensor`` with the indexed entries replaced by ``updates`` (gradient: zero to the
    replaced entries of ``tensor``, the rest to ``updates``)."""
    t = as_tensor(tensor)
    idx = np.asarray(as_tensor(indices)._v)
    keep = np.ones(t._v.shape, dtype=t._v.dtype)
    keep[tuple(np.moveaxis(idx, -1, 0))] = 0
    return t * keep + scatter_nd(indices, updates, t._v.shape)


def unsorted_segment_sum(data, segment_ids, num_segments, name=None):
    d = as_tensor(data)
    ids = np.asarray(as_tensor(segment_ids)._v)
    out = _zeros_of((int(num_segments),) + d._v.shape[ids.ndim:], d._v.dtype)
    scatter_add_inplace(out, ids, d)
    return out


def segment_sum(data, segment_ids, name=None):
    ids = np.asarray(as_tensor(segment_ids)._v)
    return unsorted_segment_sum(data, ids, int(ids.max()) + 1 if ids.size else 0)


def segment_mean(data, segment_ids, name=None):
    ids = np.asarray(as_tensor(segment_ids)._v)
    n = int(ids.max()) + 1 if ids.size else 0
    d = as_tensor(data)
    counts = np.maximum(np.bincount(ids.ravel(), minlength=n), 1).astype(d._v.dtype)
    return segment_sum(d, ids) / counts.reshape((n,) + (1,) * (d._v.ndim - ids.ndim))


def diag_part(input, name=None):
    x = as_tensor(input)
    n = min(x._v.shape[-2:])
    r = np.arange(n)
    return getitem(x, (Ellipsis, r, r))


def diag(diagonal, name=None):
    d = as_tensor(diagonal)
    n = d._v.shape[-1]
    r = np.arange(n)
    out = _zeros_of(d._v.shape + (n,), d._v.dtype)
    scatter_add_inplace(out, (Ellipsis, r, r), d)
    return out


def top_k(input, k=1, sorted=True, name=None):
    """(values, indices) of the k largest entries along the last axis; values are differentiable."""
    x = as_tensor(input)
    idx = np.argsort(-x._v, axis=-1, kind="stable")[..., :int(k)]
    grid = list(np.indices(idx.shape, sparse=True))
    grid[-1] = idx
    return getitem(x, tuple(grid)), wrap(idx.astype(np.int32))
