"""What the grid cannot express: gradients at special points (zeros, ties, repeated indices)."""
import numpy as np
import pytest

import tapeflow as tf

BACKENDS = ("tape", "python")


def numeric(f, x, h=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        g[i] = (f(up) - f(down)) / (2 * h)
    return g


def cumprod_loss(x):
    return np.sum(np.cumprod(x) * np.array([1.0, 2.0, 3.0, 4.0]))


def repeated_index(x):
    return np.sum(x[np.array([0, 0, 2])])


def max_of(x):
    return np.max(x)


def sort_weighted(x):
    return np.sum(np.sort(x) * np.array([1.0, 2.0, 3.0, 4.0]))


@pytest.mark.parametrize("backend", BACKENDS)
def test_cumprod_exact_at_zeros(backend):
    # a zero (two, even) in the input: no division by x, the gradient stays finite and right
    for x in (np.array([1.5, 0.0, 2.0, -1.0]), np.array([0.0, 3.0, 0.0, 2.0])):
        got = tf.grad(cumprod_loss, backend=backend)(x)
        np.testing.assert_allclose(got, numeric(cumprod_loss, x), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("backend", BACKENDS)
def test_repeated_fancy_index_accumulates(backend):
    got = tf.grad(repeated_index, backend=backend)(np.arange(4.0))
    np.testing.assert_array_equal(got, [2.0, 0.0, 1.0, 0.0])


@pytest.mark.parametrize("backend", BACKENDS)
def test_max_ties_split_equally(backend):
    got = tf.grad(max_of, backend=backend)(np.array([1.0, 3.0, 3.0, 0.0]))
    np.testing.assert_allclose(got, [0.0, 0.5, 0.5, 0.0])


@pytest.mark.parametrize("backend", BACKENDS)
def test_sort_follows_the_permutation(backend):
    x = np.array([0.3, -1.0, 2.0, 0.1])
    got = tf.grad(sort_weighted, backend=backend)(x)
    # sorted order: -1.0 (w1), 0.1 (w2), 0.3 (w3), 2.0 (w4)
    np.testing.assert_allclose(got, [3.0, 1.0, 4.0, 2.0])


def test_mean_where_is_refused():
    mask = np.array([True, False, True, True])

    def f(x):
        return np.mean(x, where=mask)

    with pytest.raises(tf.TransformError, match="where"):
        tf.grad(f, backend="python")(np.arange(4.0))
    with pytest.raises(NotImplementedError, match="where"):
        tf.grad(f, backend="tape")(np.arange(4.0))
