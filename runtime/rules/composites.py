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


# max - min: each extreme's ties share its gradient equally (extremum_weights)
@composite("Ptp", np.ptp, grid=(("v",), ("m", {"axis": 0}), ("m", {"axis": 1, "keepdims": True})))
def ptp(a, axis=None, keepdims=False):
    return np.max(a, axis=axis, keepdims=keepdims) - np.min(a, axis=axis, keepdims=keepdims)


# Joins of a sequence, as numpy defines them for inputs of one rank (the first input's rank
# decides; mixing ranks, which numpy allows through atleast_Nd, is not handled here). An array
# given as the sequence is the sequence of its rows (the tape splits it; the compiler refuses).
@composite("HStack", np.hstack, grid=((["v", "v"],), (["m", "m", "m"],)))
def hstack(tup, dtype=None, casting="same_kind"):
    if np.ndim(tup[0]) == 0:
        return np.stack(tup, axis=0)
    if np.ndim(tup[0]) == 1:
        return np.concatenate(tup, axis=0)
    return np.concatenate(tup, axis=1)


@composite("VStack", np.vstack, grid=((["v", "v"],), (["m", "r"],)))
def vstack(tup, dtype=None, casting="same_kind"):
    if np.ndim(tup[0]) == 0:
        return np.expand_dims(np.stack(tup, axis=0), 1)
    if np.ndim(tup[0]) == 1:
        return np.stack(tup, axis=0)
    return np.concatenate(tup, axis=0)


@composite("ColumnStack", np.column_stack, grid=((["v", "v", "v"],), (["m", "c"],)))
def column_stack(tup):
    if np.ndim(tup[0]) == 0:
        return np.expand_dims(np.stack(tup, axis=0), 0)
    if np.ndim(tup[0]) == 1:
        return np.stack(tup, axis=1)
    return np.concatenate(tup, axis=1)


@composite("DStack", np.dstack, grid=((["v", "v"],), (["m", "m"],), (["t", "t"],)))
def dstack(tup):
    if np.ndim(tup[0]) == 0:
        return np.reshape(np.stack(tup, axis=0), (1, 1, -1))
    if np.ndim(tup[0]) == 1:
        return np.expand_dims(np.stack(tup, axis=-1), 0)
    if np.ndim(tup[0]) == 2:
        return np.stack(tup, axis=-1)
    return np.concatenate(tup, axis=2)
