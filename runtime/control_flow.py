"""TF's functional control flow, run eagerly: the branch or body taken runs as ordinary recorded
ops, so gradients flow through exactly the path executed (as in TF's eager mode)."""
import numpy as np

from . import nest
from .opdef import as_tensor

__all__ = ["cond", "while_loop", "switch_case", "map_fn", "vectorized_map"]


def _truth(pred):
    return bool(np.asarray(as_tensor(pred)._v))


def cond(pred, true_fn=None, false_fn=None, name=None):
    if true_fn is None or false_fn is None:
        raise TypeError("cond(): 'true_fn' and 'false_fn' arguments are required")
    return true_fn() if _truth(pred) else false_fn()


def while_loop(cond, body, loop_vars, shape_invariants=None, parallel_iterations=10,
               back_prop=True, swap_memory=False, maximum_iterations=None, name=None):
    single = not isinstance(loop_vars, (list, tuple))
    state = loop_vars
    i = 0
    while (maximum_iterations is None or i < maximum_iterations) and \
            _truth(cond(state) if single else cond(*state)):
        state = body(state) if single else body(*state)
        if not single and not isinstance(state, (list, tuple)):
            state = (state,)
        i += 1
    return state if single or isinstance(loop_vars, list) == isinstance(state, list) \
        else type(loop_vars)(state)


def switch_case(branch_index, branch_fns, default=None, name=None):
    fns = dict(branch_fns) if isinstance(branch_fns, dict) else dict(enumerate(branch_fns))
    i = int(np.asarray(as_tensor(branch_index)._v))
    fn = fns.get(i)
    if fn is None:   # out of range: the default, else the last branch (TF's rule)
        fn = default if default is not None else fns[max(fns)]
    return fn()


def map_fn(fn, elems, dtype=None, parallel_iterations=None, back_prop=True, swap_memory=False,
           infer_shape=True, name=None, fn_output_signature=None):
    """``fn`` over the first axis of ``elems`` (a tensor or a structure of them), stacked."""
    from .array_ops import stack, unstack
    flat = [as_tensor(e) for e in nest.flatten(elems)]
    n = int(flat[0]._v.shape[0])
    columns = [unstack(e, axis=0) if n else [] for e in flat]
    outs = [fn(nest.pack_like(elems, [c[i] for c in columns])) for i in range(n)]
    if not outs:
        raise ValueError("map_fn over zero elements is not supported")
    flat_outs = [nest.flatten(o) for o in outs]
    stacked = [stack([o[j] for o in flat_outs]) for j in range(len(flat_outs[0]))]
    return nest.pack_like(outs[0], stacked)


def vectorized_map(fn, elems, fallback_to_while_loop=True, warn=True):
    """Same values and gradients as ``map_fn`` (TF vectorizes; here each element runs)."""
    return map_fn(fn, elems)
