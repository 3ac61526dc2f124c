"""Conv2D and the 2-D pooling layers (channels_last, NHWC), on the runtime's ``tf.nn.conv2d``,
``max_pool2d`` and ``avg_pool2d`` (recorded ops: gradients reach the input, kernel and bias)."""
from . import _ops, activations
from .base_layer import Layer


def _pair(value, what):
    if isinstance(value, int):
        return (value, value)
    value = tuple(int(v) for v in value)
    if len(value) != 2:
        raise ValueError(f"The `{what}` argument must be a tuple of 2 integers. "
                         f"Received {what}={value}")
    return value


def _padding(padding):
    p = str(padding).lower()
    if p not in ("valid", "same"):
        raise ValueError(f"The `padding` argument must be a string, one of 'valid', 'same' "
                         f"(case-insensitive). Received: padding={padding}")
    return p


def _channels_last(data_format):
    if data_format not in (None, "channels_last"):
        raise NotImplementedError("only data_format='channels_last' (NHWC) is supported")


class Conv2D(Layer):
    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        _channels_last(data_format)
        self.kernel_regularizer, self.bias_regularizer = kernel_regularizer, bias_regularizer
        if _pair(dilation_rate, "dilation_rate") != (1, 1) or groups != 1:
            raise NotImplementedError("Conv2D: dilation_rate and groups are not supported")
        self.filters = int(filters)
        if self.filters <= 0:
            raise ValueError(f"Invalid value for argument `filters`. Expected a strictly "
                             f"positive value. Received filters={filters}.")
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.strides = _pair(strides, "strides")
        self.padding = _padding(padding)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer, self.bias_initializer = kernel_initializer, bias_initializer
        self.kernel = self.bias = None
        if self._input_shape is not None:
            self._maybe_build((None,) + self._input_shape)

    def build(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(f"Input 0 of layer {self.name!r} is incompatible with the layer: "
                             f"expected ndim=4, found ndim={len(input_shape)}. Full shape "
                             f"received: {tuple(input_shape)}")
        channels = int(input_shape[-1])
        self.kernel = self.add_weight(shape=self.kernel_size + (channels, self.filters),
                                      name="kernel", initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer)
        if self.use_bias:
            self.bias = self.add_weight(shape=(self.filters,), name="bias",
                                        initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer)
        self.built = True

    def call(self, inputs):
        y = _ops.runtime.nn.conv2d(inputs, self.kernel, strides=self.strides,
                                   padding=self.padding.upper())
        if self.use_bias:
            y = y + self.bias
        return self.activation(y)


class _Pooling2D(Layer):
    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(**kwargs)
        _channels_last(data_format)
        self.pool_size = _pair(pool_size, "pool_size")
        self.strides = self.pool_size if strides is None else _pair(strides, "strides")
        self.padding = _padding(padding)

    def call(self, inputs):
        return self._pool(inputs, self.pool_size, self.strides, self.padding.upper())


class MaxPooling2D(_Pooling2D):
    _pool = staticmethod(lambda x, k, s, p: _ops.runtime.nn.max_pool2d(x, k, s, p))


class AveragePooling2D(_Pooling2D):
    _pool = staticmethod(lambda x, k, s, p: _ops.runtime.nn.avg_pool2d(x, k, s, p))


class GlobalAveragePooling2D(Layer):
    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        _channels_last(data_format)
        self.keepdims = keepdims

    def call(self, inputs):
        return _ops.reduce_mean(inputs, axis=[1, 2], keepdims=self.keepdims)


class GlobalMaxPooling2D(GlobalAveragePooling2D):
    def call(self, inputs):
        return _ops.runtime.reduce_max(inputs, axis=[1, 2], keepdims=self.keepdims)


MaxPool2D, AvgPool2D, Convolution2D = MaxPooling2D, AveragePooling2D, Conv2D
GlobalAvgPool2D, GlobalMaxPool2D = GlobalAveragePooling2D, GlobalMaxPooling2D
