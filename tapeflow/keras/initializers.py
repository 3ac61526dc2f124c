"""Weight initializers: glorot_uniform (Dense kernels) and zeros (biases), made with numpy.

Values are drawn from a numpy Generator. When the runtime's global seed is set
(`tf.random.set_seed`), each initializer call gets the next seed of a sequence derived from it, so a
model built after `set_seed(s)` always starts from the same weights; otherwise fresh OS entropy.
"""
import math

import numpy as np

from . import _ops


def _generator():
    return np.random.default_rng(_ops.next_seed())


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
        return _generator().uniform(-limit, limit, size=shape).astype(_ops.np_dtype(dtype))


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
