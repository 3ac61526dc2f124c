"""Issue 13, Keras themes: initializers (by name and class, Keras 3's distributions checked by
their statistics), keras.Model (subclassed and functional), BatchNormalization, Dropout,
Conv2D and pooling; and custom gradients under a ForwardAccumulator (TF's forwardprop tests).

Values are checked against closed forms (Keras' formulas written out in numpy), derivatives
against central differences in float64.
"""
import math

import numpy as np
import pytest

import tapeflow as tf

keras = tf.keras
L = keras.layers
inits = keras.initializers


def central_gradient(f, x, eps=1e-6):
    """d f / d x by central differences (f: numpy array -> float)."""
    x = np.array(x, dtype=np.float64)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = eps
        g[i] = (f(x + e) - f(x - e)) / (2 * eps)
    return g


# --- initializers --------------------------------------------------------------------------------
FAN_IN, FAN_OUT = 300, 500       # a (300, 500) kernel: 150000 draws
TRUNC_VAR = 0.7737413            # variance of N(0, 1) truncated to [-2, 2]


@pytest.mark.parametrize("name, cls", [
    ("zeros", inits.Zeros), ("ones", inits.Ones), ("glorot_uniform", inits.GlorotUniform),
    ("glorot_normal", inits.GlorotNormal), ("he_normal", inits.HeNormal), ("he_uniform", inits.HeUniform),
    ("lecun_normal", inits.LecunNormal), ("lecun_uniform", inits.LecunUniform),
    ("random_normal", inits.RandomNormal), ("random_uniform", inits.RandomUniform),
    ("truncated_normal", inits.TruncatedNormal), ("orthogonal", inits.Orthogonal),
    ("variance_scaling", inits.VarianceScaling), ("GlorotUniform", inits.GlorotUniform),
    ("HeNormal", inits.HeNormal), ("Constant", inits.Constant), ("identity", inits.Identity)])
def test_initializer_by_name_is_the_class(name, cls):
    assert type(inits.get(name)) is cls
    assert getattr(inits, name) is cls     # keras.initializers.glorot_uniform is the class too


@pytest.mark.parametrize("init, check", [
    # VarianceScaling family: variance scale / n, uniform limit sqrt(3 scale / n)
    ("glorot_uniform", dict(var=2 / (FAN_IN + FAN_OUT), limit=math.sqrt(6 / (FAN_IN + FAN_OUT)))),
    ("he_uniform", dict(var=2 / FAN_IN, limit=math.sqrt(6 / FAN_IN))),
    ("lecun_uniform", dict(var=1 / FAN_IN, limit=math.sqrt(3 / FAN_IN))),
    ("glorot_normal", dict(var=2 / (FAN_IN + FAN_OUT),
                           limit=2 * math.sqrt(2 / (FAN_IN + FAN_OUT)) / .87962566103423978)),
    ("he_normal", dict(var=2 / FAN_IN, limit=2 * math.sqrt(2 / FAN_IN) / .87962566103423978)),
    ("lecun_normal", dict(var=1 / FAN_IN, limit=2 * math.sqrt(1 / FAN_IN) / .87962566103423978)),
    (inits.VarianceScaling(3.0, "fan_out", "untruncated_normal"), dict(var=3 / FAN_OUT)),
    (inits.VarianceScaling(0.5, "fan_avg", "uniform"),
     dict(var=0.5 / 400, limit=math.sqrt(1.5 / 400))),
    (inits.RandomNormal(mean=1.0, stddev=2.0), dict(mean=1.0, var=4.0)),
    ("random_normal", dict(var=0.05 ** 2)),             # Keras' defaults: stddev 0.05
    (inits.RandomUniform(-1.0, 3.0), dict(mean=1.0, var=16 / 12, low=-1.0, high=3.0)),
    ("random_uniform", dict(var=0.1 ** 2 / 12, low=-0.05, high=0.05)),
    (inits.TruncatedNormal(mean=0.0, stddev=1.0), dict(var=TRUNC_VAR, limit=2.0)),
])
def test_initializer_statistics(init, check):
    w = np.asarray(inits.get(init)((FAN_IN, FAN_OUT)), dtype=np.float64)
    assert w.shape == (FAN_IN, FAN_OUT)
    mean = check.get("mean", 0.0)
    assert abs(w.mean() - mean) < 4 * math.sqrt(check["var"] / w.size) + 1e-12
    assert w.var() == pytest.approx(check["var"], rel=0.02)
    if "limit" in check:
        assert np.abs(w - mean).max() <= check["limit"] * (1 + 1e-6)
        assert np.abs(w - mean).max() > 0.97 * check["limit"]     # the limit is reached
    if "low" in check:
        assert check["low"] <= w.min() < check["low"] + 0.01
        assert check["high"] - 0.01 < w.max() <= check["high"]


def test_conv_kernel_fans_use_the_receptive_field():
    # (3, 3, 16, 32): fan_in = 9 * 16, fan_out = 9 * 32
    w = inits.HeUniform(seed=0)((3, 3, 16, 32))
    assert np.abs(w).max() <= math.sqrt(6 / 144) and np.abs(w).max() > 0.95 * math.sqrt(6 / 144)
    assert inits.compute_fans((3, 3, 16, 32)) == (144, 288)
    assert inits.compute_fans((7,)) == (7, 7) and inits.compute_fans(()) == (1, 1)


def test_constant_ones_zeros_identity_and_dtype():
    np.testing.assert_array_equal(inits.Constant(0.5)((2, 3)), np.full((2, 3), 0.5, np.float32))
    np.testing.assert_array_equal(inits.get("ones")((2,), dtype="float64"), np.ones(2))
    assert inits.get("ones")((2,), dtype="float64").dtype == np.float64
    assert inits.Zeros()((3,)).dtype == tf.float32
    t = inits.GlorotUniform(seed=1)(shape=(2, 2), dtype="float64")   # a Tensor, as Keras'
    assert isinstance(t, tf.Tensor) and t.dtype == tf.float64 and tuple(t.shape) == (2, 2)
    np.testing.assert_array_equal(inits.Identity(gain=2.0)((2, 3)), 2 * np.eye(2, 3))
    q = inits.Orthogonal(seed=1)((5, 3))
    np.testing.assert_allclose(q.T @ q, np.eye(3), atol=1e-5)
    with pytest.raises(ValueError, match="Could not interpret initializer identifier"):
        inits.get("glorot_uniformm")


def test_seeded_initializers_repeat_like_keras3():
    a = inits.GlorotUniform(seed=3)
    np.testing.assert_array_equal(a((4, 5)), a((4, 5)))          # same values at each call
    np.testing.assert_array_equal(a((4, 5)), inits.GlorotUniform(seed=3)((4, 5)))
    assert not np.array_equal(a((4, 5)), inits.GlorotUniform(seed=4)((4, 5)))
    tf.random.set_seed(7)
    u1 = inits.RandomNormal()((3, 3))
    tf.random.set_seed(7)
    u2, u3 = inits.RandomNormal()((3, 3)), inits.RandomNormal()((3, 3))
    np.testing.assert_array_equal(u1, u2)                          # repeatable after set_seed
    assert not np.array_equal(u2, u3)                              # a new initializer differs


@pytest.mark.parametrize("kernel_initializer", [
    "ones", inits.Ones, inits.Ones(), inits.Constant(0.25), lambda shape, dtype=None: np.full(shape, 0.25)])
def test_dense_accepts_initializers_by_name_class_instance_callable(kernel_initializer):
    layer = L.Dense(3, kernel_initializer=kernel_initializer, bias_initializer=inits.Constant(1.0),
                    input_shape=(2,))
    k = layer.kernel.numpy()
    assert k.shape == (2, 3) and np.all(k == k.flat[0]) and k.flat[0] in (1.0, 0.25)
    np.testing.assert_array_equal(layer.bias.numpy(), np.ones(3, np.float32))
    out = layer(np.ones((1, 2), np.float32)).numpy()
    np.testing.assert_allclose(out, 2 * k.flat[0] + 1.0)


def test_dense_with_seeded_initializer_is_repeatable():
    w1 = L.Dense(4, kernel_initializer=inits.HeNormal(seed=5), input_shape=(3,)).kernel.numpy()
    w2 = L.Dense(4, kernel_initializer=inits.HeNormal(seed=5), input_shape=(3,)).kernel.numpy()
    np.testing.assert_array_equal(w1, w2)


# --- keras.Model: subclassing ---------------------------------------------------------------------
class TwoLayer(keras.Model):
    def __init__(self):
        super().__init__(dtype="float64")
        self.hidden = L.Dense(4, activation="tanh", dtype="float64")
        self.extra = [L.Dense(3, dtype="float64")]            # layers in a list are tracked
        self.out = L.Dense(1, dtype="float64")
        self.frozen = tf.Variable(np.float64(2.0), trainable=False)

    def call(self, x):
        return self.out(self.extra[0](self.hidden(x))) * self.frozen


def test_subclassed_model_tracks_layers_and_variables():
    model = TwoLayer()
    assert model.trainable_variables == [] and model.layers == [model.hidden, model.extra[0],
                                                                 model.out]
    y = model(np.ones((2, 5)))
    assert tuple(y.shape) == (2, 1)
    names = [v.name.split("/")[-1] for v in model.trainable_variables]
    assert names == ["kernel:0", "bias:0"] * 3
    assert [v.shape for v in model.trainable_variables][0] == (5, 4)
    assert model.non_trainable_variables == [model.frozen]
    assert len(model.variables) == 7
    assert model.count_params() == 5 * 4 + 4 + 4 * 3 + 3 + 3 + 1 + 1
    model.trainable = False
    assert model.trainable_variables == [] and len(model.non_trainable_variables) == 7


def test_subclassed_model_gradient_matches_central_differences():
    model = TwoLayer()
    x = np.random.default_rng(0).standard_normal((3, 5))
    model(x)
    kernel = model.hidden.kernel
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(model(x) ** 2)
    grads = tape.gradient(loss, model.trainable_variables)
    assert all(g is not None for g in grads)

    def f(k):
        saved = kernel.numpy()
        kernel.assign(k)
        v = float(tf.reduce_sum(model(x) ** 2).numpy())
        kernel.assign(saved)
        return v
    np.testing.assert_allclose(grads[0].numpy(), central_gradient(f, kernel.numpy()), rtol=1e-6,
                               atol=1e-8)


def test_model_without_call_raises():
    class NoCall(keras.Model):
        pass
    with pytest.raises(NotImplementedError, match="implement `call"):
        NoCall()(np.ones((1, 2), np.float32))


def test_guide_training_loop_equals_numpy_sgd():
    # TF's "custom training loop" guide: GradientTape + optimizer.apply_gradients, here on a
    # linear model whose SGD steps numpy can replay exactly.
    class Linear(keras.Model):
        def __init__(self):
            super().__init__(dtype="float64")    # else inputs are cast to float32, as in Keras
            self.dense = L.Dense(1, kernel_initializer="zeros", dtype="float64")

        def call(self, x):
            return self.dense(x)

    rng = np.random.default_rng(1)
    x = rng.standard_normal((16, 3))
    y = x @ np.array([[1.0], [-2.0], [0.5]]) + 0.3
    model, opt = Linear(), keras.optimizers.SGD(learning_rate=0.1)
    loss_fn = keras.losses.MeanSquaredError()
    w, b = np.zeros((3, 1)), np.zeros(1)
    for _ in range(5):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x))
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        r = x @ w + b - y                       # mse = mean(r^2): d/dw = 2 x^T r / n
        w, b = w - 0.1 * 2 * x.T @ r / len(x), b - 0.1 * 2 * r.mean(axis=0)
    np.testing.assert_allclose(model.dense.kernel.numpy(), w, rtol=1e-12)
    np.testing.assert_allclose(model.dense.bias.numpy(), b, rtol=1e-12)


def test_compile_and_fit_reduce_the_loss():
    tf.random.set_seed(0)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((64, 2)).astype(np.float32)
    y = (x @ np.array([[2.0], [-1.0]]) + 0.5).astype(np.float32)
    model = keras.Sequential([keras.Input(shape=(2,)), L.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse")
    history = model.fit(x, y, epochs=20, batch_size=16, verbose=0)
    losses = history.history["loss"]
    assert len(losses) == 20 and losses[-1] < 1e-3 < losses[0]
    assert model.evaluate(x, y, verbose=0) < 1e-3
    assert model.predict(x).shape == (64, 1)
    with pytest.raises(RuntimeError, match="compile"):
        keras.Sequential([L.Dense(1)]).fit(x, y)


# --- keras.Model: functional -------------------------------------------------------------------
def test_functional_model_values_variables_and_gradients():
    inputs = keras.Input(shape=(3,), dtype="float64")
    assert inputs.shape == (None, 3)
    a = L.Dense(4, activation="relu", dtype="float64")
    b = L.Dense(2, dtype="float64")
    head = L.Dense(1, dtype="float64")
    h1, h2 = a(inputs), b(inputs)
    assert h1.shape == (None, 4) and h2.shape == (None, 2)
    merged = L.Concatenate(dtype="float64")([h1, h2])   # a float32 layer would cast (Keras)
    assert merged.shape == (None, 6)
    model = keras.Model(inputs=inputs, outputs=head(merged))
    assert model.layers[:2] == [a, b] and len(model.trainable_variables) == 6
    x = np.random.default_rng(3).standard_normal((5, 3))
    ref = np.concatenate([np.maximum(x @ a.kernel.numpy() + a.bias.numpy(), 0),
                          x @ b.kernel.numpy() + b.bias.numpy()], axis=1)
    ref = ref @ head.kernel.numpy() + head.bias.numpy()
    np.testing.assert_allclose(model(x).numpy(), ref, rtol=1e-12)
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        loss = tf.reduce_sum(model(xt) ** 2)
    gx = tape.gradient(loss, xt)
    np.testing.assert_allclose(
        gx.numpy(), central_gradient(lambda v: float(np.sum(model(v).numpy() ** 2)), x),
        rtol=1e-6, atol=1e-8)


def test_functional_model_errors_and_reuse():
    inputs = keras.Input(shape=(2,))
    model = keras.Model(inputs, L.Dense(3)(inputs))
    with pytest.raises(ValueError, match="expected shape=\\(None, 2\\), found shape=\\(4, 5\\)"):
        model(np.ones((4, 5), np.float32))
    other = keras.Input(shape=(2,))
    with pytest.raises(ValueError, match="not connected"):
        keras.Model(inputs, L.Dense(1)(other))
    with pytest.raises(TypeError, match="symbolic placeholder"):
        np.asarray(inputs)
    # a model is a layer: it can be called on new placeholders and nested
    outer_in = keras.Input(shape=(2,))
    outer = keras.Model(outer_in, L.Dense(1)(model(outer_in)))
    assert tuple(outer(np.ones((3, 2), np.float32)).shape) == (3, 1)
    assert len(outer.trainable_variables) == 4


def test_training_flag_reaches_nested_layers():
    inputs = keras.Input(shape=(1000,))
    model = keras.Model(inputs, L.Dropout(0.5, seed=0)(L.Lambda(lambda v: v * 1.0)(inputs)))
    x = np.ones((1, 1000), np.float32)
    np.testing.assert_array_equal(model(x).numpy(), x)                      # inference default
    y = model(x, training=True).numpy()
    assert set(np.unique(y)) == {0.0, 2.0}
    seq = keras.Sequential([L.Dropout(0.5, seed=0)])
    assert set(np.unique(seq(x, training=True).numpy())) == {0.0, 2.0}
    np.testing.assert_array_equal(seq(x, training=False).numpy(), x)


# --- layers ------------------------------------------------------------------------------------
def test_batch_normalization_training_inference_and_moving_statistics():
    bn = L.BatchNormalization()
    assert (bn.momentum, bn.epsilon) == (0.99, 1e-3)
    x = np.random.default_rng(4).standard_normal((8, 3)) * [1.0, 2.0, 3.0] + [0.0, 1.0, -2.0]
    x = x.astype(np.float32)
    y = bn(x, training=True).numpy()
    mean, var = x.mean(axis=0), x.var(axis=0)            # biased variance, as Keras
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-3), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bn.moving_mean.numpy(), 0.01 * mean, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(bn.moving_variance.numpy(), 0.99 + 0.01 * var, rtol=1e-5)
    mm, mv = bn.moving_mean.numpy(), bn.moving_variance.numpy()
    z = bn(x).numpy()                                    # default: inference, no update
    np.testing.assert_allclose(z, (x - mm) / np.sqrt(mv + 1e-3), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(bn.moving_mean.numpy(), mm)
    assert [v.name.split("/")[-1] for v in bn.trainable_variables] == ["gamma:0", "beta:0"]
    assert [v.name.split("/")[-1] for v in bn.non_trainable_variables] == [
        "moving_mean:0", "moving_variance:0"]
    bn.trainable = False                                 # Keras 3: a frozen BN runs in inference
    np.testing.assert_allclose(bn(x, training=True).numpy(), z, rtol=1e-6)


def test_batch_normalization_training_gradient_matches_central_differences():
    bn = L.BatchNormalization(axis=1, dtype="float64")   # channels on axis 1 of a 4-d input
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 2, 2, 2))
    c = rng.standard_normal((3, 2, 2, 2))
    bn(x)
    bn.gamma.assign(np.array([1.5, 0.5]))
    bn.beta.assign(np.array([0.1, -0.2]))
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        loss = tf.reduce_sum(bn(xt, training=True) * c)
    gx, gg, gb = tape.gradient(loss, [xt, bn.gamma, bn.beta])

    def f(v):
        return float(tf.reduce_sum(bn(v, training=True) * c).numpy())
    np.testing.assert_allclose(gx.numpy(), central_gradient(f, x), rtol=1e-5, atol=1e-7)
    xhat = (x - x.mean(axis=(0, 2, 3), keepdims=True)) / np.sqrt(
        x.var(axis=(0, 2, 3), keepdims=True) + 1e-3)
    np.testing.assert_allclose(gg.numpy(), (c * xhat).sum(axis=(0, 2, 3)), rtol=1e-10)
    np.testing.assert_allclose(gb.numpy(), c.sum(axis=(0, 2, 3)), rtol=1e-12)


def test_dropout_training_scaling_seed_and_gradient():
    x = tf.constant(np.arange(1.0, 20001.0).reshape(100, 200).astype(np.float32))
    layer = L.Dropout(0.3, seed=11)
    np.testing.assert_array_equal(layer(x).numpy(), x.numpy())      # inference: identity
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=True)
    yv, xv = y.numpy(), x.numpy()
    kept = yv != 0
    assert abs(1 - kept.mean() - 0.3) < 0.015                        # about rate of them zeroed
    np.testing.assert_allclose(yv[kept], xv[kept] / 0.7, rtol=1e-6)  # the rest scaled 1/(1-rate)
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), kept / np.float32(0.7), rtol=1e-6)
    again = L.Dropout(0.3, seed=11)(x, training=True).numpy()
    np.testing.assert_array_equal(again, yv)                          # same seed, same mask
    assert not np.array_equal(layer(x, training=True).numpy(), yv)    # the next call: a new mask
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match="Invalid value received for argument `rate`"):
            L.Dropout(bad)


def _conv_reference(x, k, stride, padding):
    n, h, w, c = x.shape
    kh, kw, _, o = k.shape
    if padding == "same":
        oh, ow = -(-h // stride), -(-w // stride)
        ph, pw = max((oh - 1) * stride + kh - h, 0), max((ow - 1) * stride + kw - w, 0)
        x = np.pad(x, [(0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)])
    else:
        oh, ow = (h - kh) // stride + 1, (w - kw) // stride + 1
    out = np.zeros((n, oh, ow, o))
    for i in range(oh):
        for j in range(ow):
            patch = x[:, i * stride:i * stride + kh, j * stride:j * stride + kw, :]
            out[:, i, j, :] = np.tensordot(patch, k, axes=([1, 2, 3], [0, 1, 2]))
    return out


@pytest.mark.parametrize("padding, stride", [("valid", 1), ("same", 1), ("same", 2),
                                              ("valid", 2)])
def test_conv2d_layer_values_and_gradients(padding, stride):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 5, 6, 3))
    layer = L.Conv2D(4, (3, 2), strides=stride, padding=padding, activation="tanh",
                     bias_initializer=inits.RandomNormal(seed=1), dtype="float64")
    y = layer(x)
    assert layer.kernel.shape == (3, 2, 3, 4) and layer.bias.shape == (4,)
    ref = np.tanh(_conv_reference(x, layer.kernel.numpy(), stride, padding) + layer.bias.numpy())
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-10, atol=1e-12)
    c = rng.standard_normal(ref.shape)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(x) * c)
    gk = tape.gradient(loss, layer.kernel)
    f = lambda k: float(np.sum(np.tanh(_conv_reference(x, k, stride, padding)  # noqa: E731
                                       + layer.bias.numpy()) * c))
    np.testing.assert_allclose(gk.numpy(), central_gradient(f, layer.kernel.numpy()), rtol=1e-6,
                               atol=1e-8)


def test_conv2d_without_bias_and_argument_errors():
    layer = L.Conv2D(2, 3, use_bias=False, padding="SAME")
    assert tuple(layer(np.ones((1, 4, 4, 1), np.float32)).shape) == (1, 4, 4, 2)
    assert layer.bias is None and len(layer.trainable_variables) == 1
    with pytest.raises(ValueError, match="padding"):
        L.Conv2D(2, 3, padding="full")
    with pytest.raises(ValueError, match="expected ndim=4"):
        L.Conv2D(2, 3)(np.ones((4, 4, 1), np.float32))


@pytest.mark.parametrize("cls, reduce", [(L.MaxPooling2D, np.max), (L.AveragePooling2D, np.mean)])
def test_pooling_layers_values_and_gradients(cls, reduce):
    rng = np.random.default_rng(7)
    x = rng.permutation(2 * 4 * 6 * 2).reshape(2, 4, 6, 2).astype(np.float64) / 10.0
    layer = cls(pool_size=2, dtype="float64")        # strides default to the pool size
    ref = reduce(x.reshape(2, 2, 2, 3, 2, 2), axis=(2, 4))
    np.testing.assert_allclose(layer(x).numpy(), ref, rtol=1e-12)
    c = rng.standard_normal(ref.shape)
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        loss = tf.reduce_sum(layer(xt) * c)
    f = lambda v: float(np.sum(reduce(v.reshape(2, 2, 2, 3, 2, 2), axis=(2, 4)) * c))  # noqa
    np.testing.assert_allclose(tape.gradient(loss, xt).numpy(), central_gradient(f, x),
                               rtol=1e-6, atol=1e-8)
    same = cls(pool_size=(3, 3), strides=(2, 2), padding="same")(x.astype(np.float32))
    assert tuple(same.shape) == (2, 2, 3, 2)


def test_small_convnet_trains_with_a_tape():
    tf.random.set_seed(3)
    model = keras.Sequential([
        keras.Input(shape=(6, 6, 1)),
        L.Conv2D(4, 3, activation="relu", padding="same"), L.BatchNormalization(),
        L.MaxPooling2D(), L.Dropout(0.1, seed=2), L.Flatten(), L.Dense(1)])
    rng = np.random.default_rng(8)
    x = rng.standard_normal((16, 6, 6, 1)).astype(np.float32)
    y = x.mean(axis=(1, 2))
    opt = keras.optimizers.Adam(learning_rate=0.01)
    losses = []
    for _ in range(30):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean((model(x, training=True) - y) ** 2)
        grads = tape.gradient(loss, model.trainable_variables)
        assert all(g is not None for g in grads)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        losses.append(float(loss.numpy()))
    assert losses[-1] < 0.3 * losses[0]
    assert len(model.non_trainable_variables) == 2        # BN's moving statistics


# --- custom gradients under a ForwardAccumulator (TF's forwardprop_test) ------------------------
def test_custom_gradient_of_a_numpy_forward_under_accumulators():
    # testCustomGradient: the forward is numpy, only grad_fn knows the derivative.
    @tf.custom_gradient
    def f(x):
        def grad(dy):
            return dy * tf.cos(x)
        return np.sin(x.numpy()), grad

    x = tf.constant([1.0, 2.0], dtype=tf.float64)
    t = tf.constant([1.0, 0.5], dtype=tf.float64)
    with tf.autodiff.ForwardAccumulator(x, t) as acc:
        y = f(x)
    np.testing.assert_allclose(acc.jvp(y).numpy(), np.cos([1.0, 2.0]) * [1.0, 0.5], rtol=1e-12)
    with tf.autodiff.ForwardAccumulator(x, t) as outer:       # second order, forward twice
        with tf.autodiff.ForwardAccumulator(x, t) as inner:
            y = f(x)
        d1 = inner.jvp(y)
    np.testing.assert_allclose(outer.jvp(d1).numpy(), -np.sin([1.0, 2.0]) * [1.0, 0.25],
                               rtol=1e-12)
    with tf.GradientTape() as tape:                           # reverse over forward
        tape.watch(x)
        with tf.autodiff.ForwardAccumulator(x, t) as acc:
            y = f(x)
        d1 = acc.jvp(y)
    np.testing.assert_allclose(tape.gradient(d1, x).numpy(), -np.sin([1.0, 2.0]) * [1.0, 0.5],
                               rtol=1e-12)


def test_custom_gradient_error_raised_at_forward_time():
    # testExceptionInCustomGradientNotSwallowed (the output does not even depend on the input)
    @tf.custom_gradient
    def f(unused_x):
        def grad(unused_dy):
            raise ValueError("test_error_string")
        return 1.0, grad

    c, d = tf.constant(1.0), tf.constant(2.0)
    with tf.autodiff.ForwardAccumulator(c, d):
        with pytest.raises(ValueError, match="test_error_string"):
            f(c)
    f(c)                                       # no accumulator, no tape: grad_fn never runs


def test_custom_gradient_with_variables_under_an_accumulator():
    v = tf.Variable(np.float64(2.0))

    @tf.custom_gradient
    def f(x):
        def grad(dy, variables=None):
            return dy * v * 10.0, [dy * x * 100.0]     # deliberately not the true derivatives
        return x * v, grad

    x = tf.constant(np.float64(3.0))
    with tf.autodiff.ForwardAccumulator(v, tf.constant(np.float64(1.0))) as acc:
        y = f(x)
    assert float(acc.jvp(y).numpy()) == 300.0      # grad_fn's variable gradient, transposed
    with tf.autodiff.ForwardAccumulator(x, tf.constant(np.float64(1.0))) as acc:
        y = f(x)
    assert float(acc.jvp(y).numpy()) == 20.0


def test_custom_gradient_whose_grad_fn_leaves_the_tensors_is_refused():
    @tf.custom_gradient
    def f(x):
        def grad(dy):
            return dy.numpy() * 2.0         # numpy: no tape follows it, forward mode cannot
        return x * 1.0, grad

    c = tf.constant(1.0)
    with pytest.raises(NotImplementedError, match="CustomGradient"):
        with tf.autodiff.ForwardAccumulator(c, tf.constant(1.0)):
            f(c)


@pytest.mark.parametrize("make", [
    lambda: L.Dense(3, activation="tanh", dtype="float64"),
    lambda: L.Conv2D(2, 2, padding="same", dtype="float64"),
    lambda: L.BatchNormalization(dtype="float64"),
])
def test_layer_jvp_matches_central_differences(make):
    # forwardprop_test runs Keras layers under an accumulator; BatchNormalization in training
    # mode so that the batch statistics carry the tangent.
    layer = make()
    rng = np.random.default_rng(9)
    shape = (3, 4, 4, 2) if isinstance(layer, L.Conv2D) else (5, 4)
    x, t = rng.standard_normal(shape), rng.standard_normal(shape)
    layer(x)
    xt = tf.constant(x)
    with tf.autodiff.ForwardAccumulator(xt, tf.constant(t)) as acc:
        y = layer(xt, training=True)
    eps = 1e-6
    fd = (layer(x + eps * t, training=True).numpy()
          - layer(x - eps * t, training=True).numpy()) / (2 * eps)
    np.testing.assert_allclose(acc.jvp(y).numpy(), fd, rtol=1e-5, atol=1e-7)


def test_training_flag_passed_by_position_and_call_default():
    class Noisy(L.Layer):
        def call(self, x, training=True):          # call's own default applies when unset
            return x * (2.0 if training else 1.0)

    x = np.ones((1, 2), np.float32)
    layer = Noisy()
    np.testing.assert_array_equal(layer(x).numpy(), 2 * x)
    np.testing.assert_array_equal(layer(x, False).numpy(), x)
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x)
    bn = L.BatchNormalization()
    bn(x * 3.0, True)
    np.testing.assert_allclose(bn.moving_mean.numpy(), [0.03, 0.03], rtol=1e-5)


def test_custom_layer_add_weight_in_build_keras3_and_keras2_orders():
    class Scale(L.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")
            self.c = self.add_weight("c", (1,), None, inits.Constant(3.0), trainable=False)

        def call(self, x):
            return x * self.w * self.c

    layer = Scale()
    x = tf.constant([[1.0, 2.0]])
    with tf.GradientTape() as tape:
        y = layer(x)
    np.testing.assert_array_equal(y.numpy(), [[3.0, 6.0]])
    np.testing.assert_array_equal(tape.gradient(y, layer.w).numpy(), [3.0, 6.0])
    assert layer.trainable_weights == [layer.w] and layer.non_trainable_weights == [layer.c]


def test_functional_operators_on_placeholders_and_sequential_build():
    inputs = keras.Input(shape=(2,), dtype="float64")
    dense = L.Dense(2, dtype="float64")
    h = dense(inputs)
    outputs = (h * 2.0 + inputs) / 4.0 - (-h) ** 2
    model = keras.Model(inputs, outputs)
    x = np.random.default_rng(10).standard_normal((3, 2))
    hv = x @ dense.kernel.numpy() + dense.bias.numpy()
    np.testing.assert_allclose(model(x).numpy(), (hv * 2.0 + x) / 4.0 - hv ** 2, rtol=1e-12)
    seq = keras.Sequential([L.Dense(3), L.Dense(1)])
    assert seq.weights == []
    seq.build((None, 4))
    assert [tuple(v.shape) for v in seq.weights] == [(4, 3), (3,), (3, 1), (1,)]


def test_accuracy_metrics_and_fit_with_metrics():
    m = keras.metrics.SparseCategoricalAccuracy()
    m.update_state([[2], [1], [0]], [[0.1, 0.2, 0.7], [0.5, 0.3, 0.2], [0.9, 0.05, 0.05]])
    assert float(m.result().numpy()) == pytest.approx(2 / 3)
    c = keras.metrics.CategoricalAccuracy()
    c.update_state([[0, 1], [1, 0]], [[0.2, 0.8], [0.3, 0.7]])
    assert float(c.result().numpy()) == 0.5
    b = keras.metrics.BinaryAccuracy()
    b.update_state([[1.0], [0.0], [1.0], [0.0]], [[0.9], [0.6], [0.4], [0.1]])
    assert float(b.result().numpy()) == 0.5
    tf.random.set_seed(1)
    rng = np.random.default_rng(11)
    x = rng.standard_normal((90, 2)).astype(np.float32)
    labels = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0)      # three classes
    inputs = keras.Input(shape=(2,))
    model = keras.Model(inputs, L.Dense(3)(L.Dense(16, activation="relu")(inputs)))
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.05),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    history = model.fit(x, labels, epochs=30, batch_size=30, verbose=0)
    assert set(history.history) == {"loss", "accuracy"}
    assert history.history["accuracy"][-1] > 0.9 and history.history["loss"][-1] < 0.4
    loss, acc = model.evaluate(x, labels, verbose=0)
    pred = model.predict(x).argmax(axis=-1)
    assert acc == pytest.approx(np.mean(pred == labels), abs=1e-6)


def test_advanced_autodiff_guide_hessian_and_batch_norm_jacobian():
    # advanced_autodiff guide: the Hessian of a two-layer net's loss w.r.t. layer1.kernel (here
    # in float64, checked against central differences of the gradient), and the Jacobian of a
    # network with a BatchNormalization in training mode (samples interact through its batch
    # statistics, so batch_jacobian is not the per-sample Jacobian).
    rng = np.random.default_rng(12)
    x = tf.constant(rng.standard_normal((7, 5)))
    layer1 = L.Dense(4, activation=tf.nn.elu, dtype="float64")
    layer2 = L.Dense(3, activation=tf.nn.elu, dtype="float64")

    def loss_of(kernel_value):
        layer1.kernel.assign(kernel_value)
        return tf.reduce_mean(layer2(layer1(x)) ** 2)
    layer1(x)
    k0 = layer1.kernel.numpy()
    with tf.GradientTape() as t2:
        with tf.GradientTape() as t1:
            loss = tf.reduce_mean(layer2(layer1(x)) ** 2)
        g = t1.gradient(loss, layer1.kernel)
    h = t2.jacobian(g, layer1.kernel)
    assert tuple(h.shape) == (5, 4, 5, 4)
    eps = 1e-5
    for i in [(0, 0), (2, 3), (4, 1)]:
        e = np.zeros_like(k0)
        e[i] = eps
        with tf.GradientTape() as t:
            lp = loss_of(k0 + e)
        gp = t.gradient(lp, layer1.kernel).numpy()
        with tf.GradientTape() as t:
            lm = loss_of(k0 - e)
        gm = t.gradient(lm, layer1.kernel).numpy()
        np.testing.assert_allclose(h.numpy()[:, :, i[0], i[1]], (gp - gm) / (2 * eps),
                                   rtol=1e-5, atol=1e-9)
    layer1.kernel.assign(k0)
    bn = L.BatchNormalization(dtype="float64")
    with tf.GradientTape(persistent=True, watch_accessed_variables=False) as tape:
        tape.watch(x)
        y = layer2(bn(layer1(x), training=True))
    j = tape.jacobian(y, x)
    assert tuple(j.shape) == (7, 3, 7, 5)
    xv = x.numpy()
    f = lambda v: layer2(bn(layer1(v), training=True)).numpy()  # noqa: E731
    for b, a in [(0, 0), (3, 2), (6, 4)]:
        e = np.zeros_like(xv)
        e[b, a] = 1e-6
        np.testing.assert_allclose(j.numpy()[:, :, b, a], (f(xv + e) - f(xv - e)) / 2e-6,
                                   rtol=1e-5, atol=1e-8)
    jb = tape.batch_jacobian(y, x)
    assert tuple(jb.shape) == (7, 3, 5)
    # TF seeds one output column for the whole batch: jb[b, i, k] = sum over b' of
    # d y[b', i] / d x[b, k] (the diagonal blocks only when samples do not interact)
    np.testing.assert_allclose(jb.numpy(), np.einsum("aibk->bik", j.numpy()), rtol=1e-10,
                               atol=1e-14)
    assert not np.allclose(jb.numpy(), np.einsum("bibk->bik", j.numpy()), atol=1e-3)


@pytest.mark.parametrize("forward_first", [True, False])
def test_batch_norm_layer_param_grads_forward_over_backward(forward_first):
    # forwardprop_test's testBatchNormLayerParamGrads: the JVP (tangent on gamma) of the
    # gradient w.r.t. x and beta of a BatchNormalization in training mode, with the accumulator
    # outside the tape and the tape outside the accumulator; against central differences.
    rng = np.random.default_rng(13)
    x = tf.constant(rng.standard_normal((2, 3, 4, 5)))
    c = rng.standard_normal((2, 3, 4, 5))
    bn = L.BatchNormalization(dtype="float64")
    bn(x)
    bn.beta.assign(rng.standard_normal(5))
    g0, tangent = rng.standard_normal(5), rng.standard_normal(5)

    def loss():
        return tf.reduce_sum(tf.sin(bn(x, training=True)) * c)

    def grads(gamma_value):
        bn.gamma.assign(gamma_value)
        with tf.GradientTape() as tape:
            tape.watch(x)
            value = loss()
        return [g.numpy() for g in tape.gradient(value, [x, bn.beta])]
    eps = 1e-6
    plus, minus = grads(g0 + eps * tangent), grads(g0 - eps * tangent)
    bn.gamma.assign(g0)
    if forward_first:
        with tf.autodiff.ForwardAccumulator(bn.gamma, tf.constant(tangent)) as acc:
            with tf.GradientTape() as tape:
                tape.watch(x)
                value = loss()
            gx, gb = tape.gradient(value, [x, bn.beta])
        hx, hb = acc.jvp([gx, gb])
    else:
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(x)
            with tf.autodiff.ForwardAccumulator(bn.gamma, tf.constant(tangent)) as acc:
                value = loss()
            jvp = acc.jvp(value)
        hx, hb = tape.gradient(jvp, [x, bn.beta])
    np.testing.assert_allclose(hx.numpy(), (plus[0] - minus[0]) / (2 * eps), rtol=1e-5,
                               atol=1e-8)
    np.testing.assert_allclose(hb.numpy(), (plus[1] - minus[1]) / (2 * eps), rtol=1e-5,
                               atol=1e-8)


_SIG = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
_SOFTPLUS = lambda v: np.log1p(np.exp(v))  # noqa: E731
ACTIVATIONS = {   # Keras 3's definitions, in numpy
    "linear": lambda v: v, "relu": lambda v: np.maximum(v, 0), "sigmoid": _SIG, "tanh": np.tanh,
    "softmax": lambda v: np.exp(v) / np.exp(v).sum(-1, keepdims=True),
    "log_softmax": lambda v: v - np.log(np.exp(v).sum(-1, keepdims=True)),
    "elu": lambda v: np.where(v > 0, v, np.expm1(v)),
    "selu": lambda v: 1.0507009873554805 * np.where(v > 0, v, 1.6732632423543772 * np.expm1(v)),
    "gelu": lambda v: v * 0.5 * (1 + np.vectorize(math.erf)(v / math.sqrt(2))),
    "softplus": _SOFTPLUS, "softsign": lambda v: v / (1 + np.abs(v)),
    "swish": lambda v: v * _SIG(v), "silu": lambda v: v * _SIG(v),
    "leaky_relu": lambda v: np.where(v > 0, v, 0.2 * v), "relu6": lambda v: np.clip(v, 0, 6),
    "hard_sigmoid": lambda v: np.clip(v + 3, 0, 6) / 6, "exponential": np.exp,
    "mish": lambda v: v * np.tanh(_SOFTPLUS(v)),
}


@pytest.mark.parametrize("name", sorted(keras.activations._BY_NAME))
def test_activation_by_name_value_and_gradient(name):
    ref = ACTIVATIONS[name]
    x = np.array([[-3.7, -1.2, -0.4, 0.3, 1.1, 2.5, 7.0]])   # away from the kinks
    fn = keras.activations.get(name)
    np.testing.assert_allclose(fn(tf.constant(x)).numpy(), ref(x), rtol=1e-7, atol=1e-12)
    w = np.linspace(0.5, 2.0, x.size).reshape(x.shape)
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        y = tf.reduce_sum(fn(xt) * w)
    np.testing.assert_allclose(tape.gradient(y, xt).numpy(),
                               central_gradient(lambda v: float(np.sum(ref(v) * w)), x),
                               rtol=1e-6, atol=1e-6)
    dense = L.Dense(7, activation=name, use_bias=False, kernel_initializer="identity",
                    dtype="float64")                    # the layer applies it to x @ I
    np.testing.assert_allclose(dense(x).numpy(), ref(x), rtol=1e-7, atol=1e-12)


def test_weight_regularizers_and_add_loss_enter_the_losses_and_their_gradients():
    reg = keras.regularizers.L1L2(l1=0.01, l2=0.1)
    layer = L.Dense(2, kernel_regularizer=reg, bias_regularizer="l2", dtype="float64",
                    bias_initializer=inits.Constant(0.5))

    class WithPenalty(keras.Model):
        def __init__(self):
            super().__init__(dtype="float64")
            self.dense = layer

        def call(self, x):
            y = self.dense(x)
            self.add_loss(0.5 * tf.reduce_sum(y ** 2))      # an activity penalty
            return y

    model = WithPenalty()
    x = np.array([[1.0, -2.0, 0.5]])
    with tf.GradientTape() as tape:
        y = model(x)
        total = tf.add_n(model.losses)
    k, b = layer.kernel.numpy(), layer.bias.numpy()
    yv = x @ k + b
    np.testing.assert_allclose(y.numpy(), yv, rtol=1e-12)
    assert len(model.losses) == 3
    expected = 0.5 * np.sum(yv ** 2) + 0.01 * np.abs(k).sum() + 0.1 * (k ** 2).sum() \
        + 0.01 * (b ** 2).sum()                             # 'l2' is L2(0.01), Keras' default
    assert float(total.numpy()) == pytest.approx(expected, rel=1e-12)
    gk = tape.gradient(total, layer.kernel).numpy()
    np.testing.assert_allclose(gk, x.T @ yv + 0.01 * np.sign(k) + 0.2 * k, rtol=1e-10)
    model(x)
    assert len(model.losses) == 3                           # add_loss is reset at each call


def test_tracking_follows_changes_after_construction():
    class Stack(keras.Model):
        def __init__(self):
            super().__init__()
            self.blocks = []
            self.named = {}

        def call(self, x):
            for block in self.blocks + list(self.named.values()):
                x = block(x)
            return x

    model = Stack()
    model(np.ones((1, 2), np.float32))
    assert model.trainable_variables == []
    first = L.Dense(2, input_shape=(2,))
    model.blocks.append(first)                         # in-place change of a tracked list
    assert model.trainable_variables == [first.kernel, first.bias]
    extra = L.Dense(2, input_shape=(2,))
    model.named["extra"] = extra                       # and of a tracked dict
    assert len(model.trainable_variables) == 4
    first.trainable = False                            # a sub-layer frozen later
    assert model.trainable_variables == [extra.kernel, extra.bias]
    assert len(model.non_trainable_variables) == 2
    model.blocks.pop()
    assert model.layers == [extra] and len(model.weights) == 2


@pytest.mark.parametrize("axis", [-1, [1, 2]])
def test_layer_normalization_value_and_gradient(axis):
    rng = np.random.default_rng(14)
    x = rng.standard_normal((2, 3, 4))
    c = rng.standard_normal((2, 3, 4))
    ln = L.LayerNormalization(axis=axis, dtype="float64")
    ln(x)
    axes = (2,) if axis == -1 else (1, 2)
    assert tuple(ln.gamma.shape) == tuple(x.shape[a] for a in axes)
    ln.gamma.assign(rng.standard_normal(ln.gamma.shape))
    ln.beta.assign(rng.standard_normal(ln.beta.shape))
    g, b = ln.gamma.numpy(), ln.beta.numpy()
    if axis != -1:
        g, b = g[None], b[None]

    def ref(v):
        m, s = v.mean(axis=axes, keepdims=True), v.var(axis=axes, keepdims=True)
        return (v - m) / np.sqrt(s + 1e-3) * g + b
    np.testing.assert_allclose(ln(x).numpy(), ref(x), rtol=1e-10, atol=1e-12)
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        loss = tf.reduce_sum(ln(xt) * c)
    np.testing.assert_allclose(tape.gradient(loss, xt).numpy(),
                               central_gradient(lambda v: float(np.sum(ref(v) * c)), x),
                               rtol=1e-6, atol=1e-8)


def test_embedding_layer_gives_indexed_slices_and_trains_sparsely():
    emb = L.Embedding(6, 2, embeddings_initializer=inits.RandomUniform(seed=0))
    assert np.abs(emb.embeddings.numpy()).max() <= 0.05       # 'uniform': U(-0.05, 0.05)
    before = emb.embeddings.numpy().copy()
    ids = np.array([[1, 3], [3, 3]])
    with tf.GradientTape() as tape:
        y = emb(ids)
        loss = tf.reduce_sum(y * np.array([1.0, 2.0], np.float32))
    np.testing.assert_array_equal(y.numpy(), before[ids])
    g = tape.gradient(loss, emb.embeddings)
    assert isinstance(g, tf.IndexedSlices)
    dense = tf.convert_to_tensor(g).numpy()
    np.testing.assert_array_equal(dense[[1, 3]], [[1.0, 2.0], [3.0, 6.0]])
    np.testing.assert_array_equal(dense[[0, 2, 4, 5]], 0.0)
    keras.optimizers.SGD(learning_rate=0.1).apply_gradients([(g, emb.embeddings)])
    np.testing.assert_allclose(emb.embeddings.numpy(), before - 0.1 * dense, rtol=1e-6)
    inputs = keras.Input(shape=(2,), dtype="int32")
    model = keras.Model(inputs, L.Flatten()(L.Embedding(6, 2)(inputs)))
    assert tuple(model(ids).shape) == (2, 4)
