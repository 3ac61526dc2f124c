"""How an op is run: convert the operands, compute with numpy, record on the active tapes.

The factories build one closure per op so the per-call path is a few type checks, one numpy call,
one Tensor allocation and (only while a tape is active) one ``record``.
"""
import sys

import numpy as np

from .rules import RULES
from .recording import state, record
from .tensor import (InvalidArgumentError, Tensor, convert_to_tensor, strict, _python_value_to_numpy,
                     _scalarize)

__all__ = ["unary", "binary", "operand", "nondiff_binary", "nondiff_unary", "as_tensor", "wrap",
           "OPS", "op_for"]

# table entry name -> the TensorFlow-style op that runs it (with TF's operand conversion); the
# numpy protocols (numpy_dispatch.UFUNCS) send an entry's numpy callables to this op
OPS = {}


def op_for(name, op):
    """Register ``op`` as the op of the table entry ``name`` (the first registration wins)."""
    OPS.setdefault(name, op)
    return op


def as_tensor(x):
    return x if type(x) is Tensor else convert_to_tensor(x)


def wrap(v):
    """A Tensor of a numpy result (0-d arrays become scalars)."""
    if type(v) is np.ndarray and v.ndim == 0 and v.dtype.kind != "O":
        v = v[()]
    elif not isinstance(v, (np.ndarray, np.generic)):
        v = np.asarray(v)[()]
    return Tensor(v)


def operand(y, xv):
    """A non-Tensor operand ``y`` next to the numpy value ``xv``: (what to record, its value).

    As in TF, Python numbers and lists take the other operand's dtype; a Python scalar is passed to
    numpy as is, where it is a "weak" scalar that keeps the array's dtype (no conversion cost).
    """
    ty = type(y)
    if ty is float or ty is int:
        k = xv.dtype.kind
        if k == "f" or k == "c":
            return y, y
        if k in "iu":
            if ty is float and not y.is_integer():
                raise TypeError(f"Cannot convert {y!r} to EagerTensor of dtype {xv.dtype.name}")
            return y, int(y)
        if k == "b":
            return y, y  # numpy's promotion (1 - mask is an int array), as rules expect
        v = np.asarray(y, dtype=xv.dtype)[()]
        return v, v
    if isinstance(y, Tensor):
        return y, y._v
    if hasattr(y, "_read"):  # Variable: a recorded read
        t = y._read()
        return t, t._v
    if ty is bool:
        v = np.bool_(y)
        return v, v
    if isinstance(y, (np.ndarray, np.generic)):
        if y.dtype != xv.dtype and xv.dtype.kind in "fc" and y.dtype.kind in "biuf":
            y = y.astype(xv.dtype)
        v = _scalarize(y)
        return v, v
    if isinstance(y, (list, tuple)):
        t = convert_to_tensor(y, dtype=xv.dtype if xv.dtype.kind in "fciu" else None)
        return t, t._v
    t = convert_to_tensor(y)
    return t, t._v


def unary(rule_name, npfn):
    """An op of one input."""
    r = RULES[rule_name]

    def op(x, name=None):
        if type(x) is not Tensor:
            x = convert_to_tensor(x)
        xv = x._v
        out = Tensor(npfn(xv))
        if state.tapes:
            record(r, out, (x,), (xv,))
        return out
    return op_for(rule_name, op)


def pair(x, y):
    """Both operands of a binary op as Tensors with their values; a non-Tensor operand takes
    the other's dtype, as TensorFlow converts Python numbers."""
    if type(x) is Tensor:
        xv = x._v
        if type(y) is Tensor:
            return x, xv, y, y._v
        y, yv = operand(y, xv)
    elif type(y) is Tensor:
        yv = y._v
        x, xv = operand(x, yv)
    else:
        x = convert_to_tensor(x)
        xv = x._v
        y, yv = operand(y, xv)
    return x, xv, y, yv


# TF's names of dtypes in kernel messages
_KERNEL_NAMES = {"float32": "float", "float64": "double", "float16": "half"}


def numpy_semantics(depth):
    """True where numpy's rules apply instead of TF's: in tapeflow's own code (derivative rules
    running on Tensors, helpers, layers), which the frame ``depth`` levels up belongs to, and under
    the strict tracing of plain numpy functions (the tape backend of ``grad``). User code calling
    TF-style ops, or numpy on Tensors, gets TF's semantics."""
    if strict.guard is not None:
        return True
    return sys._getframe(depth + 1).f_globals.get("__name__", "").startswith("tapeflow.")


def check_same_dtype(op_name, xv, yv, depth=2):
    """TF does not promote: two tensors of different numeric dtypes are refused, naming both
    (called by the op, ``depth`` frames below its caller)."""
    a, b = xv.dtype, yv.dtype
    if a != b and a.kind in "fiuc" and b.kind in "fiuc" and not numpy_semantics(depth):
        raise InvalidArgumentError(
            f"cannot compute {op_name} as input #1(zero-based) was expected to be a "
            f"{_KERNEL_NAMES.get(a.name, a.name)} tensor but is a "
            f"{_KERNEL_NAMES.get(b.name, b.name)} tensor [Op:{op_name}] name: ")


def shape_text(v):
    return "[" + ",".join(str(n) for n in np.shape(v)) + "]"


def broadcast_error(op_name, xv, yv):
    return InvalidArgumentError(f"Incompatible shapes: {shape_text(xv)} vs. {shape_text(yv)} "
                                f"[Op:{op_name}] name: ")


def binary(rule_name, npfn):
    """An op of two inputs."""
    r = RULES[rule_name]

    def op(x, y, name=None):
        x, xv, y, yv = pair(x, y)
        if type(y) is Tensor and type(x) is Tensor and xv.dtype != yv.dtype:
            check_same_dtype(rule_name, xv, yv)
        try:
            out = Tensor(npfn(xv, yv))
        except ValueError:
            raise broadcast_error(rule_name, xv, yv) from None
        if state.tapes:
            record(r, out, (x, y), (xv, yv))
        return out
    return op_for(rule_name, op)


def _values(x, y):
    if type(x) is Tensor:
        xv = x._v
        yv = y._v if type(y) is Tensor else operand(y, xv)[1]
    elif type(y) is Tensor:
        yv = y._v
        xv = operand(x, yv)[1]
    else:
        xv = convert_to_tensor(x)._v
        yv = operand(y, xv)[1]
    return xv, yv


def nondiff_binary(npfn, entry=None):
    """An op with no gradient (comparisons, logical ops): never recorded. ``entry``: the name of
    the table's nondiff entry it runs, if any."""
    def op(x, y, name=None):
        xv, yv = _values(x, y)
        return wrap(npfn(xv, yv))
    return op if entry is None else op_for(entry, op)


def nondiff_unary(npfn, entry=None):
    def op(x, name=None):
        return wrap(npfn(as_tensor(x)._v))
    return op if entry is None else op_for(entry, op)


def python_value(x, dtype=None):
    return _python_value_to_numpy(x, dtype)
