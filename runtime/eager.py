"""Eager-mode conveniences TF programs call: ``tf.print``, ``tf.function`` (runs eagerly), checks."""
import sys

import numpy as np

from .tensor import Tensor

__all__ = ["print", "function", "executing_eagerly"]

_builtin_print = print


def _text(x):
    if isinstance(x, Tensor) or hasattr(x, "_handle"):
        v = x._v if isinstance(x, Tensor) else x._handle.value
        return np.array2string(np.asarray(v), separator=" ") if np.ndim(v) else str(v)
    if isinstance(x, (list, tuple)):
        return "[" + ", ".join(_text(v) for v in x) + "]"
    return str(x)


def print(*inputs, output_stream=None, sep=" ", end="\n", summarize=None, name=None):  # noqa: A001
    """Print values the way ``tf.print`` does (the numbers, without the tf.Tensor wrapper)."""
    stream = output_stream if output_stream is not None and hasattr(output_stream, "write") \
        else sys.stderr
    stream.write(sep.join(_text(x) for x in inputs) + end)


def function(func=None, input_signature=None, autograph=True, jit_compile=None,
             reduce_retracing=False, experimental_relax_shapes=None, **kwargs):
    """``@tf.function``: here the function simply runs eagerly (tapes still record it)."""
    if func is None:
        return lambda f: f
    return func


def executing_eagerly():
    return True
