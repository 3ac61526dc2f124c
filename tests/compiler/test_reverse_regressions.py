"""Wrong gradients the reverse transform once produced, each as small as it could be made.

Every function is checked with the python and native backends against central differences and
against the tape backend (which runs the function unmodified, so it shares no code with them).
"""
import math

import numpy as np
import pytest

import tapeflow as tf


def central_difference(f, x, h=1e-6):
    if np.ndim(x) == 0:
        return (f(x + h) - f(x - h)) / (2 * h)
    g = np.zeros_like(x)
    for i in range(x.shape[0]):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


def check(f, x, tape_f=None):
    """``tape_f``: the same function for the tape backend, when f uses a form it refuses."""
    expected = central_difference(f, x)
    tape = tf.grad(tape_f or f, backend="tape")(x)
    np.testing.assert_allclose(tape, expected, rtol=1e-6, atol=1e-8)
    for backend in ("python", "native"):
        got = tf.grad(f, backend=backend)(x)
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-8, err_msg=backend)
        np.testing.assert_allclose(got, tape, rtol=1e-9, atol=1e-12, err_msg=backend)


# The rule of ``s = 1 / t`` reads the new s, and t, recomputed from the old s: both values
# were restored into the one name s, the second overwriting the first.
def new_and_old_value_read_through_a_recomputation(x):
    s = x
    for i in range(2):
        s = 1.0 / (1.0 + s * s)
    return s


def test_new_and_old_value_of_one_name():
    check(new_and_old_value_read_through_a_recomputation, 0.7)


def new_value_and_old_value_through_a_chain(x):
    s = x
    for i in range(3):
        s = math.exp(-(s * s + 0.5 * s))
    return s


def test_new_value_and_old_value_through_a_longer_chain():
    check(new_value_and_old_value_through_a_chain, 0.3)


# The condition was recomputed from s, popped before the branch's own saves of s were: it read
# the value saved inside the branch and took the other path backwards.
def branch_on_a_value_the_branch_changes(x):
    s = x
    for i in range(2):
        if s > 0.5:
            s = math.exp(x)
        s *= 0.5
    return s


def branch_on_a_value_the_branch_changes_for_the_tape(x):
    s = x
    for i in range(2):
        if s > 0.5:
            s = math.exp(x)
        s = s * 0.5
    return s


def test_branch_decision_is_replayed_as_taken():
    check(branch_on_a_value_the_branch_changes, 0.7,
          branch_on_a_value_the_branch_changes_for_the_tape)


def branch_in_else_on_changed_value(x):
    s = x
    for i in range(3):
        if s < 1.0:
            s = s * 3.0
        else:
            s = math.sin(s) + 0.25
    return s


@pytest.mark.parametrize("x", [0.2, 0.45, 1.3])
def test_branch_with_else_changing_its_condition(x):
    check(branch_in_else_on_changed_value, x)


# The bounds of an inner loop were saved on the stack its body saves the same name on.
def loop_bounds_changed_by_the_body(x):
    y = x
    m = 2
    for k in range(2):
        for i in range(m):
            y = math.sin(y) * m
            m = m + 1
    return y


def test_loop_bounds_saved_apart_from_the_body():
    check(loop_bounds_changed_by_the_body, 0.4)


# Found by tests/fuzz. A folded constant ``-1.55`` printed bare: ``(-1.55) ** 2`` read
# ``-1.55 ** 2`` in the python backend's source, and the branch went the other way.
def negative_constant_squared(x):
    c = (-1.55) ** 2
    if c > 2.0:
        return x * c
    return x


def test_negative_constant_keeps_its_parentheses():
    check(negative_constant_squared, 0.8)
    g = tf.grad(negative_constant_squared, backend="python")
    g(0.8)
    assert "(-1.55) ** 2" in tf.source(g)


# Found by tests/fuzz. The gradient of an array argument started as 0.0 and stayed so when the
# only path reaching it was not taken: the native backend returned a 1-element array.
def early_return_of_a_constant(x):
    if 1.0 > 0.5:
        return 2.0
    return np.sum(x * x)


def test_array_gradient_has_the_argument_shape_on_every_path():
    check(early_return_of_a_constant, np.array([0.3, -0.1, 0.7]))


# Found by tests/fuzz. A buffer created and then read before it is bound on every path: its
# adjoint was made with np.zeros_like(b) at the start of the adjoint sweep, b unbound there.
def buffer_after_an_early_return(x):
    if x[0] > 0.0:
        return 1.0
    b = x * 2.0
    b[0] = 0.5
    return np.sum(b)


@pytest.mark.parametrize("x0", [1.0, -1.0])
def test_buffer_adjoint_starts_where_the_buffer_is_bound(x0):
    x = np.array([x0, 2.0])
    expected = central_difference(buffer_after_an_early_return, x)
    for backend in ("python", "native"):   # the tape refuses the element write
        got = tf.grad(buffer_after_an_early_return, backend=backend)(x.copy())
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-8, err_msg=backend)


# Found by tests/fuzz. dt = unbroadcast(db, t) is db itself when the shapes agree; once the
# zero start of dt was dropped (dt = 0.0 + e as dt = e), the element writes into db that
# follow changed dt too.
def buffer_adjoint_shared_by_reference(x):
    b = np.zeros(2)
    b += np.tanh(x) * np.maximum(b[0] + 0.3, 0.2)
    return np.sum(b)


def test_buffer_adjoint_is_not_shared_by_reference():
    check(buffer_adjoint_shared_by_reference, np.array([0.92, -0.466]))


# The same, with a loop after the buffer's update: optimize took the loop's own stores for the
# arrays written element by element, after the loop too, so dt = 0.0 + unbroadcast(db, t) was
# shortened again (python and native gave 2.023 for 1.982, silently).
def buffer_adjoint_shared_by_reference_before_a_loop(x):
    b = np.zeros(2)
    b += np.tanh(x) * np.maximum(b[0] + 0.3, 0.2)
    s = 0.0
    for i in range(2):
        s = s + x[i] * x[i]
    return np.sum(b) + s


def test_buffer_adjoint_is_not_shared_by_reference_before_a_loop():
    check(buffer_adjoint_shared_by_reference_before_a_loop, np.array([0.92, -0.466]))


def test_scalar_adjoints_in_a_loop_start_from_their_first_term():
    # no array aliases a scalar: in a loop, its adjoint's zero start is dropped (dt = 0.0;
    # dt = dt + ds read as dt = ds), not carried as a zero added every iteration
    def rosenbrock(x):
        s = 0.0
        for i in range(x.shape[0] - 1):
            s += 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2
        return s
    x = np.array([0.3, -0.8, 1.2, 0.5])
    g = tf.grad(rosenbrock, backend="python")
    check(rosenbrock, x)
    g(x)
    assert " = 0.0\n" not in tf.source(g)


# Found by tests/fuzz. An element write into b changes every name bound to the same array;
# v = b was taken for a copy, so nothing flowed through v (the gradient was 0).
def element_write_seen_through_an_alias(x):
    b = np.zeros(2)
    v = b
    b[0] = x[0] * 3.0
    return np.sum(v)


def test_element_write_is_seen_through_an_alias():
    x = np.array([0.5, 0.2])
    expected = central_difference(element_write_seen_through_an_alias, x)
    np.testing.assert_allclose(tf.grad(element_write_seen_through_an_alias, backend="tape")(x),
                               expected, rtol=1e-6, atol=1e-8)
    for backend in ("python", "native"):
        got = tf.grad(element_write_seen_through_an_alias, backend=backend)(x.copy())
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-8, err_msg=backend)


# Flow-sensitive aliases (compiler/aliases.py): a name rebound to a new array before the write
# no longer sees it; a name bound to the written array in both orders, in a loop, is rebound.
def alias_rebound_before_the_write(x):
    b = np.zeros(2)
    v = b
    v = v + x          # a new array: b[0] = ... below must not flow into v
    b[0] = x[0] * 3.0
    return np.sum(v) + np.sum(b * b)


def alias_in_a_loop(x):
    b = np.zeros(2)
    total = 0.0
    for i in range(2):
        v = b
        b[i] = x[i] * x[0]
        b += x
        total = total + np.sum(v * v)
    return total


@pytest.mark.parametrize("fn", [alias_rebound_before_the_write, alias_in_a_loop])
def test_aliases_are_followed_flow_sensitively(fn):
    x = np.array([0.5, -0.2])
    expected = central_difference(fn, x)
    for backend in ("python", "native", "auto"):   # the tape refuses `b +=` on an alias
        got = tf.grad(fn, backend=backend)(x.copy())
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-8, err_msg=backend)


def write_seen_through_a_view(x):
    b = np.zeros(3)
    v = b[1:]
    b[1] = x[0] * 3.0
    return np.sum(v)


def write_through_a_view(x):
    b = np.zeros(3)
    v = b[1:]
    v[0] = x[0] * 3.0
    return np.sum(b)


def write_aliased_on_one_path(x):
    b = np.zeros(2)
    v = np.ones(2)
    if x[0] > 0.0:
        v = b
    b[0] = x[0] * 3.0
    return np.sum(v)


@pytest.mark.parametrize("fn", [write_seen_through_a_view, write_through_a_view,
                                write_aliased_on_one_path])
def test_a_write_through_a_possible_alias_is_refused(fn):
    x = np.array([0.5, -0.2])
    expected = central_difference(fn, x)
    for backend in ("python", "native"):
        with pytest.raises(tf.TransformError, match="may share memory"):
            tf.grad(fn, backend=backend)(x.copy())
    np.testing.assert_allclose(tf.grad(fn)(x.copy()), expected, rtol=1e-6, atol=1e-8)


# Found by bench/fuzz.py (seed 121): after an early return the adjoint of v3 stays the scalar
# 0.0, and native sum_to refused to broadcast it up to x's shape (a crash, not a wrong value).
def zero_adjoint_after_an_early_return(x):
    v3 = np.maximum(x, x[2])
    v3 += x
    if x[0] > -0.14:
        return x[0]
    return np.sum(v3)


def test_zero_adjoint_after_an_early_return_broadcasts_natively():
    x = np.array([0.948, -0.311, 0.303])
    expected = central_difference(zero_adjoint_after_an_early_return, x)
    for backend in ("python", "native"):
        got = tf.grad(zero_adjoint_after_an_early_return, backend=backend)(x.copy())
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-8, err_msg=backend)


# b[0] = x on a 2-d b: the adjoint's slot db[0] is a view, zeroed right after it was read, so
# the gradient was 0 (python and native)
def row_write(x):
    b = np.zeros((2, 2))
    b[0] = x
    b[1] = x * x
    return np.sum(b * b)


# np.sin(x, out=y) is the write y[...] = np.sin(x): the gradient was 0 (python and native)
def ufunc_out_into_a_local(x):
    y = np.zeros(2)
    np.sin(x, out=y)
    return np.sum(y * y)


OUT_GLOBAL = np.zeros(2)


def ufunc_out_into_a_global(x):
    np.sin(x, out=OUT_GLOBAL)
    return np.sum(OUT_GLOBAL)


@pytest.mark.parametrize("fn", [row_write, ufunc_out_into_a_local])
def test_writes_of_whole_rows_and_out_arguments(fn):
    x = np.array([0.5, -0.3])
    expected = central_difference(fn, x)
    for backend in ("python", "native", "auto"):
        try:
            got = tf.grad(fn, backend=backend)(x.copy())
        except tf.TransformError as e:    # native has no `...` index: refused, auto moves on
            assert backend == "native" and "Ellipsis" in str(e)
            continue
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-8, err_msg=backend)


def test_out_into_a_global_is_refused():
    for backend in ("python", "native"):
        with pytest.raises(tf.TransformError, match="out="):
            tf.grad(ufunc_out_into_a_global, backend=backend)(np.array([0.5, -0.3]))


# Found by bench/fuzz.py (seed 100127): a helper's array, written into and never read again,
# was fused as a temporary into its own element write (np.sqrt(t)[2] = v): the optimizer crashed.
def helper_writes_into_a_dead_array(p0):
    v1 = np.sqrt(p0 * p0 + 0.5)
    v1[2] = p0[1] * 2.0
    return -np.sqrt(p0 * p0 + 0.5)


def calls_a_helper_that_writes(x):
    return np.sum(helper_writes_into_a_dead_array(x))


def test_an_element_write_is_never_fused_away():
    x = np.array([0.348, 0.639, 0.674, -0.618])
    expected = central_difference(calls_a_helper_that_writes, x)
    for backend in ("python", "native"):
        got = tf.grad(calls_a_helper_that_writes, backend=backend)(x.copy())
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-8, err_msg=backend)

# Found by bench/gradbench (lstm). A row of a matrix, h[0], is a view like a slice is: its
# adjoint slot was read as dh[0] and zeroed right after (so it read zeros), and its old value
# was pushed as a view the write then changed (the gradient was 0).
def row_of_a_matrix_overwritten_in_a_loop(x):
    h = np.zeros((2, 3))
    for t in range(2):
        h[0] = np.sin(h[0] + x)
        h[1, :] = h[1] * x + h[0]
    return np.sum(h)


def test_row_write_adjoint_and_save_are_copies():
    check(row_of_a_matrix_overwritten_in_a_loop, np.array([0.3, -0.2, 0.5]))


# The counter of ``reversed(range(...))`` got the fresh name ``k``; inside an inlined function
# with its own local ``k`` (IR name ``helper_k``) the loop read the counter back as that local,
# so the primal, its gradient and the gradient's tangent code (kmeans) were all wrong.
def helper_with_a_local_named_like_a_fresh_name(x):
    k = 5.0
    last = 2.0
    s = 0.0
    for i in reversed(range(x.shape[0])):
        s += x[i] * (i + 1) * k * last
    return s


def calls_a_helper_with_fresh_like_names(x):
    return helper_with_a_local_named_like_a_fresh_name(x) ** 2


def test_fresh_loop_names_do_not_capture_an_inlined_functions_locals():
    x = np.array([1.0, 2.0, 3.0])
    f = calls_a_helper_with_fresh_like_names
    assert tf.jit(f)(x) == pytest.approx(f(x))
    check(f, x)


# Two index arrays made by np.zeros(..., dtype=np.int64): the alias pass took np.zeros for a
# call that may return a view of its argument (the lifted name int64), so writing one array
# was refused as maybe writing the other; natively, dtype=np.int64 (a lifted module-level
# name) was an "unsupported dtype", and in gradients it was not passed to the typer at all.
def reads_through_int_index_arrays(x):
    order = np.zeros(x.shape[0], dtype=np.int64)
    seen = np.zeros(x.shape[0], dtype=np.int64)
    for i in range(x.shape[0]):
        order[i] = x.shape[0] - 1 - i
        seen[i] = 1
    s = 0.0
    for i in range(x.shape[0]):
        s += x[int(order[i])] * x[i] * (i + 1) * seen[i]
    return s


def reads_through_int_index_arrays_tape(x):
    # the tape runtime's numpy wrappers replace np.int64 itself while recording (a dtype=
    # np.int64 then fails there): the same function with dtype=int for the tape reference
    order = np.zeros(x.shape[0], dtype=int)
    for i in range(x.shape[0]):
        order[i] = x.shape[0] - 1 - i
    s = 0.0
    for i in range(x.shape[0]):
        s += x[int(order[i])] * x[i] * (i + 1)
    return s


def test_int64_index_arrays_natively_and_in_gradients():
    x = np.array([0.5, -1.0, 2.0, 0.25])
    f = reads_through_int_index_arrays
    assert tf.jit(f)(x) == pytest.approx(f(x))
    check(f, x, tape_f=reads_through_int_index_arrays_tape)


# Fuzz seed 5113: v's value was saved for np.max's rule as the array object itself, whose
# elements the loop then changed; the reverse sweep restored those elements into the array
# that later replaced v, so max's rule read the changed one (no tie with the max: nan).
# A save of an array now copies it (as native's stacks always did).
def saved_array_written_in_place_after(x):
    v = np.maximum(-x, 0.5)
    s = np.maximum(x[-1], np.max(v)) + x[2] * 0.4
    for i in range(5):
        v[i] += s
    v = v * 0.0
    return s + np.sum(v)


def saved_array_written_in_place_after_tape(x):
    v = np.maximum(-x, 0.5)
    s = np.maximum(x[-1], np.max(v)) + x[2] * 0.4
    return s + np.sum(v * 0.0)


def test_a_saved_array_keeps_its_value_when_written_in_place_later():
    x = np.array([0.717, 0.452, -0.58, -0.159, -1.175])
    check(saved_array_written_in_place_after, x, saved_array_written_in_place_after_tape)


# Saved arrays seen through aliases, written in place and rebound in a loop (copy on save).
def alias_written_and_rebound_in_a_loop(x):
    v = np.zeros(3) + x
    s = 0.0
    for i in range(3):
        w = v
        s = s + np.max(w * x)
        v[i] = x[i] * s
        v = v * 1.5
        s = s + np.sum(w * w)
    return s + np.sum(v)


def fresh_array_written_after_its_max_in_a_loop(x):
    s = 0.0
    for i in range(3):
        v = np.zeros(3) + x
        m = np.max(v)
        v[i] = 7.0 * x[0]
        s = s + m * np.sum(v * v)
    return s


@pytest.mark.parametrize("fn", [alias_written_and_rebound_in_a_loop,
                                fresh_array_written_after_its_max_in_a_loop])
def test_saved_arrays_written_later_through_aliases(fn):
    x = np.array([0.7, 0.3, -0.4])
    expected = central_difference(fn, x)
    for backend in ("python", "native"):   # the tape refuses element writes of active arrays
        got = tf.grad(fn, backend=backend)(x.copy())
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-8, err_msg=backend)


# A value broadcast into a row (h[t] = v) gets the sum of the row's adjoint over the broadcast
# axes, by v's shape; the adjoint read v's shape at the last iteration, not at its own one:
# x[0:1] broadcast into the row got a gradient of four entries' worth into x[0:4].
def broadcast_row_of_changing_shape(x):
    h = np.zeros((3, 4))
    for t in range(3):
        v = x[0:t % 2 * 3 + 1] * 2.0
        h[t] = v
    return np.sum(h * np.arange(12.0).reshape(3, 4))


def broadcast_row_in_one_branch(x):
    h = np.zeros((3, 4))
    for t in range(3):
        if t == 1:
            v = x[0:1] * 2.0
        else:
            v = x[0:4] * 3.0
        h[t] = v
    return np.sum(h * np.arange(12.0).reshape(3, 4))


def broadcast_column_of_changing_shape(x):
    h = np.zeros((4, 3))
    for t in range(3):
        v = x[0:t % 2 * 3 + 1] * 2.0
        h[:, t] = v
    return np.sum(h * np.arange(12.0).reshape(4, 3))


def broadcast_row_added(x):
    h = np.zeros((3, 4))
    for t in range(3):
        v = x[0:t % 2 * 3 + 1] * 2.0
        h[t] += v
    return np.sum(h * np.arange(12.0).reshape(3, 4))


@pytest.mark.parametrize("f", [broadcast_row_of_changing_shape, broadcast_row_in_one_branch,
                               broadcast_column_of_changing_shape, broadcast_row_added])
def test_value_broadcast_into_a_row_takes_its_own_shape(f):
    check(f, np.linspace(0.3, 1.2, 4))


# A buffer adjoint (v's elements get adjoints: dv[-1] += ...) of a value whose shape changes
# across iterations. After v's definition its adjoint was reset with np.zeros_like(dv), the shape
# of v at the *later* iteration: dv[-1] landed on the wrong element and a shape-(1,) dv broadcast
# into dx[t:] ([1.4, 3.2, 5.4] for [1.1, 1.1, 3.2]). The primal sweep now saves each value's
# shape, and the reset takes the shape of the value before.
def buffer_adjoint_of_changing_shape(x):
    s = 0.0
    for t in range(3):
        v = x[t:]
        s = s + v[-1] * v[0]
    return s


def buffer_adjoint_reduced_and_reversed(x):
    s = 0.0
    for t in range(3):
        v = x[t:] * 2.0
        w = v[::-1]
        s = s + np.max(v) * w[0] + v[0]
    return s


def buffer_adjoint_defined_twice_per_iteration(x):
    s = 0.0
    for t in range(2):
        v = x[t:]
        s = s + v[0] * v[-1]
        v = x[:t + 2] * 3.0
        s = s + v[-1] * v[0]
    return s


def buffer_adjoint_defined_in_a_branch(x):
    s = 0.0
    v = x[1:]
    for t in range(4):
        if t % 2 == 0:
            v = x[t // 2:]
        s = s + v[0] * v[-1]
    return s


def buffer_adjoint_of_a_reassigned_argument(x):
    s = x[0] * x[-1]
    for t in range(2):
        x = x[1:] * 2.0
        s = s + x[0] * x[-1]
    return s


def buffer_adjoint_read_before_its_redefinition(x):
    s = 0.0
    v = x[2:]
    for t in range(3):
        s = s + v[0] * v[-1]
        v = x[t:]
    return s + v[-1]


@pytest.mark.parametrize("f", [buffer_adjoint_of_changing_shape,
                               buffer_adjoint_reduced_and_reversed,
                               buffer_adjoint_defined_twice_per_iteration,
                               buffer_adjoint_defined_in_a_branch,
                               buffer_adjoint_of_a_reassigned_argument,
                               buffer_adjoint_read_before_its_redefinition])
def test_buffer_adjoint_of_a_value_changing_shape(f):
    check(f, np.array([0.3, 0.7, 1.1, 1.6]))


def test_buffer_adjoint_of_a_value_changing_shape_in_vector_mode():
    """A Jacobian replays the adjoint sweep once per row: the shape stack is refilled."""
    def f(x):
        out = np.zeros(2)
        for t in range(3):
            v = x[t:]
            out[0] = out[0] + v[-1] * v[0]
            out[1] = out[1] + v[0] * 2.0
        return out

    x = np.array([0.3, 0.7, 1.1])
    expected = np.array([[1.1, 1.1, 0.3 + 0.7 + 2.2], [2.0, 2.0, 2.0]])
    for backend in ("python", "native"):
        np.testing.assert_allclose(tf.jacrev(f, backend=backend)(x), expected, rtol=1e-12,
                                   err_msg=backend)
