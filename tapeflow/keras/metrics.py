"""Streaming metrics. Their state is plain numpy (never recorded on a tape)."""
import numpy as np

from . import _ops


class Mean:
    """Running (weighted) mean of the values given to ``update_state``."""

    def __init__(self, name="mean", dtype="float32"):
        self.name = name
        self.dtype = _ops.np_dtype(dtype)
        self.reset_state()

    def reset_state(self):
        self.total = 0.0
        self.count = 0.0

    reset_states = reset_state  # TF 2.0-era name used by the seeds

    def _values(self, *args):
        return np.asarray(_ops.to_numpy(args[0]), dtype=np.float64)

    def update_state(self, *args, sample_weight=None):
        values = self._values(*args)
        if sample_weight is None:
            self.total += float(values.sum())
            self.count += float(values.size)
        else:
            w = np.broadcast_to(np.asarray(_ops.to_numpy(sample_weight), dtype=np.float64),
                                values.shape)
            self.total += float((values * w).sum())
            self.count += float(w.sum())

    def result(self):
        value = self.total / self.count if self.count else 0.0
        return _ops.constant(np.asarray(value, dtype=self.dtype))

    def __call__(self, *args, sample_weight=None):
        self.update_state(*args, sample_weight=sample_weight)
        return self.result()


class MeanSquaredError(Mean):
    """Mean over all samples of the per-sample MSE (mean over the last axis)."""

    def __init__(self, name="mean_squared_error", dtype="float32"):
        super().__init__(name=name, dtype=dtype)

    def _values(self, y_true, y_pred):
        y_pred = np.asarray(_ops.to_numpy(y_pred), dtype=self.dtype)
        y_true = np.asarray(_ops.to_numpy(y_true), dtype=self.dtype)
        return np.mean(np.square(y_pred - y_true), axis=-1, dtype=np.float64)

    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(y_true, y_pred, sample_weight=sample_weight)


class MeanAbsoluteError(MeanSquaredError):
    def __init__(self, name="mean_absolute_error", dtype="float32"):
        Mean.__init__(self, name=name, dtype=dtype)

    def _values(self, y_true, y_pred):
        y_pred = np.asarray(_ops.to_numpy(y_pred), dtype=self.dtype)
        y_true = np.asarray(_ops.to_numpy(y_true), dtype=self.dtype)
        return np.mean(np.abs(y_pred - y_true), axis=-1, dtype=np.float64)


class _Accuracy(MeanSquaredError):
    """The fraction of samples whose prediction matches (``_match`` gives 1.0 or 0.0 each)."""

    def _values(self, y_true, y_pred):
        return self._match(np.asarray(_ops.to_numpy(y_true)), np.asarray(_ops.to_numpy(y_pred)))


class Accuracy(_Accuracy):
    def __init__(self, name="accuracy", dtype="float32"):
        Mean.__init__(self, name=name, dtype=dtype)

    def _match(self, y_true, y_pred):
        return (y_true == y_pred).astype(np.float64)


class BinaryAccuracy(_Accuracy):
    def __init__(self, name="binary_accuracy", dtype="float32", threshold=0.5):
        Mean.__init__(self, name=name, dtype=dtype)
        self.threshold = threshold

    def _match(self, y_true, y_pred):
        return (y_true == (y_pred > self.threshold)).astype(np.float64).mean(axis=-1)


class CategoricalAccuracy(_Accuracy):
    def __init__(self, name="categorical_accuracy", dtype="float32"):
        Mean.__init__(self, name=name, dtype=dtype)

    def _match(self, y_true, y_pred):
        return (np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1)).astype(np.float64)


class SparseCategoricalAccuracy(_Accuracy):
    def __init__(self, name="sparse_categorical_accuracy", dtype="float32"):
        Mean.__init__(self, name=name, dtype=dtype)

    def _match(self, y_true, y_pred):
        labels = y_true.reshape(y_pred.shape[:-1]).astype(np.int64)
        return (labels == np.argmax(y_pred, axis=-1)).astype(np.float64)


def get(identifier, y_true=None, y_pred=None):
    """A metric object from a name or an object; 'accuracy' picks the binary, categorical or
    sparse variant from the shapes, as Keras does."""
    if not isinstance(identifier, str):
        return identifier
    if identifier in ("accuracy", "acc"):
        if y_pred is not None and np.shape(y_pred)[-1] == 1:
            return BinaryAccuracy(name=identifier)
        if y_true is not None and np.ndim(y_true) == np.ndim(y_pred) \
                and np.shape(y_true)[-1] == np.shape(y_pred)[-1]:
            return CategoricalAccuracy(name=identifier)
        return SparseCategoricalAccuracy(name=identifier)
    table = {"mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
             "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
             "binary_accuracy": BinaryAccuracy, "categorical_accuracy": CategoricalAccuracy,
             "sparse_categorical_accuracy": SparseCategoricalAccuracy}
    if identifier not in table:
        raise ValueError(f"Unknown metric {identifier!r}")
    return table[identifier](name=identifier)
