"""The one place where tapeflow.keras reaches into the runtime.

keras depends only on tapeflow.runtime (never on the compiler), so that its layers and losses are
ordinary recorded ops: gradients flow through any active GradientTape.
"""
import numpy as np

from tapeflow import runtime as _rt
from tapeflow.runtime.recording import stop_recording_all  # noqa: F401 (used by keras modules)

runtime = _rt
Tensor = _rt.Tensor
Variable = _rt.Variable
IndexedSlices = _rt.IndexedSlices
convert_to_tensor = _rt.convert_to_tensor
constant = _rt.constant
matmul = _rt.matmul
square = _rt.square
reduce_mean = _rt.reduce_mean
relu = _rt.nn.relu
sigmoid = _rt.sigmoid
tanh = _rt.tanh
softmax = _rt.nn.softmax


def np_dtype(dtype):
    """numpy dtype for a tapeflow DType, a name, or a numpy dtype."""
    return np.dtype(getattr(dtype, "as_numpy_dtype", dtype))


def to_numpy(x):
    """The value of a Tensor / Variable / array-like as a numpy array (not recorded)."""
    if isinstance(x, (Tensor, Variable)):
        return x.numpy()
    return np.asarray(x)


def as_tensor(x, dtype=None):
    """A Tensor for x, cast to dtype if given (a recorded cast when x is already a Tensor)."""
    if isinstance(x, (Tensor, Variable)):
        if dtype is not None and np_dtype(x.dtype) != np_dtype(dtype):
            return _rt.cast(x, dtype)
        return x
    if dtype is not None:
        return constant(np.asarray(x, dtype=np_dtype(dtype)))
    return constant(x)  # arrays keep their dtype; Python floats become float32 (TF's rule)


def to_input(x, dtype):
    """A layer input in the layer's dtype: numpy data is converted without recording (Keras-style
    autocast), a float Tensor of another dtype goes through a recorded cast."""
    return as_tensor(x, dtype)


def make_variable(value, name, trainable=True):
    return Variable(value, name=name, trainable=trainable)


def assign(variable, value):
    variable.assign(value)


def var_name(v):
    return getattr(v, "name", repr(v))


_name_counts = {}


def unique_name(base):
    """dense, dense_1, dense_2... like Keras's default layer names."""
    n = _name_counts.get(base, 0)
    _name_counts[base] = n + 1
    return base if n == 0 else f"{base}_{n}"


def draw_seed():
    """An integer seed drawn from the runtime's global stream (repeatable after set_seed)."""
    return int(_rt.random.uniform((), minval=0, maxval=2**31 - 1, dtype=_rt.int64).numpy())


def random_uniform(shape, low, high, dtype):
    """numpy array of U(low, high) values drawn by the runtime (repeatable after tf.random.set_seed)."""
    return np.asarray(_rt.random.uniform(shape, minval=low, maxval=high, dtype=dtype).numpy(),
                      dtype=np_dtype(dtype))
