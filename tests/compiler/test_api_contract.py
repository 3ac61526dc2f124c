"""The API's contract: parameters bind as Python binds them, what a function reads is what it is
differentiated with, a non-number result is a TypeError, and "auto" falls back on our failures
but lets the user's errors through. Values are checked against central finite differences."""
import math
import types

import numpy as np
import pytest

import tapeflow as tf
from tapeflow.compiler import pipeline, reads

BACKENDS = ("native", "python", "tape", "auto")


def fd(f, x, *args, h=1e-6, **kwargs):
    """Central finite difference of scalar f in its first (float) argument."""
    return (f(x + h, *args, **kwargs) - f(x - h, *args, **kwargs)) / (2 * h)


# ---- (a) parameter kinds -----------------------------------------------------------------------

def kwonly(x, *, a=2.0):
    return a * x * x


def posonly(x, /, y=3.0):
    return x * x * y


def mixed(x, y, *, scale, shift=1.0):
    return scale * x * y + shift * x


@pytest.mark.parametrize("backend", BACKENDS)
def test_keyword_only_argument_is_used_not_its_default(backend):
    g = tf.grad(kwonly, backend=backend)
    assert g(1.5, a=5.0) == pytest.approx(fd(kwonly, 1.5, a=5.0)) == pytest.approx(15.0)
    assert g(1.5) == pytest.approx(6.0)              # the default where none is given
    value, grad = tf.value_and_grad(kwonly, backend=backend)(1.5, a=5.0)
    assert value == pytest.approx(11.25) and grad == pytest.approx(15.0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_positional_only_defaults_and_required_keyword_only(backend):
    assert tf.grad(posonly, backend=backend)(2.0) == pytest.approx(fd(posonly, 2.0))
    assert tf.grad(posonly, backend=backend)(2.0, 0.5) == pytest.approx(2.0)
    g = tf.grad(mixed, argnums=(0, 1), backend=backend)
    dx, dy = g(2.0, 3.0, scale=4.0, shift=0.5)
    assert dx == pytest.approx(fd(mixed, 2.0, 3.0, scale=4.0, shift=0.5))
    assert dy == pytest.approx(4.0 * 2.0)


def test_binding_errors_are_pythons():
    g = tf.grad(kwonly)
    with pytest.raises(TypeError):
        g(1.5, 5.0)                    # a keyword-only parameter given positionally
    with pytest.raises(TypeError):
        g(1.5, b=1.0)
    with pytest.raises(TypeError):
        tf.grad(mixed)(1.0, 2.0)       # scale is required
    with pytest.raises(TypeError):
        tf.grad(posonly)(x=1.0)


def test_star_parameters_are_refused_by_name():
    def star(x, *rest):
        return x
    def stars(x, **options):
        return x
    with pytest.raises(TypeError, match=r"\*rest"):
        tf.grad(star)
    with pytest.raises(TypeError, match=r"\*\*options"):
        tf.grad(stars)


# ---- (b) what the function reads --------------------------------------------------------------

A = 2.0
W = np.array([1.0, 2.0, 3.0])


def reads_global(x):
    return A * x * x


def helper(x):
    return x * x


def calls_helper(x):
    return 3.0 * helper(x)


def reads_array(x):
    return np.sum(W * x)


@pytest.mark.parametrize("backend", BACKENDS)
def test_rebound_global_gives_a_fresh_gradient(backend):
    global A
    g = tf.grad(reads_global, backend=backend)
    try:
        assert g(1.5) == pytest.approx(6.0)
        A = 5.0
        assert g(1.5) == pytest.approx(15.0) == pytest.approx(fd(reads_global, 1.5))
        assert tf.grad(reads_global, backend=backend)(1.5) == pytest.approx(15.0)
    finally:
        A = 2.0
    assert g(1.5) == pytest.approx(6.0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_redefined_helper_and_replaced_code(backend):
    global helper
    g = tf.grad(calls_helper, backend=backend)
    saved = helper
    try:
        assert g(2.0) == pytest.approx(12.0)
        def helper(x):         # noqa: F811  (redefined on purpose)
            return x * x * x
        assert g(2.0) == pytest.approx(36.0) == pytest.approx(fd(calls_helper, 2.0, h=1e-5))
    finally:
        helper = saved
    assert g(2.0) == pytest.approx(12.0)

    def f(x):
        return x * x
    def f_new(x):
        return 4.0 * x
    h = tf.grad(f, backend=backend)
    assert h(3.0) == pytest.approx(6.0)
    f.__code__ = f_new.__code__           # what IPython's autoreload does
    assert h(3.0) == pytest.approx(4.0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_closure_cell_and_global_array(backend):
    global W
    scale = 2.0

    def f(x):
        return scale * x * x
    g = tf.grad(f, backend=backend)
    assert g(1.0) == pytest.approx(4.0)
    scale = 7.0          # the cell f reads changes
    assert g(1.0) == pytest.approx(14.0) == pytest.approx(fd(f, 1.0))

    x = np.array([0.5, 0.5, 0.5])
    saved = W
    try:
        ga = tf.grad(reads_array, backend=backend)
        np.testing.assert_allclose(ga(x), [1.0, 2.0, 3.0])
        W = np.array([4.0, 5.0, 6.0])                 # rebound
        np.testing.assert_allclose(ga(x), [4.0, 5.0, 6.0])
        W[1] = -1.0                                   # changed in place
        np.testing.assert_allclose(ga(x), [4.0, -1.0, 6.0])
    finally:
        W = saved


SETTINGS = types.SimpleNamespace(scale=2.0)   # read as SETTINGS.scale, like mymod.A


def reads_an_attribute(x):
    return SETTINGS.scale * x * x


@pytest.mark.parametrize("backend", BACKENDS)
def test_rebound_module_attribute_gives_a_fresh_gradient(backend):
    g = tf.grad(reads_an_attribute, backend=backend)
    try:
        assert g(1.0) == pytest.approx(4.0)
        SETTINGS.scale = 7.0
        assert g(1.0) == pytest.approx(14.0) == pytest.approx(fd(reads_an_attribute, 1.0))
    finally:
        SETTINGS.scale = 2.0


def test_jit_sees_rebound_globals_helpers_attributes_and_code():
    global A, helper
    j, k, m = tf.jit(reads_global), tf.jit(calls_helper), tf.jit(reads_an_attribute)
    saved = helper
    try:
        assert (j(1.5), k(2.0), m(1.0)) == (pytest.approx(4.5), pytest.approx(12.0), 2.0)
        A, SETTINGS.scale = 5.0, 3.0

        def helper(x):         # noqa: F811  (redefined on purpose)
            return x * x * x
        assert (j(1.5), k(2.0), m(1.0)) == (pytest.approx(11.25), pytest.approx(24.0), 3.0)
    finally:
        A, helper, SETTINGS.scale = 2.0, saved, 2.0

    def f(x):
        return x * x

    def f_new(x):
        return 4.0 * x
    jf = tf.jit(f)
    assert jf(3.0) == pytest.approx(9.0)
    f.__code__ = f_new.__code__
    assert jf(3.0) == pytest.approx(12.0)


def test_reads_check_is_by_identity_and_equal_numbers():
    r = reads.Reads()
    ns = {"k": 2.5, "arr": W}
    fn = types.FunctionType((lambda: None).__code__, ns)   # names are read in fn's globals
    r.names += [(reads.weak(fn), "k", 2.5), (reads.weak(fn), "arr", W)]
    unchanged = r.checker()          # the per-call form: made once, answers as valid() does
    assert r.valid() and unchanged()
    ns["k"] = float("2.5")           # an equal number rebound: the same constant
    assert r.valid() and unchanged()
    ns["arr"] = W.copy()             # another array: its identity is what the code holds
    assert not r.valid() and not unchanged()


# ---- (c) results that are not numbers ---------------------------------------------------------

def returns_none(x):
    y = x * 2.0     # noqa: F841  (computed, never returned)


def returns_str(x):
    return "x"


def returns_tuple(x):
    return x, x


def returns_complex(x):
    return x * 1j


def returns_generator(x):
    yield x


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fn, what", [(returns_none, "NoneType"), (returns_str, "str"),
                                      (returns_tuple, "tuple"), (returns_complex, "complex"),
                                      (returns_generator, "generator")])
def test_a_result_that_is_not_a_real_number_is_a_type_error(fn, what, backend):
    for make in (tf.grad, tf.value_and_grad):
        try:
            make(fn, backend=backend)(2.0)
        except tf.TransformError as e:   # a forced backend may refuse the construct first
            assert backend == "native" and "1j" in str(e) or \
                backend in ("native", "python") and ("yield" in str(e) or
                                                     "list or tuple" in str(e))
        except TypeError as e:
            assert fn.__name__ in str(e) and what in str(e)
        else:
            pytest.fail(f"{fn.__name__} under {backend}: no error")


def test_result_type_error_inside_a_tape():
    x = tf.constant(np.array(1.0))
    with tf.GradientTape() as tape:
        tape.watch(x)
        with pytest.raises(TypeError, match="returns_str"):
            tf.grad(returns_str)(x)


# ---- (d) auto: our failures fall back, the user's errors reach the user ------------------------

def cube(x):
    return x ** 3


def test_native_failure_at_first_call_falls_back_to_python(monkeypatch):
    from tapeflow.compiler.llvm.errors import LoweringError

    def broken(gen, args, boundscheck=True):
        def run(*args):
            raise LoweringError("simulated: an internal lowering failure")
        return run
    monkeypatch.setattr(pipeline, "compile_gradient", broken)
    g = tf.grad(cube)
    assert g(2.0) == pytest.approx(12.0)
    text = tf.explain(g, 2.0)
    assert text.startswith("cube: backend 'python'")
    assert "not native: failed at its first call" in text and "simulated" in text
    with pytest.raises(LoweringError):
        tf.grad(cube, backend="native")(2.0)         # forced: the failure is shown


def test_internal_transform_error_falls_back_to_tape(monkeypatch):
    def broken(*a, **k):
        raise KeyError("simulated")
    monkeypatch.setattr(pipeline, "generate", broken)
    g = tf.grad(cube)
    assert g(2.0) == pytest.approx(12.0)
    assert "internal error in the transform (KeyError" in tf.explain(g, 2.0)
    with pytest.raises(KeyError):
        tf.grad(cube, backend="python")(2.0)


def out_of_range(x):
    return x[5] * 2.0


def divides(x, y):
    return x / y


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_users_own_errors_reach_the_user(backend):
    # the tape speaks TensorFlow: its indexing error is InvalidArgumentError
    with pytest.raises(IndexError if backend != "tape" else tf.errors.InvalidArgumentError):
        tf.grad(out_of_range, backend=backend)(np.ones(3))
    if backend == "python":     # native code and the tape divide as numpy does (inf)
        with pytest.raises(ZeroDivisionError):
            tf.grad(divides, backend=backend)(1.0, 0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_bad_argument_is_a_type_error(backend):
    with pytest.raises(TypeError, match="argument 'x' is str"):
        tf.grad(cube, backend=backend)("a string")
    with pytest.raises(TypeError, match="argument 'x' is an array of <U1"):
        tf.grad(cube, backend=backend)(np.array(["a"]))


# ---- (e) grad of grad of a lambda, assert, isinstance -----------------------------------------

def test_grad_of_grad_of_a_lambda():
    f = lambda x: x ** 3 + 2.0 * x          # noqa: E731
    assert tf.grad(tf.grad(f))(2.0) == pytest.approx(12.0)
    assert tf.grad(tf.grad(f), backend="python")(2.0) == pytest.approx(12.0)


def checked(x):
    assert x > 0, "x must be positive"
    return x * math.sin(x)


def typed(x, k):
    if isinstance(k, (int, np.integer)):
        return x * x * k
    return x


@pytest.mark.parametrize("backend", ("python", "auto"))
def test_assert_runs_in_the_primal(backend):
    g = tf.grad(checked, backend=backend)
    assert g(1.3) == pytest.approx(fd(checked, 1.3))
    with pytest.raises(AssertionError, match="positive"):
        g(-1.0)


@pytest.mark.parametrize("backend", ("python", "auto"))
def test_isinstance_is_not_differentiated(backend):
    g = tf.grad(typed, backend=backend)
    assert g(1.5, 2) == pytest.approx(fd(typed, 1.5, 2))
    assert g(1.5, 2.0) == pytest.approx(1.0)


def test_positional_copy_keeps_the_code():
    c = __import__("tapeflow.compiler.api", fromlist=["positional_copy"]).positional_copy(kwonly)
    assert isinstance(c, types.FunctionType) and c(1.5, 5.0) == kwonly(1.5, a=5.0)
