"""backend="python" refuses what the source transform cannot handle, and says where.

Each function below contains one unsupported construct.  The line that holds it is marked with
the comment ``# <-- unsupported``; TransformError's ``lineno`` must be that line of this file
(computed with ``inspect.getsourcelines``), and its message must name this file, the line and the
construct.  Where two lines could both be called "the offending statement" (a list created and
then appended to), both are marked and either is accepted.
"""
import contextlib
import functools
import inspect
import math
import operator
import os
import re
import statistics

import numpy as np
import pytest

import tapeflow

MARK = "# <-- unsupported"
_COUNTER = 0.0


# --- the unsupported constructs ----------------------------------------------------------------
def err_recursion(x, n):
    if n <= 1:
        return x
    return x * err_recursion(x, n - 1)  # <-- unsupported


def err_list_append(x):
    out = []  # <-- unsupported
    for i in range(3):
        out.append(x * i)  # <-- unsupported
    return out[0] + out[2]


def err_dict(x):
    y = x * 2.0
    d = {"a": x, "b": y}  # <-- unsupported
    return d["a"] * d["b"]


def err_generator_expression(x):
    y = x + 1.0
    terms = (y * i for i in range(4))  # <-- unsupported
    return sum(terms)


def err_yield(x):
    y = x * x
    yield y  # <-- unsupported


def err_try_except(x):
    y = x * 3.0
    try:  # <-- unsupported
        z = math.log(y)
    except ValueError:
        z = y
    return z


def err_with(x):
    y = x * 2.0
    with contextlib.suppress(ZeroDivisionError):  # <-- unsupported
        y = y / x
    return y


def err_global(x):
    global _COUNTER  # <-- unsupported
    _COUNTER = _COUNTER + 1.0
    return x * x


def err_nonlocal(x):
    k = 1.0

    def bump():
        nonlocal k  # <-- unsupported
        k = k + 1.0

    bump()
    return x * k


def err_functools_reduce(x):
    y = x + 1.0
    return functools.reduce(operator.mul, (x, y, 2.0))  # <-- unsupported


def err_map_lambda(x):
    y = x * 0.5
    squares = map(lambda t: t * t, (x, y))  # <-- unsupported
    return sum(squares)


def err_statistics(x):
    y = x * x
    return statistics.fmean((x, y, 2.0))  # <-- unsupported


async def err_async(x):  # <-- unsupported
    return x * x


# (function, regular expression the message must match, example arguments)
UNSUPPORTED = [
    (err_recursion, r"recursi", (1.5, 3)),
    (err_list_append, r"list|append", (1.5,)),
    (err_dict, r"dict", (1.5,)),
    (err_generator_expression, r"generator", (1.5,)),
    (err_yield, r"yield|generator", (1.5,)),
    (err_try_except, r"\btry\b", (1.5,)),
    (err_with, r"\bwith\b", (1.5,)),
    (err_global, r"global", (1.5,)),
    (err_nonlocal, r"nonlocal", (1.5,)),
    (err_functools_reduce, r"reduce", (1.5,)),
    (err_map_lambda, r"\bmap\b|lambda", (1.5,)),
    (err_statistics, r"fmean|statistics", (1.5,)),
    (err_async, r"async", (1.5,)),
]


def marked_lines(fn):
    """Absolute line numbers (in this file) of the lines marked as unsupported in ``fn``."""
    lines, first = inspect.getsourcelines(fn)
    found = [first + i for i, line in enumerate(lines) if MARK in line]
    assert found, fn.__name__
    return found


@pytest.mark.parametrize("fn,pattern,args", UNSUPPORTED, ids=[u[0].__name__ for u in UNSUPPORTED])
def test_unsupported_construct_raises_with_location(fn, pattern, args):
    with pytest.raises(tapeflow.TransformError) as info:
        g = tapeflow.grad(fn, backend="python")
        g(*args)
    err = info.value
    msg = str(err)
    expected = marked_lines(fn)
    assert err.lineno in expected, f"lineno {err.lineno}, expected one of {expected}: {msg}"
    assert os.path.basename(__file__) in msg, msg
    assert re.search(rf"\bline {err.lineno}\b", msg), msg
    assert re.search(pattern, msg, re.IGNORECASE), f"message does not name the construct: {msg}"


def test_transform_error_is_an_exception_with_lineno():
    assert issubclass(tapeflow.TransformError, Exception)
    with pytest.raises(tapeflow.TransformError) as info:
        tapeflow.grad(err_dict, backend="python")(2.0)
    assert isinstance(info.value.lineno, int)


TAPE_CAN_RUN = [u for u in UNSUPPORTED[:8] if u[0] is not err_yield]


@pytest.mark.parametrize("fn,pattern,args", TAPE_CAN_RUN, ids=[u[0].__name__ for u in TAPE_CAN_RUN])
def test_unsupported_construct_falls_back_under_auto(fn, pattern, args):
    """backend="auto" steps down to the tape for these (plain Python the tape can run) and gets
    the right gradient; it never surfaces the transform error."""
    d = tapeflow.grad(fn, backend="auto")(*args)
    h = 1e-6
    a_plus = (args[0] + h,) + tuple(args[1:])
    a_minus = (args[0] - h,) + tuple(args[1:])
    expected = (fn(*a_plus) - fn(*a_minus)) / (2 * h)
    np.testing.assert_allclose(d, expected, rtol=1e-5, atol=1e-7)


# --- bad arguments to grad ---------------------------------------------------------------------
def one_arg(x):
    return x * x


def two_args(x, y):
    return x * y


@pytest.mark.parametrize("backend", ["python", "tape", "auto"])
def test_argnums_out_of_range_names_argnums(backend):
    with pytest.raises((ValueError, IndexError, TypeError, tapeflow.TransformError), match="argnums"):
        g = tapeflow.grad(one_arg, argnums=5, backend=backend)
        g(2.0)
    with pytest.raises((ValueError, IndexError, TypeError, tapeflow.TransformError), match="argnums"):
        g = tapeflow.grad(two_args, argnums=(0, 3), backend=backend)
        g(2.0, 3.0)


@pytest.mark.parametrize("not_a_function", [3.0, "one_arg", None, [one_arg]])
def test_non_function_argument_raises_type_error(not_a_function):
    with pytest.raises(TypeError):
        g = tapeflow.grad(not_a_function)
        g(2.0)


def test_non_function_argument_raises_type_error_python_backend():
    with pytest.raises(TypeError):
        g = tapeflow.grad(42, backend="python")
        g(2.0)


def test_unknown_backend_is_named():
    with pytest.raises((ValueError, TypeError), match="backend"):
        g = tapeflow.grad(one_arg, backend="gpu")
        g(2.0)


# --- refusals on a function's last line, through each transform's wrapper ------------------
def ret_only(x):
    return np.sum(np.fft.fft(x).real)  # <-- unsupported


def _doubled(z):
    w = z * 2.0
    return np.fft.fft(w).real  # <-- unsupported


def in_helper_return(x):
    return np.sum(_doubled(x))


def _plus_one(z):
    return z + 1.0


def after_inlined_call(x):
    w = x * 3.0
    return np.sum(np.fft.fft(_plus_one(w)).real)  # <-- unsupported


def _jvp(f, **kw):
    return lambda x: tapeflow.jvp(f, (x,), (np.ones_like(x),), **kw)


@pytest.mark.parametrize("fn", [ret_only, in_helper_return, after_inlined_call],
                         ids=lambda f: f.__name__)
@pytest.mark.parametrize("transform", [tapeflow.grad, tapeflow.jacrev, tapeflow.jacfwd,
                                       tapeflow.hessian, _jvp],
                         ids=["grad", "jacrev", "jacfwd", "hessian", "jvp"])
def test_refusal_names_the_users_line_through_every_transform(fn, transform):
    """The statement a return became keeps the return's line: jacrev's generated wrapper
    (vjp_of_f) inlines f, and its line 2 was cited with f's file name."""
    with pytest.raises(tapeflow.TransformError) as info:
        transform(fn, backend="python")(np.array([0.5, 1.0, 2.0]))
    msg = str(info.value)
    expected = marked_lines(_doubled if fn is in_helper_return else fn)
    assert info.value.lineno in expected, msg
    assert os.path.basename(__file__) in msg and f"line {info.value.lineno}:" in msg, msg
