"""Shared helpers for the compiler tests: finite differences and gradient comparison.

A module of its own name, not conftest.py: every test folder without an ``__init__.py`` has its
conftest imported as the one top-level module ``conftest``, so ``from conftest import`` picks up
whichever folder's conftest pytest loaded last (tests/gradbench's, when both folders are named).
Nothing here imports tapeflow, so the corpus can be checked before the compiler exists.
"""
import numpy as np

# Tolerances for "gradient vs. central finite differences" (float64, eps ~1e-6 relative).
FD_RTOL = 1e-5
FD_ATOL = 1e-7
# Tolerance for "backend vs. backend": both are exact up to rounding.
BACKEND_RTOL = 1e-9
BACKEND_ATOL = 1e-12


def copy_args(args):
    """Deep-enough copy of an argument tuple: arrays are copied, scalars passed as they are."""
    return tuple(np.array(a, dtype=float) if isinstance(a, np.ndarray) else a for a in args)


def _as_tuple(argnums):
    return argnums if isinstance(argnums, tuple) else (argnums,)


def _call(f, args, k, value):
    a = list(copy_args(args))
    a[k] = value
    return float(f(*a))


def numeric_grad_one(f, args, k, eps=1e-6, order=2):
    """Central finite-difference gradient of scalar ``f`` w.r.t. positional argument ``k``.

    The step is ``eps * max(1, |x_i|)`` per element.  ``order=2`` is the three-point central
    difference; ``order=4`` the five-point one (used to cross-check the corpus itself).
    Returns a float for a scalar argument and an array of the argument's shape for an array.
    """
    x0 = args[k]
    if isinstance(x0, np.ndarray):
        x = np.array(x0, dtype=float)
        g = np.zeros_like(x)
        for idx in np.ndindex(*x.shape):
            h = eps * max(1.0, abs(x[idx]))

            def at(t, idx=idx):
                xp = x.copy()
                xp[idx] = x[idx] + t
                return _call(f, args, k, xp)

            if order == 2:
                g[idx] = (at(h) - at(-h)) / (2.0 * h)
            else:
                g[idx] = (8.0 * (at(h) - at(-h)) - (at(2 * h) - at(-2 * h))) / (12.0 * h)
        return g
    x = float(x0)
    h = eps * max(1.0, abs(x))
    if order == 2:
        return (_call(f, args, k, x + h) - _call(f, args, k, x - h)) / (2.0 * h)
    return (8.0 * (_call(f, args, k, x + h) - _call(f, args, k, x - h))
            - (_call(f, args, k, x + 2 * h) - _call(f, args, k, x - 2 * h))) / (12.0 * h)


def numeric_grad(f, args, argnums=0, eps=1e-6, order=2):
    """Finite-difference gradient with ``tapeflow.grad``'s output convention.

    An int ``argnums`` gives one gradient; a tuple gives a tuple of gradients.
    """
    if isinstance(argnums, tuple):
        return tuple(numeric_grad_one(f, args, k, eps, order) for k in argnums)
    return numeric_grad_one(f, args, argnums, eps, order)


def assert_same_structure(actual, expected, what=""):
    """``actual`` has the layout of ``expected``: a tuple of the same length, or one value;
    arrays of the same shape; scalars as 0-d values."""
    if isinstance(expected, tuple):
        assert isinstance(actual, tuple), f"{what}: expected a tuple of gradients, got {type(actual).__name__}"
        assert len(actual) == len(expected), f"{what}: expected {len(expected)} gradients, got {len(actual)}"
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert_same_structure(a, e, f"{what}[{i}]")
        return
    assert actual is not None, f"{what}: gradient is None"
    assert np.shape(actual) == np.shape(expected), (
        f"{what}: gradient has shape {np.shape(actual)}, expected {np.shape(expected)}")


def assert_grad_close(actual, expected, rtol=FD_RTOL, atol=FD_ATOL, what=""):
    """Compare gradients (single or tuple) elementwise; shapes must match exactly."""
    assert_same_structure(actual, expected, what)
    if isinstance(expected, tuple):
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert_grad_close(a, e, rtol, atol, f"{what}[{i}]")
        return
    a = np.asarray(actual, dtype=float)
    e = np.asarray(expected, dtype=float)
    assert np.all(np.isfinite(a)), f"{what}: non-finite gradient {a!r}"
    np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, err_msg=what)


def assert_args_unchanged(before, after, what=""):
    for i, (b, a) in enumerate(zip(before, after)):
        if isinstance(b, np.ndarray):
            assert np.array_equal(a, b), f"{what}: argument {i} was modified in place"
