"""``math`` as generated Python code sees it: IEEE results, as native code computes them.

Python's math raises where C's libm returns inf or nan (``math.log(-1.0)``, ``math.sqrt`` of a
negative) and Python floats raise ZeroDivisionError; native code returns the IEEE value. The
python backend binds this namespace in place of ``math``, so both backends agree: float64
results, math's value where it gives one, numpy's (and its warning) where math raises.
"""
import math
import types

import numpy as np

_NUMPY = {"sqrt": np.sqrt, "exp": np.exp, "expm1": np.expm1, "log": None, "log2": np.log2,
          "log10": np.log10, "log1p": np.log1p, "sin": np.sin, "cos": np.cos, "tan": np.tan,
          "asin": np.arcsin, "acos": np.arccos, "atan": np.arctan, "atan2": np.arctan2,
          "sinh": np.sinh, "cosh": np.cosh, "tanh": np.tanh, "asinh": np.arcsinh,
          "acosh": np.arccosh, "atanh": np.arctanh, "hypot": np.hypot, "fabs": np.fabs,
          "pow": np.power}


def _log(x, base=None):
    x = np.float64(x)
    return np.log(x) if base is None else np.log(x) / np.log(np.float64(base))


def _wrap(name, f):
    fast = getattr(math, name)

    def call(*args):
        # math's own function is libm's, as native code calls it (numpy's exp differs from both
        # in the last bit for a few percent of arguments), and faster; where math raises (a
        # domain or range error), numpy gives the IEEE value with its warning
        try:
            return np.float64(fast(*args))
        except (ValueError, OverflowError):
            return f(*[np.float64(a) for a in args])
    call.__name__ = name
    # a transform of the generated code (grad of grad) reads it as math's own function
    call.__tapeflow_primitive__ = getattr(math, name)
    return call


math_namespace = types.SimpleNamespace(**{k: getattr(math, k) for k in dir(math)
                                          if not k.startswith("_")})
for _name, _f in _NUMPY.items():
    setattr(math_namespace, _name, _wrap(_name, _log if _f is None else _f))
