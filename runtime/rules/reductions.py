"""Reductions and scans: sum, mean, prod, max/min, softmax, cumsum."""
import numpy as np

from .helpers import extremum_weights, prod_of_others, unreduce
from .table import linear, primitive, tangent


@primitive("Sum", np.sum, methods=("sum",), role="reduction", native="reduction")
def d_sum(g, ans, x, axis=None, keepdims=False):
    return unreduce(g, x, axis, keepdims)


linear("Sum")


@primitive("Mean", np.mean, methods=("mean",), role="reduction", native="reduction")
def d_mean(g, ans, x, axis=None, keepdims=False):
    # a float64 quotient: the mean of an empty array has an inf factor (numpy's warning), as
    # native code computes, not ZeroDivisionError
    return unreduce(g, x, axis, keepdims) * (np.float64(np.size(ans)) / np.size(x))


linear("Mean")


@primitive("Prod", np.prod, methods=("prod",), role="reduction", native="reduction")
def d_prod(g, ans, x, axis=None, keepdims=False):
    # the product of the other elements, not ans / x, which fails where x == 0
    return unreduce(g, x, axis, keepdims) * prod_of_others(x, axis)


@tangent("Prod")
def f_prod(x_dot, ans, x, axis=None, keepdims=False):
    return np.sum(x_dot * prod_of_others(x, axis), axis=axis, keepdims=keepdims)


@primitive("Max", np.max, np.amax, methods=("max",), role="reduction", native="reduction")
def d_max(g, ans, x, axis=None, keepdims=False):
    return unreduce(g, x, axis, keepdims) * extremum_weights(ans, x, axis, keepdims)


@tangent("Max")
def f_max(x_dot, ans, x, axis=None, keepdims=False):
    return np.sum(x_dot * extremum_weights(ans, x, axis, keepdims), axis=axis, keepdims=keepdims)


@primitive("Min", np.min, np.amin, methods=("min",), role="reduction", native="reduction")
def d_min(g, ans, x, axis=None, keepdims=False):
    return unreduce(g, x, axis, keepdims) * extremum_weights(ans, x, axis, keepdims)


# sqrt of the variance, with its own rule: the chain through sqrt would give 0 * inf = nan where
# the deviation is 0 (one element per slice), whose gradient is 0
@primitive("Std", np.std, methods=("std",), role="reduction",
           grid=(("v",), ("m", {"axis": 1}), ("m", {"axis": 0, "ddof": 1, "keepdims": True}),
                 ("t", {"axis": (1, 2)}), ("r", {"axis": 0})))
def d_std(g, ans, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    mean = np.mean(a, axis=axis, keepdims=True)
    n = np.size(a) / np.size(mean)
    safe = np.where(ans > 0, ans, 1.0)
    return unreduce(g / safe, a, axis, keepdims) * (a - mean) / (n - ddof)


@tangent("Std")
def f_std(a_dot, ans, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    # d var = 2 <a - mean, a_dot> / (n - ddof) (the mean's own tangent sums to zero against
    # a - mean); d std = d var / (2 std), and 0 where std is 0, as the reverse rule
    mean = np.mean(a, axis=axis, keepdims=True)
    n = np.size(a) / np.size(mean)
    safe = np.where(ans > 0, ans, 1.0)
    return np.sum(a_dot * (a - mean), axis=axis, keepdims=keepdims) / ((n - ddof) * safe)


@tangent("Min")
def f_min(x_dot, ans, x, axis=None, keepdims=False):
    return np.sum(x_dot * extremum_weights(ans, x, axis, keepdims), axis=axis, keepdims=keepdims)


@primitive("Softmax")
def d_softmax(g, ans, x, axis=-1):
    return ans * (g - np.sum(g * ans, axis=axis, keepdims=True))


@tangent("Softmax")
def f_softmax(x_dot, ans, x, axis=-1):
    return ans * (x_dot - np.sum(x_dot * ans, axis=axis, keepdims=True))


@primitive("LogSoftmax")
def d_log_softmax(g, ans, x, axis=-1):
    return g - np.exp(ans) * np.sum(g, axis=axis, keepdims=True)


@tangent("LogSoftmax")
def f_log_softmax(x_dot, ans, x, axis=-1):
    return x_dot - np.sum(np.exp(ans) * x_dot, axis=axis, keepdims=True)


@primitive("Cumsum", np.cumsum, methods=("cumsum",),
           grid=(("v",), ("m",), ("m", {"axis": 1}), ("t", {"axis": 0}), ("t", -1)))
def d_cumsum(g, ans, x, axis=None):
    # a reversed cumulative sum. Without an axis numpy scans the flattened array, so g is flat
    # (flip(g, None) and cumsum(axis=None) are then the 1-d ones) and the reshape puts it back;
    # with an axis the reshape is a no-op. (No branch: templates decide only np.ndim tests.)
    return np.reshape(np.flip(np.cumsum(np.flip(g, axis), axis=axis), axis), np.shape(x))


linear("Cumsum")
