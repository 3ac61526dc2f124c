"""``tf.nn``: activations and losses built from the ops (softmax family has its own rules)."""
import numpy as np

from . import array_ops as A
from . import factory_ops as F
from . import conv_ops as _conv
from . import math_ops as M
from .opdef import as_tensor, wrap
from .rules import RULES
from .recording import state, record

__all__ = ["relu", "relu6", "leaky_relu", "elu", "selu", "gelu", "sigmoid", "tanh", "softplus",
           "softsign", "swish", "silu", "softmax", "log_softmax", "l2_loss", "l2_normalize",
           "sigmoid_cross_entropy_with_logits", "softmax_cross_entropy_with_logits",
           "sparse_softmax_cross_entropy_with_logits", "dropout", "bias_add", "moments",
           "batch_normalization", "embedding_lookup", "conv2d", "max_pool2d", "avg_pool2d"]

relu = M.relu
embedding_lookup = A.embedding_lookup
conv2d, max_pool2d, avg_pool2d = _conv.conv2d, _conv.max_pool2d, _conv.avg_pool2d
sigmoid = M.sigmoid
tanh = M.tanh
softplus = M.softplus
l2_normalize = M.l2_normalize


def relu6(features, name=None):
    return M.clip_by_value(features, 0.0, 6.0)


def leaky_relu(features, alpha=0.2, name=None):
    x = as_tensor(features)
    return M.where(x > 0, x, x * alpha)


def elu(features, name=None):
    x = as_tensor(features)
    return M.where(x > 0, x, M.expm1(M.minimum(x, 0.0)))


def selu(features, name=None):
    alpha, scale = 1.6732632423543772, 1.0507009873554805
    x = as_tensor(features)
    return scale * M.where(x > 0, x, alpha * M.expm1(M.minimum(x, 0.0)))


def gelu(features, approximate=False, name=None):
    x = as_tensor(features)
    if approximate:
        return 0.5 * x * (1.0 + M.tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)))
    return 0.5 * x * (1.0 + M.erf(x * 0.7071067811865476))


def softsign(features, name=None):
    x = as_tensor(features)
    return x / (1.0 + M.abs(x))


def swish(features, beta=1.0, name=None):
    x = as_tensor(features)
    return x * M.sigmoid(beta * x)


silu = swish


def _softmax_value(v, axis):
    e = np.exp(v - np.max(v, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def softmax(logits, axis=None, name=None):
    x = as_tensor(logits)
    axis = -1 if axis is None else int(axis)
    out = wrap(_softmax_value(x._v, axis))
    if state.tapes:
        record(RULES["Softmax"], out, (x,), (x._v,), {"axis": axis})
    return out


def log_softmax(logits, axis=None, name=None):
    x = as_tensor(logits)
    axis = -1 if axis is None else int(axis)
    v = x._v
    m = v - np.max(v, axis=axis, keepdims=True)
    out = wrap(m - np.log(np.sum(np.exp(m), axis=axis, keepdims=True)))
    if state.tapes:
        record(RULES["LogSoftmax"], out, (x,), (v,), {"axis": axis})
    return out


def l2_loss(t, name=None):
    return M.reduce_sum(M.square(t)) * 0.5


def sigmoid_cross_entropy_with_logits(labels=None, logits=None, name=None):
    x = as_tensor(logits)
    z = as_tensor(labels)
    # max(x, 0) - x*z + log(1 + exp(-|x|)), with max and |.| as TF writes them (selects on x >= 0),
    # so that the gradient at x == 0 is sigmoid(0) - z, as in TF
    nonneg = x._v >= 0
    relu_x = M.where(nonneg, x, 0.0)
    neg_abs_x = M.where(nonneg, -x, x)
    return relu_x - x * z + M.log1p(M.exp(neg_abs_x))


def softmax_cross_entropy_with_logits(labels, logits, axis=-1, name=None):
    return -M.reduce_sum(as_tensor(labels) * log_softmax(logits, axis), axis=axis)


def sparse_softmax_cross_entropy_with_logits(labels, logits, name=None):
    x = as_tensor(logits)
    lab = np.asarray(as_tensor(labels)._v).astype(np.int64)
    onehot = F.one_hot(lab, x._v.shape[-1], dtype=x.dtype)
    return softmax_cross_entropy_with_logits(onehot, x)


def dropout(x, rate, noise_shape=None, seed=None, name=None):
    from .random_ops import uniform
    x = as_tensor(x)
    if rate == 0:
        return x
    keep = uniform(noise_shape or x.shape, seed=seed, dtype=x.dtype) >= rate
    return M.where(keep, x / (1.0 - rate), 0.0)


def bias_add(value, bias, data_format=None, name=None):
    return M.add(value, bias)


def batch_normalization(x, mean, variance, offset, scale, variance_epsilon, name=None):
    """(x - mean) / sqrt(variance + eps) * scale + offset; offset and scale may be None."""
    inv = M.rsqrt(as_tensor(variance) + variance_epsilon)
    if scale is not None:
        inv = inv * scale
    y = (as_tensor(x) - mean) * inv
    return y if offset is None else y + offset


def moments(x, axes, shift=None, keepdims=False, name=None):
    mean = M.reduce_mean(x, axes, keepdims=True)
    var = M.reduce_mean(M.square(x - A.stop_gradient(mean)), axes, keepdims=True)
    if not keepdims:
        mean = A.squeeze(mean, tuple(axes))
        var = A.squeeze(var, tuple(axes))
    return mean, var
