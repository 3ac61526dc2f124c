"""The primitive table's views by native family, and the small readers of call syntax the
native typing shares (names of calls, constant values, dtype spellings)."""
import ast
import math

import numpy as np

from tapeflow.runtime import rules

from .llvm.errors import TypingError
from .native_types import BOOL, F32, F64, I64

def native_family(name, method=False):
    """The family under which native code types and lowers ``np.<name>`` (or the array method
    ``.<name>()``): read off the primitive table (runtime/rules), None if it has none."""
    fn = rules.method(name) if method else getattr(np, name, None)
    entry = rules.entry_of(fn) if fn is not None else None
    return entry.native if entry is not None else None


def _names(family, module=np):
    return {c.__name__ for e in rules.ENTRIES if e.native == family for c in e.callables
            if getattr(module, getattr(c, "__name__", ""), None) is c}


# views of the table, by family
HELPERS = {c.__name__ for e in rules.ENTRIES if e.native == "helper" for c in e.callables}
UNARY_FLOAT = _names("unary_float")
UNARY_SAME = _names("unary_same")
REDUCTIONS = _names("reduction")
MATH_FLOAT = {n for f in ("unary_float", "unary_same", "binary", "math") for n in _names(f, math)}
DTYPE_NAMES = {"float64": F64, "float32": F32, "int64": I64, "bool_": BOOL, "bool": BOOL,
               "float": F64, "int": I64, "double": F64, "single": F32, "intp": I64}


def call_name(func):
    """'np.sin' / 'math.exp' / 'abs' / 'g' for the func node of a call, or None."""
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        mod = func.value.id
        if mod in ("np", "numpy"):
            return "np." + func.attr
        if mod == "math":
            return "math." + func.attr
    return None


def range_call(it):
    """The range(...) call of a for loop's iterator, looking through reversed(...)."""
    if (isinstance(it, ast.Call) and call_name(it.func) == "reversed" and len(it.args) == 1
            and not it.keywords):
        return it.args[0]
    return it


def const_value(node, consts=None):
    """The Python value of a constant node (ints, floats, None, tuples of them), else raise."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -const_value(node.operand, consts)
    if isinstance(node, ast.Tuple):
        return tuple(const_value(e, consts) for e in node.elts)
    if isinstance(node, ast.Name) and consts is not None and node.id in consts:
        return consts[node.id]
    raise TypingError("expected a constant", getattr(node, "lineno", None))


def dtype_from_node(node, constants=None):
    """The dtype a node names; ``constants``: module-level names (normalize lifts ``np.int64``
    to such a name, bound to the numpy type)."""
    if isinstance(node, ast.Name) and constants and node.id in constants:
        try:
            dtype_name = np.dtype(constants[node.id]).name
        except TypeError:
            dtype_name = None
        if dtype_name in DTYPE_NAMES:
            return DTYPE_NAMES[dtype_name]
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in ("np", "numpy"):
        if node.attr in DTYPE_NAMES:
            return DTYPE_NAMES[node.attr]
    if isinstance(node, ast.Name) and node.id in ("float", "int", "bool"):
        return DTYPE_NAMES[node.id]
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in DTYPE_NAMES:
        return DTYPE_NAMES[node.value]
    raise TypingError("unsupported dtype", getattr(node, "lineno", None))
