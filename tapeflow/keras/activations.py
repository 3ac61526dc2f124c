"""Activation functions by name ('relu', 'sigmoid', 'tanh', 'softmax', 'linear'/None) or callable."""
from . import _ops


def linear(x):
    return x


def relu(x):
    return _ops.relu(x)


def sigmoid(x):
    return _ops.sigmoid(x)


def tanh(x):
    return _ops.tanh(x)


def softmax(x):
    return _ops.softmax(x)


_BY_NAME = {"linear": linear, "relu": relu, "sigmoid": sigmoid, "tanh": tanh, "softmax": softmax}


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
