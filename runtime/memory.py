"""Memory policy of the runtime: big freed blocks stay in the process."""
import os
import sys

_KEEP = os.environ.get("TAPEFLOW_KEEP_FREED_MEMORY", "1") != "0"
_kept = []


def keep_freed_memory():
    """Let memory freed by big arrays stay in the process (glibc only; once, when a tape or a
    gradient is first used).

    glibc hands big freed blocks back to the OS (mmap/munmap, heap trimming), so the next step's
    arrays page-fault in again; for a training step the backward pass's temporaries cost more in
    faults than in arithmetic. Raising malloc's mmap and trim thresholds keeps them in the heap,
    which is what TensorFlow's and PyTorch's caching allocators achieve. The process keeps up to
    tens of megabytes it would otherwise return. ``TAPEFLOW_KEEP_FREED_MEMORY=0``: malloc as is.
    """
    if _kept or not _KEEP:
        return
    _kept.append(True)
    try:
        import ctypes
        libc = ctypes.CDLL(None)
        mallopt = getattr(libc, "mallopt", None)
        if mallopt is not None and sys.platform.startswith("linux"):
            mallopt(-3, 32 << 20)     # M_MMAP_THRESHOLD: blocks up to 32 MB come from the heap
            mallopt(-1, 128 << 20)    # M_TRIM_THRESHOLD: keep up to 128 MB of free heap
    except OSError:
        pass
