"""Functions to compile ahead of time (see build_and_run.py in this folder)."""
import numpy as np


def rosen(x):
    """Rosenbrock function, written as an indexed loop."""
    s = 0.0
    for i in range(x.shape[0] - 1):
        s += 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2
    return s


def least_squares(a, y, w, reg):
    """0.5 * ||a @ w - y||^2 + reg * ||w||^2 with explicit loops."""
    s = 0.0
    for i in range(a.shape[0]):
        r = -y[i]
        for j in range(a.shape[1]):
            r += a[i, j] * w[j]
        s += 0.5 * r * r
    return s + reg * np.sum(w * w)
