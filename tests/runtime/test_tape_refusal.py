"""The tape backend refuses what it has no derivative rule for, and lets constants through.

Under ``grad(f, backend="tape")`` (and "auto", which steps down to the tape for these functions)
a numpy or math function without a rule, reached by a traced value, would give a constant and a
silently zero gradient: it raises ``TraceEscape`` naming the function, the file and the line.
Functions whose derivative is zero wherever it exists (sign, floor, comparisons, argmax, shape
queries) still run and give constants. Under the GradientTape API TensorFlow's behaviour stays:
numpy leaves the tape and the gradient through it is None.
"""
import math

import numpy as np
import pytest

import tapeflow as tf
from tapeflow.runtime import trace
from tapeflow.runtime.trace import TraceEscape

HERE = __file__.rstrip("c")
A = np.array([[3.0, 1.0], [1.0, 2.0]])


def numeric_grad(f, x, eps=1e-6):
    x = np.asarray(x, dtype=np.float64)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = eps
        g[i] = (f(x + e) - f(x - e)) / (2 * eps)
    return g


# --- no rule: refused, by name and line ---------------------------------------------------------
def f_solve(x):
    return np.sum(np.linalg.solve(A, x))


def f_cross(x):
    return np.sum(np.cross(x, np.array([1.0, 2.0, 3.0])))


def f_var(x):
    return np.var(x)


def f_kron(x):
    return np.sum(np.kron(x, x))


def f_tensordot(x):
    return np.tensordot(x, x, axes=1)


def f_logaddexp(x):
    return np.sum(np.logaddexp(x, 1.0))


def f_hypot(x):
    return np.sum(np.hypot(x, 1.0))


def f_trace(x):
    return np.trace(np.outer(x, x))


def f_diff(x):
    return np.sum(np.diff(x) ** 2)


def f_pad(x):
    return np.sum(np.pad(x, 1) ** 2)


def f_arcsinh(x):
    return np.sum(np.arcsinh(x))


def f_log2(x):
    return np.sum(np.log2(x))


def f_cumprod(x):
    return np.sum(np.cumprod(x))


def f_ufunc_reduce(x):
    return np.multiply.reduce(x)


def f_ufunc_accumulate(x):
    return np.sum(np.maximum.accumulate(x))


OUT = np.empty(3)    # made outside the traced function: a plain numpy array


def f_out(x):
    np.sin(x, out=OUT)
    return np.sum(OUT)


def f_out_local(x):
    buf = np.empty(3)   # made inside: a buffer the tape follows
    np.sin(x, out=buf)
    return np.sum(buf * x)


def f_mod(x):
    return np.sum(np.mod(x, 1.0) * x)


def f_convolve(x):
    return np.sum(np.convolve(x, x))


def f_median(x):
    return np.median(x * x)


def f_interp(x):
    return np.sum(np.interp(x, [0.0, 3.0], [1.0, 2.0]))


def f_i0(x):
    return np.sum(np.i0(x))


# functions the primitive table has no entry for: refused, with their name and line
NO_RULE = [
    (f_convolve, "np.convolve"), (f_median, "np.median"), (f_interp, "np.interp"),
    (f_i0, "np.i0"), (f_ufunc_reduce, "np.multiply.reduce"),
    (f_ufunc_accumulate, "np.maximum.accumulate"),
]
# functions that had no rule when this file was written and now have a table entry: right values
NOW_RULES = [f_cross, f_var, f_kron, f_tensordot, f_logaddexp, f_hypot, f_trace, f_diff,
             f_pad, f_arcsinh, f_log2, f_cumprod, f_mod]


@pytest.mark.parametrize("fn", NOW_RULES, ids=[f.__name__ for f in NOW_RULES])
def test_functions_with_table_entries_are_differentiated(fn):
    np.testing.assert_allclose(tf.grad(fn, backend="tape")(X3), numeric_grad(fn, X3),
                               rtol=1e-5, atol=1e-7)
X3 = np.array([0.5, 1.5, 2.5])


def _line_of(fn, text):
    import inspect
    lines, first = inspect.getsourcelines(fn)
    return first + next(i for i, line in enumerate(lines) if text in line)


@pytest.mark.parametrize("backend", ["tape", "auto"])
@pytest.mark.parametrize("fn, name", NO_RULE, ids=[n for _, n in NO_RULE])
def test_function_without_rule_is_refused_with_its_name_and_line(fn, name, backend):
    x = X3[:2] if fn is f_solve else X3
    with pytest.raises(TraceEscape) as info:
        tf.grad(fn, backend=backend)(x)
    msg = str(info.value)
    assert f"{name} has no derivative rule in tapeflow" in msg
    assert f"{HERE}, line {_line_of(fn, 'return')}:" in msg


def test_out_argument_is_refused():
    # (backend="auto" does not reach the tape here: the compiler takes this function itself)
    with pytest.raises(TraceEscape, match=r"np\.sin\(\.\.\., out=\.\.\.\) writes a traced value"):
        tf.grad(f_out, backend="tape")(X3)


def test_out_argument_into_a_local_array_is_followed():
    np.testing.assert_allclose(tf.grad(f_out_local, backend="tape")(X3),
                               numeric_grad(f_out_local, X3), rtol=1e-7)


def test_python_modulo_has_the_gradient_tf_registers():
    # x % y is TF's FloorMod: d/dx = 1, d/dy = -floor(x / y); it used to be a constant
    def f(x):
        return np.sum((x % 0.75) * x + 2.0 % x)
    x = np.array([2.5, -1.25, 0.3])
    np.testing.assert_allclose(tf.grad(f, backend="tape")(x), numeric_grad(f, x), rtol=1e-6)
    np.testing.assert_allclose(tf.constant(x) % 0.75, np.mod(x, 0.75), rtol=1e-12)


def test_function_without_rule_on_constants_only_still_runs():
    # np.kron of data that does not depend on x is a constant: nothing to refuse
    def f(x):
        k = np.kron(np.array([1.0, 2.0]), np.array([3.0, 1.0]))
        return np.sum(k * x)
    x = np.array([0.5, -1.0, 2.0, 0.25])
    np.testing.assert_allclose(tf.grad(f, backend="tape")(x), [3.0, 1.0, 6.0, 2.0])


# --- math functions without a rule ---------------------------------------------------------------
def m_erf(x):
    return math.erf(x) * x


def m_gamma(x):
    return math.gamma(x)


def m_lgamma(x):
    return math.lgamma(x) + x


def m_hypot(x):
    return math.hypot(x, 2.0)


def m_ldexp(x):
    return math.ldexp(x, 3)


MATH_NO_RULE = [(m_gamma, "gamma"), (m_lgamma, "lgamma"), (m_ldexp, "ldexp")]


@pytest.mark.parametrize("backend", ["tape", "auto"])
@pytest.mark.parametrize("fn, name", MATH_NO_RULE, ids=[n for _, n in MATH_NO_RULE])
def test_math_function_without_rule_is_refused(fn, name, backend):
    with pytest.raises(TraceEscape) as info:
        tf.grad(fn, backend=backend)(1.5)
    assert f"math.{name} has no derivative rule in tapeflow" in str(info.value)
    assert f"{HERE}, line {_line_of(fn, 'math.' + name)}:" in str(info.value)


def test_math_without_rule_refused_in_a_nested_gradient_too():
    # the inner gradient runs through traced_value_and_grad, which used to return math.erf's
    # plain float silently (no strict mode there)
    def f(x):
        return x * tf.grad(lambda y: math.lgamma(y) * x)(x)
    with pytest.raises(TraceEscape, match=r"math\.lgamma has no derivative rule"):
        tf.grad(f, backend="tape")(0.5)


def test_math_functions_with_rules_and_nondifferentiable_ones():
    def f(x):
        return (math.sin(x) * math.exp(x) + x * math.floor(x) + math.ceil(x)
                + (1.0 if math.isnan(x) or not math.isfinite(x) else 0.0) * x)
    for x in (0.3, 2.5, -1.25):
        expected = numeric_grad(lambda a: f(float(a)), np.array(x))
        np.testing.assert_allclose(tf.grad(f, backend="tape")(x), expected, rtol=1e-7)


def test_math_prod_works_through_operators():
    def f(x):
        return math.prod([x, x, 2.0])
    assert tf.grad(f, backend="tape")(1.5) == pytest.approx(6.0)


# --- nondifferentiable functions: constants, right values ----------------------------------------
def n_sign(x):
    return np.sum(np.sign(x) * x)


def n_argmax(x):
    return x[np.argmax(x)] * x[np.argmin(x)]


def n_isnan(x):
    return np.sum(np.where(np.isnan(x) | ~np.isfinite(x), 0.0, x ** 2))


def n_floor(x):
    return np.sum(np.floor(x) * x + np.ceil(x) + np.round(x) + np.rint(x) + np.trunc(x))


def n_shape(x):
    return np.sum(x) * x.shape[0] * np.ndim(x) * np.size(x)


def n_compare(x):
    return np.sum(np.where(np.greater(x, 1.0) & np.less_equal(x, 2.0), x, 2.0 * x))


def n_argsort(x):
    # integer results carry no gradient: argsort needs no entry in any list
    return np.sum(x[np.argsort(x)] * np.arange(3.0))


def n_like(x):
    return np.sum(np.zeros_like(x) + np.ones_like(x) * x + np.full_like(x, 2.0))


def n_floor_divide(x):
    return np.sum(x * np.floor_divide(x, 1.0) + x // 0.5)


NONDIFF = [n_sign, n_argmax, n_isnan, n_floor, n_shape, n_compare, n_argsort, n_like,
           n_floor_divide]


@pytest.mark.parametrize("backend", ["tape", "auto"])
@pytest.mark.parametrize("fn", NONDIFF, ids=[f.__name__ for f in NONDIFF])
def test_nondifferentiable_functions_give_constants(fn, backend):
    x = np.array([-0.7, 1.3, 2.6])
    np.testing.assert_allclose(tf.grad(fn, backend=backend)(x), numeric_grad(fn, x),
                               rtol=1e-6, atol=1e-8)


def test_every_nondiff_numpy_entry_of_the_table_passes_the_tape():
    """The table's nondiff entries are what the project calls nondifferentiable: each numpy one
    must be either in the tape's list or give only integer/boolean results."""
    from tapeflow.runtime import rules
    x = np.array([0.5, 1.5])
    for e in rules.ENTRIES:
        if e.kind != "nondiff" or e.role == "shape":
            continue
        for f in e.callables:
            module = getattr(f, "__module__", None) or ("numpy" if isinstance(f, np.ufunc) else "")
            if not module.startswith("numpy") or id(f) in trace.NONDIFF_NUMPY:
                continue
            result = f(x, x) if isinstance(f, np.ufunc) and f.nin == 2 else f(x)
            assert np.asarray(result).dtype.kind in "biu", f


# --- the TensorFlow-style API: numpy leaves the tape, the gradient is None -----------------------
def test_gradient_tape_numpy_without_rule_breaks_the_chain():
    x = tf.constant(np.array([0.5, 1.5]))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(np.convolve(x, x))   # numpy computes on the values: a constant
    assert tape.gradient(y, x) is None


def test_gradient_tape_numpy_without_rule_keeps_the_connected_part():
    # TF: y = convolve-part (a numpy constant) + 3 x; only the 3 x part is differentiated
    x = tf.constant(np.array([0.5, 1.5]))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = np.sum(np.convolve(x, x)) + tf.reduce_sum(3.0 * x)
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [3.0, 3.0])


def test_gradient_tape_plain_conversions_still_work():
    x = tf.Variable(2.0)
    with tf.GradientTape() as tape:
        y = x * x
        assert float(y) == 4.0 and y.numpy() == 4.0 and np.asarray(y) == 4.0
        assert math.erf(y) == pytest.approx(math.erf(4.0))
    assert tape.gradient(y, x).numpy() == 4.0


# --- conversions inside a traced function --------------------------------------------------------
def test_float_of_traced_value_refused_float_of_constant_fine():
    def f(x):
        scale = float(tf.constant(2.0))         # a constant: converting it loses nothing
        return x * scale + float(x)
    with pytest.raises(TraceEscape, match=r"float\(\)"):
        tf.grad(f, backend="tape")(1.5)

    def g(x):
        return x * float(tf.constant(2.0))
    assert tf.grad(g, backend="tape")(1.5) == 2.0


def test_np_asarray_of_traced_value_is_the_value():
    def f(x):
        x = np.asarray(x, dtype=float)
        return np.sum(np.asarray(x) ** 2)
    x = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(tf.grad(f, backend="tape")(x), 2 * x)


def test_writing_into_a_traced_tensor_is_refused_with_line():
    def f(x):
        y = x * 2.0
        y[0] = 1.0
        return np.sum(y)
    with pytest.raises(TraceEscape, match=r"writing into an element"):
        tf.grad(f, backend="tape")(np.array([1.0, 2.0]))
    # outside a trace, a Tensor is immutable as in TensorFlow
    with pytest.raises(TypeError, match="does not support item assignment"):
        tf.constant([1.0, 2.0])[0] = 3.0


# --- buffers (arrays made with np.zeros & co. inside the function) -----------------------------
def buffer_on_the_right(x):
    b = np.zeros(2)
    b[0] = np.tanh(-1.01)        # a constant buffer: float64, as numpy keeps it
    b[1] = x[1] * x[0]           # a traced one: its gradient flows
    return np.sum(np.sqrt(x * x + 0.5) + b)


def buffer_read_through_a_slice_after_a_write(x):
    b = np.zeros(3)
    v = b[1:]                    # numpy's view: it sees the write below
    b[1] = x[0] * 3.0
    return np.sum(v * x[1])


def buffer_written_through_a_row(x):
    b = np.zeros((2, 2))
    r = b[1]
    r[1] = x[0]                  # writes into b
    b[0, 0] = x[1]
    return np.sum(b * b) + np.sum(r)


@pytest.mark.parametrize("fn", [buffer_on_the_right, buffer_read_through_a_slice_after_a_write,
                                buffer_written_through_a_row])
def test_buffers_keep_numpy_semantics(fn):
    x = np.array([0.626, 0.268])
    got = tf.grad(fn, backend="tape")(x.copy())
    np.testing.assert_allclose(got, numeric_grad(fn, x), rtol=1e-7, atol=1e-9)


def buffer_written_after_a_transpose(x):
    b = np.zeros((2, 2))
    r = b.T
    b[0, 1] = x[0]
    return np.sum(r * r)


def test_buffer_written_after_a_view_is_refused():
    with pytest.raises(TraceEscape, match="view of it"):
        tf.grad(buffer_written_after_a_transpose, backend="tape")(np.array([0.5, 0.2]))
    with pytest.raises((TraceEscape, tf.TransformError), match="may share memory|view of it"):
        tf.grad(buffer_written_after_a_transpose)(np.array([0.5, 0.2]))   # refused everywhere


# --- in-place numpy writes of traced values --------------------------------------------------
OUTSIDE = np.zeros(2)


def add_at_into_an_outside_array(x):
    OUTSIDE[:] = 0.0
    np.add.at(OUTSIDE, [0, 1], x * 2.0)
    return np.sum(OUTSIDE * x)


def add_at_into_an_argument(x, a):
    np.add.at(a, [0, 1], x * 2.0)
    return np.sum(a * x)


def copyto_an_outside_array(x):
    np.copyto(OUTSIDE, x * 2.0)
    return np.sum(OUTSIDE * x)


def ufunc_out_into_an_outside_array(x):
    np.multiply(x, 2.0, out=OUTSIDE)
    return np.sum(OUTSIDE * x)


@pytest.mark.parametrize("fn", [add_at_into_an_outside_array, add_at_into_an_argument,
                                copyto_an_outside_array, ufunc_out_into_an_outside_array])
def test_writing_a_traced_value_into_an_outside_array_is_refused(fn):
    args = (np.array([0.5, -0.3]),) + ((np.zeros(2),) if fn is add_at_into_an_argument else ())
    with pytest.raises(TraceEscape, match="numpy array"):
        tf.grad(fn, backend="tape")(*args)


def copyto_a_local_buffer(x):
    a = np.zeros(2)
    np.copyto(a, x * 2.0)
    return np.sum(a * x)


def ufunc_out_into_a_local_buffer(x):
    a = np.zeros(2)
    np.sin(x, out=a)
    return np.sum(a * a)


@pytest.mark.parametrize("fn", [copyto_a_local_buffer, ufunc_out_into_a_local_buffer])
def test_writes_into_a_local_buffer_are_followed(fn):
    x = np.array([0.5, -0.3])
    for backend in ("tape", "python", "auto"):
        try:
            got = tf.grad(fn, backend=backend)(x.copy())
        except tf.TransformError:   # the source transform has no np.copyto: refused, fine
            assert backend == "python" and fn is copyto_a_local_buffer
            continue
        np.testing.assert_allclose(got, numeric_grad(fn, x), rtol=1e-7, atol=1e-9,
                                   err_msg=backend)


def test_gradient_tape_add_at_into_numpy_breaks_the_chain_as_tf():
    x = tf.Variable(np.array([0.5, -0.3]))
    with tf.GradientTape() as tape:
        a = np.zeros(2)
        np.add.at(a, [0, 1], x * 2.0)   # numpy holds plain values now, as under TensorFlow
        y = tf.reduce_sum(a)
    assert tape.gradient(y, x) is None
