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
