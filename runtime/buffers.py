"""A small cache of big output buffers, reused by the next op that needs the same shape and dtype.

A training step allocates the same big activations every step. Taken fresh from the allocator,
each costs page faults (glibc gives big freed blocks back to the OS), which is most of a big-array
step's time beyond the arithmetic. Like the caching allocators of TensorFlow and PyTorch, the
runtime keeps the buffers of dead op outputs and computes the next outputs into them (numpy's
``out=``). Only buffers nothing else refers to come back (CPython reference count: a view, a
``np.asarray(t)`` held by the user, or another Tensor on the same array keeps it out), so a value
anyone can still see is never overwritten. The cache holds at most ``TAPEFLOW_BUFFER_CACHE_MB``
(default 64) megabytes; 0 turns it off.
"""
import os
import sys
import weakref

import numpy as np

__all__ = ["BIG", "take", "adopt"]

BIG = 1 << 18  # bytes: smaller outputs come from numpy's allocator as usual
_LIMIT = int(float(os.environ.get("TAPEFLOW_BUFFER_CACHE_MB", "64")) * (1 << 20))
_cache = {}     # (shape, dtype) -> [idle arrays]
_held = [0]     # bytes held idle


def take(shape, dtype):
    """An idle buffer of this shape and dtype, or None."""
    idle = _cache.get((shape, dtype))
    if idle:
        buf = idle.pop()
        _held[0] -= buf.nbytes
        return buf
    return None


def adopt(tensor, buf):
    """Give ``buf`` back to the cache when ``tensor`` dies, if nothing else refers to it then."""
    if _LIMIT > 0:
        weakref.finalize(tensor, _give_back, buf).atexit = False  # nothing to do at exit


def _give_back(buf):
    # references: the dying Tensor's slot (weakref callbacks run before slots are cleared), the
    # finalizer's argument tuple, this parameter, getrefcount's argument
    if sys.getrefcount(buf) > _EXPECTED or _held[0] + buf.nbytes > _LIMIT:
        return
    _cache.setdefault((buf.shape, buf.dtype), []).append(buf)
    _held[0] += buf.nbytes


def _calibrate():
    """The reference count of a buffer nobody else holds, as seen inside ``_give_back``."""
    seen = []

    class Probe:  # holds its buffer as a Tensor does
        __slots__ = ("_v", "__weakref__")

    def probe(buf):
        seen.append(sys.getrefcount(buf))
    p = Probe()
    p._v = np.empty(1)
    weakref.finalize(p, probe, p._v)
    del p
    return seen[0] if seen else 0  # 0: unknown interpreter behaviour, never reuse


_EXPECTED = _calibrate()
