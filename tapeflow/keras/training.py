"""``compile`` / ``fit`` / ``evaluate`` / ``predict``: the GradientTape loop of TF's guides, run
over mini-batches (no callbacks, metrics or distribution; the loss is all that is reported)."""
import numpy as np

from . import _ops, losses, optimizers


class History:
    def __init__(self):
        self.history = {}
        self.epoch = []


class TrainingMixin:
    optimizer = None
    loss = None

    def compile(self, optimizer="rmsprop", loss=None, metrics=None, **ignored):
        self.optimizer = optimizers.get(optimizer)
        self.loss = losses.get(loss) if loss is not None else None
        self.compiled_metrics = metrics

    def _loss_value(self, y, y_pred):
        if self.loss is None:
            raise ValueError("No loss to compute: call model.compile(optimizer, loss) first.")
        value = self.loss(y, y_pred)
        return _ops.reduce_mean(value) if tuple(value.shape) else value

    def train_on_batch(self, x, y):
        with _ops.runtime.GradientTape() as tape:
            loss = self._loss_value(y, self(x, training=True))
        variables = self.trainable_variables
        grads = tape.gradient(loss, variables)
        self.optimizer.apply_gradients(zip(grads, variables))
        return float(loss.numpy())

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", shuffle=True,
            validation_data=None, initial_epoch=0, **ignored):
        if self.optimizer is None:
            raise RuntimeError("You must call `compile()` before using the model.")
        x, y = np.asarray(_ops.to_numpy(x)), np.asarray(_ops.to_numpy(y))
        n = len(x)
        batch_size = batch_size or 32
        history = History()
        for epoch in range(initial_epoch, epochs):
            order = (np.random.default_rng(_ops.draw_seed()).permutation(n) if shuffle
                     else np.arange(n))
            total = 0.0
            for start in range(0, n, batch_size):
                idx = order[start:start + batch_size]
                total += self.train_on_batch(x[idx], y[idx]) * len(idx)
            history.epoch.append(epoch)
            history.history.setdefault("loss", []).append(total / n)
            if validation_data is not None:
                val = self.evaluate(*validation_data[:2], batch_size=batch_size, verbose=0)
                history.history.setdefault("val_loss", []).append(val)
            if verbose not in (0, False):
                print(f"Epoch {epoch + 1}/{epochs} - loss: {total / n:.4f}")
        self.history = history
        return history

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", **ignored):
        x, y = np.asarray(_ops.to_numpy(x)), np.asarray(_ops.to_numpy(y))
        n, batch_size = len(x), batch_size or 32
        total = 0.0
        for start in range(0, n, batch_size):
            sl = slice(start, start + batch_size)
            pred = self(x[sl], training=False)
            total += float(self._loss_value(y[sl], pred).numpy()) * len(x[sl])
        return total / n

    def predict(self, x, batch_size=None, verbose="auto", **ignored):
        x = np.asarray(_ops.to_numpy(x))
        batch_size = batch_size or 32
        parts = [_ops.to_numpy(self(x[s:s + batch_size], training=False))
                 for s in range(0, len(x), batch_size)]
        return np.concatenate(parts, axis=0)
