"""``tf.nn.conv2d``, ``max_pool2d``, ``avg_pool2d`` (NHWC) as recorded ops: the input's windows
are gathered with one fancy index (whose rule scatters the adjoint back), then a matmul with the
filters or a reduction over each window. Gradients come from those ops' rules.
"""
import numpy as np

from . import array_ops as A
from . import math_ops as M
from .opdef import as_tensor

__all__ = ["conv2d", "max_pool2d", "avg_pool2d"]


def _pair(v):
    if isinstance(v, (list, tuple)):
        v = [int(a) for a in v]
        return (v[1], v[2]) if len(v) == 4 else (v[0], v[-1])
    return int(v), int(v)


def _plan(size, k, stride, padding):
    """(output size, padding before, padding after) along one spatial axis, as TF computes."""
    if padding == "VALID":
        return (size - k) // stride + 1, 0, 0
    if padding != "SAME":
        raise ValueError(f"padding must be 'SAME' or 'VALID', got {padding!r}")
    out = -(-size // stride)
    total = max((out - 1) * stride + k - size, 0)
    return out, total // 2, total - total // 2


def _windows(x, kh, kw, strides, padding, fill):
    """x (N, H, W, C) -> windows (N, OH, OW, kh, kw, C), padded with ``fill`` for SAME."""
    sh, sw = _pair(strides)
    n, h, w, c = x._v.shape
    oh, top, bottom = _plan(h, kh, sh, padding)
    ow, left, right = _plan(w, kw, sw, padding)
    if top or bottom or left or right:
        x = A.pad(x, [[0, 0], [top, bottom], [left, right], [0, 0]], constant_values=fill)
    rows = (np.arange(oh) * sh)[:, None, None, None] + np.arange(kh)[None, None, :, None]
    cols = (np.arange(ow) * sw)[None, :, None, None] + np.arange(kw)[None, None, None, :]
    rows, cols = np.broadcast_arrays(rows, cols)
    return A.getitem(x, (slice(None), rows, cols, slice(None))), (top, bottom, left, right)


def conv2d(input, filters, strides=1, padding="VALID", data_format="NHWC", dilations=None,
           name=None):
    if data_format != "NHWC" or (dilations not in (None, 1) and _pair(dilations) != (1, 1)):
        raise NotImplementedError("conv2d supports data_format='NHWC' without dilations")
    x, f = as_tensor(input), as_tensor(filters)
    kh, kw, c, o = f._v.shape
    win, _ = _windows(x, kh, kw, strides, padding, 0.0)
    n, oh, ow = win._v.shape[:3]
    cols = A.reshape(win, (n * oh * ow, kh * kw * c))
    return A.reshape(M.matmul(cols, A.reshape(f, (kh * kw * c, o))), (n, oh, ow, o))


def max_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None):
    x = as_tensor(input)
    kh, kw = _pair(ksize)
    win, _ = _windows(x, kh, kw, strides, padding, -np.inf)
    return M.reduce_max(win, axis=[3, 4])


def avg_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None):
    """Averages over each window's real entries (SAME padding is not counted, as in TF)."""
    x = as_tensor(input)
    kh, kw = _pair(ksize)
    win, pads = _windows(x, kh, kw, strides, padding, 0.0)
    total = M.reduce_sum(win, axis=[3, 4])
    if not any(pads):
        return total / float(kh * kw)
    ones = as_tensor(np.ones((1,) + x._v.shape[1:3] + (1,), dtype=x._v.dtype))
    count = M.reduce_sum(_windows(ones, kh, kw, strides, padding, 0.0)[0], axis=[3, 4])
    return total / count
