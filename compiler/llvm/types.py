"""LLVM data models of the backend's types, and the compile-time values that carry them.

* Scalars are SSA values: double, float, i64, i1 (bool is i8 only at the C entry boundary).
* An array is a data pointer plus ``ndim`` extents and ``ndim`` strides counted in *elements*
  (numpy's byte strides are divided once at entry), so an element address is one GEP.
* A tuple is an LLVM literal struct of its items; a stack is {data, len, cap} in memory.
Locals live in allocas of these types; SROA/mem2reg turn them back into SSA registers.
"""
from llvmlite import ir

from .. import typing as T

I1 = ir.IntType(1)
I8 = ir.IntType(8)
I32 = ir.IntType(32)
I64 = ir.IntType(64)
F64 = ir.DoubleType()
F32 = ir.FloatType()
PTR = ir.PointerType()
VOID = ir.VoidType()

STACK_STRUCT = ir.LiteralStructType([PTR, I64, I64])     # data, length, capacity (elements)
# Per-call context shared by all functions of one compiled call: the arena of temporaries and
# the error record the wrapper turns into a Python exception.
CTX_STRUCT = ir.LiteralStructType([PTR, I64, I64, I64, I64])   # arena head, msg id, a, b, c


def scalar_ll(t):
    return {"float64": F64, "float32": F32, "int64": I64, "bool": I1}[t.name]


def elem_ll(t):
    """In-memory element type (bool arrays hold bytes)."""
    return I8 if t == T.BOOL else scalar_ll(t)


def itemsize(t):
    return {"float64": 8, "float32": 4, "int64": 8, "bool": 1}[t.name]


def array_ll(ndim):
    return ir.LiteralStructType([PTR, ir.ArrayType(I64, ndim), ir.ArrayType(I64, ndim)])


def ll_type(t):
    """The LLVM type of a value of static type ``t`` (as held in a local)."""
    if isinstance(t, T.Scalar):
        return scalar_ll(t)
    if isinstance(t, T.Array):
        return array_ll(t.ndim)
    if isinstance(t, T.Tuple):
        return ir.LiteralStructType([ll_type(x) for x in t.items])
    if t == T.STACK:
        return STACK_STRUCT
    if t == T.NONE:
        return ir.LiteralStructType([])
    raise TypeError(t)


class ArrayVal:
    """An array at compile time: SSA values for its data pointer, extents and strides."""

    def __init__(self, typ, data, shape, strides):
        assert len(shape) == len(strides) == typ.ndim
        self.type = typ
        self.data = data
        self.shape = list(shape)
        self.strides = list(strides)

    @property
    def ndim(self):
        return self.type.ndim

    @property
    def dtype(self):
        return self.type.dtype


class TupleVal:
    def __init__(self, typ, items):
        self.type = typ
        self.items = list(items)


def pack(builder, t, v):
    """Compile-time value -> LLVM aggregate (to store in a local or pass to a function)."""
    if isinstance(t, T.Scalar):
        return v
    if isinstance(t, T.Array):
        agg = ir.Constant(array_ll(t.ndim), ir.Undefined)
        agg = builder.insert_value(agg, v.data, 0)
        for k in range(t.ndim):
            agg = builder.insert_value(agg, v.shape[k], [1, k])
            agg = builder.insert_value(agg, v.strides[k], [2, k])
        return agg
    if isinstance(t, T.Tuple):
        agg = ir.Constant(ll_type(t), ir.Undefined)
        for k, (it, iv) in enumerate(zip(t.items, v.items)):
            agg = builder.insert_value(agg, pack(builder, it, iv), k)
        return agg
    if t == T.NONE:
        return ir.Constant(ll_type(t), ir.Undefined)
    raise TypeError(t)


def unpack(builder, t, agg):
    """LLVM aggregate -> compile-time value."""
    if isinstance(t, T.Scalar):
        return agg
    if isinstance(t, T.Array):
        data = builder.extract_value(agg, 0)
        shape = [builder.extract_value(agg, [1, k]) for k in range(t.ndim)]
        strides = [builder.extract_value(agg, [2, k]) for k in range(t.ndim)]
        return ArrayVal(t, data, shape, strides)
    if isinstance(t, T.Tuple):
        return TupleVal(t, [unpack(builder, it, builder.extract_value(agg, k)) for k, it in enumerate(t.items)])
    if t == T.NONE:
        return None
    raise TypeError(t)


def flat_ll(t):
    """LLVM parameter types of a value passed flattened (arrays: data, extents, strides)."""
    if isinstance(t, T.Scalar):
        return [scalar_ll(t)]
    if isinstance(t, T.Array):
        return [PTR] + [I64] * (2 * t.ndim)
    if isinstance(t, T.Tuple):
        return [ll for it in t.items for ll in flat_ll(it)]
    raise TypeError(t)


def flatten(t, v):
    if isinstance(t, T.Scalar):
        return [v]
    if isinstance(t, T.Array):
        return [v.data] + list(v.shape) + list(v.strides)
    if isinstance(t, T.Tuple):
        return [x for it, iv in zip(t.items, v.items) for x in flatten(it, iv)]
    raise TypeError(t)


def unflatten(t, args):
    """Consume LLVM arguments (an iterator) back into a compile-time value."""
    if isinstance(t, T.Scalar):
        return next(args)
    if isinstance(t, T.Array):
        data = next(args)
        shape = [next(args) for _ in range(t.ndim)]
        strides = [next(args) for _ in range(t.ndim)]
        return ArrayVal(t, data, shape, strides)
    if isinstance(t, T.Tuple):
        return TupleVal(t, [unflatten(it, args) for it in t.items])
    raise TypeError(t)


def alloca(builder, ty, name=""):
    """An alloca typed as an opaque ``ptr`` (llvmlite's GEP with ``source_etype`` keeps the
    pointer's type, so typed allocas would make later stores through GEPs mismatch)."""
    inst = builder.alloca(ty, name=name)
    inst.type = PTR
    return inst
