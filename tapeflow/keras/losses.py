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


_EPS = 1e-7   # Keras clips probabilities to [eps, 1 - eps]


def binary_crossentropy(y_true, y_pred, from_logits=False):
    """Per-sample mean over the last axis of -(y log p + (1 - y) log(1 - p))."""
    y_pred = _ops.as_tensor(y_pred)
    y_true = _ops.as_tensor(y_true, dtype=y_pred.dtype)
    rt = _ops.runtime
    if from_logits:
        values = rt.nn.sigmoid_cross_entropy_with_logits(labels=y_true, logits=y_pred)
    else:
        p = rt.clip_by_value(y_pred, _EPS, 1.0 - _EPS)
        values = -(y_true * rt.math.log(p) + (1.0 - y_true) * rt.math.log(1.0 - p))
    return _ops.reduce_mean(values, axis=-1)


def categorical_crossentropy(y_true, y_pred, from_logits=False):
    """-sum(y log p) over the last axis; p normalised to sum 1, then clipped."""
    y_pred = _ops.as_tensor(y_pred)
    y_true = _ops.as_tensor(y_true, dtype=y_pred.dtype)
    rt = _ops.runtime
    if from_logits:
        return -rt.reduce_sum(y_true * rt.nn.log_softmax(y_pred, axis=-1), axis=-1)
    p = y_pred / rt.reduce_sum(y_pred, axis=-1, keepdims=True)
    p = rt.clip_by_value(p, _EPS, 1.0 - _EPS)
    return -rt.reduce_sum(y_true * rt.math.log(p), axis=-1)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False):
    """categorical_crossentropy with integer class labels."""
    y_pred = _ops.as_tensor(y_pred)
    labels = _ops.to_numpy(y_true).astype("int64").reshape(-1)
    onehot = _ops.runtime.one_hot(labels, int(y_pred.shape[-1]), dtype=y_pred.dtype)
    onehot = _ops.runtime.reshape(onehot, tuple(y_pred.shape))
    return categorical_crossentropy(onehot, y_pred, from_logits=from_logits)


class BinaryCrossentropy(Loss):
    def __init__(self, from_logits=False, name="binary_crossentropy"):
        super().__init__(lambda t, p: binary_crossentropy(t, p, from_logits), name)


class CategoricalCrossentropy(Loss):
    def __init__(self, from_logits=False, name="categorical_crossentropy"):
        super().__init__(lambda t, p: categorical_crossentropy(t, p, from_logits), name)


class SparseCategoricalCrossentropy(Loss):
    def __init__(self, from_logits=False, name="sparse_categorical_crossentropy"):
        super().__init__(lambda t, p: sparse_categorical_crossentropy(t, p, from_logits), name)


def mean_absolute_error(y_true, y_pred):
    """Per-sample mean over the last axis of |y_pred - y_true|."""
    y_pred = _ops.as_tensor(y_pred)
    y_true = _ops.as_tensor(y_true, dtype=y_pred.dtype)
    return _ops.reduce_mean(_ops.runtime.abs(y_pred - y_true), axis=-1)


mae = MAE = mean_absolute_error


class MeanAbsoluteError(Loss):
    def __init__(self, name="mean_absolute_error"):
        super().__init__(mean_absolute_error, name)


def get(identifier):
    if callable(identifier):
        return identifier
    table = {"mse": mean_squared_error, "mean_squared_error": mean_squared_error,
             "mae": mean_absolute_error, "mean_absolute_error": mean_absolute_error,
             "binary_crossentropy": binary_crossentropy,
             "categorical_crossentropy": categorical_crossentropy,
             "sparse_categorical_crossentropy": sparse_categorical_crossentropy}
    try:
        return table[identifier]
    except KeyError:
        raise ValueError(f"Unknown loss {identifier!r}") from None
