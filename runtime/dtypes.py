"""TensorFlow-style dtype objects (``tf.float32``...) over numpy dtypes."""
import numpy as np

__all__ = ["DType", "as_dtype", "float16", "float32", "float64", "bfloat16", "half", "double",
           "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "bool",
           "string", "complex64", "complex128", "TRAINABLE"]


class DType:
    """A dtype with TF's names and repr (``<dtype: 'float32'>``); compares equal to numpy dtypes."""
    __slots__ = ("name", "as_numpy_dtype", "_np")

    def __init__(self, name, np_dtype):
        self.name = name
        self._np = np.dtype(np_dtype)
        self.as_numpy_dtype = self._np.type

    # numpy accepts any object with a ``dtype`` attribute where it wants a dtype (np.zeros(.., dtype=tf.float32)).
    @property
    def dtype(self):
        return self._np

    @property
    def is_floating(self):
        return self._np.kind == "f"

    @property
    def is_integer(self):
        return self._np.kind in "iu"

    @property
    def is_complex(self):
        return self._np.kind == "c"

    @property
    def is_bool(self):
        return self._np.kind == "b"

    @property
    def size(self):
        return self._np.itemsize

    @property
    def min(self):
        return np.finfo(self._np).min if self.is_floating else np.iinfo(self._np).min

    @property
    def max(self):
        return np.finfo(self._np).max if self.is_floating else np.iinfo(self._np).max

    @property
    def base_dtype(self):
        return self

    def __repr__(self):
        return f"<dtype: '{self.name}'>"

    def __str__(self):
        return repr(self)

    def __eq__(self, other):
        if isinstance(other, DType):
            return self._np == other._np and self.name == other.name
        try:
            return as_dtype(other) is self
        except TypeError:
            return False

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash(self.name)

    def __reduce__(self):
        return as_dtype, (self.name,)


float16 = half = DType("float16", np.float16)
float32 = DType("float32", np.float32)
float64 = double = DType("float64", np.float64)
# numpy has no bfloat16; it is stored as float32 (documented limitation).
bfloat16 = DType("bfloat16", np.float32)
int8 = DType("int8", np.int8)
int16 = DType("int16", np.int16)
int32 = DType("int32", np.int32)
int64 = DType("int64", np.int64)
uint8 = DType("uint8", np.uint8)
uint16 = DType("uint16", np.uint16)
uint32 = DType("uint32", np.uint32)
uint64 = DType("uint64", np.uint64)
bool = DType("bool", np.bool_)  # noqa: A001  (TF's name)
string = DType("string", np.object_)
complex64 = DType("complex64", np.complex64)
complex128 = DType("complex128", np.complex128)

_BY_NP = {d._np: d for d in (float16, float32, float64, int8, int16, int32, int64, uint8, uint16,
                             uint32, uint64, bool, complex64, complex128)}
_BY_NAME = {d.name: d for d in list(_BY_NP.values()) + [string, bfloat16]}
_BY_NAME.update(half=float16, double=float64)

# numpy dtypes whose values carry gradients (TF: floating and complex).
TRAINABLE = frozenset(np.dtype(t) for t in (np.float16, np.float32, np.float64,
                                            np.complex64, np.complex128))


def as_dtype(x):
    """The DType for a DType, a name, a numpy dtype or type, or a Python type."""
    if isinstance(x, DType):
        return x
    if isinstance(x, str):
        try:
            return _BY_NAME[x]
        except KeyError:
            raise TypeError(f"Cannot convert value {x!r} to a TensorFlow DType.") from None
    if x is float:
        return float32
    if x is int:
        return int32
    if x is type(True):
        return bool
    try:
        d = np.dtype(x)
    except TypeError:
        raise TypeError(f"Cannot convert value {x!r} to a TensorFlow DType.") from None
    if d.kind in "USO":
        return string
    try:
        return _BY_NP[d]
    except KeyError:
        raise TypeError(f"Cannot convert value {x!r} to a TensorFlow DType.") from None


def np_dtype(x):
    """The numpy dtype of a DType-like (None stays None)."""
    return None if x is None else as_dtype(x)._np
