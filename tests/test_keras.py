"""tapeflow.keras: layer shapes and values, optimizer updates against closed forms, losses and metrics
(the seed's values), and a short training run whose loss goes down."""
import math
import warnings

import numpy as np
import pytest

import tapeflow as tf
from tapeflow import keras


def _np(t):
    return np.asarray(t.numpy())


# --------------------------------------------------------------------------- Dense / Sequential

def test_dense_built_from_input_shape():
    layer = keras.layers.Dense(30, activation="relu", input_shape=(8,))
    kernel, bias = layer.variables
    assert kernel.shape == (8, 30) and bias.shape == (30,)
    assert kernel.dtype == tf.float32 and bias.dtype == tf.float32
    limit = math.sqrt(6 / (8 + 30))                     # glorot uniform
    k = _np(kernel)
    assert np.all(np.abs(k) <= limit) and k.std() > limit / 4
    assert np.all(_np(bias) == 0)


def test_dense_builds_on_first_call_and_computes_affine_activation():
    layer = keras.layers.Dense(4, activation="relu")
    assert layer.variables == []
    x = np.arange(15, dtype=np.float64).reshape(5, 3) / 7 - 1     # float64 input is cast to float32
    out = layer(x)
    assert out.shape == (5, 4) and out.dtype == tf.float32
    kernel, bias = layer.variables
    bias.assign(np.array([0.1, -0.2, 0.3, -0.4], np.float32))
    expected = np.maximum(x.astype(np.float32) @ _np(kernel) + _np(bias), 0)
    np.testing.assert_allclose(_np(layer(x)), expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("activation, fn", [
    (None, lambda z: z),
    ("linear", lambda z: z),
    ("sigmoid", lambda z: 1 / (1 + np.exp(-z))),
    ("tanh", np.tanh),
    ("softmax", lambda z: np.exp(z) / np.exp(z).sum(-1, keepdims=True)),
    (lambda t: t * 2.0, lambda z: 2 * z),
])
def test_dense_activations(activation, fn):
    layer = keras.layers.Dense(3, activation=activation, input_shape=(2,))
    x = np.array([[1.0, -2.0], [0.5, 0.25]], np.float32)
    z = x @ _np(layer.kernel)
    np.testing.assert_allclose(_np(layer(x)), fn(z), rtol=1e-5, atol=1e-6)


def test_dense_errors():
    with pytest.raises(ValueError, match="Unknown activation"):
        keras.layers.Dense(3, activation="nope")
    layer = keras.layers.Dense(2, input_shape=(3,))
    with pytest.raises(ValueError, match="last axis"):
        layer(np.ones((4, 5), np.float32))


def test_dense_without_bias():
    layer = keras.layers.Dense(2, use_bias=False, input_shape=(3,))
    assert [v.shape for v in layer.variables] == [(3, 2)]


def test_sequential_variables_in_order_and_output_shape():
    assert keras.models.Sequential is keras.Sequential
    assert tf.keras is keras
    model = keras.models.Sequential([
        keras.layers.Dense(30, activation="relu", input_shape=(8,)),
        keras.layers.Dense(1),
    ])
    # Built from input_shape before any call: kernel, bias per layer.
    assert [tuple(v.shape) for v in model.variables] == [(8, 30), (30,), (30, 1), (1,)]
    assert [id(v) for v in model.trainable_variables] == [id(v) for v in model.variables]
    assert model(np.zeros((7, 8))).shape == (7, 1)


def test_sequential_builds_lazily():
    model = keras.Sequential()
    model.add(keras.layers.Dense(5, activation="tanh"))
    model.add(keras.layers.Dense(2))
    assert model.variables == []
    assert model(np.ones((3, 4), np.float32)).shape == (3, 2)
    assert [tuple(v.shape) for v in model.variables] == [(4, 5), (5,), (5, 2), (2,)]


def test_set_seed_makes_initialization_deterministic():
    if not hasattr(tf.random, "set_seed"):
        pytest.skip("runtime has no tf.random.set_seed")
    tf.random.set_seed(1234)
    a = keras.layers.Dense(4, input_shape=(3,)).kernel.numpy()
    tf.random.set_seed(1234)
    b = keras.layers.Dense(4, input_shape=(3,)).kernel.numpy()
    c = keras.layers.Dense(4, input_shape=(3,)).kernel.numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(b, c)                     # the next layer gets other weights


def test_gradients_flow_through_the_model():
    model = keras.Sequential([keras.layers.Dense(3, activation="relu", input_shape=(2,)),
                              keras.layers.Dense(1)])
    k1, b1, k2, b2 = model.variables
    b1.assign(np.array([0.5, -0.5, 0.1], np.float32))
    x = np.array([[1.0, 2.0], [-1.0, 0.5], [0.3, -0.7]], np.float32)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(model(x))
    grads = tape.gradient(loss, model.variables)
    # Closed form: loss = sum relu(x k1 + b1) k2 + n b2.
    h = x @ _np(k1) + _np(b1)
    mask = (h > 0).astype(np.float32)
    g_a = np.ones((3, 1), np.float32) @ _np(k2).T * mask
    np.testing.assert_allclose(_np(grads[0]), x.T @ g_a, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_np(grads[1]), g_a.sum(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_np(grads[2]), np.maximum(h, 0).sum(0)[:, None], rtol=1e-5)
    np.testing.assert_allclose(_np(grads[3]), [3.0])


# --------------------------------------------------------------------------- optimizers

def _descend(optimizer, steps, x0=0.0):
    """Minimize f(x) = 3x^2 + 2x - 1 (f' = 6x + 2) and return the iterates."""
    x = tf.Variable(x0)
    xs = []
    for _ in range(steps):
        with tf.GradientTape() as tape:
            z = 3.0 * x ** 2 + 2.0 * x - 1
        optimizer.apply_gradients([(tape.gradient(z, x), x)])
        xs.append(float(x.numpy()))
    return xs


def test_sgd_closed_form():
    # x <- x - 0.1 (6x + 2) = 0.4 x - 0.2 from 0: -0.2, -0.28, -0.312, ... -> -1/3.
    xs = _descend(keras.optimizers.SGD(learning_rate=0.1), 3)
    np.testing.assert_allclose(xs, [-0.2, -0.28, -0.312], rtol=1e-6)
    # The old `lr=` keyword of seed 001, and convergence to the minimum at -1/3.
    xs = _descend(keras.optimizers.SGD(lr=0.1), 100)
    assert abs(xs[-1] + 1 / 3) < 1e-6
    assert keras.optimizers.SGD().learning_rate == 0.01


def test_sgd_momentum_closed_form():
    # velocity <- 0.9 velocity - 0.1 g; x <- x + velocity, with g = 6x + 2 from x = 0.
    xs = _descend(keras.optimizers.SGD(learning_rate=0.1, momentum=0.9), 2)
    v1 = -0.1 * 2.0                       # x1 = -0.2
    v2 = 0.9 * v1 - 0.1 * (6 * -0.2 + 2)  # g(x1) = 0.8 -> v2 = -0.26, x2 = -0.46
    np.testing.assert_allclose(xs, [v1, v1 + v2], rtol=1e-6)


def test_adam_closed_form():
    lr, b1, b2, eps = 0.05, 0.9, 0.999, 1e-7
    xs = _descend(keras.optimizers.Adam(learning_rate=lr, beta_1=b1, beta_2=b2, epsilon=eps), 4,
                  x0=1.0)
    # Adam as in the paper, in float64: m, v moments with bias correction.
    x, m, v, expected = 1.0, 0.0, 0.0, []
    for t in range(1, 5):
        g = 6 * x + 2
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        x -= lr * (m / (1 - b1 ** t)) / (math.sqrt(v / (1 - b2 ** t)) + eps)
        expected.append(x)
    np.testing.assert_allclose(xs, expected, rtol=1e-6)
    # First step moves by lr whatever the gradient's size (m_hat / sqrt(v_hat) = sign(g)).
    assert abs(xs[0] - (1.0 - lr)) < 1e-6


def test_apply_gradients_skips_none_with_a_warning():
    a, b = tf.Variable(1.0), tf.Variable(2.0)
    opt = keras.optimizers.SGD(learning_rate=0.5)
    with pytest.warns(UserWarning, match="Gradients do not exist"):
        opt.apply_gradients(zip([tf.constant(4.0), None], [a, b]))
    assert float(a.numpy()) == -1.0 and float(b.numpy()) == 2.0
    with pytest.raises(ValueError, match="No gradients"), pytest.warns(UserWarning):
        opt.apply_gradients([(None, a)])


# --------------------------------------------------------------------------- losses and metrics

def test_mean_squared_error_is_a_mean_over_the_last_axis():
    y_true = [[0.0, 1.0], [1.0, 1.0]]
    y_pred = [[1.0, 1.0], [1.0, 0.0]]
    np.testing.assert_allclose(_np(keras.losses.mean_squared_error(y_true, y_pred)), [0.5, 0.5])
    np.testing.assert_allclose(_np(keras.losses.mean_squared_error([1.0, 2.0], [2.0, 4.0])), 2.5)
    loss = keras.losses.MeanSquaredError()
    np.testing.assert_allclose(_np(loss(y_true, [[1.0, 1.0], [3.0, 1.0]])), (0.5 + 2.0) / 2)


def test_mean_squared_error_is_differentiable():
    w = tf.Variable([1.0, 2.0, 3.0])
    with tf.GradientTape() as tape:
        loss = keras.losses.mean_squared_error([0.0, 0.0, 0.0], w * 2.0)
    # d/dw mean((2w)^2) = 8w / 3
    np.testing.assert_allclose(_np(tape.gradient(loss, w)), np.array([8, 16, 24]) / 3, rtol=1e-6)


def test_mse_metric_seed_values():
    # Seed 001 §三.5: 9.0, then 5.0 (mean of 9 and 1), 5.0, and 4.0 after reset_states().
    metric = keras.metrics.MeanSquaredError()
    assert float(metric([5.0], [2.0]).numpy()) == 9.0
    assert float(metric([0.0], [1.0]).numpy()) == 5.0
    assert float(metric.result().numpy()) == 5.0
    assert metric.result().dtype == tf.float32
    metric.reset_states()
    metric([1.0], [3.0])
    assert float(metric.result().numpy()) == 4.0
    metric.reset_state()
    metric.update_state(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[1.0, 0.0], [3.0, 5.0]]))
    assert float(metric.result().numpy()) == pytest.approx((2.0 + 0.5) / 2)


# --------------------------------------------------------------------------- training

@pytest.mark.parametrize("make_opt", [lambda: keras.optimizers.SGD(learning_rate=0.05),
                                      lambda: keras.optimizers.Adam(learning_rate=0.01)])
def test_training_loop_reduces_the_loss(make_opt):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 3)).astype(np.float32)
    y = (x @ np.array([1.5, -2.0, 0.5]) + 0.3 * np.sin(3 * x[:, 0]) + 1.0).astype(np.float32)
    model = keras.Sequential([keras.layers.Dense(16, activation="relu", input_shape=(3,)),
                              keras.layers.Dense(1)])
    opt = make_opt()
    losses = []
    for _ in range(150):
        with tf.GradientTape() as tape:
            pred = tf.squeeze(model(x), 1)
            loss = keras.losses.mean_squared_error(y, pred)
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        losses.append(float(loss.numpy()))
    assert losses[-1] < 0.1 * losses[0]
    assert losses[-1] < 0.5


def test_dense_float64_layer():
    layer = keras.layers.Dense(2, input_shape=(3,), dtype="float64")
    assert layer.kernel.dtype == tf.float64
    out = layer(np.ones((4, 3)))
    assert out.dtype == tf.float64 and out.shape == (4, 2)


def test_keras_depends_only_on_the_runtime():
    # keras must work without the compiler: its modules import tapeflow.runtime and each other only.
    import ast
    import pathlib
    for path in pathlib.Path(keras.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                assert node.module in ("numpy", "math", "warnings", "inspect", "threading", "tapeflow") or \
                    node.module.startswith("tapeflow.runtime"), (path.name, node.module)
                if node.module == "tapeflow":
                    assert [a.name for a in node.names] == ["runtime"], (path.name, node.names)
            elif isinstance(node, ast.Import):
                assert all(a.name in ("numpy", "math", "warnings", "inspect", "threading") for a in node.names), path.name
