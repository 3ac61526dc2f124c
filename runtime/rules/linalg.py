"""Products and linear algebra: matmul/dot, outer, einsum, inverse, determinant."""
import numpy as np
import operator

from .helpers import einsum_adjoints, unbroadcast
from .table import primitive


@primitive("MatMul", np.matmul, np.dot, operator.matmul, n_inputs=2, methods=("dot",),
           native="matmul", grid=(("v", "v"), ("m", "v"), ("w", "m"), ("q", "m"), ("t", "v")))
def d_matmul(g, ans, x, y):
    if np.ndim(x) == 1 and np.ndim(y) == 1:
        return g * y, g * x
    if np.ndim(x) == 1:
        return np.dot(y, g), np.outer(x, g)
    if np.ndim(y) == 1:
        return np.outer(g, y), np.dot(g, x)
    if np.ndim(x) > 2 or np.ndim(y) > 2:
        # batched: the last two axes multiply, leading axes broadcast
        return (unbroadcast(np.matmul(g, np.swapaxes(y, -1, -2)), x),
                unbroadcast(np.matmul(np.swapaxes(x, -1, -2), g), y))
    return np.dot(g, np.transpose(y)), np.dot(np.transpose(x), g)


@primitive("Outer", np.outer, n_inputs=2, role="shape", native="outer",
           grid=(("v", "w"), ("m", "v")))
def d_outer(g, ans, x, y):
    return np.dot(g, y), np.dot(x, g)


@primitive("Einsum", n_inputs=-1)  # by name only: the equation is a parameter, not an input
def d_einsum(g, ans, *xs, equation=None):
    return einsum_adjoints(g, equation, *xs)


@primitive("MatrixInverse")  # by name: the compiler may add np.linalg.inv once it lowers it
def d_matrix_inverse(g, ans, x):
    ans_t = np.swapaxes(ans, -1, -2)
    return -np.matmul(ans_t, np.matmul(g, ans_t))


@primitive("MatrixDeterminant")
def d_matrix_determinant(g, ans, x):
    return np.expand_dims(np.expand_dims(g * ans, -1), -1) * np.swapaxes(np.linalg.inv(x), -1, -2)
