"""tapeflow: gradients of ordinary Python/numpy functions, as readable Python and as native code.

``import tapeflow as tf`` also gives the TensorFlow-style eager API (GradientTape, Variable, ops).
"""
__version__ = "0.1.0"

# The TensorFlow-style runtime API (tf.GradientTape, tf.Variable, tf.constant, tf.nn.relu...).
from .runtime import *  # noqa: F401,F403
from .runtime import __all__ as _runtime_all
from .runtime import nn, math, random, linalg, autodiff, errors, dtypes  # noqa: F401
