"""Weight initializers: glorot_uniform (Dense kernels) and zeros (biases), made with numpy.

Random values come from the runtime's `tf.random.uniform`, so `tf.random.set_seed(s)` makes a model's
initial weights repeatable, exactly like any other draw of the program.
"""
import math

import numpy as np

from . import _ops


class GlorotUniform:
    """U(-limit, limit) with limit = sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio 2010)."""

    def __call__(self, shape, dtype="float32"):
        shape = tuple(int(d) for d in shape)
        if len(shape) < 1:
            fan_in = fan_out = 1
        elif len(shape) == 1:
            fan_in = fan_out = shape[0]
        else:
            receptive = math.prod(shape[:-2])  # 1 for a Dense kernel (fan_in, fan_out)
            fan_in, fan_out = shape[-2] * receptive, shape[-1] * receptive
        limit = math.sqrt(6.0 / max(1.0, fan_in + fan_out))
        return _ops.random_uniform(shape, -limit, limit, dtype)


class Zeros:
    def __call__(self, shape, dtype="float32"):
        return np.zeros(tuple(int(d) for d in shape), dtype=_ops.np_dtype(dtype))


glorot_uniform = GlorotUniform
zeros = Zeros

_BY_NAME = {"glorot_uniform": GlorotUniform, "zeros": Zeros}


def get(identifier):
    if callable(identifier) and not isinstance(identifier, type):
        return identifier
    if isinstance(identifier, type):
        return identifier()
    try:
        return _BY_NAME[identifier]()
    except (KeyError, TypeError):
        raise ValueError(f"Unknown initializer {identifier!r}; known: {', '.join(_BY_NAME)}") from None
