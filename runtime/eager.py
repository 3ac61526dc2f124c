"""Eager-mode conveniences TF programs call: ``tf.print``, ``tf.function`` (runs eagerly), checks."""
import sys

import numpy as np

from .tensor import Tensor

__all__ = ["print", "function", "executing_eagerly", "TensorSpec"]

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


class TensorSpec:
    """``tf.TensorSpec(shape, dtype, name)``: a shape (None for an unknown size) and a dtype."""

    def __init__(self, shape, dtype=None, name=None):
        from . import dtypes as _dt
        self.shape = None if shape is None else tuple(None if d is None else int(d) for d in shape)
        self.dtype = _dt.as_dtype("float32" if dtype is None else dtype)
        self.name = name

    def is_compatible_with(self, x):
        from .tensor import convert_to_tensor
        t = x if isinstance(x, TensorSpec) else convert_to_tensor(x)
        if t.dtype != self.dtype:
            return False
        shape = t.shape if isinstance(t, TensorSpec) else tuple(t.shape)
        if self.shape is None or shape is None:
            return True
        return len(shape) == len(self.shape) and all(
            a is None or b is None or a == b for a, b in zip(self.shape, shape))

    def __repr__(self):
        shape = "None" if self.shape is None else "(" + ", ".join(
            "None" if d is None else str(d) for d in self.shape) + ("," if len(self.shape) == 1
                                                                  else "") + ")"
        return f"TensorSpec(shape={shape}, dtype=tf.{self.dtype.name}, name={self.name!r})"


def function(func=None, input_signature=None, autograph=True, jit_compile=None,
             reduce_retracing=False, experimental_relax_shapes=None, **kwargs):
    """``@tf.function``: here the function runs eagerly (tapes still record it). With an
    ``input_signature``, arguments are converted to its dtypes and checked against its shapes."""
    if func is None:
        return lambda f: function(f, input_signature=input_signature)
    if input_signature is None:
        return func
    specs = list(input_signature)
    import functools

    @functools.wraps(func)
    def checked(*args, **kw):
        from .tensor import convert_to_tensor
        if kw or len(args) != len(specs):
            raise TypeError(f"{func.__name__}() takes {len(specs)} positional arguments as its "
                            f"input_signature says, got {len(args)}")
        converted = []
        for a, spec in zip(args, specs):
            try:
                t = convert_to_tensor(a, dtype=spec.dtype) if not hasattr(a, "_handle") else a
            except (TypeError, ValueError):
                t = a
            if not spec.is_compatible_with(t):
                raise ValueError(f"Python inputs incompatible with input_signature:\n  inputs: "
                                 f"({', '.join(repr(x) for x in args)})\n  input_signature: "
                                 f"({', '.join(repr(s) for s in specs)}).")
            converted.append(t)
        return func(*converted)
    return checked


def executing_eagerly():
    return True
