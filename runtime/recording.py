"""Recording: the thread-local stack of active tapes, and how an executed op is offered to them.

A record is the tuple ``(rule, out, ins, vals, params)``: the derivative rule, the output Tensor
(a tuple of Tensors for a multi-output op), the inputs as given (Tensors, variable handles or raw
values), their numpy values, and the op's keyword parameters. Tensors are identified by ``id()``:
a tape keeps every tensor it knows alive (in its records or watch list), so ids cannot be reused
while they matter.
"""
import threading

from . import dtypes as _dt

__all__ = ["state", "record", "stop_recording_all"]

_TRAINABLE = _dt.TRAINABLE
_EMPTY = {}


class _State(threading.local):
    """Per-thread: the tapes currently recording, innermost last."""

    def __init__(self):
        self.tapes = []


state = _State()


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
