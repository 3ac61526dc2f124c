"""Array functions: indexed loops, views, elementwise broadcasting, reductions, products, helpers."""
import numpy as np
import pytest

from tapeflow.compiler import typing as T
from tapeflow.compiler.llvm import compile_source

from .conftest import check

rng = np.random.default_rng(0)

ROSEN = '''
def rosen(x):
    s = x.shape
    n = s[0]
    f = 0.0
    for i in range(n - 1):
        a = x[i + 1]
        b = x[i]
        c = b * b
        d = a - c
        e = d * d
        g = 100.0 * e
        h = 1.0 - b
        k = h * h
        f = f + g
        f = f + k
    return f

def rosen_grad(x, df):
    s = x.shape
    n = s[0]
    dx = np.zeros_like(x)
    for i in range(n - 1):
        a = x[i + 1]
        b = x[i]
        c = b * b
        d = a - c
        h = 1.0 - b
        dd = 200.0 * d
        dd = dd * df
        dh = 2.0 * h
        dh = dh * df
        t = dx[i + 1]
        t = t + dd
        dx[i + 1] = t
        u = 2.0 * b
        u = u * dd
        v = dx[i]
        v = v - u
        v = v - dh
        dx[i] = v
    return dx
'''


def test_rosenbrock_indexed_loops():
    x = rng.random(1000)
    check(ROSEN, "rosen", x)
    check(ROSEN, "rosen_grad", x, 1.0)
    check(ROSEN, "rosen_grad", x, 1.0, boundscheck=False)
    # non-contiguous input: every other element
    xs = rng.random(2001)[::2]
    check(ROSEN, "rosen_grad", xs, 0.5)


MATRIX = '''
def f(a, v):
    s = a.shape
    n = s[0]
    m = s[1]
    out = np.zeros((m, n))
    for i in range(n):
        for j in range(m):
            t = a[i, j]
            u = v[j]
            w = t * u
            out[j, i] = w
            out[j, -1] += 1.0
    r = out[-1, 0]
    return out, r
'''


def test_2d_indexed_loops_negative_indices():
    check(MATRIX, "f", rng.random((4, 3)), rng.random(3))
    check(MATRIX, "f", np.asfortranarray(rng.random((4, 3))), rng.random(3))


def test_out_of_bounds_names_the_array():
    nf = compile_source(MATRIX, "f", (T.Array(T.F64, 2), T.Array(T.F64, 1)))
    with pytest.raises(IndexError, match=r"index 2 is out of bounds for axis 0 with size 2 \(array 'v'\)"):
        nf(rng.random((4, 3)), rng.random(2))
    src = "def g(x, i):\n    y = x[i]\n    return y\n"
    ng = compile_source(src, "g", (T.Array(T.F64, 1), T.I64))
    x = np.arange(10.0)
    assert ng(x, -1) == 9.0 and ng(x, -10) == 0.0
    with pytest.raises(IndexError, match=r"index 10 is out of bounds for axis 0 with size 10 \(array 'x'\)"):
        ng(x, 10)
    with pytest.raises(IndexError, match="index -11"):
        ng(x, -11)


def test_wrong_dtype_or_ndim_is_type_error():
    nf = compile_source(ROSEN, "rosen", (T.Array(T.F64, 1),))
    with pytest.raises(TypeError, match="'x'"):
        nf(np.zeros(5, dtype=np.float32))
    with pytest.raises(TypeError, match="1-d array of float64"):
        nf(np.zeros((5, 2)))
    with pytest.raises(TypeError):
        nf([1.0, 2.0])


ELEMENTWISE = '''
def f(a, b, c):
    t = a * b
    u = np.sin(t)
    v = u + c
    w = v / 2.0
    x = np.exp(w)
    y = -x
    z = np.maximum(y, -1.5)
    q = np.where(z > -1.2, z, a)
    r = q ** 2
    s = np.clip(r, 0.1, 1.9)
    k = s - 1
    m = np.abs(k)
    g = a > 0.5
    h = g * 1.0
    return m, h
'''


@pytest.mark.parametrize("sa,sb,sc", [((3, 4), (3, 4), (3, 4)), ((3, 4), (4,), (3, 1)),
                                      ((2, 3, 4), (3, 1), (1,)), ((5,), (5,), (1,))])
def test_elementwise_broadcasting(sa, sb, sc):
    check(ELEMENTWISE, "f", rng.random(sa), rng.random(sb), rng.random(sc))


def test_broadcast_error():
    nf = compile_source(ELEMENTWISE, "f", (T.Array(T.F64, 2),) * 3)
    with pytest.raises(ValueError, match="broadcast"):
        nf(rng.random((3, 4)), rng.random((3, 5)), rng.random((3, 4)))


REDUCE = '''
def f(a):
    s0 = np.sum(a, axis=0)
    s1 = np.sum(a, axis=1)
    s2 = np.sum(a, axis=-1, keepdims=True)
    t = np.sum(a)
    m = np.mean(a, axis=0)
    mm = np.mean(a)
    p = np.prod(a, axis=1)
    mx = np.max(a, axis=0)
    mn = np.min(a)
    am = a.sum(axis=1)
    return s0, s1, s2, t, m, mm, p, mx, mn, am
'''


def test_reductions():
    check(REDUCE, "f", rng.random((5, 7)))
    check(REDUCE, "f", rng.random((7, 5)).T)
    x = rng.random((3, 4))
    x[1, 2] = np.nan
    check(REDUCE, "f", x)


def test_reduction_of_empty_max_raises():
    nf = compile_source("def f(a):\n    m = np.max(a)\n    return m\n", "f", (T.Array(T.F64, 1),))
    with pytest.raises(ValueError, match="zero-size"):
        nf(np.zeros(0))


PRODUCTS = '''
def f(a, b, v, w):
    c = a @ b
    d = np.dot(a, v)
    e = np.dot(v, w)
    g = w @ a.T
    h = np.outer(v, w)
    k = np.matmul(a, b)
    t = np.transpose(a)
    r = np.reshape(a, (-1,))
    q = np.reshape(t, (2, -1))
    return c, d, e, g, h, k, t, r, q
'''


def test_matmul_dot_outer_transpose_reshape():
    check(PRODUCTS, "f", rng.random((4, 3)), rng.random((3, 5)), rng.random(3), rng.random(3), rtol=1e-13)
    nf = compile_source(PRODUCTS, "f", (T.Array(T.F64, 2), T.Array(T.F64, 2), T.Array(T.F64, 1), T.Array(T.F64, 1)))
    with pytest.raises(ValueError, match="matmul"):
        nf(rng.random((4, 3)), rng.random((2, 5)), rng.random(3), rng.random(3))


SLICES = '''
def f(x, i, j):
    a = x[i:j]
    b = x[::-1]
    c = x[1:-1:2]
    s = np.sum(a)
    t = b[0]
    n = len(c)
    x[0:2] = 7.0
    x[2:4] += 1.0
    return s, t, n, c, x
'''


def test_slices_views_and_slice_assignment():
    for i, j in [(1, 4), (-3, 100), (5, 2)]:
        check(SLICES, "f", rng.random(8), i, j)


def test_columns_and_rows():
    src = '''
def f(m):
    col = m[:, 1]
    row = m[2]
    s = col * 2.0
    m[0, :] = row
    return s, m
'''
    check(src, "f", rng.random((4, 3)))


def test_creation_functions_and_int_arrays():
    src = '''
def f(n, x):
    a = np.ones((n, 2))
    b = np.full(n, 3.5)
    c = np.zeros(n, dtype=np.int64)
    for i in range(n):
        c[i] = i * i
    d = c * x
    e = np.shape(a)
    k = e[0]
    s = np.sum(c)
    return a, b, c, d, k, s
'''
    check(src, "f", 4, 0.5)


HELPERS = '''
def f(g, x, y, z):
    a = unbroadcast(g, x)
    b = unbroadcast(g, y)
    c = unbroadcast(g, z)
    d = unreduce(a, g, 0, False)
    e = unreduce(c, g, None, False)
    s = np.sum(g, axis=1, keepdims=True)
    h = unreduce(s, g, 1, True)
    u = sum_to_shape(g, (1, 4))
    m = np.max(g, axis=0)
    k = unreduce(a, g, 0, False) * extremum_weights(m, g, 0, False)
    t = untranspose(g)
    return a, b, c, d, e, h, u, k, t
'''


def test_rule_helpers():
    g = rng.random((3, 4))
    g[1, 2] = g[0, 2]    # a tie for the extremum helper
    check(HELPERS, "f", g, rng.random(4), rng.random((3, 1)), 2.0)


def test_nan_inputs_propagate_in_arrays():
    x = rng.random(6)
    x[3] = np.nan
    check(ROSEN, "rosen", x)
    check(ELEMENTWISE, "f", x, x, x)


def test_inplace_array_update_and_stack_of_arrays():
    src = '''
def f(x, n):
    s = Stack()
    y = x * 1.0
    for i in range(n):
        s.push(y)
        y = y * 2.0
        y += x
    z = s.pop()
    w = s.pop()
    return y, z, w
'''
    check(src, "f", rng.random(5), 3)


def test_float32_arrays_stay_float32():
    src = "def f(x):\n    y = x * 2.0\n    z = np.sum(y)\n    return y, z\n"
    x = rng.random(5).astype(np.float32)
    nf = compile_source(src, "f", (T.typeof(x),))
    y, z = nf(x)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, x * 2.0, rtol=1e-6)
    assert z == pytest.approx(float(np.sum(x * 2.0)), rel=1e-5)


def test_written_argument_that_aliases_another_uses_safe_variant():
    src = '''
def f(a, b):
    n = len(a)
    for i in range(n):
        t = b[i]
        u = t + 1.0
        a[i] = u
    return a
'''
    x = np.arange(5.0)
    nf = compile_source(src, "f", (T.Array(T.F64, 1), T.Array(T.F64, 1)))
    np.testing.assert_array_equal(nf(x, x), np.arange(5.0) + 1)
    y = np.arange(6.0)
    np.testing.assert_array_equal(nf(y[1:], y[:-1]), np.arange(5.0) + 1)


def test_int_bool_float32_and_3d_arrays():
    src = '''
def f(a, b, m):
    c = a + b
    d = c * 2
    e = m & (a > 1)
    s = np.sum(e)
    g = np.where(m, a, -a)
    return c, d, e, s, g
'''
    a = np.arange(6, dtype=np.int64).reshape(2, 3)
    check(src, "f", a, np.array([1, 2, 3]), np.array([[True, False, True], [False, True, True]]))
    src3 = '''
def f(x, y):
    z = x * y
    w = np.sum(z, axis=(0, 2))
    u = np.max(z, axis=1, keepdims=True)
    v = x[1, :, ::2]
    return w, u, v
'''
    check(src3, "f", rng.random((3, 4, 5)), rng.random((4, 1)))
    x32 = rng.random((2, 3)).astype(np.float32)
    nf = compile_source("def f(x):\n    y = np.exp(x) + 1.0\n    return y\n", "f", (T.typeof(x32),))
    np.testing.assert_allclose(nf(x32), np.exp(x32) + 1.0, rtol=1e-6)
    assert nf(x32).dtype == np.float32


def test_tuple_arguments_and_while_over_arrays():
    src = '''
def f(t, x):
    a, b = t
    i = 0
    s = 0.0
    while i < len(x):
        v = x[i]
        s = s + v * a
        i = i + b
    return s
'''
    check(src, "f", (2.0, 2), rng.random(7))


def test_edge_cases_empty_readonly_byteorder_kernel_errors():
    src = "def f(x):\n    y = x * 2.0\n    s = np.sum(y)\n    return y, s\n"
    check(src, "f", np.zeros(0))
    check(src, "f", rng.random((2, 0, 3)))
    nf = compile_source(src, "f", (T.Array(T.F64, 1),))
    with pytest.raises(TypeError):
        nf(np.arange(3.0).astype(">f8"))
    w = compile_source("def g(x):\n    x[0] = 1.0\n    return x\n", "g", (T.Array(T.F64, 1),))
    ro = np.zeros(3)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        w(ro)
    d = compile_source("def h(a, b):\n    c = a // b\n    return c\n", "h", (T.Array(T.I64, 1), T.Array(T.I64, 1)))
    np.testing.assert_array_equal(d(np.array([7, -7]), np.array([2, 2])), np.array([3, -4]))
    with pytest.raises(ZeroDivisionError):
        d(np.array([7, 1]), np.array([2, 0]))
    check("def k(x):\n    y = x + 1.0\n    return y\n", "k", rng.random((2, 2, 2, 2)))


def test_bounds_proofs_only_where_sound():
    ok = '''
def f(x):
    n = x.shape[0]
    n2 = n - 1
    dx = np.zeros_like(x)
    for i in reversed(range(n2)):
        index = i + 1
        dx[index] += x[i]
        dx[i] += x[index]
    return dx
'''
    check(ok, "f", rng.random(6))
    over = ok.replace("n2 = n - 1", "n2 = n")
    nf = compile_source(over, "f", (T.Array(T.F64, 1),))
    with pytest.raises(IndexError, match="index 6 is out of bounds"):
        nf(rng.random(6))
    stale = '''
def g(x):
    n = x.shape[0]
    s = 0.0
    index = 0
    for i in range(n):
        s = s + x[index]
        index = i + 3
    return s
'''
    ng = compile_source(stale, "g", (T.Array(T.F64, 1),))
    with pytest.raises(IndexError, match="index 6 is out of bounds"):
        ng(rng.random(6))


def test_bounds_proofs_of_reversed_indices_and_aliases():
    """``i = last - k`` over ``range(span)`` (the forward transform's copy of a reversed loop)
    ranges as k does, and ``y = x`` is shaped as x: in range, proved; one past, still checked."""
    ok = '''
def f(x):
    y = x
    n = y.shape[0]
    last = n - 1
    dx = np.zeros_like(y)
    for k in range(n):
        i = 0 + (last - k)
        dx[i] += y[i] * k
    return dx
'''
    check(ok, "f", rng.random(6))
    over = ok.replace("dx[i] += y[i] * k", "dx[i] += y[i + 1] * k")
    nf = compile_source(over, "f", (T.Array(T.F64, 1),))
    with pytest.raises(IndexError, match="index 6 is out of bounds"):
        nf(rng.random(6))
    short = ok.replace("last = n - 1", "last = n")
    ns = compile_source(short, "f", (T.Array(T.F64, 1),))
    with pytest.raises(IndexError, match="index 6 is out of bounds"):
        ns(rng.random(6))


def test_positional_axis_and_methods():
    check("def f(x):\n    a = np.sum(x, 0)\n    b = x.max(1)\n    c = np.mean(x, axis=None)\n    return a, b, c\n",
          "f", rng.random((3, 4)))
