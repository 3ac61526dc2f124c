"""The tape: a thread-local stack of recording tapes, op recording, and the backward pass.

A record is the tuple ``(rule, out, ins, vals, params)``: the derivative rule, the output Tensor
(a tuple of Tensors for a multi-output op), the inputs as given (Tensors, variable handles or raw
values), their numpy values, and the op's keyword parameters. Tensors are identified by ``id()``:
a tape keeps every tensor it knows alive (in its records or watch list), so ids cannot be reused
while they matter.
"""
import logging
import threading
import types

import numpy as np

from . import memory
from . import dtypes as _dt
from . import nest
from .masking import masked_adjoint
from .tensor import Tensor, convert_to_tensor

__all__ = ["GradientTape", "UnconnectedGradients", "record", "state", "stop_recording_all",
           "register_gradient_override", "GRADIENT_OVERRIDES", "OpMock"]

_TRAINABLE = _dt.TRAINABLE
_EMPTY = {}
_FIRST, _SECOND = (True, False), (False, True)
_log = logging.getLogger("tapeflow")


class _State(threading.local):
    """Per-thread: the tapes currently recording, innermost last."""

    def __init__(self):
        self.tapes = []


state = _State()

# op name -> fn(op, *grads) from RegisterGradient, or None from no_gradient. Checked before RULES.
GRADIENT_OVERRIDES = {}


class UnconnectedGradients:
    """What ``gradient`` returns for a source with no path to the targets."""
    NONE = "none"
    ZERO = "zero"


def _unconnected_value(u):
    if isinstance(u, str) and u in ("none", "zero"):
        return u
    raise ValueError(f"Unknown value for unconnected_gradients: {u!r}")


def record(rule, out, ins, vals, params=_EMPTY):
    """Offer an executed op to every active tape; a tape keeps it if it knows one of the inputs."""
    tapes = state.tapes
    if len(tapes) == 1:
        # the common case, one tape: no loop over tapes, one record tuple
        tape = tapes[0]
        known = tape._known
        for i in ins:
            if id(i) in known:
                break
        else:
            return
        if type(out) is tuple:
            if not any(o._v.dtype in _TRAINABLE for o in out):
                return
            for o in out:
                known.add(id(o))
        elif out._v.dtype in _TRAINABLE:
            known.add(id(out))
        else:
            return  # integer/bool/string outputs never carry gradients
        tape._ops.append((rule, out, ins, vals, params))
        return
    rec = None
    for tape in tapes:
        known = tape._known
        for i in ins:
            if id(i) in known:
                break
        else:
            continue
        if rec is None:
            # Integer/bool/string outputs never carry gradients: not recorded, never known.
            if type(out) is tuple:
                if not any(o._v.dtype in _TRAINABLE for o in out):
                    return
            elif out._v.dtype not in _TRAINABLE:
                return
            rec = (rule, out, ins, vals, params)
        tape._ops.append(rec)
        if type(out) is tuple:
            for o in out:
                known.add(id(o))
        else:
            known.add(id(out))


class stop_recording_all:
    """Pause every tape on this thread (what ``stop_gradient`` and custom_gradient's forward need)."""
    __slots__ = ("_saved",)

    def __enter__(self):
        self._saved = state.tapes
        state.tapes = []
        return self

    def __exit__(self, *exc):
        state.tapes = self._saved
        return False


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


_warned = {"watch": 0, "persistent": False}


class GradientTape:
    """Records ops on watched tensors and variables while active; ``gradient`` runs them backwards."""

    def __init__(self, persistent=False, watch_accessed_variables=True):
        self._persistent = persistent
        self._watch_accessed_variables = watch_accessed_variables
        self._created = False      # the underlying tape exists once the tape was first entered
        self._recording = False
        self._used = False         # a non-persistent tape computed its one set of gradients
        self._ops = []
        self._known = set()
        self._keep = []            # watched tensors/handles, kept alive so their ids stay unique
        self._vars = {}            # id(handle) -> Variable watched
        self._var_cache = ()       # watched variables kept after a non-persistent gradient

    # --- context ------------------------------------------------------------------------------
    def __enter__(self):
        if self._recording:
            raise ValueError("Tape is still recording, This can happen if you try to re-enter an "
                             "already-active tape.")
        memory.keep_freed_memory()
        self._created = True
        self._push()
        return self

    def __exit__(self, typ, value, traceback):
        if self._recording:
            self._pop()
        return False

    def _push(self):
        state.tapes = state.tapes + [self]  # a new list: a paused stack saved elsewhere stays intact
        self._recording = True

    def _pop(self):
        if not self._recording:
            raise ValueError("Tape is not recording.")
        state.tapes = [t for t in state.tapes if t is not self]
        self._recording = False

    def stop_recording(self):
        """Context manager: ops inside are not recorded on this tape (other tapes still record)."""
        if not self._created:
            raise RuntimeError("Trying to stop recording a tape which is not recording.")
        return _StopRecording(self)

    def reset(self):
        """Discard everything recorded and watched; keep recording."""
        if not self._recording:
            raise ValueError("Tape is not recording.")
        self._ops = []
        self._known = set()
        self._keep = []
        self._vars = {}
        self._var_cache = ()
        self._used = False

    # --- watching -----------------------------------------------------------------------------
    def watch(self, tensor):
        """Track a Tensor or Variable (or a nested structure of them) from now on."""
        from .variable import Variable
        for t in nest.flatten(tensor):
            if isinstance(t, Variable):
                self._watch_variable(t)
            elif isinstance(t, Tensor):
                if t._v.dtype not in _TRAINABLE:
                    self._warn_dtype(t.dtype)
                    continue
                if not self._created:
                    raise AttributeError("'NoneType' object has no attribute 'watch'")
                self._known.add(id(t))
                self._keep.append(t)
            else:
                raise ValueError(f"Passed in object {t!r} of type {type(t).__name__!r}, not "
                                 f"tf.Tensor or tf.Variable or ExtensionType.")

    @staticmethod
    def _warn_dtype(dtype):
        if _warned["watch"] < 5:
            _warned["watch"] += 1
            _log.warning("The dtype of the watched tensor must be floating (e.g. tf.float32), "
                         "got tf.%s", dtype.name)

    def _watch_variable(self, var, accessed=False):
        if not self._created:
            raise AttributeError("'NoneType' object has no attribute 'watch'")
        h = var._handle
        k = id(h)
        if k not in self._vars:
            self._vars[k] = var
            self._keep.append(h)
            if h.value.dtype in _TRAINABLE:
                self._known.add(k)
            elif not accessed:
                self._warn_dtype(var.dtype)

    def watched_variables(self):
        """The watched variables, in the order the variables were created."""
        if self._vars or not self._var_cache:
            return tuple(sorted(self._vars.values(), key=lambda v: v._uid))
        return self._var_cache

    # --- gradients ----------------------------------------------------------------------------
    def _check_usable(self):
        if self._used or not self._created:
            raise RuntimeError("A non-persistent GradientTape can only be used to compute one set "
                               "of gradients (or jacobians)")

    def _finish(self):
        """A non-persistent tape frees its records after its one gradient/jacobian."""
        if not self._persistent:
            self._used = True
            self._var_cache = self.watched_variables()
            self._ops = []
            self._known = set()
            self._keep = []
            self._vars = {}

    def _leave_context_for_gradient(self):
        if self._recording:
            if not self._persistent:
                self._pop()  # silently stop recording, as TF does
            elif not _warned["persistent"]:
                _warned["persistent"] = True
                _log.warning(
                    "Calling GradientTape.gradient on a persistent tape inside its context is "
                    "significantly less efficient than calling it outside the context (it causes "
                    "the gradient ops to be recorded on the tape, leading to increased CPU and "
                    "memory usage). Only call GradientTape.gradient inside the context if you "
                    "actually want to trace the gradient in order to compute higher order "
                    "derivatives.")

    def gradient(self, target, sources, output_gradients=None,
                 unconnected_gradients=UnconnectedGradients.NONE):
        """d(sum of all targets' elements)/d(each source), with the structure of ``sources``."""
        self._check_usable()
        if target is None:
            raise TypeError("Argument `target` should be a list or nested structure of Tensors, "
                            "Variables or CompositeTensors to be differentiated, but received None.")
        unconnected = _unconnected_value(unconnected_gradients)
        self._leave_context_for_gradient()
        flat_sources = nest.flatten(sources)
        flat_targets = nest.flatten(target)
        if output_gradients is not None:
            output_gradients = _seeds_like(target, output_gradients)
        grads = backward(self, flat_targets, flat_sources, output_gradients, unconnected)
        self._finish()
        return nest.pack_like(sources, grads)

    def jacobian(self, target, sources, unconnected_gradients=UnconnectedGradients.NONE,
                 parallel_iterations=None, experimental_use_pfor=True):
        """d target[i...] / d source[j...], shaped ``target.shape + source.shape`` per source."""
        self._check_usable()
        if not experimental_use_pfor and not self._persistent:
            raise RuntimeError("GradientTape must be created with persistent=True to compute the "
                               "jacobian with eager execution enabled and with  "
                               "experimental_use_pfor set to False.")
        unconnected = _unconnected_value(unconnected_gradients)
        self._leave_context_for_gradient()
        from .variable import Variable
        t_shape = tuple(target.shape)
        flat_sources = nest.flatten(sources)
        n = int(np.prod(t_shape))
        tval = _value_of(target)
        rows = []
        for i in range(n):
            seed = np.zeros(n, dtype=tval.dtype)
            seed[i] = 1
            rows.append(backward(self, [target], flat_sources, [seed.reshape(t_shape)], "none"))
        out = []
        for j, s in enumerate(flat_sources):
            s_shape = tuple(s.shape)
            col = [r[j] for r in rows]
            if all(c is None for c in col):
                if unconnected == "zero":
                    out.append(Tensor(np.zeros(t_shape + s_shape, dtype=_value_of(s).dtype)))
                else:
                    out.append(None)
                continue
            sdt = _value_of(s).dtype
            col = [c if c is not None else Tensor(np.zeros(s_shape, dtype=sdt)) for c in col]
            if n == 0:
                out.append(Tensor(np.zeros(t_shape + s_shape, dtype=sdt)))
                continue
            from .array_ops import stack, reshape
            out.append(reshape(stack(col), t_shape + s_shape))
        self._finish()
        return nest.pack_like(sources, out)

    def batch_jacobian(self, target, source, unconnected_gradients=UnconnectedGradients.NONE,
                       parallel_iterations=None, experimental_use_pfor=True):
        """Per-example jacobians: result[i] = d target[i] / d source[i] (no cross-batch terms)."""
        self._check_usable()
        if not experimental_use_pfor and not self._persistent:
            raise RuntimeError("GradientTape must be created with persistent=True to compute the "
                               "batch_jacobian with eager execution enabled and  with "
                               "experimental_use_pfor set to False.")
        _unconnected_value(unconnected_gradients)
        t_shape, s_shape = tuple(target.shape), tuple(source.shape)
        for shp in (t_shape, s_shape):
            if len(shp) < 2:
                raise ValueError(f"Shape {shp} must have rank at least 2")
        if t_shape[0] != s_shape[0]:
            raise ValueError(f"Need first dimension of target shape ({t_shape}) and source shape "
                             f"({s_shape}) to match.")
        self._leave_context_for_gradient()
        b = t_shape[0]
        per = int(np.prod(t_shape[1:]))
        tval = _value_of(target)
        cols = []
        for j in range(per):
            seed = np.zeros((b, per), dtype=tval.dtype)
            seed[:, j] = 1
            g = backward(self, [target], [source], [seed.reshape(t_shape)], "zero")[0]
            cols.append(g)
        self._finish()
        from .array_ops import stack, reshape
        if per == 0 or b == 0:
            return Tensor(np.zeros(t_shape + s_shape[1:], dtype=tval.dtype))
        return reshape(stack(cols, axis=1), t_shape + s_shape[1:])


def _seeds_like(target, output_gradients):
    """One seed per flattened target: a single target takes ``output_gradients`` whole (a list of
    numbers is one seed), a structure of targets takes the matching elements."""
    if not isinstance(target, (list, tuple, dict)):
        og = output_gradients
        if isinstance(og, (list, tuple)) and len(og) == 1 and not isinstance(og[0], (int, float)):
            og = og[0]
        return [og]
    out = []

    def walk(t, o):
        if isinstance(t, dict):
            for k in sorted(t):
                walk(t[k], o[k])
        elif isinstance(t, (list, tuple)):
            if not isinstance(o, (list, tuple)) or len(o) != len(t):
                raise ValueError("output_gradients must have the structure of target")
            for a, b in zip(t, o):
                walk(a, b)
        else:
            out.append(o)
    walk(target, output_gradients)
    return out


class _StopRecording:
    __slots__ = ("_tape", "_was")

    def __init__(self, tape):
        self._tape = tape

    def __enter__(self):
        self._was = self._tape._recording
        self._tape._pop()
        return self

    def __exit__(self, *exc):
        if self._was and not self._tape._used:
            self._tape._push()
        return False


# --- the backward pass ------------------------------------------------------------------------
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
# helpers whose numpy code no tape can follow (in-place writes, cumprod), and their recorded forms
_TENSOR_HELPERS = {"unslice": "unslice_op", "prod_of_others": "prod_of_others_op"}


def _tensor_mode_adjoint(rule):
    """The rule's adjoint with the helpers that mutate (unslice) bound to recorded primitives.

    Called on Tensors, a rule's numpy calls dispatch to tapeflow ops through the numpy protocols,
    so the gradient computation is itself recorded. ``unslice`` builds its result with np.add.at on
    a fresh array, which no tape can see, so it is swapped for the recorded primitive "Unslice".
    """
    fn = rule.adjoint
    f = _tensor_mode_fns.get(fn)
    if f is None:
        g = getattr(fn, "__globals__", None)
        names = set(getattr(getattr(fn, "__code__", None), "co_names", ())) & set(_TENSOR_HELPERS)
        if g is not None and names:
            from . import array_ops
            glb = dict(g)
            for n in names:
                glb[n] = getattr(array_ops, _TENSOR_HELPERS[n])
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


def backward(tape, targets, sources, output_gradients, unconnected):
    """Gradients of ``targets`` (seeded with ones or ``output_gradients``) for each source."""
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
    if not tensor_mode and not overrides:
        _sweep_plain(ops, grads, source_keys, live, found)  # the fast path: rules on numpy values
    else:
        _sweep_recording(ops[:n_ops], grads, source_keys, live, found, tensor_mode, overrides)
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
        results.append(_finish_grad(g, sv, tensor_mode))
    return results


def _sweep_recording(ops, grads, source_keys, live, found, tensor_mode, overrides):
    """The backward sweep when a tape records (rules on Tensors) or some rule is overridden."""
    pop = grads.pop
    get = grads.get
    for rec in reversed(ops):
        rule, out, ins, vals, params = rec
        k = id(out)
        g = pop(k, None)
        if g is None:
            if type(out) is tuple:
                _sweep_general((rec,), grads, source_keys, live, found, tensor_mode, overrides)
            continue
        if k in source_keys:
            found[k] = g
        if k not in live:
            continue
        if overrides and rule.name in overrides:
            res = _call_override(overrides[rule.name], rule, out, ins, vals, params, g, tensor_mode)
            if res is None:
                continue
            if len(ins) == 1:
                res = (res,)
        else:
            if tensor_mode:
                args = [i if isinstance(i, Tensor) else v for i, v in zip(ins, vals)]
                res = _tensor_mode_adjoint(rule)(g, out, *args, **params)
            else:
                res = rule.adjoint(g, out._v, *vals, **params)
            if rule.n_inputs == 1:
                res = (res,)
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


def _sweep_plain(ops, grads, source_keys, live, found):
    """The backward sweep when nothing records and no rule is overridden: rules on numpy values.

    This is the hot loop of every tape gradient; it is kept to the essentials (one dict pop per
    record, set lookups, the rule call, accumulation) and skips inputs that need no gradient.
    """
    pop = grads.pop
    get = grads.get
    for rec in reversed(ops):
        rule, out, ins, vals, params = rec
        k = id(out)
        g = pop(k, None)
        if g is None:
            if type(out) is tuple:
                _sweep_general((rec,), grads, source_keys, live, found, False, {})
            continue
        if k in source_keys:
            found[k] = g
        if k not in live:
            continue
        n = rule.n_inputs
        if n == 1:
            ki = id(ins[0])
            if ki in live:
                res = rule.adjoint(g, out._v, *vals, **params)
                if res is not None:
                    prev = get(ki)
                    grads[ki] = res if prev is None else prev + res
        elif n == 2:
            ka = id(ins[0])
            kb = id(ins[1])
            if ka in live:
                if kb in live:
                    ga, gb = rule.adjoint(g, out._v, *vals, **params)
                else:
                    # skip the adjoint of an input needing none (constant data in a matmul...)
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
        else:
            _sweep_general((rec,), grads, source_keys, live, {}, False, {}, popped=g)


def _sweep_general(ops, grads, source_keys, live, found, tensor_mode, overrides, popped=None):
    """One record at a time through the general path (multi-output or variadic records)."""
    for rule, out, ins, vals, params in ops:
        if type(out) is tuple:
            gs = [grads.pop(id(o), None) for o in out]
            if all(x is None for x in gs):
                continue
            for j, o in enumerate(out):
                if id(o) in source_keys and gs[j] is not None:
                    found[id(o)] = gs[j]
            gs = [x if x is not None else np.zeros_like(o._v) for x, o in zip(gs, out)]
            if tensor_mode:
                gs = [x if isinstance(x, Tensor) else Tensor(x) for x in gs]
            res = rule.adjoint(gs, out, *(ins if tensor_mode else vals), **params)
        else:
            res = rule.adjoint(popped, out._v, *vals, **params)
        if res is None or len(res) < len(ins):
            raise RuntimeError(f"Backward function for op {rule.name} returned too few "
                               f"gradients: expected {len(ins)}, got "
                               f"{0 if res is None else len(res)}")
        for i, gi in zip(ins, res):
            if gi is None:
                continue
            ki = id(i)
            if ki in live:
                prev = grads.get(ki)
                grads[ki] = gi if prev is None else prev + gi


def _finish_grad(g, sv, tensor_mode):
    """A gradient as a Tensor with the source's dtype and shape."""
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
