"""The backward pass: seed the targets, sweep the records newest first, collect the sources.

Also the ``RegisterGradient`` registry that the sweep consults before the primitive table's rules.
"""
import threading
import types

import numpy as np

from . import dtypes as _dt
from .masking import masked_adjoint
from .recording import state
from .rules import RULES, entry_of
from .indexed_slices import IndexedSlices
from .tensor import Tensor, convert_to_tensor

__all__ = ["backward", "GRADIENT_OVERRIDES", "OpMock", "register_gradient_override",
           "_key", "_value_of"]

_TRAINABLE = _dt.TRAINABLE
_FIRST, _SECOND = (True, False), (False, True)
_GATHER = RULES["GatherV2"]

# op name -> fn(op, *grads) from RegisterGradient, or None from no_gradient. Checked before RULES.
GRADIENT_OVERRIDES = {}


class OpMock:
    """What a ``RegisterGradient`` function receives as ``op`` (as TF's eager mock op)."""
    __slots__ = ("type", "inputs", "outputs", "_attrs", "skip_input_indices", "name")

    def __init__(self, type_, inputs, outputs, attrs):
        self.type = type_
        self.name = type_
        self.inputs = inputs
        self.outputs = outputs
        self._attrs = attrs
        self.skip_input_indices = None

    def get_attr(self, name):
        try:
            return self._attrs[name]
        except KeyError:
            raise ValueError(f"Operation '{self.type}' has no attr named '{name}'.") from None


def register_gradient_override(op_type, fn):
    if not isinstance(op_type, str):
        raise TypeError("op_type must be a string")
    if op_type in GRADIENT_OVERRIDES:
        raise KeyError(f"Registering two gradient with name '{op_type}'! "
                       f"(Previous registration was in {_where(GRADIENT_OVERRIDES[op_type])})")
    GRADIENT_OVERRIDES[op_type] = fn


def _where(fn):
    code = getattr(fn, "__code__", None)
    return f"{code.co_name} {code.co_filename}:{code.co_firstlineno}" if code else "no_gradient"


def _key(x):
    """Tape identity of a target/source: a Tensor by id, a Variable by its handle's id."""
    h = getattr(x, "_handle", None)
    return id(h) if h is not None else id(x)


def _value_of(x):
    if type(x) is Tensor:
        return x._v
    h = getattr(x, "_handle", None)
    if h is not None:
        return h.value
    if isinstance(x, Tensor):
        return x._v
    raise AttributeError(f"'{type(x).__name__}' object has no attribute 'dtype'")


_tensor_mode_fns = {}


def _tensor_mode_adjoint(rule):
    """The rule's adjoint with the helpers that mutate bound to their recorded primitives.

    Called on Tensors, a rule's numpy calls dispatch to tapeflow ops through the numpy protocols,
    so the gradient computation is itself recorded. A helper such as ``unslice`` builds its result
    with np.add.at on a fresh array, which no tape can see: its table entry names the recorded op
    (``tensor_op``, in ``array_ops``) that replaces it here.
    """
    fn = rule.adjoint
    f = _tensor_mode_fns.get(fn)
    if f is None:
        g = getattr(fn, "__globals__", None)
        swaps = {}
        if g is not None:
            for n in getattr(getattr(fn, "__code__", None), "co_names", ()):
                entry = entry_of(g[n]) if callable(g.get(n)) else None
                if entry is not None and entry.tensor_op is not None:
                    swaps[n] = entry.tensor_op
        if swaps:
            from . import array_ops
            glb = dict(g)
            for n, op in swaps.items():
                glb[n] = getattr(array_ops, op)
            f = types.FunctionType(fn.__code__, glb, fn.__name__, fn.__defaults__, fn.__closure__)
            f.__kwdefaults__ = fn.__kwdefaults__
        else:
            f = fn
        _tensor_mode_fns[fn] = f
    return f


def _seed(t, og, tensor_mode):
    v = _value_of(t)
    if og is None:
        s = np.ones(v.shape, dtype=v.dtype) if v.shape else v.dtype.type(1)
    else:
        if tensor_mode and isinstance(og, Tensor):
            return og
        s = np.asarray(_value_of(og) if not isinstance(og, (np.ndarray, np.generic, list, float, int))
                       else og, dtype=v.dtype)
        if s.ndim == 0:
            s = s[()]
    return Tensor(s) if tensor_mode else s


def _reachable(ops, source_keys):
    """Keys of tensors computed from the sources (a forward walk over the records)."""
    reach = set(source_keys)
    add = reach.add
    for rule, out, ins, vals, params in ops:
        for i in ins:
            if id(i) in reach:
                if type(out) is tuple:
                    for o in out:
                        add(id(o))
                else:
                    add(id(out))
                break
    return reach


def backward(tape, targets, sources, output_gradients, unconnected, sparse=False):
    """Gradients of ``targets`` (seeded with ones or ``output_gradients``) for each source; with
    ``sparse``, a variable only gathered from gets an IndexedSlices (as ``gradient`` gives)."""
    # With a tape recording (an outer tape, or this persistent tape inside its context) rules run on
    # Tensors so that the gradient computation is recorded: that is how higher orders work.
    tensor_mode = bool(state.tapes)
    ops = tape._ops
    n_ops = len(ops)
    known = tape._known
    source_keys = set()
    for s in sources:
        if s is None:
            raise TypeError("Argument `sources` should not contain None.")
        _value_of(s)
        source_keys.add(_key(s))
    if output_gradients is not None and len(output_gradients) != len(targets):
        raise ValueError("Length of output_gradients must match the number of targets: "
                         f"{len(output_gradients)} vs {len(targets)}")
    grads = {}
    for n, t in enumerate(targets):
        v = _value_of(t)
        if v.dtype not in _TRAINABLE:
            continue
        k = _key(t)
        s = _seed(t, None if output_gradients is None else output_gradients[n], tensor_mode)
        prev = grads.get(k)
        grads[k] = s if prev is None else prev + s
    # Prune to ops on a path from the sources unless the sources are all the tape watches.
    live = known
    if not source_keys.issuperset(tk for tk in (_key(x) for x in tape._keep) if tk in known):
        live = _reachable(ops, source_keys)
    overrides = GRADIENT_OVERRIDES
    found = {}
    # a persistent tape records the gradient computation on itself: sweep only what came before
    _sweep(ops[:n_ops] if tensor_mode else ops, grads, source_keys, live, found, tensor_mode,
           overrides)
    results = []
    for s in sources:
        k = _key(s)
        g = found[k] if k in found else grads.get(k)
        sv = _value_of(s)
        if g is None or sv.dtype not in _TRAINABLE:
            if unconnected == "zero":
                results.append(Tensor(np.zeros(sv.shape, dtype=sv.dtype)[()] if not sv.shape
                                      else np.zeros(sv.shape, dtype=sv.dtype)))
            else:
                results.append(None)
            continue
        if isinstance(g, IndexedSlices):
            if sparse:
                results.append(_finish_slices(g, sv))
                continue
            g = g._dense() if tensor_mode else g._dense_value()
        results.append(_finish_grad(g, sv, tensor_mode))
    return results


def _sweep(ops, grads, source_keys, live, found, tensor_mode, overrides):
    """The backward sweep: each record, newest first, turns its output's adjoint into its inputs'.

    Rules run on numpy values, or on Tensors when a tape records (``tensor_mode``) so that the
    gradient computation is itself recorded; a ``RegisterGradient`` override replaces the rule.
    This is the hot loop of every tape gradient; on numpy values it skips the adjoints of inputs
    that need none (constant data in a matmul...), as TF's ``skip_input_indices`` does.
    """
    pop = grads.pop
    get = grads.get
    for rule, out, ins, vals, params in reversed(ops):
        if type(out) is tuple:
            gs = _output_adjoints(out, grads, source_keys, found, tensor_mode)
            if gs is None:
                continue
            res = rule.adjoint(gs, out, *(ins if tensor_mode else vals), **params)
        else:
            k = id(out)
            g = pop(k, None)
            if g is None:
                continue
            if k in source_keys:
                found[k] = g
            if k not in live:
                continue
            if overrides and rule.name in overrides:
                res = _call_override(overrides[rule.name], rule, out, ins, vals, params, g,
                                     tensor_mode)
                if res is None:
                    continue
                if len(ins) == 1:
                    res = (res,)
            elif rule is _GATHER and type(ins[0]) is not Tensor and params.get("axis") == 0:
                # rows read straight from a variable's handle (tf.gather of a Variable): TF's
                # sparse gradient; the handle is a leaf, so nothing upstream needs it dense
                ki = id(ins[0])
                if ki in live:
                    gi = _rows_gradient(g, params["indices"], vals[0], tensor_mode)
                    prev = get(ki)
                    grads[ki] = gi if prev is None else prev + gi
                continue
            elif tensor_mode:
                args = [i if isinstance(i, Tensor) else v for i, v in zip(ins, vals)]
                res = _tensor_mode_adjoint(rule)(g, out, *args, **params)
                if rule.n_inputs == 1:
                    res = (res,)
            elif rule.n_inputs == 1:
                ki = id(ins[0])
                if ki in live:
                    gi = rule.adjoint(g, out._v, *vals, **params)
                    if gi is not None:
                        prev = get(ki)
                        grads[ki] = gi if prev is None else prev + gi
                continue
            elif rule.n_inputs == 2:   # (the commonest record: accumulated here, unrolled)
                ka = id(ins[0])
                kb = id(ins[1])
                if ka in live:
                    if kb in live:
                        ga, gb = rule.adjoint(g, out._v, *vals, **params)
                    else:
                        ga = masked_adjoint(rule.adjoint, _FIRST)(g, out._v, *vals, **params)[0]
                        gb = None
                elif kb in live:
                    ga = None
                    gb = masked_adjoint(rule.adjoint, _SECOND)(g, out._v, *vals, **params)[1]
                else:
                    continue
                if ga is not None:
                    prev = get(ka)
                    grads[ka] = ga if prev is None else prev + ga
                if gb is not None:
                    prev = get(kb)
                    grads[kb] = gb if prev is None else prev + gb
                continue
            else:
                res = rule.adjoint(g, out._v, *vals, **params)
        if res is None or len(res) < len(ins):
            raise RuntimeError(f"Backward function for op {rule.name} returned too few "
                               f"gradients: expected {len(ins)}, got "
                               f"{0 if res is None else len(res)}")
        for i, gi in zip(ins, res):
            if gi is None:
                continue
            ki = id(i)
            if ki in live:
                prev = get(ki)
                grads[ki] = gi if prev is None else prev + gi


def _rows_gradient(g, indices, value, tensor_mode):
    """The IndexedSlices adjoint of ``value[indices]`` (rows), one row of values per index."""
    rows = (-1,) + np.shape(value)[1:]
    if tensor_mode:
        from .array_ops import reshape
        values = reshape(g if isinstance(g, Tensor) else Tensor(g), rows)
    else:
        values = Tensor(np.reshape(g, rows))
    return IndexedSlices(values, np.reshape(indices, -1),
                         np.asarray(np.shape(value), dtype=np.int32))


def _output_adjoints(out, grads, source_keys, found, tensor_mode):
    """The adjoints of a multi-output record's outputs (zeros for the unused ones), or None."""
    gs = [grads.pop(id(o), None) for o in out]
    if all(x is None for x in gs):
        return None
    for o, x in zip(out, gs):
        if x is not None and id(o) in source_keys:
            found[id(o)] = x
    gs = [x if x is not None else np.zeros_like(o._v) for x, o in zip(gs, out)]
    if tensor_mode:
        gs = [x if isinstance(x, Tensor) else Tensor(x) for x in gs]
    return gs


# set (per thread) by grad(backend="tape"): a complex gradient of a real source is refused
real_only = threading.local()


def _finish_slices(g, sv):
    if g.values._v.dtype != sv.dtype:
        from .math_ops import cast
        return IndexedSlices(cast(g.values, sv.dtype), g.indices, g.dense_shape)
    return g


def _finish_grad(g, sv, tensor_mode):
    """A gradient as a Tensor with the source's dtype and shape."""
    if getattr(real_only, "on", False) and sv.dtype.kind != "c" and \
            np.iscomplexobj(g._v if isinstance(g, Tensor) else g):
        # under grad(backend="tape"): complex intermediates have no convention here, and
        # casting would silently drop a part (TensorFlow's tape keeps its own behaviour)
        raise TypeError("the gradient went through complex values, which tapeflow does not "
                        "differentiate; write the real and imaginary parts as real arrays")
    if isinstance(g, Tensor):
        if g._v.dtype != sv.dtype:
            from .math_ops import cast
            g = cast(g, sv.dtype)
        if g._v.shape != sv.shape:
            from .array_ops import broadcast_to
            g = broadcast_to(g, sv.shape)
        return g
    if getattr(g, "dtype", None) != sv.dtype or np.shape(g) != sv.shape:
        g = np.broadcast_to(np.asarray(g, dtype=sv.dtype), sv.shape)
    if type(g) is np.ndarray:
        if g.ndim == 0:
            g = g[()]
        elif not g.flags.writeable:
            g = np.array(g)  # broadcast views (the gradient of a sum) become real arrays for the user
    return Tensor(g)


def _call_override(fn, rule, out, ins, vals, params, g, tensor_mode):
    """A RegisterGradient function: ``fn(op, grad)`` on Tensors, returning one grad per input."""
    if fn is None:  # no_gradient
        return None
    inputs = [i if isinstance(i, Tensor) else Tensor(np.asarray(v)) for i, v in zip(ins, vals)]
    op = OpMock(rule.name, inputs, [out], params)
    gt = g if isinstance(g, Tensor) else Tensor(g)
    res = fn(op, gt)
    if not isinstance(res, (list, tuple)):
        res = [res]
    res = list(res)
    if len(res) < len(ins):
        raise RuntimeError(f"Backward function for op {rule.name} returned too few gradients")
    if not tensor_mode:
        res = [None if r is None else (r._v if isinstance(r, Tensor) else np.asarray(r))
               for r in res]
    else:
        res = [None if r is None else convert_to_tensor(r) for r in res]
    return res[0] if len(ins) == 1 else res
