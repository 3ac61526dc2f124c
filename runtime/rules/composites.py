"""Composites: numpy functions defined in the supported subset by other entries of the table.

A composite needs no rule of its own: the compiler inlines its definition as it inlines a user's
helper (so the python and native backends differentiate what it is made of), and the tape runs the
definition on Tensors. Each is the plain numpy meaning of the function for the arguments it takes.
"""
import numpy as np

from .table import define


def composite(name, *callables, **fields):
    def register(impl):
        define(name, *callables, kind="composite", impl=impl, **fields)
        return impl
    return register


@composite("Var", np.var, methods=("var",),
           grid=(("v",), ("m",), ("m", {"axis": 0}), ("m", {"axis": 1, "ddof": 1, "keepdims": True}),
                 ("t", {"axis": (0, 2)})))
def var(a, axis=None, ddof=0, keepdims=False):
    mean = np.mean(a, axis=axis, keepdims=True)
    centered = a - mean
    n = np.size(a) / np.size(mean)
    return np.sum(centered * centered, axis=axis, keepdims=keepdims) / (n - ddof)


@composite("Std", np.std, methods=("std",),
           grid=(("v",), ("m", {"axis": 1}), ("m", {"axis": 0, "ddof": 1, "keepdims": True}),
                 ("t", {"axis": (1, 2)})))
def std(a, axis=None, ddof=0, keepdims=False):
    mean = np.mean(a, axis=axis, keepdims=True)
    centered = a - mean
    n = np.size(a) / np.size(mean)
    return np.sqrt(np.sum(centered * centered, axis=axis, keepdims=keepdims) / (n - ddof))


# max - min: each extreme's ties share its gradient equally (extremum_weights)
@composite("Ptp", np.ptp, grid=(("v",), ("m", {"axis": 0}), ("m", {"axis": 1, "keepdims": True})))
def ptp(a, axis=None, keepdims=False):
    return np.max(a, axis=axis, keepdims=keepdims) - np.min(a, axis=axis, keepdims=keepdims)
