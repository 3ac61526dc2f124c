"""Lists and tuples of differentiable values in the source transform (issue 9: never zero).

A list or tuple literal is followed by its items: indexing by a constant, unpacking, ``len``,
iteration (unrolled), a variadic primitive's sequence (``np.concatenate((a, x))``) and a list
read as the array it stacks to (``np.mean([x, x + 2])``, ``np.array([x, 2 * x])``). What cannot
be followed (a list indexed by a computed index, a tuple bound on one path only) is refused.
Every backend either refuses or agrees with central differences; python must answer.
"""
import numpy as np
import pytest

import tapeflow as tf
from tapeflow.runtime.trace import TraceEscape

X = np.array([0.5, -0.3, 0.8])


def central_difference(f, x, h=1e-6):
    g = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


def pair(x):
    return x * 2.0, np.sin(x)


def subscripted_helper_result(x):
    out = pair(x)
    return np.sum(out[1] * out[0]) + np.sum(out[-1])


def subscripted_slogdet(x):
    a = np.outer(x, x) + 2.0 * np.eye(3)
    out = np.linalg.slogdet(a)
    return out[1]


def concatenate_tuple(x):
    a = np.ones(2)
    return np.sum(np.concatenate((a, x, x * x)) ** 2)


def stack_list(x):
    return np.sum(np.stack([x, 2.0 * x], axis=1) ** 3)


def hstack_list(x):
    return np.sum(np.hstack([x, np.cos(x)]) ** 2)


def vstack_list(x):
    return np.sum(np.vstack([x, x * x]) * np.arange(3.0))


def array_of_arrays(x):
    return np.sum(np.array([x, 2.0 * x]) ** 2)


def array_of_scalars(x):
    v = np.array([x[0] * x[1], np.sin(x[2]), 1.5])
    return np.sum(v * v)


def nested_array_literal(x):
    m = np.array([[x[0], x[1]], [x[2], x[0] * x[2]]])
    return np.sum(m @ m)


def mean_of_a_list(x):
    return np.sum(np.mean([x, x + 2.0], axis=0) ** 2)


def sum_of_a_list(x):
    return np.sum([x[0] * x[1], x[2]])


def len_index_and_iteration(x):
    items = [x, 2.0 * x, x * x]
    total = 0.0
    for item in items:
        total = total + np.sum(np.sin(item))
    return total * len(items) + np.sum(items[1] * items[-1])


def tuple_unpacked(x):
    t = (x[0], x[1] * x[2])
    a, b = t
    return a * b + t[1]


def tuple_merged_after_a_branch(x):
    if x[0] > 0.0:
        t = (x[0], 2.0 * x[1])
    else:
        t = (3.0 * x[1], x[0])
    a, b = t
    return a + 5.0 * b


@pytest.mark.parametrize("fn", [subscripted_helper_result, subscripted_slogdet, concatenate_tuple,
                                stack_list, hstack_list, vstack_list, array_of_arrays,
                                array_of_scalars, nested_array_literal, mean_of_a_list,
                                sum_of_a_list, len_index_and_iteration, tuple_unpacked])
def test_lists_and_tuples_carry_gradients(fn):
    expected = central_difference(fn, X)
    for backend in ("python", "native", "tape", "auto"):
        try:
            got = tf.grad(fn, backend=backend)(X.copy())
        except (tf.TransformError, TraceEscape):
            assert backend in ("native", "tape"), backend   # refused clearly; python answers
            continue
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-8, err_msg=backend)


@pytest.mark.parametrize("x", [X, -X])
def test_a_tuple_bound_in_both_branches_is_known_by_merged_items(x):
    # the unpacking used to read the else branch's items whichever branch ran (a wrong value)
    expected = central_difference(tuple_merged_after_a_branch, x)
    for backend in ("python", "native", "auto"):
        got = tf.grad(tuple_merged_after_a_branch, backend=backend)(x.copy())
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-8, err_msg=backend)


def computed_index(x):
    items = [x[0], x[1]]
    i = 1 if x[2] > 0 else 0
    return items[i] * 2.0


def item_assignment(x):
    items = [x[0], x[1]]
    items[0] = x[2]
    return items[0] * items[1]


@pytest.mark.parametrize("fn,match", [(computed_index, "indexed by"),
                                      (item_assignment, "item of a list")])
def test_what_cannot_be_followed_is_refused(fn, match):
    for backend in ("python", "native"):
        with pytest.raises(tf.TransformError, match=match):
            tf.grad(fn, backend=backend)(X.copy())
    np.testing.assert_allclose(tf.grad(fn)(X.copy()), central_difference(fn, X), atol=1e-7)
