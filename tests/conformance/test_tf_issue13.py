"""Conformance with TensorFlow 2.x on the themes of issue 13: op gradients at edges, error classes
and messages, dtype rules, custom_gradient and friends, sparse gradients, missing APIs, Keras.

Expected values are TensorFlow's (closed forms, or what TF's gradient kernels compute); error
messages are TF's kernel messages.
"""
import numpy as np
import pytest

import tapeflow as tf


def grad(f, x):
    x = tf.constant(x)
    with tf.GradientTape() as t:
        t.watch(x)
        y = f(x)
    return t.gradient(y, x)


def numeric(f, x, eps=1e-6):
    x = np.asarray(x, dtype=np.float64)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        d = np.zeros_like(x)
        d[i] = eps
        g[i] = (float(np.sum(f(x + d))) - float(np.sum(f(x - d)))) / (2 * eps)
    return g


# --- op gradients at edges ---------------------------------------------------------------------
def test_sigmoid_cross_entropy_gradient_at_zero_logits_is_sigmoid_minus_label():
    z = tf.constant([1.0, 0.0, 0.3])
    g = grad(lambda x: tf.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x),
             [0.0, 0.0, 0.0])
    np.testing.assert_allclose(g.numpy(), 0.5 - z.numpy(), rtol=1e-6)


def test_sigmoid_cross_entropy_gradient_away_from_zero():
    z = np.array([1.0, 0.0, 0.3])
    x = np.array([-2.0, 1.5, 0.7])
    g = grad(lambda x: tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.constant(z), logits=x), x)
    np.testing.assert_allclose(g.numpy(), 1 / (1 + np.exp(-x)) - z, rtol=1e-7)


@pytest.mark.parametrize("op", [tf.sqrt, tf.math.rsqrt, tf.math.reciprocal])
def test_masked_branch_of_where_gives_zero_where_the_op_is_singular(op):
    # TF's SqrtGrad, RsqrtGrad and ReciprocalGrad return 0 for a zero incoming gradient
    x = [-1.0, 0.0, 4.0]
    g = grad(lambda x: tf.where(x > 0, op(x), 0.0), x).numpy()
    assert g[0] == 0.0 and g[1] == 0.0
    np.testing.assert_allclose(g[2], numeric(lambda v: op(tf.constant(v)).numpy(), [4.0])[0],
                               rtol=1e-5)


def test_sqrt_gradient_at_zero_with_a_nonzero_seed_is_inf():
    assert np.isinf(grad(tf.sqrt, 0.0).numpy())


@pytest.mark.parametrize("eq,shape", [("ii->", (3, 3)), ("ii->i", (3, 3)),
                                      ("bxby->bxy", (2, 3, 2, 3)), ("ij->", (2, 3))])
def test_einsum_with_a_repeated_index(eq, shape):
    x = np.arange(np.prod(shape), dtype=np.float64).reshape(shape) / 7 + 0.5
    g = grad(lambda t: tf.reduce_sum(tf.einsum(eq, t) ** 2), x)
    np.testing.assert_allclose(g.numpy(), numeric(lambda v: np.einsum(eq, v) ** 2, x), rtol=1e-6)


def test_einsum_repeated_index_second_order():
    x = tf.constant(np.arange(4.0).reshape(2, 2) + 1)
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = tf.einsum("ii->", x) ** 2       # trace squared
        g = inner.gradient(y, x)                # 2 tr(x) I
        s = tf.reduce_sum(g)
    np.testing.assert_allclose(outer.gradient(s, x).numpy(), 4 * np.eye(2))


# --- dtype rules --------------------------------------------------------------------------------
def test_float64_plus_float32_raises_naming_both_dtypes():
    with pytest.raises(tf.errors.InvalidArgumentError) as e:
        tf.constant(1.0, tf.float64) + tf.constant(1.0)
    assert str(e.value).startswith("cannot compute AddV2 as input #1(zero-based) was expected to "
                                   "be a double tensor but is a float tensor [Op:AddV2]")


def test_int32_times_float32_raises():
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"expected to be a int32 tensor but "
                       r"is a float tensor \[Op:Mul\]"):
        tf.constant(2) * tf.constant(1.0)


def test_matmul_of_mixed_dtypes_raises():
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"cannot compute MatMul as input "
                       r"#1\(zero-based\) was expected to be a float tensor but is a double"):
        tf.matmul(tf.ones((2, 2)), tf.ones((2, 2), tf.float64))


def test_python_scalars_adopt_the_tensor_dtype():
    assert (tf.constant(1.0, tf.float64) + 1).dtype == tf.float64
    assert (2.5 * tf.constant(1.0, tf.float16)).dtype == tf.float16
    assert (tf.constant(2) * 3).dtype == tf.int32


# --- error classes ------------------------------------------------------------------------------
def test_matmul_shape_mismatch_is_invalid_argument():
    with pytest.raises(tf.errors.InvalidArgumentError) as e:
        tf.matmul(tf.ones((2, 3)), tf.ones((2, 3)))
    assert str(e.value).startswith("Matrix size-incompatible: In[0]: [2,3], In[1]: [2,3]")


def test_broadcast_mismatch_is_invalid_argument():
    with pytest.raises(tf.errors.InvalidArgumentError) as e:
        tf.ones((2, 3)) + tf.ones((2, 4))
    assert str(e.value).startswith("Incompatible shapes: [2,3] vs. [2,4] [Op:AddV2]")


def test_bad_reduction_axis_is_invalid_argument():
    with pytest.raises(tf.errors.InvalidArgumentError) as e:
        tf.reduce_sum(tf.ones((2, 3)), axis=5)
    assert str(e.value).startswith("Invalid reduction dimension (5 for input with 2 dimension(s)")


def test_none_in_output_gradients_raises_value_error():
    x = tf.constant([1.0, 2.0])
    with tf.GradientTape() as t:
        t.watch(x)
        y, w = x * x, 3 * x
    with pytest.raises(ValueError):
        t.gradient([y, w], x, output_gradients=[None, tf.ones(2)])


# --- custom_gradient and friends ----------------------------------------------------------------
def test_custom_gradient_with_a_variable_argument():
    @tf.custom_gradient
    def f(v):
        return v * v, lambda dy: dy * 3.0
    v = tf.Variable(2.0)
    with tf.GradientTape() as t:
        y = f(v)
    assert y.numpy() == 4.0 and t.gradient(y, v).numpy() == 3.0


def test_custom_gradient_on_a_method_self_is_not_an_input():
    class Scale:
        k = 5.0

        @tf.custom_gradient
        def __call__(self, x):
            return x * self.k, lambda dy: dy * 7.0
    x = tf.constant(1.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = Scale()(x)
    assert y.numpy() == 5.0 and t.gradient(y, x).numpy() == 7.0


def test_grad_pass_through_of_assign():
    x, z = tf.Variable(1.0), tf.Variable(3.0)
    with tf.GradientTape() as tape:
        y = tf.grad_pass_through(x.assign)(z ** 2)
    assert tape.gradient(y, z).numpy() == 6.0 and x.numpy() == 9.0


def test_recompute_grad_values_gradients_and_wrapped():
    def f(x):
        return tf.sin(x) * x
    rf = tf.recompute_grad(f)
    assert rf.__wrapped__ is f
    np.testing.assert_allclose(grad(rf, 0.7).numpy(), np.cos(0.7) * 0.7 + np.sin(0.7), rtol=1e-6)


# --- sparse gradients ---------------------------------------------------------------------------
def test_gather_of_a_variable_gives_indexed_slices():
    v = tf.Variable([1.0, 2.0, 3.0])
    with tf.GradientTape() as t:
        y = tf.reduce_sum(tf.gather(v, [0, 2]) * 2)
    g = t.gradient(y, v)
    assert isinstance(g, tf.IndexedSlices)
    np.testing.assert_array_equal(g.values.numpy(), [2.0, 2.0])
    np.testing.assert_array_equal(g.indices.numpy(), [0, 2])
    np.testing.assert_array_equal(g.dense_shape.numpy(), [3])
    np.testing.assert_array_equal(tf.convert_to_tensor(g).numpy(), [2.0, 0.0, 2.0])


def test_embedding_lookup_slices_concatenate_and_densify_with_repeats():
    e = tf.Variable(np.arange(12.0).reshape(4, 3))
    with tf.GradientTape() as t:
        y = (tf.reduce_sum(tf.nn.embedding_lookup(e, [[0, 1], [1, 3]]) ** 2)
             + tf.reduce_sum(tf.gather(e, [3])))
    g = t.gradient(y, e)
    assert isinstance(g, tf.IndexedSlices) and tuple(g.values.shape) == (5, 3)
    x = np.arange(12.0).reshape(4, 3)
    dense = np.zeros((4, 3))
    dense[[0, 1, 3]] = [2 * x[0], 4 * x[1], 2 * x[3] + 1]
    np.testing.assert_allclose(tf.convert_to_tensor(g).numpy(), dense)


def test_gather_plus_a_dense_use_is_dense():
    v = tf.Variable([1.0, 2.0, 3.0])
    with tf.GradientTape() as t:
        y = tf.reduce_sum(tf.gather(v, [1])) + tf.reduce_sum(v * v)
    g = t.gradient(y, v)
    assert isinstance(g, tf.Tensor)
    np.testing.assert_allclose(g.numpy(), [2.0, 5.0, 6.0])


@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_optimizers_apply_indexed_slices_as_the_dense_gradient(name):
    from tapeflow import keras
    out = []
    for sparse in (True, False):
        opt = getattr(keras.optimizers, name)(0.1)
        v = tf.Variable([1.0, 2.0, 3.0])
        for _ in range(3):
            with tf.GradientTape() as t:
                rows = tf.gather(v, [0, 0, 2]) if sparse else tf.stack([v[0], v[0], v[2]])
                y = tf.reduce_sum(rows * rows)
            opt.apply_gradients([(t.gradient(y, v), v)])
        out.append(v.numpy())
    np.testing.assert_allclose(out[0], out[1], rtol=1e-6)


# --- the numpy detour -----------------------------------------------------------------------
def test_numpy_detour_gives_none():
    x = tf.Variable([[1.0, 2.0], [3.0, 4.0]])
    with tf.GradientTape() as tape:
        x2 = x ** 2
        y = np.mean(x2, axis=0)
        y = tf.reduce_mean(y, axis=0)
    assert tape.gradient(y, x) is None


# --- missing APIs, each differentiated through the table's entries ---------------------------
_A = np.array([[1.2, -0.3, 0.5], [0.4, 0.9, -0.7], [-0.2, 0.6, 1.1]])
_SPD = _A @ _A.T + 2 * np.eye(3)
_W = np.cos(np.arange(9.0).reshape(3, 3))

NEW_OPS = [
    ("linalg.cholesky", lambda x: tf.reduce_sum(tf.linalg.cholesky(x) * _W), _SPD),
    ("linalg.eigh", lambda x: tf.reduce_sum(tf.linalg.eigh(x)[0] * [1.0, 2.0, 3.0]), _SPD),
    ("linalg.svd", lambda x: tf.reduce_sum(tf.linalg.svd(x, compute_uv=False) * [1.0, 2.0, 3.0]),
     _A),
    ("linalg.qr", lambda x: tf.reduce_sum(tf.linalg.qr(x)[1] * _W), _A),
    ("linalg.logdet", lambda x: tf.linalg.logdet(x), _SPD),
    ("linalg.matvec", lambda x: tf.reduce_sum(tf.linalg.matvec(x, [1.0, 2.0, 3.0]) ** 2), _A),
    ("math.cumprod", lambda x: tf.reduce_sum(tf.math.cumprod(x, axis=1) * _W), _A),
    ("math.cumprod exclusive reverse",
     lambda x: tf.reduce_sum(tf.math.cumprod(x, axis=1, exclusive=True, reverse=True) * _W), _A),
    ("roll", lambda x: tf.reduce_sum(tf.roll(x, 1, 0) * _W), _A),
    ("repeat", lambda x: tf.reduce_sum(tf.repeat(x, 2, axis=1) ** 2), _A),
    ("math.erfc", lambda x: tf.reduce_sum(tf.math.erfc(x) * _W), _A),
    ("math.lgamma", lambda x: tf.reduce_sum(tf.math.lgamma(x) * _W), _SPD),
    ("math.digamma", lambda x: tf.reduce_sum(tf.math.digamma(x) * _W), _SPD),
    ("math.xlogy", lambda x: tf.reduce_sum(tf.math.xlogy(x, x * x + 1.0) * _W), _A),
    ("math.log_softmax", lambda x: tf.reduce_sum(tf.math.log_softmax(x) * _W), _A),
    ("meshgrid", lambda x: tf.reduce_sum(tf.meshgrid(x[0], x[1])[0] * tf.meshgrid(x[0], x[1])[1]
                                         * _W), _A),
    ("cond", lambda x: tf.cond(tf.reduce_sum(x) > 0, lambda: tf.reduce_sum(x ** 2),
                               lambda: tf.reduce_sum(x)), _A),
    ("while_loop", lambda x: tf.reduce_sum(tf.while_loop(lambda i, y: i < 3,
                                                         lambda i, y: (i + 1, y * x),
                                                         (0, tf.ones_like(x)))[1]), _A),
    ("switch_case", lambda x: tf.switch_case(1, [lambda: tf.reduce_sum(x),
                                                 lambda: tf.reduce_sum(tf.sin(x))]), _A),
    ("map_fn", lambda x: tf.reduce_sum(tf.map_fn(lambda r: r * tf.reduce_sum(r), x)), _A),
    ("vectorized_map", lambda x: tf.reduce_sum(tf.vectorized_map(lambda r: tf.exp(r), x)), _A),
    ("identity_n", lambda x: tf.reduce_sum(tf.identity_n([x, x * 2])[1] ** 2), _A),
]


@pytest.mark.parametrize("name,f,x", NEW_OPS, ids=[n for n, _, _ in NEW_OPS])
def test_new_api_gradient_against_differences(name, f, x):
    g = grad(f, x)
    np.testing.assert_allclose(g.numpy(), numeric(lambda v: f(tf.constant(v)).numpy(), x),
                               rtol=1e-5, atol=1e-7)


def test_special_function_values():
    x = tf.constant([1.0, 0.5, 10.0], tf.float64)
    np.testing.assert_allclose(tf.math.digamma(x).numpy(),
                               [-0.5772156649015329, -1.9635100260214235, 2.251752589066721],
                               rtol=1e-12)
    np.testing.assert_allclose(tf.math.polygamma(1, tf.constant(1.0, tf.float64)).numpy(),
                               np.pi ** 2 / 6, rtol=1e-12)
    assert tf.math.xlogy(0.0, 0.0).numpy() == 0.0


def test_lgamma_second_derivative_is_trigamma():
    x = tf.constant(2.5, tf.float64)
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = tf.math.lgamma(x)
        g = inner.gradient(y, x)
    np.testing.assert_allclose(outer.gradient(g, x).numpy(),
                               tf.math.polygamma(1, x).numpy(), rtol=1e-12)


def test_searchsorted_and_nest():
    np.testing.assert_array_equal(tf.searchsorted([1.0, 3.0, 5.0], [0.0, 3.0, 6.0]).numpy(),
                                  [0, 1, 3])
    np.testing.assert_array_equal(
        tf.searchsorted([1.0, 3.0, 5.0], [3.0], side="right").numpy(), [2])
    s = {"a": [1, 2], "b": (3,)}
    assert tf.nest.flatten(s) == [1, 2, 3]
    assert tf.nest.map_structure(lambda v: v * 10, s) == {"a": [10, 20], "b": (30,)}
    assert tf.nest.pack_sequence_as(s, [4, 5, 6]) == {"a": [4, 5], "b": (6,)}


def test_tensor_spec_and_function_input_signature():
    @tf.function(input_signature=[tf.TensorSpec(shape=[None], dtype=tf.float64)])
    def f(x):
        return x * 2

    y = f([1.0, 2.0])
    assert y.dtype == tf.float64 and y.numpy().tolist() == [2.0, 4.0]
    with pytest.raises(ValueError, match="Python inputs incompatible with input_signature"):
        f(tf.constant([[1.0]], tf.float64))
    assert tf.TensorSpec([None, 3]).is_compatible_with(tf.ones((5, 3)))
    assert not tf.TensorSpec([2], tf.int32).is_compatible_with(tf.ones(2))
    x = tf.constant([1.0, 3.0], tf.float64)
    with tf.GradientTape() as t:
        t.watch(x)
        y = tf.reduce_sum(f(x) ** 2)
    np.testing.assert_allclose(t.gradient(y, x).numpy(), [8.0, 24.0])


def test_nn_batch_normalization_value_and_gradient():
    x = np.array([[0.5, -1.0], [2.0, 0.3], [1.1, 0.8]])
    mean, var = tf.nn.moments(tf.constant(x), axes=[0])

    def f(t):
        return tf.reduce_sum(tf.nn.batch_normalization(t, mean, var, 0.1, 2.0, 1e-3) * _W[:, :2])
    expected = (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-3) * 2.0 + 0.1
    np.testing.assert_allclose(
        tf.nn.batch_normalization(tf.constant(x), mean, var, 0.1, 2.0, 1e-3).numpy(), expected)
    np.testing.assert_allclose(grad(f, x).numpy(), 2.0 * _W[:, :2] / np.sqrt(x.var(0) + 1e-3))


_X4 = np.random.default_rng(5).normal(size=(1, 4, 5, 2))
_F4 = np.random.default_rng(6).normal(size=(2, 3, 2, 3))
CONV = [
    ("conv2d VALID", lambda x: tf.reduce_sum(tf.sin(tf.nn.conv2d(x, _F4, 1, "VALID")))),
    ("conv2d SAME stride 2", lambda x: tf.reduce_sum(tf.sin(tf.nn.conv2d(x, _F4, 2, "SAME")))),
    ("max_pool2d", lambda x: tf.reduce_sum(tf.sin(tf.nn.max_pool2d(x, 2, 2, "SAME")))),
    ("avg_pool2d", lambda x: tf.reduce_sum(tf.sin(tf.nn.avg_pool2d(x, 3, 2, "SAME")))),
]


@pytest.mark.parametrize("name,f", CONV, ids=[n for n, _ in CONV])
def test_conv_and_pool_gradients_against_differences(name, f):
    np.testing.assert_allclose(grad(f, _X4).numpy(),
                               numeric(lambda v: f(tf.constant(v)).numpy(), _X4), rtol=1e-5,
                               atol=1e-7)


def test_avg_pool_same_counts_only_real_entries():
    x = np.arange(9.0).reshape(1, 3, 3, 1)
    out = tf.nn.avg_pool2d(tf.constant(x), 2, 2, "SAME").numpy()[0, :, :, 0]
    # windows: [0,1,3,4], [2,5], [6,7], [8]  (TF pads at the bottom/right and does not count it)
    np.testing.assert_allclose(out, [[2.0, 3.5], [6.5, 8.0]])
    assert tf.nn.max_pool2d(tf.constant(x), 2, 2, "VALID").numpy().ravel().tolist() == [4.0]


# --- Keras optimizers: Keras 3's update formulas, three steps on f(v) = sum(v^2 * c) --------
def _three_steps(opt):
    v = tf.Variable([1.0, -2.0], dtype=tf.float64)
    c = tf.constant([1.0, 3.0], tf.float64)
    for _ in range(3):
        with tf.GradientTape() as t:
            y = tf.reduce_sum(v * v * c)
        opt.apply_gradients([(t.gradient(y, v), v)])
    return v.numpy()


def test_rmsprop_three_steps():
    from tapeflow import keras
    v, s, vel = np.array([1.0, -2.0]), np.zeros(2), np.zeros(2)
    for _ in range(3):
        g = 2 * v * np.array([1.0, 3.0])
        s = 0.9 * s + 0.1 * g * g
        vel = 0.5 * vel + 0.01 * g / np.sqrt(s + 1e-7)
        v = v - vel
    np.testing.assert_allclose(_three_steps(keras.optimizers.RMSprop(0.01, momentum=0.5)), v)


def test_adagrad_three_steps():
    from tapeflow import keras
    v, a = np.array([1.0, -2.0]), np.full(2, 0.1)
    for _ in range(3):
        g = 2 * v * np.array([1.0, 3.0])
        a = a + g * g
        v = v - 0.1 * g / np.sqrt(a + 1e-7)
    np.testing.assert_allclose(_three_steps(keras.optimizers.Adagrad(0.1)), v)


def test_keras_crossentropy_loss_classes():
    from tapeflow import keras
    y = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    p = np.array([[0.2, 0.7, 0.1], [0.5, 0.3, 0.2]])
    cce = -np.mean(np.sum(y * np.log(p), axis=-1))
    assert keras.losses.CategoricalCrossentropy()(y, p).numpy() == pytest.approx(cce)
    assert keras.losses.SparseCategoricalCrossentropy()([1, 0], p).numpy() == pytest.approx(cce)
    logits = np.log(p) + 0.3
    assert keras.losses.CategoricalCrossentropy(from_logits=True)(y, logits).numpy() == \
        pytest.approx(cce)
    yb, pb = np.array([[1.0, 0.0]]), np.array([[0.9, 0.2]])
    bce = -np.mean(yb * np.log(pb) + (1 - yb) * np.log(1 - pb))
    assert keras.losses.BinaryCrossentropy()(yb, pb).numpy() == pytest.approx(bce)
    zb = np.log(pb / (1 - pb))
    assert keras.losses.BinaryCrossentropy(from_logits=True)(yb, zb).numpy() == pytest.approx(bce)
    assert keras.losses.MeanSquaredError()(yb, pb).numpy() == pytest.approx(np.mean((yb - pb) ** 2))


def test_keras_flatten_and_lambda_layers():
    from tapeflow import keras
    x = tf.constant(np.arange(12.0).reshape(2, 3, 2), tf.float32)
    assert tuple(keras.layers.Flatten()(x).shape) == (2, 6)
    with tf.GradientTape() as t:
        t.watch(x)
        y = tf.reduce_sum(keras.layers.Lambda(lambda v: v ** 2)(x))
    np.testing.assert_allclose(t.gradient(y, x).numpy(), 2 * x.numpy())
