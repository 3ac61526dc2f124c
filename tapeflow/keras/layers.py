"""Layers: the Layer base class and Dense."""
from . import _ops, activations, initializers


class Layer:
    """Base: owns variables, builds them from the first input's shape, then calls ``call``."""

    def __init__(self, name=None, input_shape=None, dtype="float32", trainable=True):
        self.name = name or _ops.unique_name(type(self).__name__.lower())
        self.dtype = _ops.np_dtype(dtype)
        self.trainable = trainable
        self.built = False
        # input_shape excludes the batch axis, as in Keras: Dense(30, input_shape=(8,)).
        self._input_shape = None if input_shape is None else tuple(input_shape)
        self._variables = []

    def add_weight(self, name, shape, initializer, trainable=True):
        value = initializers.get(initializer)(shape, dtype=self.dtype)
        v = _ops.make_variable(value, name=f"{self.name}/{name}", trainable=trainable)
        self._variables.append(v)
        return v

    def build(self, input_shape):
        self.built = True

    def _maybe_build(self, input_shape):
        if not self.built:
            self.build(tuple(input_shape))
            self.built = True

    def __call__(self, inputs):
        inputs = _ops.to_input(inputs, self.dtype)
        self._maybe_build(inputs.shape)
        return self.call(inputs)

    def call(self, inputs):
        return inputs

    @property
    def variables(self):
        return list(self._variables)

    weights = variables

    @property
    def trainable_variables(self):
        return [v for v in self._variables if self.trainable and v.trainable]

    trainable_weights = trainable_variables

    def count_params(self):
        return sum(int(v.numpy().size) for v in self._variables)


class Dense(Layer):
    """``activation(inputs @ kernel + bias)``; kernel (in, units) glorot-uniform, bias zeros."""

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", input_shape=None, input_dim=None, name=None,
                 dtype="float32", trainable=True):
        if input_shape is None and input_dim is not None:
            input_shape = (input_dim,)
        super().__init__(name=name, input_shape=input_shape, dtype=dtype, trainable=trainable)
        self.units = int(units)
        if self.units <= 0:
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
        self.kernel = self.add_weight("kernel", (int(last), self.units), self.kernel_initializer)
        if self.use_bias:
            self.bias = self.add_weight("bias", (self.units,), self.bias_initializer)
        self.built = True

    def call(self, inputs):
        if inputs.shape[-1] != self.kernel.shape[0]:
            raise ValueError(f"Dense {self.name!r} expects inputs with last axis "
                             f"{self.kernel.shape[0]}, got shape {tuple(inputs.shape)}")
        y = _ops.matmul(inputs, self.kernel)
        if self.use_bias:
            y = y + self.bias
        return self.activation(y)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)


class Flatten(Layer):
    """Every axis after the batch axis into one."""

    def __init__(self, name=None, input_shape=None, dtype="float32"):
        super().__init__(name=name, input_shape=input_shape, dtype=dtype)

    def call(self, inputs):
        return _ops.runtime.reshape(inputs, (int(inputs.shape[0]), -1))


class Lambda(Layer):
    """A layer that applies ``function`` (recorded ops, so it is differentiable)."""

    def __init__(self, function, name=None, input_shape=None, dtype="float32"):
        super().__init__(name=name, input_shape=input_shape, dtype=dtype)
        self.function = function

    def call(self, inputs):
        return self.function(inputs)
