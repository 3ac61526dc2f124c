"""What generated and compiled code specialise on: an argument's kind, and its type key.

A leaf module (numpy only), so the pipeline, normalize (for gradient calls inside a function)
and the API read the same definition without importing each other.
"""
import numbers

import numpy as np


def kind_of_argument(value, differentiated):
    """("float", 0), ("int", 0), ("bool", 0), ("array", ndim) or ("any", None): what the
    generated code is written for. A differentiated int or bool counts as a float."""
    if isinstance(value, np.ndarray) and value.ndim > 0:
        return ("array", value.ndim)
    if isinstance(value, (bool, np.bool_)) and not differentiated:
        return ("bool", 0)
    if isinstance(value, numbers.Integral) and not differentiated:
        return ("int", 0)
    if isinstance(value, (numbers.Real, np.ndarray)):
        return ("float", 0)
    if hasattr(value, "numpy"):
        return kind_of_argument(value.numpy(), differentiated)
    return ("any", None)


def type_key(args):
    """What the compiled code depends on: each argument's type, and an array's dtype and ndim
    (cheap enough for every call)."""
    if len(args) == 1:   # grad(f)(x): without the comprehension's frame, half the time
        a = args[0]
        return ((a.dtype, a.ndim) if type(a) is np.ndarray else type(a),)
    return tuple([(a.dtype, a.ndim) if type(a) is np.ndarray else type(a) for a in args])
