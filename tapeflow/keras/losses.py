"""Losses built from recorded ops, so they are differentiable through a GradientTape."""
from . import _ops


def mean_squared_error(y_true, y_pred):
    """Per-sample mean over the last axis of (y_pred - y_true)**2 (y_true is cast to y_pred's dtype)."""
    y_pred = _ops.as_tensor(y_pred)
    y_true = _ops.as_tensor(y_true, dtype=y_pred.dtype)
    return _ops.reduce_mean(_ops.square(y_pred - y_true), axis=-1)


mse = MSE = mean_squared_error


class Loss:
    """A loss object: per-sample values, optionally weighted, averaged over the batch."""

    def __init__(self, fn, name):
        self.fn = fn
        self.name = name

    def __call__(self, y_true, y_pred, sample_weight=None):
        values = self.fn(y_true, y_pred)
        if sample_weight is not None:
            values = values * _ops.as_tensor(sample_weight, dtype=values.dtype)
        return _ops.reduce_mean(values)


class MeanSquaredError(Loss):
    def __init__(self, name="mean_squared_error"):
        super().__init__(mean_squared_error, name)


def get(identifier):
    if callable(identifier):
        return identifier
    table = {"mse": mean_squared_error, "mean_squared_error": mean_squared_error}
    try:
        return table[identifier]
    except KeyError:
        raise ValueError(f"Unknown loss {identifier!r}") from None
