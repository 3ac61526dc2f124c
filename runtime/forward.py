"""``tf.autodiff.ForwardAccumulator``: Jacobian-vector products by forward mode.

While an accumulator is active, every op that reads a value with a tangent pushes tangents
through its entry's forward rule (``f_<name>(*tangents, ans, *inputs)``, runtime/rules/table.py)
as it runs: the output's tangent is the sum of the rule's terms for the inputs that have one.
An op whose entry has no forward rule (a linear entry, a multi-output decomposition, a custom
gradient) gets its JVP from its reverse rule by linearity, exactly and for that op alone:
``J t = d/du <adjoint(u), t>``. That is also how TensorFlow runs custom gradients under an
accumulator: at forward time, so their errors show there. Nothing becomes a silent zero: a
reverse rule that forward mode cannot follow on Tensors raises.

The accumulator joins the thread's stack of recording tapes (a tape-like recorder whose record
list computes instead of storing). While it computes a tangent, it and everything entered after
it are paused: an accumulator entered earlier sees the computation (``outer.jvp(inner.jvp(y))``
is a second derivative), one entered later does not, and a GradientTape entered inside the
accumulator records only the primal, so ``acc.jvp(tape.gradient(y, x))`` is a Hessian-vector
product (the backward sweep runs on Tensors while the accumulator records).
"""
import logging

import numpy as np

from . import nest
from .backward import _tensor_mode_adjoint
from .recording import state as _recording
from .tape import GradientTape, UnconnectedGradients, _unconnected_value, _value_of, _key
from .tensor import Tensor

__all__ = ["ForwardAccumulator"]

_log = logging.getLogger("tapeflow")
_warned = {"dtype": 0}


class ForwardAccumulator:
    def __init__(self, primals, tangents):
        self._primals = nest.flatten(primals)
        flat_t = nest.flatten(tangents)
        if len(flat_t) != len(self._primals):
            raise ValueError("primals and tangents must have the same structure")
        self._tangents = {}   # id -> (the object, so the id stays unique; its tangent Tensor)
        for p, t in zip(self._primals, flat_t):
            if _key(p) in self._tangents:
                raise ValueError("Tensor {} was specified as a primal multiple times. This may "
                                 "indicate an error. If it was intended, please sum the "
                                 "corresponding tangents.")
            pv = _value_of(p)
            if pv.dtype.kind not in "fc" and _warned["dtype"] < 5:
                _warned["dtype"] += 1
                _log.warning("The dtype of the watched primal must be floating (e.g. tf.float32), "
                             "got tf.%s", pv.dtype.name)
            tv = np.asarray(t._v if isinstance(t, Tensor) else _value_of(t) if hasattr(t, "_handle")
                            else t, dtype=pv.dtype)
            if tv.shape != np.shape(pv):
                raise ValueError(f"Tangent shape {tv.shape} does not match primal shape "
                                 f"{np.shape(pv)}")
            obj = getattr(p, "_handle", p)
            self._tangents[_key(p)] = (obj, Tensor(tv[()] if tv.ndim == 0 else tv))
        self._recorder = _Recorder(self)

    def __enter__(self):
        if self._recorder._recording:
            raise ValueError("Accumulator is already recording.")
        self._recorder.__enter__()
        return self

    def __exit__(self, *exc):
        return self._recorder.__exit__(*exc)

    def jvp(self, primals, unconnected_gradients=UnconnectedGradients.NONE):
        """The JVP of each given tensor (structure preserved): a lookup of what was computed
        while active; None (or zeros with ``unconnected_gradients="zero"``) if nothing was."""
        unconnected = _unconnected_value(unconnected_gradients)
        out = []
        for t in nest.flatten(primals):
            hit = self._tangents.get(_key(t))
            if hit is not None:
                out.append(hit[1])
            elif unconnected == "zero":
                out.append(_zeros_like(_value_of(t)))
            else:
                out.append(None)
        return nest.pack_like(primals, out)

    # --- pushing tangents through one recorded op ---------------------------------------------
    def _push(self, rule, out, ins, vals, params):
        tangents = [self._tangents.get(id(i)) for i in ins]
        tangents = [None if t is None else t[1] for t in tangents]
        if all(t is None for t in tangents):
            return
        saved = _recording.tapes
        # this accumulator and whatever was entered after it do not see its own computation
        _recording.tapes = saved[:saved.index(self._recorder)]
        try:
            tensor_mode = bool(_recording.tapes)
            if type(out) is tuple or rule.forward is None:
                results = _jvp_by_reverse(rule, out, ins, vals, params, tangents)
            else:
                results = (_jvp_by_rule(rule, out, ins, vals, params, tangents, tensor_mode),)
        finally:
            _recording.tapes = saved
        for o, t in zip(out if type(out) is tuple else (out,), results):
            if t is not None:
                self._tangents[id(o)] = (o, _as_tensor(t, o))


class _Recorder(GradientTape):
    """The accumulator's place on the tape stack: ``record`` offers it the ops on known values
    (those with a tangent) by appending to ``_ops``, which pushes their tangents instead."""

    def __init__(self, acc):
        super().__init__(persistent=True, watch_accessed_variables=False)
        self._ops = _Pushing(acc)
        self._created = True
        for key, (obj, _) in acc._tangents.items():
            self._known.add(key)
            self._keep.append(obj)

    def reset(self):   # a GradientTape method that would drop what the accumulator knows
        raise TypeError("a ForwardAccumulator cannot be reset")


class _Pushing(list):
    __slots__ = ("acc",)

    def __init__(self, acc):
        super().__init__()
        self.acc = acc

    def append(self, rec):
        self.acc._push(*rec)


def _jvp_by_rule(rule, out, ins, vals, params, tangents, tensor_mode):
    """The output tangent from the entry's forward rule: the sum of its terms for the inputs
    with a tangent (the others get zeros, and their terms are dropped)."""
    inputs = [i if tensor_mode and isinstance(i, Tensor) else v for i, v in zip(ins, vals)]
    dots = [t if t is not None else np.zeros_like(v) for t, v in zip(tangents, vals)]
    if not tensor_mode:
        dots = [d._v if isinstance(d, Tensor) else d for d in dots]
    terms = rule.forward(*dots, out if tensor_mode else out._v, *inputs, **params)
    if rule.n_inputs == 1:
        terms = (terms,)
    total = None
    for t, term in zip(tangents, terms):
        if t is not None and term is not None:
            total = term if total is None else total + term
    return total


def _jvp_by_reverse(rule, out, ins, vals, params, tangents):
    """One op's JVP(s) from its reverse rule, linear in the cotangent u: J t = d/du <J^T u, t>."""
    outs = out if type(out) is tuple else (out,)
    us = [Tensor(np.zeros_like(o._v)) for o in outs]
    args = [i if isinstance(i, Tensor) else v for i, v in zip(ins, vals)]
    with GradientTape() as inner:
        inner.watch(us)
        g = us if type(out) is tuple else us[0]
        res = _tensor_mode_adjoint(rule)(g, out, *args, **params)
        if rule.n_inputs == 1 and type(out) is not tuple:
            res = (res,)
        total = None
        for t, r in zip(tangents, res):
            if t is None or r is None:
                continue
            if not isinstance(r, Tensor) or id(r) not in inner._known:
                # the adjoint is linear in u: a result that does not depend on it was computed
                # by code no tape follows; taking it as zero would be a silent wrong derivative
                raise NotImplementedError(
                    f"forward mode (ForwardAccumulator) cannot push a tangent through the op "
                    f"{rule.name}: it has no forward rule, and its reverse rule cannot be "
                    f"followed on Tensors")
            term = _tape_sum(r * t)
            total = term if total is None else total + term
    if total is None:
        return [None] * len(outs)
    return inner.gradient(total, us)


def _tape_sum(x):
    from .math_ops import reduce_sum
    return reduce_sum(x)


def _as_tensor(t, like):
    """A tangent as a Tensor of the output's shape (a term may be a broadcastable scalar)."""
    if not isinstance(t, Tensor):
        v = np.asarray(t, dtype=like._v.dtype)
        if v.shape != like._v.shape:
            v = np.broadcast_to(v, like._v.shape).copy()
        return Tensor(v[()] if v.ndim == 0 else v)
    if t._v.shape != like._v.shape:
        from .array_ops import broadcast_to
        t = broadcast_to(t, like._v.shape)
    return t


def _zeros_like(v):
    z = np.zeros(np.shape(v), dtype=v.dtype)
    return Tensor(z[()] if z.ndim == 0 else z)


def traced_jvp(fn, args, argnums, tangents):
    """``(f(*args), J t)`` as numpy values, with f's plain numpy/math code run on Tensors (the
    tape backend's tracing, refusing what it cannot follow) under an accumulator: forward mode
    for functions no transform takes. ``tangents``: one per index in ``argnums``; outputs may
    be floats, arrays or tuples of them."""
    from . import trace
    from .math_ops import identity
    from .tensor import constant
    tracer = trace._Tracer()
    traced = trace._traced_callable(fn, tracer)
    args = list(args)
    # Tensors of a recording tape (grad of jvp): the outputs stay Tensors it records; each
    # primal is a fresh identity of the given Tensor (the same Tensor reached another way,
    # through a closure, must not get this tangent), as in trace.traced_value_and_grad
    keep = bool(_recording.tapes) and any(isinstance(a, Tensor) for a in
                                          list(args) + list(tangents))
    primals = []
    for i in argnums:
        args[i] = identity(args[i]) if isinstance(args[i], Tensor) else \
            constant(np.asarray(_plain_value(args[i]), dtype=np.float64))
        primals.append(args[i])
    dots = [t if isinstance(t, Tensor) else constant(np.asarray(_plain_value(t),
                                                                dtype=np.float64))
            for t in tangents]
    with trace._strict(tracer.files):
        with ForwardAccumulator(primals, dots) as acc:
            out = traced(*args)

    def leaf(v):
        if isinstance(v, (tuple, list)):
            return tuple(zip(*[leaf(x) for x in v])) if v else ((), ())
        v = trace._plain(v)
        if hasattr(v, "_read"):
            v = v._read()
        if isinstance(v, Tensor):
            t = acc.jvp(v, unconnected_gradients="zero")
            if keep:
                return v, t
            return _number(v.numpy()), _number(t.numpy())
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.ndarray,
                                                                 np.generic)):
            raise TypeError(f"{getattr(fn, '__name__', 'f')} returned "
                            f"{type(v).__name__}, which has no tangent")
        return _number(v), _number(np.zeros(np.shape(v)))
    return leaf(out)


def _plain_value(x):
    return x.numpy() if hasattr(x, "numpy") and not isinstance(x, np.ndarray) else x


def _number(v):
    v = np.asarray(v, dtype=np.float64) if np.asarray(v).dtype.kind in "biuf" else v
    return float(v) if np.ndim(v) == 0 else v
