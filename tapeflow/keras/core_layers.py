"""Core layers: Dense, Activation, Flatten, Reshape, Lambda, Dropout and the merging layers."""
import numpy as np

from . import _ops, activations
from .base_layer import Layer


class Dense(Layer):
    """``activation(inputs @ kernel + bias)``; kernel (in, units) glorot-uniform, bias zeros."""

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.kernel_regularizer, self.bias_regularizer = kernel_regularizer, bias_regularizer
        self.units = int(units) if isinstance(units, (int, np.integer)) else units
        if not isinstance(self.units, int) or self.units <= 0:
            raise ValueError(f"Dense: units must be a positive integer, got {units!r}")
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        self.kernel = self.bias = None
        if self._input_shape is not None:
            self._maybe_build((None,) + self._input_shape)

    def build(self, input_shape):
        last = input_shape[-1]
        if last is None:
            raise ValueError(f"Dense {self.name!r}: the last axis of the input must be known, "
                             f"got input shape {input_shape}")
        self.kernel = self.add_weight(shape=(int(last), self.units), name="kernel",
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer)
        if self.use_bias:
            self.bias = self.add_weight(shape=(self.units,), name="bias",
                                        initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer)
        self.built = True

    def call(self, inputs):
        if inputs.shape[-1] != self.kernel.shape[0]:
            raise ValueError(f"Dense {self.name!r} expects inputs with last axis "
                             f"{self.kernel.shape[0]}, got shape {tuple(inputs.shape)}")
        if len(inputs.shape) > 2:       # (..., in) @ (in, units) over the last axis
            y = _ops.runtime.tensordot(inputs, self.kernel, axes=1)
        else:
            y = _ops.matmul(inputs, self.kernel)
        if self.use_bias:
            y = y + self.bias
        return self.activation(y)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)


class Activation(Layer):
    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def call(self, inputs):
        return self.activation(inputs)


class Flatten(Layer):
    """Every axis after the batch axis into one."""

    def call(self, inputs):
        return _ops.runtime.reshape(inputs, (int(inputs.shape[0]), -1))


class Reshape(Layer):
    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(target_shape)

    def call(self, inputs):
        return _ops.runtime.reshape(inputs, (int(inputs.shape[0]),) + self.target_shape)


class Lambda(Layer):
    """A layer that applies ``function`` (recorded ops, so it is differentiable)."""

    def __init__(self, function, **kwargs):
        super().__init__(**kwargs)
        self.function = function

    def call(self, inputs):
        return self.function(inputs)


class Dropout(Layer):
    """In training, each entry is zeroed with probability ``rate`` and the others scaled by
    1 / (1 - rate), so the expected output is the input; at inference, the identity. A seeded
    layer draws a repeatable sequence of masks (a new mask at each call)."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
            raise ValueError(f"Invalid value received for argument `rate`. Expected a float "
                             f"value between 0 and 1. Received: rate={rate}")
        self.rate = float(rate)
        self.noise_shape = noise_shape
        self.seed = seed
        self._rng = np.random.default_rng(seed if seed is not None else _ops.draw_seed())

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        shape = tuple(inputs.shape)
        if self.noise_shape is not None:
            shape = tuple(s if n is None else int(n) for s, n in zip(shape, self.noise_shape))
        if self.rate == 1:
            return inputs * np.zeros(shape, dtype=_ops.np_dtype(inputs.dtype))
        keep = self._rng.random(shape) >= self.rate
        scale = (keep / (1.0 - self.rate)).astype(_ops.np_dtype(inputs.dtype))
        return inputs * scale


class _Merge(Layer):
    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) < 1:
            raise ValueError(f"A merge layer ({type(self).__name__}) should be called on a list "
                             f"of inputs. Received: inputs={inputs}")
        out = inputs[0]
        for x in inputs[1:]:
            out = self._merge(out, x)
        return out


class Add(_Merge):
    def _merge(self, a, b):
        return a + b


class Subtract(_Merge):
    def _merge(self, a, b):
        return a - b


class Multiply(_Merge):
    def _merge(self, a, b):
        return a * b


class Average(_Merge):
    def call(self, inputs):
        return super().call(inputs) / float(len(inputs))

    def _merge(self, a, b):
        return a + b


class Concatenate(Layer):
    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def call(self, inputs):
        return _ops.runtime.concat(list(inputs), axis=self.axis)


class Embedding(Layer):
    """Rows of an (input_dim, output_dim) table picked by integer indices; the gradient of the
    table is a tf.IndexedSlices, as TensorFlow's (the optimizers apply it row by row)."""
    _convert_inputs = False       # indices stay integers

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform",
                 embeddings_regularizer=None, **kwargs):
        kwargs.pop("input_length", None)
        super().__init__(**kwargs)
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)
        self.embeddings = self.add_weight(shape=(self.input_dim, self.output_dim),
                                          name="embeddings", initializer=embeddings_initializer,
                                          regularizer=embeddings_regularizer)
        self.built = True

    def call(self, inputs):
        ids = _ops.as_tensor(inputs)
        if np.dtype(_ops.np_dtype(ids.dtype)).kind not in "iu":
            ids = _ops.runtime.cast(ids, "int32")
        return _ops.runtime.nn.embedding_lookup(self.embeddings, ids)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)
