"""Activation functions by Keras name ('relu', 'elu', 'gelu', 'swish', ..., 'linear'/None) or
callable; each is a runtime op (or a composition of them), so it is differentiable."""
from . import _ops

_nn = _ops.runtime.nn


def linear(x):
    return x


def relu(x):
    return _ops.relu(x)


def sigmoid(x):
    return _ops.sigmoid(x)


def tanh(x):
    return _ops.tanh(x)


def softmax(x, axis=-1):
    return _nn.softmax(x, axis=axis)


def log_softmax(x, axis=-1):
    return _nn.log_softmax(x, axis=axis)


def elu(x, alpha=1.0):
    y = _nn.elu(x)
    return y if alpha == 1.0 else _ops.runtime.where(x > 0, y, alpha * y)


def selu(x):
    return _nn.selu(x)


def gelu(x, approximate=False):
    return _nn.gelu(x, approximate=approximate)


def softplus(x):
    return _nn.softplus(x)


def softsign(x):
    return _nn.softsign(x)


def swish(x):
    return x * _ops.sigmoid(x)


silu = swish


def leaky_relu(x, negative_slope=0.2):
    return _nn.leaky_relu(x, alpha=negative_slope)


def relu6(x):
    return _nn.relu6(x)


def hard_sigmoid(x):
    """relu6(x + 3) / 6, Keras 3's definition."""
    return _nn.relu6(x + 3.0) / 6.0


def exponential(x):
    return _ops.runtime.exp(x)


def mish(x):
    return x * _ops.tanh(_nn.softplus(x))


_BY_NAME = {f.__name__: f for f in (linear, relu, sigmoid, tanh, softmax, log_softmax, elu, selu,
                                     gelu, softplus, softsign, swish, leaky_relu, relu6,
                                     hard_sigmoid, exponential, mish)}
_BY_NAME["silu"] = swish


def get(identifier):
    """The activation callable for a name, a callable, or None (identity)."""
    if identifier is None:
        return linear
    if callable(identifier):
        return identifier
    if isinstance(identifier, str):
        try:
            return _BY_NAME[identifier]
        except KeyError:
            raise ValueError(f"Unknown activation {identifier!r}; known: "
                             f"{', '.join(sorted(_BY_NAME))}, None or a callable") from None
    raise TypeError(f"activation must be a name, a callable or None, got {identifier!r}")


def serialize(activation):
    return getattr(activation, "__name__", repr(activation))
