"""``math`` as generated Python code sees it: IEEE results, as native code computes them.

Python's math raises where C's libm returns inf or nan (``math.log(-1.0)``, ``math.sqrt`` of a
negative) and Python floats raise ZeroDivisionError; native code returns the IEEE value. The
python backend binds this namespace in place of ``math``, so both backends agree: float64
results, math's value where it gives one, numpy's (and its warning) where math raises.
"""
import math
import types

import gast
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

# what code may call and still be run again after it raised, with nothing changed by the run
_PURE_CALLS = {"range", "reversed", "len", "float", "int", "abs", "min", "max", "Stack"}
_WRITING_NUMPY = {"copyto", "put", "place", "putmask", "fill_diagonal", "put_along_axis"}
_RAISING_OPS = (gast.Div, gast.FloorDiv, gast.Mod, gast.Pow)


def runs_on_plain_floats(tree, helpers):
    """Whether code ``tree`` may run first on Python floats with Python's math (several times
    faster than numpy's scalars and the wrappers above), and again as IEEE code if that raises:
    no division, modulo or power (ZeroDivisionError, OverflowError, a complex power: on Python
    floats they raise or differ before anything could notice), so only math's domain and range
    errors are left; and the first run changes nothing the second would see: it writes into no
    array and calls only numpy, math, stacks, rule ``helpers`` and a few pure builtins (a user's
    callee could print or divide)."""
    for node in gast.walk(tree):
        if isinstance(node, (gast.BinOp, gast.AugAssign)) and isinstance(node.op, _RAISING_OPS):
            return False
        if isinstance(node, gast.Subscript) and isinstance(node.ctx, gast.Store):
            return False
        if isinstance(node, gast.Call):
            f = node.func
            if any(k.arg == "out" for k in node.keywords) or \
                    isinstance(f, gast.Attribute) and f.attr in _WRITING_NUMPY:
                return False
            if isinstance(f, gast.Name):
                if f.id not in _PURE_CALLS and f.id not in helpers:
                    return False
            elif not (isinstance(f, gast.Attribute) and isinstance(f.value, gast.Name) and
                      (f.value.id in ("np", "math") or f.attr in ("push", "pop"))):
                return False
    return True


def ieee_floats(fn, plain_fn=None):
    """``fn`` called with float arguments as numpy float64 (a float subclass): division by zero
    and invalid operations give inf/nan with numpy's warning, as native code computes, instead
    of ZeroDivisionError from Python floats. ``plain_fn``, the same code where only math can
    raise, runs first on the arguments as given; if math raises, ``fn`` runs instead."""
    def run(*args):
        return fn(*[np.float64(a) if type(a) is float else a for a in args])

    def plain_first(*args):
        try:
            return plain_fn(*args)
        except (ValueError, OverflowError):
            return run(*args)
    wrapper = run if plain_fn is None else plain_first
    wrapper.__wrapped__ = fn
    return wrapper
