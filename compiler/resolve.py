"""What a called name stands for: a primitive with a rule, a non-differentiable helper, user code.

The normalizer asks ``classify(fn)`` for every call it meets; everything it cannot classify is
"unknown code", which the source transform refuses (the tape takes it under backend="auto").
"""
import builtins
import inspect
import os
import sysconfig
import math
import operator

import numpy as np

from tapeflow.runtime import rules
from tapeflow.runtime.stack import Stack

# Views of the primitive table (runtime/rules): what the normalizer asks of a callable or spelling.
ARRAY_METHODS = dict(rules.METHODS)
ARRAY_ATTRIBUTES_NONDIFF = {a for a, fn in rules.ATTRIBUTES.items() if fn is None}


# Where each known callable can be reached from generated code.
_MODULES = (("np", np), ("math", math), ("operator", operator))


def canonical_name(fn):
    """A dotted name under which generated code reaches ``fn`` (``np.sin``), or None."""
    for alias, module in _MODULES:
        name = getattr(fn, "__name__", None)
        if name and getattr(module, name, None) is fn:
            return f"{alias}.{name}"
    name = getattr(fn, "__name__", None)
    if name and getattr(builtins, name, None) is fn:
        return name
    if name and getattr(rules, name, None) is fn:
        return name
    if fn is Stack:
        return "Stack"
    return None


def classify(fn):
    """One of 'rule', 'nondiff', 'identity', 'composite', 'user', 'gradient', 'unknown'."""
    if getattr(fn, "__tapeflow_gradient__", False):
        return "gradient"
    entry = rules.entry_of(fn)
    if entry is not None:
        return "rule" if entry.reverse is not None else entry.kind
    if fn is Stack:
        return "nondiff"
    if getattr(fn, "__tapeflow_source__", None) is not None:
        return "user"
    if inspect.isfunction(fn):
        module = getattr(fn, "__module__", "") or ""
        if module.split(".")[0] in ("numpy", "math", "tapeflow") or is_library(fn):
            return "unknown"
        return "user"
    return "unknown"


_LIBRARY_DIRS = tuple({os.path.realpath(p) for key in ("stdlib", "platstdlib", "purelib",
                                                        "platlib")
                       for p in [sysconfig.get_paths().get(key)] if p})


def is_library(fn):
    """Functions of the standard library and installed packages are not transformed: they are
    "unknown code" (the tape's job), not the user's own source."""
    path = os.path.realpath(fn.__code__.co_filename)
    return path.startswith(_LIBRARY_DIRS)

