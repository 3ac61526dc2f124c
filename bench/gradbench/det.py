"""GradBench ``det``: the determinant of an ell x ell matrix by expansion by minors (cmpad's
det_by_minor), and its gradient.

The expansion is recursive: the determinant of a minor is the signed sum, over the columns it
has left, of its first row's entry times the determinant of the minor without that row and
column. tapeflow's source transform does not take recursion, so the recursion runs on explicit
per-level arrays (level m expands row m over the columns the levels above left free); the
arithmetic is the recursive algorithm's, term for term.
"""
import numpy as np

import tapeflow as tf

from .runs import measured


def det_by_minors(A):
    ell = A.shape[0]
    taken = np.zeros(ell, dtype=np.int64)        # 1: a level above expands this column
    column = np.zeros(ell + 1, dtype=np.int64)   # the column level m expands (-1: none yet)
    sign = np.zeros(ell + 1)                     # the sign of that column's term
    minor = np.zeros(ell + 1)                    # level m's determinant, summed so far
    m = 0
    column[0] = -1
    sign[0] = -1.0
    while m >= 0:
        if m == ell:
            # no rows left: the empty minor's determinant is 1
            m -= 1
            minor[m] += sign[m] * A[m, int(column[m])]
            continue
        j = int(column[m]) + 1
        if j > 0:
            taken[j - 1] = 0
        while j < ell and taken[j] == 1:
            j += 1
        if j == ell:
            # every free column of row m is expanded: minor[m] is complete
            m -= 1
            if m >= 0:
                minor[m] += sign[m] * A[m, int(column[m])] * minor[m + 1]
            continue
        column[m] = j
        taken[j] = 1
        sign[m] = -sign[m]
        m += 1
        column[m] = -1
        sign[m] = -1.0
        minor[m] = 0.0
    return minor[0]


def prepare(input):
    ell = int(input["ell"])
    return (np.array(input["A"], dtype=np.float64).reshape(ell, ell),)


def functions(backend="native"):
    """(primal, gradient) as the tool runs them: the derivative on ``backend``; the tests use
    "python" (the same generated code, without LLVM's compile time)."""
    objective = tf.jit(det_by_minors) if backend == "native" else det_by_minors
    return (measured(objective, prepare, float),
            measured(tf.grad(det_by_minors, backend=backend), prepare,
                     lambda g: g.ravel().tolist()))


primal, gradient = functions()
