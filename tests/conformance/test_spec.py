"""Conformance with TensorFlow's GradientTape semantics (shared/notes/gradient_tape_spec.md §5).

Each test names the behaviour number of §5 (or the section) it checks.
"""
import logging
import threading

import numpy as np
import pytest

import tapeflow as tf


def val(t):
    return None if t is None else np.asarray(t.numpy())


# --- §5.1-10: basics ---------------------------------------------------------------------------
def test_01_watch_constant_square():
    x = tf.constant(3.0)
    with tf.GradientTape() as g:
        g.watch(x)
        y = x * x
    assert g.gradient(y, x).numpy() == 6.0


def test_02_no_op_gradient():
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = x
    assert t.gradient(y, x).numpy() == 1.0


def test_03_identity_gradient_is_identity():
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = tf.identity(x)
    assert t.gradient(y, x).numpy() == 1.0


def test_04_two_targets():
    x, y = tf.constant(3.0), tf.constant(2.0)
    with tf.GradientTape() as t:
        t.watch([x, y])
        a, b = 2 * x, 3 * y
    gx, gy = t.gradient([a, b], [x, y])
    assert (gx.numpy(), gy.numpy()) == (2.0, 3.0)


def test_05_multi_target_one_is_source():
    x = tf.constant(2.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = x * x
    assert t.gradient([x, y], x).numpy() == 5.0


def test_06_multi_target_all_source():
    x = tf.constant(2.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = x
    assert t.gradient([y, y], x).numpy() == 2.0


def test_07_multi_target_multi_source():
    x, y = tf.constant(3.0), tf.constant(5.0)
    with tf.GradientTape() as t:
        t.watch([x, y])
        z = y * y
    gx, gy = t.gradient([x, y, z], [x, y])
    assert (gx.numpy(), gy.numpy()) == (1.0, 11.0)


def test_08_string_target_or_source_is_none():
    x = tf.constant(3.0)
    s = tf.constant("foo")
    with tf.GradientTape() as t:
        t.watch(x)
        y = x * 2
    assert t.gradient(s, x) is None
    with tf.GradientTape() as t:
        t.watch(x)
        y = x * 2
    gs = t.gradient(y, [x, s])
    assert gs[0].numpy() == 2.0 and gs[1] is None


def test_09_variable_read_is_identity():
    v = tf.Variable(3.0)
    with tf.GradientTape() as t:
        y = v.read_value()
    assert t.gradient(y, v).numpy() == 1.0


def test_10_watched_matrix_as_own_target():
    a = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    with tf.GradientTape(persistent=True) as t:
        t.watch(a)
    np.testing.assert_array_equal(val(t.gradient(a, [a])[0]), np.ones((2, 2)))
    np.testing.assert_array_equal(val(t.gradient([a, a], [a])[0]), 2 * np.ones((2, 2)))


# --- §5.11-20: stop_recording, reset, watched variables, contexts ------------------------------
def test_11_stop_recording_gives_none():
    x = tf.constant(1.0)
    with tf.GradientTape() as t:
        t.watch(x)
        with t.stop_recording():
            v = tf.Variable(2.0)
            y = v * v
    assert t.gradient(y, v) is None


def test_12_stop_then_start_recording():
    x = tf.constant(1.0)
    with tf.GradientTape(persistent=True) as t:
        t.watch(x)
        x2 = x * 2
        with t.stop_recording():
            y = x2 * x2
        z = x2 * x2
    assert t.gradient(y, x2) is None
    assert t.gradient(z, x2).numpy() == 4.0


def test_13_reset_mid_tape():
    v = tf.Variable(1.0)
    with tf.GradientTape() as t:
        loss = v * v
        t.reset()
        loss += v * v
    assert t.gradient(loss, v).numpy() == 2.0


def test_14_python_max_over_variables():
    xs = [tf.Variable(2.0), tf.Variable(3.0), tf.Variable(5.0)]
    with tf.GradientTape() as t:
        f = max(xs)
    g = t.gradient(f, xs)
    assert g[0] is None and g[1] is None and g[2].numpy() == 1.0


def test_15_automatic_watched_variables():
    v = tf.Variable(1.0)
    with tf.GradientTape() as t:
        assert t.watched_variables() == ()
        v.read_value()
        assert t.watched_variables() == (v,)
        t.reset()
        assert t.watched_variables() == ()
        v.read_value()
        assert t.watched_variables() == (v,)


def test_16_explicit_watched_variables():
    v = tf.Variable(1.0)
    with tf.GradientTape() as t:
        assert t.watched_variables() == ()
        t.watch(v)
        assert t.watched_variables() == (v,)
        t.reset()
        assert t.watched_variables() == ()
        t.watch(v)
        assert t.watched_variables() == (v,)


@pytest.mark.parametrize("persistent", [False, True])
def test_17_gradient_within_tape_block(persistent):
    v = tf.Variable(1.0)
    with tf.GradientTape(persistent=persistent) as t:
        loss = 2 * v
        assert t.gradient(loss, [v])[0].numpy() == 2.0


def test_18_reentering_active_tape_is_value_error():
    t = tf.GradientTape()
    with t:
        with pytest.raises(ValueError, match="Tape is still recording, This can happen if you "
                                             "try to re-enter an already-active tape."):
            with t:
                pass


def test_19_watching_is_tape_local():
    x1 = tf.Variable(3.0, trainable=False)
    x2 = tf.Variable(2.0, trainable=False)
    with tf.GradientTape(persistent=True) as tape1:
        with tf.GradientTape(persistent=True) as tape2:
            tape1.watch(x1)
            tape2.watch([x1, x2])
            y = x1 ** 3
            z = x2 ** 2
            dy, dz = tape2.gradient([y, z], [x1, x2])
    d2y = tape1.gradient(dy, x1)
    d2z = tape1.gradient(dz, x2)
    assert (dy.numpy(), dz.numpy()) == (27.0, 4.0)
    assert d2y.numpy() == 18.0 and d2z is None


def test_20_reenter_tape_after_exit_continues():
    x = tf.constant(3.0)
    tape = tf.GradientTape()
    with tape:
        tape.watch(x)
        y = 2 * x
    with tape:
        z = 2 * y
    assert tape.gradient(z, [x])[0].numpy() == 4.0


# --- §5.21-30: sources, structure, persistence ---------------------------------------------------
def test_21_repeated_source():
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = 2 * x
    assert [g.numpy() for g in t.gradient(y, [x, x])] == [2.0, 2.0]


def test_22_persistent_repeated_source():
    x, y = tf.constant(3.0), tf.constant(5.0)
    with tf.GradientTape(persistent=True) as t:
        t.watch([x, y])
        z = x * x + x * y
    assert [g.numpy() for g in t.gradient(z, [x, x])] == [11.0, 11.0]
    assert [g.numpy() for g in t.gradient(z, [y, x])] == [3.0, 11.0]


def test_23_result_structure_mirrors_sources():
    x1, x2, x3 = tf.constant(3.0), tf.constant(4.0), tf.constant(5.0)
    with tf.GradientTape(persistent=True) as t:
        t.watch([x1, x2, x3])
        y = x1 + 2 * x2 + 3 * x3
    assert t.gradient(y, x1).numpy() == 1.0
    g = t.gradient(y, (x1,))
    assert isinstance(g, tuple) and g[0].numpy() == 1.0
    g = t.gradient(y, (x1, x2))
    assert isinstance(g, tuple) and [v.numpy() for v in g] == [1.0, 2.0]
    g = t.gradient(y, [(x1, x2), (x2, x3)])
    assert isinstance(g, list) and isinstance(g[1], tuple)
    assert [[v.numpy() for v in p] for p in g] == [[1.0, 2.0], [2.0, 3.0]]
    g = t.gradient(y, (x1, x2, [x1, x3]))
    assert isinstance(g[2], list) and [v.numpy() for v in g[2]] == [1.0, 3.0]
    g = t.gradient(y, [x1, {"x2": x2, "x3": x3}])
    assert g[0].numpy() == 1.0 and g[1]["x2"].numpy() == 2.0 and g[1]["x3"].numpy() == 3.0


def test_24_inner_gradient_added_to_outer_computation():
    x = tf.constant(3.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x * x
        with tf.GradientTape() as tape2:
            tape2.watch(y)
            z = 2 * y
        inner = tape2.gradient(z, y)
        out = y + inner
    assert inner.numpy() == 2.0
    assert tape.gradient(out, x).numpy() == 6.0


def test_25_unread_variable_target_is_none():
    a, b = tf.Variable(1.0), tf.Variable(2.0)
    with tf.GradientTape() as t:
        pass
    assert t.gradient(a, b) is None


def test_26_python_control_flow():
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = x * x if x > 0 else x
    assert t.gradient(y, x).numpy() == 6.0
    with tf.GradientTape() as t:
        t.watch(x)
        z, i = x, 0
        while i < 2:
            z = z * 2
            i += 1
    assert t.gradient(z, x).numpy() == 4.0


NON_PERSISTENT = ("A non-persistent GradientTape can only be used to compute one set of "
                  "gradients (or jacobians)")


def test_27_second_gradient_on_non_persistent_tape():
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = x * x
    t.gradient(y, x)
    with pytest.raises(RuntimeError) as e:
        t.gradient(y, x)
    assert str(e.value) == NON_PERSISTENT


@pytest.mark.parametrize("first", ["gradient", "jacobian", "batch_jacobian"])
@pytest.mark.parametrize("second", ["gradient", "jacobian", "batch_jacobian"])
def test_28_second_jacobian_on_non_persistent_tape(first, second):
    x = tf.constant([[1.0, 2.0]])
    with tf.GradientTape() as t:
        t.watch(x)
        y = x * x
    getattr(t, first)(y, x)
    with pytest.raises(RuntimeError, match="A non-persistent GradientTape can only"):
        getattr(t, second)(y, x)


def test_29_jacobian_inside_own_context():
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = x * x
        z = y * y
        assert t.jacobian(z, x).numpy() == 108.0
    x = tf.constant([[3.0]])
    with tf.GradientTape(persistent=True) as t:
        t.watch(x)
        z = x ** 4
        np.testing.assert_array_equal(val(t.batch_jacobian(z, x)), [[[108.0]]])


def test_30_persistent_tape():
    x = tf.constant(3.0)
    with tf.GradientTape(persistent=True) as t:
        t.watch(x)
        y = x * x
        z = y * y
    assert t.gradient(z, x).numpy() == 108.0
    assert t.gradient(y, x).numpy() == 6.0


# --- §5.31-40: higher order, unconnected, errors ------------------------------------------------
def test_31_higher_order_in_persistent_context(caplog):
    x = tf.constant(3.0)
    with caplog.at_level(logging.WARNING, logger="tapeflow"):
        with tf.GradientTape(persistent=True) as t:
            t.watch(x)
            y = x ** 3
            dy = t.gradient(y, x)
            d2y = t.gradient(dy, x)
        d3y = t.gradient(d2y, x)
    assert (y.numpy(), dy.numpy(), d2y.numpy(), d3y.numpy()) == (27.0, 27.0, 18.0, 6.0)


def test_32_persistent_nested_tapes_queried_repeatedly():
    x = tf.constant(3.0)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x
        with tf.GradientTape(persistent=True) as tape2:
            tape2.watch(y)
            z = 2 * y
        for _ in range(2):
            inner = tape2.gradient(z, y)
            assert inner.numpy() == 2.0
        out = y + inner
    assert tape.gradient(out, x).numpy() == 6.0
    assert tape.gradient(z, x).numpy() == 12.0


def test_33_variable_auto_watched():
    v = tf.Variable(1.0)
    with tf.GradientTape() as t:
        y = v * v
    assert t.gradient(y, v).numpy() == 2.0


def test_34_intermediate_as_source():
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = x * x
        z = y * y
    gx, gy = t.gradient(z, [x, y])
    assert (gx.numpy(), gy.numpy()) == (108.0, 18.0)


def test_35_unconnected_default_none():
    x, y = tf.constant(1.0), tf.constant(2.0)
    with tf.GradientTape() as t:
        t.watch([x, y])
        z = y * 2
    assert t.gradient(z, x) is None


def test_36_unconnected_zero_shape_and_dtype():
    x = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    y = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch([x, y])
        z = y * 2
    g = t.gradient(z, x, unconnected_gradients=tf.UnconnectedGradients.ZERO)
    assert g.shape == (2, 2) and g.dtype == tf.float32
    np.testing.assert_array_equal(val(g), np.zeros((2, 2)))
    v = tf.Variable([1.0, 2.0], dtype=tf.float64)
    w = tf.Variable(1.0)
    with tf.GradientTape() as t:
        z = w * 2
    g = t.gradient(z, v, unconnected_gradients="zero")
    assert g.dtype == tf.float64 and list(val(g)) == [0.0, 0.0]


def test_37_unknown_unconnected_value():
    x = tf.constant(1.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = x * 2
    with pytest.raises(ValueError) as e:
        t.gradient(y, x, unconnected_gradients="nonsense")
    assert str(e.value) == "Unknown value for unconnected_gradients: 'nonsense'"


def test_38_only_path_through_stop_gradient_zero():
    x = tf.constant(1.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = tf.stop_gradient(x * x) * 3.0
    assert t.gradient(y, x) is None
    with tf.GradientTape() as t:
        t.watch(x)
        y = tf.stop_gradient(x * x) * 3.0
    assert t.gradient(y, x, unconnected_gradients="zero").numpy() == 0.0


def test_39_backward_returning_too_few_gradients():
    @tf.RegisterGradient("Atan2")
    def _too_few(op, grad):
        return [grad]
    try:
        y0, x0 = tf.constant(1.0), tf.constant(2.0)
        with tf.GradientTape() as t:
            t.watch([y0, x0])
            z = tf.atan2(y0, x0)
        with pytest.raises(Exception, match="too few gradients") as e:
            t.gradient(z, [y0, x0])
        assert "Atan2" in str(e.value)
    finally:
        tf.unregister_gradient("Atan2")


def test_40_custom_gradient_empty_error():
    @tf.custom_gradient
    def f(x):
        def grad(dy):
            return []
        return x * 1.0, grad
    x = tf.constant(1.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = f(x)
    with pytest.raises(ValueError) as e:
        t.gradient(y, x)
    assert str(e.value) == ("custom_gradient function expected to return 1 gradients, but "
                            "returned 0 instead.")


# --- §5.41-50: custom gradients, constants, selective watching ---------------------------------
def test_41_custom_gradient_4dy():
    @tf.custom_gradient
    def f(x):
        def grad(dy):
            return 4 * dy
        return x * x, grad
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = f(x)
    assert y.numpy() == 9.0
    assert t.gradient(y, x).numpy() == 4.0


def test_42_custom_gradient_under_stop_gradient_never_called():
    calls = []

    @tf.custom_gradient
    def f(x):
        def grad(dy):
            calls.append(1)
            raise AssertionError("must not be called")
        return x * 2, grad
    x = tf.constant(1.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = tf.stop_gradient(f(x))
    assert t.gradient(y, x) is None and calls == []


def test_43_equal_valued_constants_are_distinct_sources():
    x1, x2 = tf.constant(3.0), tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch([x1, x2])
        y = x1 + x2
    assert t.gradient(y, x1).numpy() == 1.0


def test_44_constants_and_variables_same_gradients():
    a, b = tf.constant(2.0), tf.constant(2.0)
    va, vb = tf.Variable(2.0), tf.Variable(2.0)
    with tf.GradientTape(persistent=True) as t:
        t.watch([a, b])
        y, z = a ** 3, b ** 2
        vy, vz = va ** 3, vb ** 2
    assert t.gradient([y, z], [a, b]) == t.gradient([vy, vz], [va, vb]) or \
        [g.numpy() for g in t.gradient([y, z], [a, b])] == \
        [g.numpy() for g in t.gradient([vy, vz], [va, vb])] == [12.0, 4.0]


def test_45_selectively_watch_variables():
    x1, x2 = tf.Variable(2.0), tf.Variable(3.0)
    with tf.GradientTape(watch_accessed_variables=False) as t:
        t.watch(x2)
        y = x1 ** 2
        z = x2 ** 3
    assert t.watched_variables() == (x2,)
    gy, gz = t.gradient([y, z], [x1, x2])
    assert gy is None and gz.numpy() == 27.0


def test_46_watch_bad_thing():
    t = tf.GradientTape()
    with pytest.raises(ValueError, match="ndarray"):
        t.watch(np.array(1.0))
    with tf.GradientTape() as t:
        with pytest.raises(ValueError) as e:
            t.watch(3.0)
    assert str(e.value) == ("Passed in object 3.0 of type 'float', not tf.Tensor or tf.Variable "
                            "or ExtensionType.")


def test_48_watched_variables_after_gradient_and_reset():
    x = tf.Variable(1.0)
    with tf.GradientTape() as t:
        y = x * x
    t.gradient(y, x)
    assert t.watched_variables() == (x,)
    a, b = tf.Variable(1.0), tf.Variable(2.0)
    with tf.GradientTape() as t:
        a * 1
        t.reset()
        b * 1
    assert t.watched_variables() == (b,)


def test_49_no_op_variants_are_distinct():
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        ys = [x, tf.identity(x), x + 0, x - 0, x * 1]
        out = 2 * ys[0] + 3 * ys[1] + 3 * ys[2] + 3 * ys[3] + 3 * ys[4]
    g = t.gradient(out, ys)
    assert [v.numpy() for v in g] == [14.0, 3.0, 3.0, 3.0, 3.0]
    with tf.GradientTape() as t:
        t.watch(x)
        ys = [x, tf.identity(x), x + 0, x - 0, x * 1]
        out = 2 * ys[0] + 3 * ys[1] + 3 * ys[2] + 3 * ys[3] + 3 * ys[4]
    assert t.gradient(out, x).numpy() == 14.0


def test_50_where_gradient():
    for x0, expected in [(5.0, 1.0), (50.0, 100.0)]:
        x = tf.constant(x0)
        with tf.GradientTape() as t:
            t.watch(x)
            y = tf.where(x < 10, x, x * x)
        assert t.gradient(y, x).numpy() == expected


# --- §5.51-57: jacobians -------------------------------------------------------------------------
def test_51_jacobian_product():
    x, y = tf.constant([1.0, 2.0]), tf.constant([3.0, 4.0])
    with tf.GradientTape() as t:
        t.watch([x, y])
        z = x * x * y
    jx, jy = t.jacobian(z, [x, y])
    np.testing.assert_array_equal(val(jx), np.diag([6.0, 16.0]))
    np.testing.assert_array_equal(val(jy), np.diag([1.0, 4.0]))


def test_52_jacobian_without_pfor_needs_persistent():
    x = tf.constant([1.0, 2.0])
    with tf.GradientTape() as t:
        t.watch(x)
        y = x * x
    with pytest.raises(RuntimeError, match="persistent") as e:
        t.jacobian(y, x, experimental_use_pfor=False)
    assert "with  experimental_use_pfor" in str(e.value)
    with tf.GradientTape(persistent=True) as t:
        t.watch(x)
        y = x * x
    np.testing.assert_array_equal(val(t.jacobian(y, x, experimental_use_pfor=False)),
                                  [[2.0, 0.0], [0.0, 4.0]])


def test_53_batch_jacobian_basic():
    x = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    with tf.GradientTape() as g:
        g.watch(x)
        y = x * x
    bj = g.batch_jacobian(y, x)
    np.testing.assert_array_equal(val(bj), [[[2, 0], [0, 4]], [[6, 0], [0, 8]]])


def test_54_batch_jacobian_bad_shapes():
    x = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    with tf.GradientTape(persistent=True) as g:
        g.watch(x)
        y = x * x
        v = tf.constant([1.0, 2.0])
        g.watch(v)
        w = v * 2
    with pytest.raises(ValueError, match="Need first dimension") as e:
        g.batch_jacobian(y, x[:1])
    assert str(e.value) == ("Need first dimension of target shape ((2, 2)) and source shape "
                            "((1, 2)) to match.")
    with pytest.raises(ValueError, match="must have rank at least 2"):
        g.batch_jacobian(w, x)
    with pytest.raises(ValueError, match="must have rank at least 2"):
        g.batch_jacobian(y, v)


def test_55_batch_jacobian_degenerate_shape():
    x = tf.zeros([1, 0])
    with tf.GradientTape() as g:
        g.watch(x)
        y = x * 2
    assert tuple(g.batch_jacobian(y, x).shape) == (1, 0, 0)


@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
def test_56_batch_jacobian_independent_output_is_zeros(dtype):
    x = tf.constant([[1.0, 2.0]], dtype=dtype)
    c = tf.constant([[3.0, 4.0]], dtype=dtype)
    with tf.GradientTape() as g:
        g.watch(x)
        y = c * 2
    j = g.batch_jacobian(y, x)
    assert j.dtype == dtype
    np.testing.assert_array_equal(val(j), np.zeros((1, 2, 2)))


def test_57_parallel_iterations_same_result():
    x = tf.constant([1.0, 2.0, 3.0])
    with tf.GradientTape(persistent=True) as g:
        g.watch(x)
        y = tf.sin(x) * x
    np.testing.assert_array_equal(val(g.jacobian(y, x, parallel_iterations=2)),
                                  val(g.jacobian(y, x, parallel_iterations=3)))


# --- §5.58-65: empirical extras ------------------------------------------------------------------
def test_58_integer_watch_warns_and_is_none(caplog):
    x = tf.constant(3)
    with caplog.at_level(logging.WARNING, logger="tapeflow"):
        with tf.GradientTape() as t:
            t.watch(x)
            y = x * x
    assert t.gradient(y, x) is None
    assert any("The dtype of the watched tensor must be floating (e.g. tf.float32), got tf.int32" in r.message
               for r in caplog.records) or tf.runtime.tape._warned["watch"] >= 5


def test_59_float_int_float_path_is_none():
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = tf.cast(tf.cast(x, tf.int32), tf.float32) * 2.0
    assert t.gradient(y, x) is None


def test_60_untrainable_variable_needs_explicit_watch():
    v = tf.Variable(2.0, trainable=False)
    with tf.GradientTape() as t:
        y = v * v
    assert t.gradient(y, v) is None
    with tf.GradientTape() as t:
        t.watch(v)
        y = v * v
    assert t.gradient(y, v).numpy() == 4.0


def test_61_assign_between_reads():
    v = tf.Variable(2.0)
    with tf.GradientTape(persistent=True) as t:
        y = v * v
        v.assign(10.0)
        z = v * v
    assert t.gradient(y, v).numpy() == 4.0
    assert t.gradient(z, v).numpy() == 20.0
    x = tf.constant(1.0)
    w = tf.Variable(1.0)
    with tf.GradientTape(persistent=True) as t:
        t.watch(x)
        w.assign_add(x)
        y = w * 1.0
    assert t.gradient(y, x) is None and t.gradient(y, w).numpy() == 1.0


def test_62_gather_on_variable_indexed_slices_gradient():
    v = tf.Variable([1.0, 2.0, 3.0])
    with tf.GradientTape() as t:
        y = tf.reduce_sum(tf.gather(v, [0, 2, 0])) * 1.0
    g = t.gradient(y, v)
    assert isinstance(g, tf.IndexedSlices)
    np.testing.assert_array_equal(val(tf.convert_to_tensor(g)), [2.0, 0.0, 1.0])
    with tf.GradientTape() as t:
        y = tf.reduce_sum(tf.gather(v, [0, 2]) * 2.0)
    np.testing.assert_array_equal(val(tf.convert_to_tensor(t.gradient(y, v))), [2.0, 0.0, 2.0])


def test_63_broadcast_reduction_shapes():
    a = tf.constant([1.0, 2.0, 3.0])
    b = tf.ones([2, 3])
    c = tf.constant(2.0)
    d = tf.ones([2, 1])
    with tf.GradientTape() as t:
        t.watch([a, b, c, d])
        y = a * b * c + d
    ga, gb, gc, gd = t.gradient(y, [a, b, c, d])
    np.testing.assert_array_equal(val(ga), [4.0, 4.0, 4.0])
    assert gb.shape == (2, 3) and gc.shape == () and gd.shape == (2, 1)
    assert gc.numpy() == 12.0
    np.testing.assert_array_equal(val(gd), [[3.0], [3.0]])


def test_64_output_gradients():
    x = tf.constant([1.0, 2.0])
    with tf.GradientTape() as t:
        t.watch(x)
        y = x * x
    np.testing.assert_array_equal(val(t.gradient(y, x, output_gradients=[10.0, 100.0])),
                                  [20.0, 400.0])


def test_64b_output_gradient_for_consumed_target():
    x, y = tf.constant(3.0), tf.constant(2.0)
    with tf.GradientTape() as t:
        t.watch([x, y])
        z = x * y
    assert t.gradient([z, x], x, output_gradients=[1.0, 2.0]).numpy() == 4.0


def test_65_state_errors():
    t = tf.GradientTape()
    with pytest.raises(RuntimeError) as e:
        with t.stop_recording():
            pass
    assert str(e.value) == "Trying to stop recording a tape which is not recording."
    with t:
        pass
    with pytest.raises(ValueError) as e:
        with t.stop_recording():
            pass
    assert str(e.value) == "Tape is not recording."
    with pytest.raises(ValueError) as e:
        t.reset()
    assert str(e.value) == "Tape is not recording."


# --- other spec sections -----------------------------------------------------------------------
def test_gradient_on_never_entered_tape():
    with pytest.raises(RuntimeError) as e:
        tf.GradientTape().gradient(tf.constant(1.0), tf.constant(1.0))
    assert str(e.value) == NON_PERSISTENT


def test_target_none_type_error():
    x = tf.constant(1.0)
    with tf.GradientTape() as t:
        t.watch(x)
    with pytest.raises(TypeError) as e:
        t.gradient(None, x)
    assert str(e.value) == ("Argument `target` should be a list or nested structure of Tensors, "
                            "Variables or CompositeTensors to be differentiated, but received None.")


def test_dict_of_targets_is_summed():
    a = tf.constant(2.0)
    with tf.GradientTape() as t:
        t.watch(a)
        target = {"p": a * a, "q": [3 * a]}
    assert t.gradient(target, a).numpy() == 7.0


def test_empty_targets_and_sources():
    a = tf.constant(2.0)
    with tf.GradientTape(persistent=True) as t:
        t.watch(a)
        y = a * 2
    assert t.gradient([], [a]) == [None]
    assert t.gradient(y, []) == []


def test_variable_target_without_read():
    v = tf.Variable(3.0)
    with tf.GradientTape() as t:
        pass
    assert t.gradient(v, v).numpy() == 1.0


def test_gradient_dtype_float64():
    x = tf.constant([1.0, 2.0], dtype=tf.float64)
    with tf.GradientTape() as t:
        t.watch(x)
        y = tf.reduce_sum(x ** 3.0)
    g = t.gradient(y, x)
    assert g.dtype == tf.float64
    np.testing.assert_array_equal(val(g), [3.0, 12.0])


def test_stop_gradient_partial_path():
    x = tf.constant(2.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = tf.stop_gradient(x * x) + x
    assert t.gradient(y, x).numpy() == 1.0
    v = tf.Variable(2.0)
    with tf.GradientTape() as t:
        y = tf.stop_gradient(v) * v
    assert t.gradient(y, v).numpy() == 2.0


def test_watch_after_op_not_recorded():
    x = tf.constant(2.0)
    with tf.GradientTape() as t:
        y = x * x
        t.watch(x)
    assert t.gradient(y, x) is None


def test_variable_read_before_tape_not_counted():
    v = tf.Variable(2.0)
    r = v * 1.0
    with tf.GradientTape() as t:
        y = r * v
    assert t.gradient(y, v).numpy() == 2.0


def test_nested_higher_order_docstring():
    x = tf.constant(5.0)
    with tf.GradientTape() as g:
        g.watch(x)
        with tf.GradientTape() as gg:
            gg.watch(x)
            y = x * x
        dy_dx = gg.gradient(y, x)
    assert dy_dx.numpy() == 10.0
    assert g.gradient(dy_dx, x).numpy() == 2.0


def test_inner_gradient_after_outer_closed_is_none():
    x = tf.constant(5.0)
    with tf.GradientTape() as g:
        g.watch(x)
        with tf.GradientTape() as gg:
            gg.watch(x)
            y = x * x * x
    dy_dx = gg.gradient(y, x)
    assert dy_dx.numpy() == 75.0
    assert g.gradient(dy_dx, x) is None


def test_custom_gradient_with_variables():
    v = tf.Variable(2.0)

    @tf.custom_gradient
    def f(x):
        def grad(dy, variables=None):
            return dy * 10.0, [dy * 100.0]
        return x * v, grad
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = f(x)
    gx, gv = t.gradient(y, [x, v])
    assert (gx.numpy(), gv.numpy()) == (10.0, 100.0)

    @tf.custom_gradient
    def h(x):
        def grad(dy):
            return dy
        return x * v, grad
    with tf.GradientTape() as t:
        t.watch(x)
        y = h(x)
    with pytest.raises(TypeError, match="must accept keyword argument 'variables'"):
        t.gradient(y, x)


def test_custom_gradient_clipping_example():
    @tf.custom_gradient
    def clip_gradients(y):
        def backward(dy):
            return tf.clip_by_norm(dy, 0.5) if hasattr(tf, "clip_by_norm") else tf.clip_by_value(dy, -0.5, 0.5)
        return y, backward
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = 5.0 * clip_gradients(x)
    # upstream 5 is clipped to 0.5
    assert t.gradient(y, x).numpy() == 0.5


def test_register_gradient_overrides_and_no_gradient():
    @tf.RegisterGradient("Square")
    def _square_grad(op, grad):
        assert op.type == "Square" and len(op.inputs) == 1 and len(op.outputs) == 1
        return grad * 3.0 * op.inputs[0]
    try:
        x = tf.constant(2.0)
        with tf.GradientTape() as t:
            t.watch(x)
            y = tf.square(x)
        assert t.gradient(y, x).numpy() == 6.0
        with pytest.raises(KeyError, match="Registering two gradient with name 'Square'!"):
            tf.RegisterGradient("Square")(lambda op, g: g)
    finally:
        tf.unregister_gradient("Square")
    tf.no_gradient("Sin")
    try:
        with tf.GradientTape() as t:
            t.watch(x)
            y = tf.sin(x) + x
        assert t.gradient(y, x).numpy() == 1.0
    finally:
        tf.unregister_gradient("Sin")
    with pytest.raises(TypeError, match="op_type must be a string"):
        tf.RegisterGradient(3)


def test_tf_gradients_not_supported_in_eager():
    with pytest.raises(RuntimeError) as e:
        tf.gradients(tf.constant(1.0), tf.constant(1.0))
    assert str(e.value) == ("tf.gradients is not supported when eager execution is enabled. "
                            "Use tf.GradientTape instead.")


def test_variable_assign_shape_mismatch_and_dtype():
    v = tf.Variable([1.0, 2.0])
    with pytest.raises(ValueError) as e:
        v.assign([1.0, 2.0, 3.0])
    assert str(e.value) == ("Cannot assign value to variable ' Variable:0': Shape mismatch.The "
                            "variable shape (2,), and the assigned value shape (3,) are "
                            "incompatible.")
    w = tf.Variable(1)
    with pytest.raises(TypeError, match="Cannot convert 2.5 to EagerTensor of dtype int32"):
        w.assign(2.5)
    assert v.assign([3.0, 4.0], read_value=False) is None
    np.testing.assert_array_equal(v.numpy(), [3.0, 4.0])


def test_watched_variables_construction_order():
    a, b = tf.Variable(1.0), tf.Variable(2.0)
    with tf.GradientTape() as t:
        b * 1
        a * 1
    assert t.watched_variables() == (a, b)


def test_int_variable_listed_but_gradient_none():
    v = tf.Variable(3)
    with tf.GradientTape() as t:
        y = v * 2
    assert t.watched_variables() == (v,)
    assert t.gradient(y, v) is None


def test_maximum_tie_and_reduce_max_tie():
    x, y = tf.constant(1.0), tf.constant(1.0)
    with tf.GradientTape() as t:
        t.watch([x, y])
        z = tf.maximum(x, y)
    assert [g.numpy() for g in t.gradient(z, [x, y])] == [1.0, 0.0]
    v = tf.constant([2.0, 2.0])
    with tf.GradientTape() as t:
        t.watch(v)
        m = tf.reduce_max(v)
    np.testing.assert_array_equal(val(t.gradient(m, v)), [0.5, 0.5])


def test_sqrt_at_zero_is_inf_and_square_at_zero_is_zero():
    x = tf.constant(0.0)
    with tf.GradientTape(persistent=True) as t:
        t.watch(x)
        s = tf.sqrt(x)
        p = x ** 2.0
    with np.errstate(divide="ignore"):
        assert np.isinf(t.gradient(s, x).numpy())
    assert t.gradient(p, x).numpy() == 0.0


def test_tape_stack_is_thread_local():
    x = tf.constant(2.0)
    seen = {}
    with tf.GradientTape() as t:
        t.watch(x)

        def other_thread():
            # the main thread's tape is not active here: nothing records
            with tf.GradientTape() as t2:
                t2.watch(x)
                y2 = x * 5
            seen["inner"] = t2.gradient(y2, x).numpy()
            seen["outer_recorded"] = x * 7
        th = threading.Thread(target=other_thread)
        th.start()
        th.join()
        y = x * 3
    assert seen["inner"] == 5.0
    assert t.gradient(y, x).numpy() == 3.0
    with tf.GradientTape() as t3:
        t3.watch(x)
    assert t3.gradient(seen["outer_recorded"], x) is None


def test_deleting_a_tape_frees_its_records():
    import gc
    import weakref
    x = tf.constant(np.ones(3, np.float32))
    with tf.GradientTape(persistent=True) as t:
        t.watch(x)
        y = tf.sin(x)
    ref = weakref.ref(y)
    del y
    gc.collect()
    assert ref() is not None  # the persistent tape keeps its recorded tensors
    del t
    gc.collect()
    assert ref() is None


def test_custom_gradient_identity_2dy_and_second_order_override():
    @tf.custom_gradient
    def f(x):
        def grad(dy):
            return 2 * dy
        return tf.identity(x), grad
    x = tf.constant(3.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = f(x)
    assert t.gradient(y, x).numpy() == 2.0

    # A custom_gradient inside grad_fn defines the second derivative.
    @tf.custom_gradient
    def g(x):
        def first(dy):
            @tf.custom_gradient
            def inner(x):
                return 2.0 * x * dy, lambda ddy: 100.0 * ddy
            return inner(x)
        return x * x, first
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as t:
            t.watch(x)
            y = g(x)
        dy = t.gradient(y, x)
    assert dy.numpy() == 6.0
    assert outer.gradient(dy, x).numpy() == 100.0


def test_grad_pass_through():
    x = tf.constant(2.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = tf.grad_pass_through(tf.round)(x * 1.3)
    assert y.numpy() == 3.0
    assert t.gradient(y, x).numpy() == np.float32(1.3)


def test_watch_on_never_entered_tape_is_attribute_error():
    with pytest.raises(AttributeError):
        tf.GradientTape().watch(tf.constant(1.0))


def test_jacobian_shapes_and_unconnected():
    x = tf.constant([1.0, 2.0, 3.0, 4.0])
    c = tf.constant([1.0])
    with tf.GradientTape(persistent=True) as t:
        t.watch([x, c])
        y = tf.reshape(tf.tile(x[:3] * 2.0, [2]), (3, 2))
        s = tf.reduce_sum(x * x)
    j = t.jacobian(y, x)
    assert j.shape == (3, 2, 4)
    assert t.jacobian(s, x).shape == (4,)
    np.testing.assert_array_equal(val(t.jacobian(s, x)), [2.0, 4.0, 6.0, 8.0])
    assert t.jacobian(y, c) is None
    z = t.jacobian(y, c, unconnected_gradients="zero")
    assert z.shape == (3, 2, 1) and not np.any(val(z))
    with pytest.raises(AttributeError, match="'list' object has no attribute 'shape'"):
        t.jacobian([y], x)


def test_batch_jacobian_without_pfor_needs_persistent():
    x = tf.constant([[1.0, 2.0]])
    with tf.GradientTape() as t:
        t.watch(x)
        y = x * x
    with pytest.raises(RuntimeError) as e:
        t.batch_jacobian(y, x, experimental_use_pfor=False)
    assert str(e.value) == ("GradientTape must be created with persistent=True to compute the "
                            "batch_jacobian with eager execution enabled and  with "
                            "experimental_use_pfor set to False.")


def test_custom_gradient_wrong_number_of_variable_gradients():
    v = tf.Variable(2.0)

    @tf.custom_gradient
    def f(x):
        def grad(dy, variables=None):
            return dy, []
        return x * v, grad
    x = tf.constant(1.0)
    with tf.GradientTape() as t:
        t.watch(x)
        y = f(x)
    with pytest.raises(ValueError) as e:
        t.gradient(y, x)
    assert str(e.value) == "Must return gradient for each variable from @custom_gradient grad_fn."


def test_inner_tape_not_watching_outer_does():
    x = tf.constant(3.0)
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            y = x * x
        assert inner.gradient(y, x) is None
    assert outer.gradient(y, x).numpy() == 6.0


def test_variable_higher_order_12_and_12():
    x = tf.Variable(2.0)
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            y = x ** 3
        dy = inner.gradient(y, x)
    assert dy.numpy() == 12.0
    assert outer.gradient(dy, x).numpy() == 12.0


def test_values_computed_after_exit_or_via_numpy_are_unconnected():
    x = tf.constant(2.0)
    with tf.GradientTape(persistent=True) as t:
        t.watch(x)
        y = x * 2
        z = tf.constant(np.asarray(y) * 3)  # through numpy: leaves the tape
    w = y * 5
    assert t.gradient(z, x) is None
    assert t.gradient(w, x) is None
    assert t.gradient(y, x).numpy() == 2.0


def test_unregistered_op_gradient_is_lookup_error():
    x = tf.constant([1.0, 2.0, 1.0])
    with tf.GradientTape() as t:
        t.watch(x)
        y, idx = tf.unique(x)
    assert list(y.numpy()) == [1.0, 2.0] and list(idx.numpy()) == [0, 1, 0]
    with pytest.raises(LookupError) as e:
        t.gradient(y, x)
    assert str(e.value) == "gradient registry has no entry for: Unique"


# --- §4 ForwardAccumulator (JVPs by linearity of the recorded VJP) ------------------------------
def test_forward_accumulator_jvp():
    x = tf.constant([1.0, 2.0])
    with tf.autodiff.ForwardAccumulator(x, tf.constant([1.0, 0.0])) as acc:
        y = tf.reduce_sum(x ** 3)
        c = tf.constant(2.0) * 3.0
    assert acc.jvp(y).numpy() == 3.0
    np.testing.assert_array_equal(val(acc.jvp(x)), [1.0, 0.0])
    assert acc.jvp(c) is None
    assert acc.jvp(c, unconnected_gradients="zero").numpy() == 0.0
    after = x * 2.0
    assert acc.jvp(after) is None  # ops after exit have no JVP
    j = acc.jvp({"a": y, "b": [y]})
    assert j["a"].numpy() == 3.0 and j["b"][0].numpy() == 3.0


def test_forward_over_backward_hessian_vector_product():
    v = tf.Variable([1.0, 2.0])
    with tf.autodiff.ForwardAccumulator(v, tf.constant([1.0, 0.0])) as acc:
        with tf.GradientTape() as tape:
            y = tf.reduce_sum(v ** 3.0)
        backward = tape.gradient(y, v)
    np.testing.assert_array_equal(val(backward), [3.0, 12.0])
    np.testing.assert_array_equal(val(acc.jvp(backward)), [6.0, 0.0])


def test_forward_accumulator_errors():
    x = tf.constant(1.0)
    with pytest.raises(ValueError) as e:
        tf.autodiff.ForwardAccumulator([x, x], [tf.constant(1.0), tf.constant(1.0)])
    assert str(e.value) == ("Tensor {} was specified as a primal multiple times. This may indicate "
                            "an error. If it was intended, please sum the corresponding tangents.")
    acc = tf.autodiff.ForwardAccumulator(x, tf.constant(1.0))
    with acc:
        with pytest.raises(ValueError, match="Accumulator is already recording."):
            with acc:
                pass
