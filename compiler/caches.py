"""The compiler's process-wide caches (normalized IR, generated gradients and tangents), bounded.

Each entry is keyed by a function and tied to its lifetime: it holds the function weakly and goes
when the function is collected; beyond ``max_entries`` entries or an estimated ``max_bytes`` the
least recently used go first. An evicted entry is only transformed again when asked for; gradient
objects (``tapeflow.grad(f)``) keep the code they use, so their compiled code lives exactly as
long as they do. ``set_limits`` changes the bounds (also ``TAPEFLOW_CACHE_ENTRIES`` and
``TAPEFLOW_CACHE_MB`` in the environment).
"""
import os
import threading
import weakref
from collections import OrderedDict

LIMITS = {"max_entries": int(os.environ.get("TAPEFLOW_CACHE_ENTRIES", 1024)),
          "max_bytes": int(float(os.environ.get("TAPEFLOW_CACHE_MB", 256)) * (1 << 20))}
_ALL = []


def set_limits(max_entries=None, max_bytes=None):
    """Bound every compiler cache to ``max_entries`` entries and about ``max_bytes`` bytes each
    (None leaves a bound as it is); caches over the new bound shrink now."""
    if max_entries is not None:
        LIMITS["max_entries"] = int(max_entries)
    if max_bytes is not None:
        LIMITS["max_bytes"] = int(max_bytes)
    for cache in _ALL:
        with cache.lock:
            cache._shrink()
    return dict(LIMITS)


class FunctionCache:
    """``(fn, key) -> value``, LRU-bounded, entries dropped when ``fn`` is collected.
    ``size(value)`` estimates the bytes an entry keeps alive (read when the cache is checked
    against its bound: a value may grow after it is stored, e.g. by its compiled code)."""

    def __init__(self, size=lambda value: 0):
        self.entries = OrderedDict()      # (id(fn), key) -> (weakref to fn, value)
        self.size = size
        self.lock = threading.RLock()
        _ALL.append(self)

    def __len__(self):
        return len(self.entries)

    def get(self, fn, key):
        k = (id(fn), key)
        with self.lock:
            hit = self.entries.get(k)
            if hit is None or hit[0]() is not fn:
                return None
            self.entries.move_to_end(k)
            return hit[1]

    def put(self, fn, key, value):
        k = (id(fn), key)
        with self.lock:
            try:
                ref = weakref.ref(fn, self._forget)
            except TypeError:            # not weakly referable: bounded by the LRU alone
                ref = (lambda f: lambda: f)(fn)
            self.entries[k] = (ref, value)
            self.entries.move_to_end(k)
            self._shrink()
        return value

    def clear(self):
        with self.lock:
            self.entries.clear()

    def _forget(self, ref):
        with self.lock:
            for k in [k for k, v in self.entries.items() if v[0] is ref]:
                del self.entries[k]

    def _shrink(self):
        while len(self.entries) > max(LIMITS["max_entries"], 0):
            self.entries.popitem(last=False)
        if LIMITS["max_bytes"] is None:
            return
        total = sum(self.size(v) for _, v in self.entries.values())
        while self.entries and total > LIMITS["max_bytes"]:
            _, (_, v) = self.entries.popitem(last=False)
            total -= self.size(v)
