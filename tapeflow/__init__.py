"""tapeflow: gradients of ordinary Python/numpy functions, as readable Python and as native code.

``import tapeflow as tf`` also gives the TensorFlow-style eager API (GradientTape, Variable, ops).
"""
__version__ = "0.1.0"

# The TensorFlow-style runtime API (tf.GradientTape, tf.Variable, tf.constant, tf.nn.relu...).
from .runtime import *  # noqa: F401,F403
from .runtime import __all__ as _runtime_all
from .runtime import nn, math, random, linalg, autodiff, errors, dtypes  # noqa: F401
from . import keras  # noqa: E402,F401  (tf.keras; keras imports only tapeflow.runtime)

# The source-transform compiler (tapeflow.grad, tapeflow.source, ...).
from .compiler.api import grad, value_and_grad, differentiable, source, explain  # noqa: E402
from .compiler.errors import TransformError  # noqa: E402
from .compiler.api import jit  # noqa: E402
# forward mode (tangent code): jvp, jacfwd, hessian (forward over reverse), hvp
from .compiler.transforms import jvp, jacfwd, hessian, hvp  # noqa: E402,F401
# reverse mode for any output structure: vjp, jacrev
from .compiler.vjp import vjp, jacrev  # noqa: E402,F401
from .cli import build  # noqa: E402,F401  (tapeflow.build: ahead-of-time modules)
