"""Tensor, Variable and dtype behaviour: conversions, printing, Python protocols, errors."""
import numpy as np
import pytest

import tapeflow as tf


# --- dtypes -------------------------------------------------------------------------------------
def test_python_values_default_dtypes():
    assert tf.constant(1.5).dtype == tf.float32
    assert tf.constant(3).dtype == tf.int32
    assert tf.constant(True).dtype == tf.bool
    assert tf.constant([1.0, 2]).dtype == tf.float32
    assert tf.constant([[1, 2], [3, 4]]).dtype == tf.int32
    assert tf.constant(2 ** 40).dtype == tf.int64
    assert tf.constant("abc").dtype == tf.string


def test_numpy_values_keep_dtype():
    assert tf.constant(np.array([1.0, 2.0])).dtype == tf.float64
    assert tf.constant(np.float64(1.0)).dtype == tf.float64
    assert tf.constant(np.array([1, 2], dtype=np.int64)).dtype == tf.int64
    assert tf.constant(np.array([1, 2], dtype=np.float16)).dtype == tf.float16
    assert tf.convert_to_tensor(np.ones(3, np.float32)).dtype == tf.float32


def test_explicit_dtype_and_errors():
    assert tf.constant([1, 2], dtype=tf.float64).dtype == tf.float64
    assert tf.constant(1, dtype="float16").dtype == tf.float16
    with pytest.raises(TypeError, match="Cannot convert 2.5 to EagerTensor of dtype int32"):
        tf.constant(2.5, dtype=tf.int32)
    with pytest.raises(ValueError, match="Tensor conversion requested dtype float64 for Tensor "
                                         "with dtype float32"):
        tf.convert_to_tensor(tf.constant(1.0), dtype=tf.float64)
    with pytest.raises(TypeError):
        tf.as_dtype("no_such_dtype")


def test_dtype_objects():
    assert repr(tf.int32) == "<dtype: 'int32'>"
    assert str(tf.float32) == "<dtype: 'float32'>"
    assert tf.float32.name == "float32"
    assert tf.float64.as_numpy_dtype is np.float64
    assert tf.float32 == np.float32 and tf.float32 == "float32" and tf.float32 != tf.float64
    assert tf.as_dtype(np.dtype("int64")) is tf.int64
    assert tf.float32.is_floating and tf.int32.is_integer and not tf.int32.is_floating
    assert np.zeros(2, dtype=tf.float16).dtype == np.float16
    assert tf.constant(1.0).dtype in (tf.float32, tf.float64)
    assert tf.dtypes.float32 is tf.float32


def test_mixing_with_python_numbers_uses_tensor_dtype():
    x32 = tf.constant([1.0, 2.0])
    x64 = tf.constant(np.array([1.0, 2.0]))
    i = tf.constant([1, 2])
    assert (x32 * 2.5).dtype == tf.float32 and (2.5 * x32).dtype == tf.float32
    assert (x64 + 1).dtype == tf.float64
    assert (i + 1).dtype == tf.int32 and (i * 3).dtype == tf.int32
    assert (x32 + [1.0, 2.0]).dtype == tf.float32
    with pytest.raises(TypeError, match="Cannot convert 2.5 to EagerTensor of dtype int32"):
        i * 2.5
    np.testing.assert_array_equal((i * 2.0).numpy(), [2, 4])


def test_int_division_and_comparisons():
    i = tf.constant([3, 4])
    assert (i / 2).dtype == tf.float64
    np.testing.assert_array_equal((i // 2).numpy(), [1, 2])
    np.testing.assert_array_equal((i % 3).numpy(), [0, 1])
    b = tf.constant([1.0, 5.0]) > 2.0
    assert b.dtype == tf.bool
    np.testing.assert_array_equal(b.numpy(), [False, True])
    np.testing.assert_array_equal((tf.constant([1, 2]) == tf.constant([1, 3])).numpy(), [True, False])


# --- printing -----------------------------------------------------------------------------------
def test_str_and_repr_exact():
    assert str(tf.constant(9.0)) == "tf.Tensor(9.0, shape=(), dtype=float32)"
    assert repr(tf.constant(9.0)) == "<tf.Tensor: shape=(), dtype=float32, numpy=9.0>"
    assert str(tf.constant([2.0, 4.0, 6.0])) == "tf.Tensor([2. 4. 6.], shape=(3,), dtype=float32)"
    assert repr(tf.constant([0.4, 2.4, 1.2])) == (
        "<tf.Tensor: shape=(3,), dtype=float32, numpy=array([0.4, 2.4, 1.2], dtype=float32)>")
    assert str(tf.constant([[1.0, 4, 9], [16, 25, 36]])) == (
        "tf.Tensor(\n[[ 1.  4.  9.]\n [16. 25. 36.]], shape=(2, 3), dtype=float32)")
    assert str(tf.constant(3)) == "tf.Tensor(3, shape=(), dtype=int32)"
    assert str(tf.constant(0.70710677)) == "tf.Tensor(0.70710677, shape=(), dtype=float32)"
    assert str([tf.constant(6.0)]) == "[<tf.Tensor: shape=(), dtype=float32, numpy=6.0>]"
    assert str(tf.constant(True)) == "tf.Tensor(True, shape=(), dtype=bool)"
    assert repr(tf.constant("ab")) == "<tf.Tensor: shape=(), dtype=string, numpy=b'ab'>"
    assert str(tf.constant("ab")) == "tf.Tensor(b'ab', shape=(), dtype=string)"


def test_variable_repr_exact():
    assert repr(tf.Variable(3)) == "<tf.Variable 'Variable:0' shape=() dtype=int32, numpy=3>"
    assert repr(tf.Variable(3.0)) == "<tf.Variable 'Variable:0' shape=() dtype=float32, numpy=3.0>"
    assert repr(tf.Variable([1, 2])) == ("<tf.Variable 'Variable:0' shape=(2,) dtype=int32, "
                                         "numpy=array([1, 2], dtype=int32)>")
    assert repr(tf.Variable([1, 2], dtype=tf.float64)) == (
        "<tf.Variable 'Variable:0' shape=(2,) dtype=float64, numpy=array([1., 2.])>")
    assert repr(tf.Variable(tf.zeros([2, 3]))) == (
        "<tf.Variable 'Variable:0' shape=(2, 3) dtype=float32, numpy=\n"
        "array([[0., 0., 0.],\n       [0., 0., 0.]], dtype=float32)>")
    assert repr(tf.Variable(1.0, name="w")).startswith("<tf.Variable 'w:0' shape=()")
    x = tf.Variable([1, 2])
    assert repr(x.assign([3, 4])) == ("<tf.Variable 'UnreadVariable' shape=(2,) dtype=int32, "
                                      "numpy=array([3, 4], dtype=int32)>")


def test_shape_object():
    t = tf.constant(np.zeros((4, 8)))
    assert t.shape == (4, 8) and t.shape[1:] == (8,) and t.shape[0] == 4
    assert str(t.shape) == "(4, 8)" and repr(t.shape) == "TensorShape([4, 8])"
    assert t.shape.as_list() == [4, 8] and t.shape.rank == 2 and t.ndim == 2
    assert str(tf.constant(1.0).shape) == "()"
    assert tf.constant([1, 2]).get_shape() == (2,)


# --- Python and numpy protocols -----------------------------------------------------------------
def test_python_protocols():
    t = tf.constant([1.0, 2.0, 3.0])
    assert len(t) == 3
    assert [float(v) for v in t] == [1.0, 2.0, 3.0]
    s = tf.constant(2.5)
    assert float(s) == 2.5 and int(tf.constant(7)) == 7 and bool(tf.constant(1.0))
    assert f"{s:.2f}" == "2.50" and f"{tf.constant(3)}" == "3"
    assert [10, 20, 30][tf.constant(1)] == 20
    with pytest.raises(TypeError):
        len(s)
    assert hash(t) == hash(t) and {t: 1}[t] == 1
    assert t is not tf.identity(t)


def test_numpy_interop():
    t = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    a = np.asarray(t)
    assert isinstance(a, np.ndarray) and a.dtype == np.float32
    np.testing.assert_array_equal(np.array(t), [[1, 2], [3, 4]])
    # as in TF, numpy functions compute on the values and return numpy values...
    out = np.sin(t)
    assert isinstance(out, np.ndarray)
    np.testing.assert_allclose(out, np.sin(a))
    r = np.sum(t, axis=0)
    assert isinstance(r, np.ndarray) and list(r) == [4.0, 6.0]
    assert np.shape(t) == (2, 2)
    # ...while a numpy value on the left of an operator gives the Tensor op
    assert isinstance(np.float32(2) * t, tf.Tensor)
    assert isinstance(np.ones((2, 2), np.float32) + t, tf.Tensor)
    w = np.where(t > 2, t, 0.0)
    np.testing.assert_array_equal(w, [[0, 0], [3, 4]])
    e = np.expand_dims(t, 0)
    assert e.shape == (1, 2, 2)
    assert np.reshape(t, (4,)).shape == (4,)
    assert np.broadcast_to(tf.constant(1.0), (2, 3)).shape == (2, 3)
    assert np.allclose(t, a)  # unknown numpy functions run on the values


def test_numpy_returns_value_not_alias():
    t = tf.constant([1.0, 2.0])
    a = t.numpy()
    a[0] = 100.0
    assert t.numpy()[0] == 1.0
    assert isinstance(tf.constant(2.0).numpy(), np.float32)


def test_indexing():
    t = tf.constant([[1, 2, 3], [4, 5, 6]])
    assert t[1, 2].numpy() == 6
    np.testing.assert_array_equal(t[:, 1].numpy(), [2, 5])
    np.testing.assert_array_equal(t[::-1, tf.constant(0)].numpy(), [4, 1])
    np.testing.assert_array_equal(t[..., None].shape, (2, 3, 1))


def test_constant_has_no_assign_or_trainable():
    a = tf.constant(2)
    with pytest.raises(AttributeError, match="no attribute 'assign'"):
        a.assign(3)
    with pytest.raises(AttributeError, match="no attribute 'trainable'"):
        a.trainable
    assert isinstance(a, tf.Tensor) and not isinstance(a, tf.Variable)


def test_constant_shape_fill():
    np.testing.assert_array_equal(tf.constant(0.5, shape=[2, 2]).numpy(), np.full((2, 2), 0.5))
    np.testing.assert_array_equal(tf.constant([1, 2, 3, 4], shape=(2, 2)).numpy(), [[1, 2], [3, 4]])


# --- Variable -------------------------------------------------------------------------------------
def test_variable_basics():
    x = tf.Variable([1, 2])
    assert isinstance(x, tf.Variable) and not isinstance(x, tf.Tensor)
    assert x.shape == (2,) and x.dtype == tf.int32 and x.trainable and x.name == "Variable:0"
    assert str(x.shape) == "(2,)" and str(x.dtype) == "<dtype: 'int32'>"
    np.testing.assert_array_equal(x.numpy(), [1, 2])
    assert isinstance(x.read_value(), tf.Tensor) and isinstance(x.value(), tf.Tensor)
    assert tf.Variable(1.0, name="w").name == "w:0"
    assert not tf.Variable(1.0, trainable=False).trainable
    v = tf.Variable(tf.range(5))
    assert v.dtype == tf.int32 and list(v.numpy()) == [0, 1, 2, 3, 4]
    assert tf.Variable(3.0, dtype=tf.float64).dtype == tf.float64


def test_variable_assign_family():
    x = tf.Variable([1, 2])
    r = x.assign([3, 4])
    assert isinstance(r, tf.Variable) and list(r.numpy()) == [3, 4]
    x.assign_add([1, 1])
    assert list(x.numpy()) == [4, 5]
    x.assign_sub([2, 2])
    assert list(x.numpy()) == [2, 3]
    assert x.assign_add([1, 1], read_value=False) is None
    assert list(x.numpy()) == [3, 4]
    f = tf.Variable(1.0)
    f.assign(2)  # an int into a float variable is converted
    assert f.numpy() == 2.0 and f.dtype == tf.float32
    f.assign_sub(0.5 * tf.constant(1.0))
    assert f.numpy() == 1.5


def test_variable_arithmetic_returns_tensors():
    v = tf.Variable(2.0)
    for r in (v + 1, 1 + v, v * v, v - 1, 3 - v, v / 2, 2 / v, v ** 2, pow(v, 3), -v, abs(v), v @ tf.ones([]) if False else v * 1):
        assert isinstance(r, tf.Tensor)
    assert pow(v, 3).numpy() == 8.0 and (2 / v).numpy() == 1.0
    m = tf.Variable([[1.0, 2.0]])
    assert (m @ tf.ones((2, 1))).numpy()[0, 0] == 3.0
    assert m[0, 1].numpy() == 2.0
    assert float(v) == 2.0 and bool(v > 1.0)
    assert np.sin(v) == np.float32(np.sin(np.float32(2.0)))   # numpy on the value, as TF
    assert tf.square(v).numpy() == 4.0


def test_variable_reads_see_values_at_read_time():
    v = tf.Variable(1.0)
    a = v * 1
    v.assign(5.0)
    b = v * 1
    assert (a.numpy(), b.numpy()) == (1.0, 5.0)


# --- ops outputs ------------------------------------------------------------------------------
def test_factories_and_shapes():
    assert tf.zeros([2, 3]).dtype == tf.float32 and tf.ones((2,), dtype=tf.int32).dtype == tf.int32
    assert list(tf.range(5).numpy()) == [0, 1, 2, 3, 4] and tf.range(5).dtype == tf.int32
    assert tf.range(0.0, 1.0, 0.5).dtype == tf.float32
    assert tf.ones_like(tf.constant([1, 2])).dtype == tf.int32
    assert tf.zeros_like(tf.Variable([1.0, 2.0])).shape == (2,)
    np.testing.assert_array_equal(tf.one_hot([0, 2], 3).numpy(), [[1, 0, 0], [0, 0, 1]])
    np.testing.assert_array_equal(tf.shape(tf.zeros([2, 3])).numpy(), [2, 3])
    assert tf.size(tf.zeros([2, 3])).numpy() == 6 and tf.rank(tf.zeros([2, 3])).numpy() == 2
    np.testing.assert_array_equal(tf.eye(2).numpy(), np.eye(2))
    np.testing.assert_array_equal(tf.fill([2], 7).numpy(), [7, 7])
    assert tf.cast(tf.constant([1.7, -1.7]), tf.int32).numpy().tolist() == [1, -1]
    assert tf.argmax(tf.constant([[1, 5], [7, 2]]), axis=1).numpy().tolist() == [1, 0]
    assert tf.reduce_mean(tf.constant([1, 2])).dtype == tf.int32


def test_random_seeded():
    tf.random.set_seed(42)
    a = tf.random.normal([3])
    b = tf.random.uniform([2, 2], minval=1, maxval=2)
    tf.random.set_seed(42)
    np.testing.assert_array_equal(a.numpy(), tf.random.normal([3]).numpy())
    np.testing.assert_array_equal(b.numpy(), tf.random.uniform([2, 2], minval=1, maxval=2).numpy())
    assert a.dtype == tf.float32 and b.shape == (2, 2)
    assert np.all((b.numpy() >= 1) & (b.numpy() < 2))
    x = tf.random.normal([1000], mean=3.0, stddev=0.5, seed=1)
    assert abs(x.numpy().mean() - 3.0) < 0.1 and abs(x.numpy().std() - 0.5) < 0.1
    i = tf.random.uniform([5], maxval=10, dtype=tf.int32)
    assert i.dtype == tf.int32


def test_squeeze_error_and_bad_index():
    with pytest.raises(tf.InvalidArgumentError):
        tf.squeeze(tf.zeros([2, 3]), axis=0)
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.constant([1, 2])[5]


def test_public_api_names():
    for name in ["Tensor", "Variable", "constant", "convert_to_tensor", "GradientTape",
                 "UnconnectedGradients", "custom_gradient", "stop_gradient", "RegisterGradient",
                 "no_gradient", "float16", "float32", "float64", "int32", "int64", "bool", "string",
                 "numerical_gradient", "check_gradient"]:
        assert hasattr(tf, name), name
    assert tf.math.log is tf.log and tf.math.square is tf.square
    assert tf.nn.relu is tf.nn.relu and tf.nn.softmax and tf.nn.sigmoid
    assert tf.random.normal and tf.random.uniform and tf.random.set_seed
    assert tf.linalg.matmul is tf.matmul
    assert tf.autodiff.GradientTape is tf.GradientTape
    assert isinstance(tf.__version__, str) and tf.__version__.count(".") == 2


def test_gradcheck_utilities():
    def f(x, y):
        return np.sum(np.sin(x) * y)
    x, y = np.array([0.1, 0.5]), np.array([2.0, 3.0])
    gx, gy = tf.numerical_gradient(f, x, y, argnums=(0, 1))
    np.testing.assert_allclose(gx, np.cos(x) * y, rtol=1e-7)
    np.testing.assert_allclose(gy, np.sin(x), rtol=1e-7)
    tf.check_gradient(f, (x, y), (np.cos(x) * y, np.sin(x)))
    with pytest.raises(AssertionError, match="argument 0"):
        tf.check_gradient(f, (x, y), (np.cos(x), np.sin(x)))


def test_eager_conveniences(capsys):
    tf.print(tf.constant([1, 2, 3]), tf.constant(2.5), "x")
    assert capsys.readouterr().err == "[1 2 3] 2.5 x\n"

    @tf.function
    def f(a):
        return a * 2
    assert f(tf.constant(2.0)).numpy() == 4.0
    assert tf.executing_eagerly()
    np.testing.assert_array_equal(tf.sort(tf.constant([3, 1, 2])).numpy(), [1, 2, 3])
    np.testing.assert_array_equal(tf.argsort(tf.constant([3.0, 1.0, 2.0]), direction="DESCENDING").numpy(), [0, 2, 1])
    np.testing.assert_allclose(tf.clip_by_norm(tf.constant([3.0, 4.0]), 1.0).numpy(), [0.6, 0.8])
    clipped, norm = tf.clip_by_global_norm([tf.constant([3.0]), tf.constant([4.0])], 1.0)
    assert norm.numpy() == 5.0 and np.allclose([c.numpy()[0] for c in clipped], [0.6, 0.8])


def test_module_collects_variables():
    class Dense(tf.Module):
        def __init__(self):
            super().__init__()
            self.w = tf.Variable([[1.0, 2.0]])
            self.b = tf.Variable([0.0], trainable=False)

    class Model(tf.Module):
        def __init__(self):
            super().__init__(name="model")
            self.layers = [Dense(), Dense()]
            self.scale = tf.Variable(2.0)

    m = Model()
    assert m.name == "model" and len(m.variables) == 5 and len(m.trainable_variables) == 3
    assert m.trainable_variables[-1] is m.scale and len(m.submodules) == 2
    with tf.GradientTape() as t:
        y = tf.reduce_sum(m.layers[0].w * m.scale)
    g = t.gradient(y, m.trainable_variables)
    assert g[1] is None and list(g[0].numpy()[0]) == [2.0, 2.0] and g[2].numpy() == 3.0


def test_variable_slice_assign_and_gradient():
    v = tf.Variable([[1.0, 2.0], [3.0, 4.0]])
    v[0, 1].assign(5.0)
    v[1].assign([7.0, 8.0])
    v[:, 0].assign_add([1.0, 1.0])
    np.testing.assert_array_equal(v.numpy(), [[2.0, 5.0], [8.0, 8.0]])
    assert isinstance(v[0], tf.Tensor)
    with tf.GradientTape() as t:
        y = tf.reduce_sum(v[1] * 3.0)
    np.testing.assert_array_equal(t.gradient(y, v).numpy(), [[0, 0], [3, 3]])


def test_big_op_outputs_are_independent_values():
    x = tf.constant(np.ones((600, 200), np.float32))   # 480 KB arrays
    y = x + 1.0
    view = tf.reshape(y, (-1,))
    held = np.asarray(x * 3.0)
    shared = tf.stop_gradient(x * 5.0)
    del y
    outs = [x + 7.0 for _ in range(4)]
    assert np.all(view.numpy() == 2.0)
    assert np.all(held == 3.0)
    assert np.all(shared.numpy() == 5.0)
    assert all(np.all(o.numpy() == 8.0) for o in outs)
    # memory of dead outputs is reused by malloc: fresh values are right
    for k in range(5):
        z = tf.nn.relu(tf.matmul(x, tf.ones((200, 200))) - 150.0 + k)
        assert np.all(z.numpy() == 50.0 + k)


def test_variable_slice_second_order():
    v = tf.Variable([1.0, 2.0, 3.0])
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            y = v[1] ** 3
        g = inner.gradient(y, v)
    np.testing.assert_array_equal(g.numpy(), [0.0, 12.0, 0.0])
    np.testing.assert_array_equal(outer.gradient(g, v).numpy(), [0.0, 12.0, 0.0])
