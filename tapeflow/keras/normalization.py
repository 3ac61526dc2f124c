"""BatchNormalization with Keras 3's defaults (momentum 0.99, epsilon 1e-3, axis -1), and
LayerNormalization (each sample normalized over ``axis``, epsilon 1e-3).

Training (``training=True`` and a trainable layer): the batch's mean and (biased) variance over
every axis but ``axis`` normalize the input, and the moving statistics move towards them:
``moving = moving * momentum + batch * (1 - momentum)`` (an assignment, not recorded).
Inference: the moving statistics. Output ``gamma * (x - mean) / sqrt(var + epsilon) + beta``,
built from recorded ops, so gradients reach x, gamma and beta (and, in training, flow through
the batch statistics).
"""
from . import _ops
from .base_layer import Layer


class BatchNormalization(Layer):
    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones", **kwargs):
        for key in ("beta_regularizer", "gamma_regularizer", "beta_constraint",
                    "gamma_constraint", "synchronized", "renorm", "fused"):
            if kwargs.pop(key, None) not in (None, False):
                raise NotImplementedError(f"BatchNormalization: {key} is not supported")
        super().__init__(**kwargs)
        self.axis = int(axis)
        self.momentum, self.epsilon = float(momentum), float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self._inits = (beta_initializer, gamma_initializer, moving_mean_initializer,
                       moving_variance_initializer)
        self.gamma = self.beta = self.moving_mean = self.moving_variance = None
        if self._input_shape is not None:
            self._maybe_build((None,) + self._input_shape)

    def build(self, input_shape):
        dim = input_shape[self.axis]
        if dim is None:
            raise ValueError(f"Axis {self.axis} of the input to {self.name!r} should have a "
                             f"defined dimension, but the layer received an input with shape "
                             f"{tuple(input_shape)}.")
        shape = (int(dim),)
        beta, gamma, mean, var = self._inits
        if self.scale:
            self.gamma = self.add_weight(shape=shape, name="gamma", initializer=gamma)
        if self.center:
            self.beta = self.add_weight(shape=shape, name="beta", initializer=beta)
        self.moving_mean = self.add_weight(shape=shape, name="moving_mean", initializer=mean,
                                           trainable=False)
        self.moving_variance = self.add_weight(shape=shape, name="moving_variance",
                                               initializer=var, trainable=False)
        self._rank = len(input_shape)
        self.built = True

    def call(self, inputs, training=None):
        rank = len(inputs.shape)
        axis = self.axis % rank
        shape = [1] * rank
        shape[axis] = int(inputs.shape[axis])

        def b(t):      # a (C,) vector broadcast against the input (for any axis)
            return t if axis == rank - 1 else _ops.runtime.reshape(t, shape)
        if training and self.trainable:
            axes = [i for i in range(rank) if i != axis]
            mean, variance = _ops.runtime.nn.moments(inputs, axes)
            m = self.momentum
            self.moving_mean.assign(self.moving_mean.numpy() * m + mean.numpy() * (1.0 - m))
            self.moving_variance.assign(self.moving_variance.numpy() * m
                                        + variance.numpy() * (1.0 - m))
        else:
            mean, variance = self.moving_mean, self.moving_variance
        return _ops.runtime.nn.batch_normalization(
            inputs, b(mean), b(variance), None if self.beta is None else b(self.beta),
            None if self.gamma is None else b(self.gamma), self.epsilon)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


class LayerNormalization(Layer):
    """``gamma * (x - mean) / sqrt(var + epsilon) + beta`` with the (biased) moments of each
    sample over ``axis`` (the last by default); gamma and beta have the shape of those axes."""

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", **kwargs):
        super().__init__(**kwargs)
        self.axis = axis
        self.epsilon = float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self._inits = (beta_initializer, gamma_initializer)
        self.gamma = self.beta = None

    def _axes(self, rank):
        axes = self.axis if isinstance(self.axis, (list, tuple)) else [self.axis]
        return sorted(a % rank for a in axes)

    def build(self, input_shape):
        shape = tuple(int(input_shape[a]) for a in self._axes(len(input_shape)))  # as Keras
        beta, gamma = self._inits
        if self.scale:
            self.gamma = self.add_weight(shape=shape, name="gamma", initializer=gamma)
        if self.center:
            self.beta = self.add_weight(shape=shape, name="beta", initializer=beta)
        self.built = True

    def call(self, inputs):
        rank = len(inputs.shape)
        axes = self._axes(rank)
        mean, variance = _ops.runtime.nn.moments(inputs, axes, keepdims=True)
        shape = [int(d) if i in axes else 1 for i, d in enumerate(inputs.shape)]

        def b(t):    # gamma / beta broadcast against the input
            return t if t is None or axes == [rank - 1] else _ops.runtime.reshape(t, shape)
        return _ops.runtime.nn.batch_normalization(inputs, mean, variance, b(self.beta),
                                                   b(self.gamma), self.epsilon)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)
