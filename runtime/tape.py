"""``GradientTape``: the tape object users hold (context, watching, gradient, jacobians).

Recording (the tape stack, ``record``) is in ``recording.py``; the backward sweep and the
``RegisterGradient`` registry are in ``backward.py``. Their names stay importable from here.
"""
import logging

import numpy as np

from . import memory
from . import dtypes as _dt
from . import nest
from .backward import (GRADIENT_OVERRIDES, OpMock, backward, register_gradient_override,
                       _key, _tensor_mode_adjoint, _value_of)  # noqa: F401 (older importers)
from .recording import record, state, stop_recording_all
from .tensor import Tensor

__all__ = ["GradientTape", "UnconnectedGradients", "record", "state", "stop_recording_all",
           "register_gradient_override", "GRADIENT_OVERRIDES", "OpMock"]

_TRAINABLE = _dt.TRAINABLE
_log = logging.getLogger("tapeflow")


class UnconnectedGradients:
    """What ``gradient`` returns for a source with no path to the targets."""
    NONE = "none"
    ZERO = "zero"


def _unconnected_value(u):
    if isinstance(u, str) and u in ("none", "zero"):
        return u
    raise ValueError(f"Unknown value for unconnected_gradients: {u!r}")


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
            if any(og is None for og in output_gradients):
                raise ValueError("output_gradients must not contain None: give a seed (for "
                                 "example ones) for every target")
        grads = backward(self, flat_targets, flat_sources, output_gradients, unconnected,
                         sparse=True)
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
