"""Native vector mode: scalar tangent lines in one loop over the directions (forward_loops.py).

Each Jacobian is compared between the native backend (direction loops), the python backend
(numpy over the batch axis) and central differences; the cases cover what the grouping must
respect: scalar tangents carried across loop iterations, a primal line overwriting what a pending
tangent line reads, whole-array tangent lines between runs, a written scalar parameter, stacks (forward over
reverse), and a chunk smaller than the number of directions.
"""
import numpy as np
import pytest

import tapeflow as tf
from tapeflow.compiler import pipeline
from tapeflow.compiler.kinds import kind_of_argument


def hand(params, base):
    out = np.zeros((base.shape[0], 2))
    for i in range(base.shape[0]):
        b = i % 3
        angle = params[0] + params[2 + b]
        c = np.cos(angle)
        s = np.sin(angle)
        out[i, 0] = params[1] * (c * base[i, 0] - s * base[i, 1]) + params[5]
        out[i, 1] = params[1] * (s * base[i, 0] + c * base[i, 1])
    return out


def carried(x):
    s = 0.0
    y = x[0]
    for i in range(x.shape[0] - 1):
        s += 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2
        y = np.sin(y) * x[i + 1]      # overwrites an operand of its own tangent
    return s + y


def mixed(x):
    a = np.zeros(3)
    for i in range(3):
        t = x[i] * 2.0
        a[i] = np.sin(t) * x[(i + 1) % 3]
        a = a * 1.5 + x               # a whole-array tangent line between the runs
        u = a[i] * t
        a[i] = u + a[(i + 2) % 3]     # reads an element the run wrote
    return a


def scalar_param(a, x):
    out = np.zeros(x.shape[0])
    for i in range(x.shape[0]):
        a = a * 0.5 + x[i]
        out[i] = a * a
    return out


def rosen(x):
    s = 0.0
    for i in range(x.shape[0] - 1):
        s += 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2
    return s


RNG = np.random.default_rng(3)
X = RNG.uniform(0.2, 1.0, 6)


def _central(f, args, i, h=1e-6):
    x = np.asarray(args[i], dtype=float)
    cols = []
    for j in range(x.size):
        e = np.zeros(x.size)
        e[j] = h
        plus, minus = list(args), list(args)
        plus[i] = (x.ravel() + e).reshape(x.shape) if x.ndim else x + h
        minus[i] = (x.ravel() - e).reshape(x.shape) if x.ndim else x - h
        cols.append((np.asarray(f(*plus)) - np.asarray(f(*minus))) / (2 * h))
    return np.stack(cols, axis=-1).reshape(np.shape(f(*args)) + x.shape)


CASES = [(hand, (RNG.normal(size=6), RNG.uniform(-1, 1, (7, 2))), 0),
         (carried, (X,), 0), (mixed, (X[:3].copy(),), 0),
         (scalar_param, (0.7, X), 0), (scalar_param, (0.7, X), 1)]


@pytest.mark.parametrize("f,args,i", CASES, ids=[f"{c[0].__name__}-{c[2]}" for c in CASES])
@pytest.mark.parametrize("chunk", [None, 4])
def test_native_vector_mode_matches_python_and_differences(f, args, i, chunk):
    native = tf.jacfwd(f, i, backend="native", chunk=chunk)(*args)
    python = tf.jacfwd(f, i, backend="python", chunk=chunk)(*args)
    assert np.allclose(native, python, rtol=1e-12, atol=1e-12)
    assert np.allclose(native, _central(f, args, i), rtol=1e-6, atol=1e-6)


def _loops_source(f, args, argnums):
    kinds = tuple(kind_of_argument(a, k in argnums) for k, a in enumerate(args))
    return pipeline.generate_forward(f, argnums, kinds, "loops", True).source


def test_scalar_tangents_become_plain_scalars_in_one_direction_loop():
    src = _loops_source(hand, CASES[0][1], (0,))
    assert src.count("for d in range(batch):") == 1, src
    assert "c_dot = -angle_dot * np.sin(angle)" in src, src
    assert "out_dot[d, i, 0] = " in src and "params_dot[d, 0]" in src, src
    assert "np.zeros(batch)" not in src, src   # no k-vector per scalar tangent


def test_carried_and_written_tangents_stay_vectors():
    src = _loops_source(carried, (X,), (0,))
    assert "s_dot = np.zeros(batch)" in src and "s_dot[d] = " in src, src
    src = _loops_source(scalar_param, (0.7, X), (0,))
    # the caller's tangent array is copied before it is written per direction
    assert "a_dot = np.array(a_dot, dtype=np.float64)" in src and "a_dot[d] = " in src, src


def test_hessian_forward_over_reverse_natively():
    native = tf.hessian(rosen, backend="native")(X)
    python = tf.hessian(rosen, backend="python")(X)
    assert np.allclose(native, python, rtol=1e-12, atol=1e-12)
    g = tf.grad(rosen, backend="python")
    assert np.allclose(native, _central(g, (X,), 0), rtol=1e-5, atol=1e-5)
    assert np.allclose(native, native.T, rtol=1e-12, atol=1e-12)


def test_the_callers_tangents_are_not_written():
    from tapeflow.compiler import transforms
    engine = transforms._tangents_of(scalar_param, "native")
    seeds = np.array([1.0, -2.0])
    value, tangent = engine.call((0,), (0.7, X), [seeds], batched=True)
    assert list(seeds) == [1.0, -2.0]
    column = tf.jacfwd(scalar_param, 0, backend="python")(0.7, X)
    assert np.allclose(tangent, [column, -2.0 * column], rtol=1e-12, atol=1e-12)
