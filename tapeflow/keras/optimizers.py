"""SGD (with momentum) and Adam. Updates are done in numpy on the variables' values and written back
with ``assign``: an optimizer step is not differentiable and must not be recorded on a tape."""
import math
import warnings

import numpy as np

from . import _ops


class Optimizer:
    def __init__(self, learning_rate, name, **kwargs):
        if "lr" in kwargs:  # TF 1.x / early 2.x keyword, used by seed 001
            learning_rate = kwargs.pop("lr")
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unexpected keyword argument(s) "
                            f"{', '.join(sorted(kwargs))}")
        self.learning_rate = float(learning_rate)
        self.name = name
        self.iterations = 0
        self._slots = {}  # id(variable) -> per-variable state

    lr = property(lambda self: self.learning_rate,
                  lambda self, value: setattr(self, "learning_rate", float(value)))

    def apply_gradients(self, grads_and_vars):
        pairs = []
        for g, v in grads_and_vars:
            if g is None:
                warnings.warn(f"Gradients do not exist for variable {_ops.var_name(v)!r} when "
                              f"minimizing the loss; it is left unchanged.", stacklevel=2)
                continue
            pairs.append((g, v))
        if not pairs:
            raise ValueError("No gradients provided for any variable.")
        self.iterations += 1
        for g, v in pairs:
            value = _ops.to_numpy(v)
            if isinstance(g, _ops.IndexedSlices):
                if self._apply_rows(id(v), v, value, g):
                    continue
                g = _ops.convert_to_tensor(g)    # the dense equivalent (same numbers as TF's)
            grad = np.asarray(_ops.to_numpy(g), dtype=value.dtype)
            if grad.shape != value.shape:
                raise ValueError(f"Gradient of shape {grad.shape} for variable "
                                 f"{_ops.var_name(v)!r} of shape {value.shape}")
            _ops.assign(v, self._update(id(v), value, grad))
        return self.iterations

    def _apply_rows(self, key, var, value, slices):
        """Apply an IndexedSlices gradient to its rows only, where the update allows it."""
        return False

    def minimize(self, loss, var_list, tape=None):
        """Compute gradients of ``loss`` (a Tensor recorded by ``tape``) and apply them."""
        if tape is None:
            raise ValueError("minimize needs the GradientTape that recorded the loss (tape=...)")
        var_list = list(var_list() if callable(var_list) else var_list)
        grads = tape.gradient(loss, var_list)
        return self.apply_gradients(zip(grads, var_list))


class SGD(Optimizer):
    """v <- v - lr * g; with momentum m: velocity <- m * velocity - lr * g; v <- v + velocity."""

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, name="SGD", **kwargs):
        super().__init__(learning_rate, name, **kwargs)
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)

    def _apply_rows(self, key, var, value, slices):
        if self.momentum != 0.0:
            return False
        # plain SGD touches only the gathered rows (repeated indices add up), as TF's sparse apply
        rows = np.asarray(slices.values.numpy(), dtype=value.dtype)
        new = np.array(value)
        np.subtract.at(new, np.asarray(slices.indices.numpy()), value.dtype.type(self.learning_rate) * rows)
        _ops.assign(var, new)
        return True

    def _update(self, key, value, grad):
        lr = value.dtype.type(self.learning_rate)
        if self.momentum == 0.0:
            return value - lr * grad
        m = value.dtype.type(self.momentum)
        velocity = self._slots.get(key)
        velocity = -lr * grad if velocity is None else m * velocity - lr * grad
        self._slots[key] = velocity
        if self.nesterov:
            return value + m * velocity - lr * grad
        return value + velocity


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with the bias correction folded into the step size:
    m <- b1 m + (1-b1) g;  v <- b2 v + (1-b2) g^2;
    value <- value - lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + epsilon)."""

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, name="Adam",
                 **kwargs):
        super().__init__(learning_rate, name, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)

    def _update(self, key, value, grad):
        m, v = self._slots.get(key) or (np.zeros_like(value), np.zeros_like(value))
        b1, b2 = self.beta_1, self.beta_2
        m = m + (grad - m) * value.dtype.type(1.0 - b1)
        v = v + (grad * grad - v) * value.dtype.type(1.0 - b2)
        self._slots[key] = (m, v)
        t = self.iterations
        alpha = self.learning_rate * math.sqrt(1.0 - b2 ** t) / (1.0 - b1 ** t)
        return value - value.dtype.type(alpha) * m / (np.sqrt(v) + value.dtype.type(self.epsilon))


class RMSprop(Optimizer):
    """Keras 3's RMSprop: s <- rho s + (1-rho) g^2 (centered: minus the squared mean gradient);
    step = lr g / sqrt(s + epsilon); with momentum m: velocity <- m velocity + step."""

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False,
                 name="RMSprop", **kwargs):
        super().__init__(learning_rate, name, **kwargs)
        self.rho, self.momentum = float(rho), float(momentum)
        self.epsilon, self.centered = float(epsilon), bool(centered)

    def _update(self, key, value, grad):
        zeros = np.zeros_like(value)
        s, mean_g, velocity = self._slots.get(key) or (zeros, zeros, zeros)
        t = value.dtype.type
        s = t(self.rho) * s + t(1.0 - self.rho) * grad * grad
        denominator = s + t(self.epsilon)
        if self.centered:
            mean_g = t(self.rho) * mean_g + t(1.0 - self.rho) * grad
            denominator = denominator - mean_g * mean_g
        step = t(self.learning_rate) * grad / np.sqrt(denominator)
        if self.momentum > 0:
            velocity = t(self.momentum) * velocity + step
            step = velocity
        self._slots[key] = (s, mean_g, velocity)
        return value - step


class Adagrad(Optimizer):
    """Keras 3's Adagrad: a <- a + g^2 (a starts at initial_accumulator_value);
    value <- value - lr g / sqrt(a + epsilon)."""

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 name="Adagrad", **kwargs):
        super().__init__(learning_rate, name, **kwargs)
        self.initial_accumulator_value = float(initial_accumulator_value)
        self.epsilon = float(epsilon)

    def _update(self, key, value, grad):
        t = value.dtype.type
        acc = self._slots.get(key)
        if acc is None:
            acc = np.full_like(value, self.initial_accumulator_value)
        acc = acc + grad * grad
        self._slots[key] = acc
        return value - t(self.learning_rate) * grad / np.sqrt(acc + t(self.epsilon))


def get(identifier):
    if isinstance(identifier, Optimizer):
        return identifier
    table = {"sgd": SGD, "adam": Adam, "rmsprop": RMSprop, "adagrad": Adagrad}
    try:
        return table[str(identifier).lower()]()
    except KeyError:
        raise ValueError(f"Unknown optimizer {identifier!r}") from None
