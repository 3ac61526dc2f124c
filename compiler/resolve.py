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

# Calls that produce values carrying no gradient (shapes, counts, masks, fresh constants).
NONDIFF = {
    len, range, int, bool, isinstance, print, round,
    np.shape, np.size, np.ndim, np.zeros, np.ones, np.empty, np.full, np.eye, np.arange,
    np.linspace, np.sign, np.floor, np.ceil, np.round, np.rint, np.argmax, np.argmin, np.isnan,
    np.isfinite, np.isinf, np.logical_and, np.logical_or, np.logical_not, np.greater,
    np.less, np.greater_equal, np.less_equal, np.equal, np.not_equal, np.floor_divide,
    np.mod, np.zeros_like,
    np.ones_like, np.empty_like, np.identity, np.all, np.any, np.count_nonzero, math.floor,
    math.ceil, math.isnan, math.isfinite, operator.floordiv, operator.mod, operator.lt,
    operator.le, operator.gt, operator.ge, operator.eq, operator.ne, operator.not_,
    Stack, rules.extremum_weights, rules.prod_of_others,
}
NONDIFF_IDS = {id(f) for f in NONDIFF}

# Calls that return their (differentiable) argument unchanged in value.
IDENTITY = {float, np.float64, np.asarray, np.array, np.copy, np.float32, np.ascontiguousarray}
IDENTITY_IDS = {id(f) for f in IDENTITY}

# Array methods and attributes, read as the numpy functions they are.
ARRAY_METHODS = {
    "sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min, "prod": np.prod,
    "reshape": np.reshape, "transpose": np.transpose, "dot": np.dot, "copy": np.copy,
    "squeeze": np.squeeze, "clip": np.clip, "astype": np.asarray,
}
ARRAY_ATTRIBUTES_NONDIFF = {"shape", "ndim", "size", "dtype"}

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
    """One of 'rule', 'nondiff', 'identity', 'user', 'gradient', 'unknown'."""
    if getattr(fn, "__tapeflow_gradient__", False):
        return "gradient"
    if id(fn) in IDENTITY_IDS:
        return "identity"
    if rules.lookup(fn) is not None:
        return "rule"
    if id(fn) in NONDIFF_IDS:
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

