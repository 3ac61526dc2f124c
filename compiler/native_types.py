"""The native backend's types (scalars, arrays, tuples, stacks), the types of argument values,
and numpy's promotion (NEP 50: Python literals are "weak" and adopt the other operand's kind)."""
from dataclasses import dataclass, field

import numpy as np


from .llvm.errors import TypingError


# ----------------------------------------------------------------------------------------- types

@dataclass(frozen=True)
class Scalar:
    name: str            # 'float64' | 'float32' | 'int64' | 'bool'

    def __repr__(self):
        return self.name

    @property
    def kind(self):
        return {"bool": 0, "int64": 1, "float32": 2, "float64": 2}[self.name]

    @property
    def is_float(self):
        return self.kind == 2

    @property
    def np_dtype(self):
        return np.dtype(self.name)


F64, F32, I64, BOOL = Scalar("float64"), Scalar("float32"), Scalar("int64"), Scalar("bool")
SCALARS = {t.name: t for t in (F64, F32, I64, BOOL)}


@dataclass(frozen=True)
class Array:
    dtype: Scalar
    ndim: int
    # The compiled code handles any strides, so layout is informative and not part of identity.
    layout: str = field(default="A", compare=False)

    def __repr__(self):
        return f"array({self.dtype}, {self.ndim}d)"


@dataclass(frozen=True)
class Tuple:
    items: tuple

    def __repr__(self):
        return "(" + ", ".join(map(repr, self.items)) + ("," if len(self.items) == 1 else "") + ")"


@dataclass(frozen=True)
class StackType:
    """A save stack; its element type lives in ``TypeInfo.stack_elems`` (pushes decide it)."""

    def __repr__(self):
        return "Stack"


@dataclass(frozen=True)
class NoneType_:
    def __repr__(self):
        return "None"


NONE = NoneType_()
STACK = StackType()


# --------------------------------------------------------------------------- argument types

def typeof(value, name="argument"):
    """The static type of a call argument: bool/int/float scalars and numpy arrays of those."""
    if isinstance(value, (bool, np.bool_)):
        return BOOL
    if isinstance(value, (int, np.integer)) and not isinstance(value, np.uint64):
        return I64
    if isinstance(value, np.float32):
        return F32
    if isinstance(value, (float, np.floating)) and not isinstance(value, np.longdouble):
        return F64
    if isinstance(value, np.ndarray):
        dt = value.dtype
        for t in (F64, F32, I64, BOOL):
            if dt == t.np_dtype:
                layout = "C" if value.flags.c_contiguous else ("F" if value.flags.f_contiguous else "A")
                return Array(t, value.ndim, layout)
        raise TypingError(f"{name}: unsupported array dtype {dt}")
    if isinstance(value, tuple):
        return Tuple(tuple(typeof(v, name) for v in value))
    raise TypingError(f"{name}: unsupported argument type {type(value).__name__}")


def signature(args):
    """The argument types of a call: the key to compile (and cache) a native version under."""
    return tuple(typeof(a, f"argument {i}") for i, a in enumerate(args))


# --------------------------------------------------------------------------------- promotion

def _default(kind):
    return (BOOL, I64, F64)[kind]


def promote(a, aw, b, bw):
    """Result dtype of an arithmetic op between scalar dtypes a and b (aw/bw: weak literal)."""
    if a == b:
        return a
    if aw != bw:
        strong, weak = (b, a) if aw else (a, b)
        return strong if strong.kind >= weak.kind else _default(weak.kind)
    if a.kind != b.kind:
        return a if a.kind > b.kind else b
    return F64  # float32 with float64


def unify(old, new):
    """The type a name keeps when assigned values of types old and new (None: not yet known)."""
    if old is None or old == new:
        return new
    if new is None:
        return old
    if isinstance(old, Scalar) and isinstance(new, Scalar):
        if old.is_float or new.is_float:
            return F64 if F64 in (old, new) or not (old == F32 or new == F32) else F32
        return I64
    if isinstance(old, Array) and isinstance(new, Array) and old.ndim == new.ndim:
        return Array(unify(old.dtype, new.dtype), old.ndim)
    # a scalar stored in an array-typed name (e.g. an adjoint reset with `da = 0.0`) becomes a
    # 1-element array broadcastable to any shape: arithmetic then gives numpy's results
    if isinstance(old, Array) and isinstance(new, Scalar):
        return Array(unify(old.dtype, new), old.ndim)
    if isinstance(old, Scalar) and isinstance(new, Array):
        return Array(unify(old, new.dtype), new.ndim)
    if isinstance(old, Tuple) and isinstance(new, Tuple) and len(old.items) == len(new.items):
        return Tuple(tuple(unify(a, b) for a, b in zip(old.items, new.items)))
    return _Conflict(old, new)


@dataclass(frozen=True)
class _Conflict:
    a: object
    b: object


def dtype_of(t):
    return t.dtype if isinstance(t, Array) else t


def ndim_of(t):
    return t.ndim if isinstance(t, Array) else 0


def make(dtype, ndim):
    return Array(dtype, ndim) if ndim else dtype


class _Unknown(Exception):
    """A name read before any assignment typed it (retried in the next fixed-point pass)."""
