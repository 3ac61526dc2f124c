"""``compile`` / ``fit`` / ``evaluate`` / ``predict``: the GradientTape loop of TF's guides, run
over mini-batches. Reported per epoch: the loss (mean over samples) and the compiled metrics
(no callbacks, no validation_split, no distribution)."""
import numpy as np

from . import _ops, losses, metrics as metrics_mod, optimizers


class History:
    def __init__(self):
        self.history = {}
        self.epoch = []


class TrainingMixin:
    optimizer = None
    loss = None
    _metric_specs = ()

    def compile(self, optimizer="rmsprop", loss=None, metrics=None, **ignored):
        self.optimizer = optimizers.get(optimizer)
        self.loss = losses.get(loss) if loss is not None else None
        self._metric_specs = list(metrics or ())
        self._metric_objects = None

    def _loss_value(self, y, y_pred):
        if self.loss is None:
            raise ValueError("No loss to compute: call model.compile(optimizer, loss) first.")
        value = self.loss(y, y_pred)
        value = _ops.reduce_mean(value) if tuple(value.shape) else value
        for extra in self.losses:          # add_loss terms and weight penalties, as Keras
            value = value + extra
        return value

    def _metrics_for(self, y, y_pred):
        if self._metric_objects is None:
            pred = _ops.to_numpy(y_pred)
            self._metric_objects = [metrics_mod.get(m, y, pred) for m in self._metric_specs]
        return self._metric_objects

    def train_on_batch(self, x, y):
        with _ops.runtime.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self._loss_value(y, y_pred)
        variables = self.trainable_variables
        grads = tape.gradient(loss, variables)
        self.optimizer.apply_gradients(zip(grads, variables))
        for m in self._metrics_for(y, y_pred):
            m.update_state(y, y_pred)
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
            for m in self._metric_objects or ():
                m.reset_state()
            order = (np.random.default_rng(_ops.draw_seed()).permutation(n) if shuffle
                     else np.arange(n))
            total = 0.0
            for start in range(0, n, batch_size):
                idx = order[start:start + batch_size]
                total += self.train_on_batch(x[idx], y[idx]) * len(idx)
            logs = {"loss": total / n}
            for m in self._metric_objects or ():
                logs[m.name] = float(m.result().numpy())
            if validation_data is not None:
                val = self.evaluate(*validation_data[:2], batch_size=batch_size, verbose=0,
                                    return_dict=True)
                logs.update({"val_" + k: v for k, v in val.items()})
            history.epoch.append(epoch)
            for key, value in logs.items():
                history.history.setdefault(key, []).append(value)
            if verbose not in (0, False):
                print(f"Epoch {epoch + 1}/{epochs} - " +
                      " - ".join(f"{k}: {v:.4f}" for k, v in logs.items()))
        self.history = history
        return history

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", return_dict=False,
                 **ignored):
        """The mean loss (and compiled metrics) over the data, in inference mode; a list
        [loss, metrics...] when metrics were compiled, as Keras."""
        x, y = np.asarray(_ops.to_numpy(x)), np.asarray(_ops.to_numpy(y))
        n, batch_size = len(x), batch_size or 32
        total, objects = 0.0, None
        for start in range(0, n, batch_size):
            sl = slice(start, start + batch_size)
            pred = self(x[sl], training=False)
            total += float(self._loss_value(y[sl], pred).numpy()) * len(x[sl])
            if objects is None:
                objects = [type(m)(name=m.name) for m in self._metrics_for(y[sl], pred)]
            for m in objects:
                m.update_state(y[sl], pred)
        logs = {"loss": total / n}
        logs.update({m.name: float(m.result().numpy()) for m in objects or ()})
        if return_dict:
            return logs
        return logs["loss"] if len(logs) == 1 else list(logs.values())

    def predict(self, x, batch_size=None, verbose="auto", **ignored):
        x = np.asarray(_ops.to_numpy(x))
        batch_size = batch_size or 32
        parts = [_ops.to_numpy(self(x[s:s + batch_size], training=False))
                 for s in range(0, len(x), batch_size)]
        return np.concatenate(parts, axis=0)
