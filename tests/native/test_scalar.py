"""Scalar functions: arithmetic semantics, math, control flow, save stacks, module calls."""
import math

import pytest

from tapeflow.compiler import typing as T
from tapeflow.compiler.llvm import LoweringError, NativeUnsupported, TypingError, compile_source

from .conftest import check

RECURRENCE_GRAD = '''
def f_grad(x, dout):
    x_stack = Stack()
    for i in range(1000):
        x_stack.push(x)
        s = math.sin(x)
        c = math.cos(x)
        t = s * c
        t2 = 0.1 * t
        x1 = 0.9 * x
        x = x1 + t2
    dx = dout
    for i in range(1000):
        x = x_stack.pop()
        dx1 = 0.9 * dx
        dt = 0.1 * dx
        s = math.sin(x)
        c = math.cos(x)
        ds = dt * c
        dc = dt * s
        b = ds * c
        g = dc * s
        dx2 = dx1 + b
        dx = dx2 - g
    return dx
'''


def test_recurrence_gradient_with_stack():
    nf = check(RECURRENCE_GRAD, "f_grad", 0.7, 1.0)
    # matches a finite difference of the primal
    def prim(x):
        for _ in range(1000):
            x = 0.9 * x + 0.1 * math.sin(x) * math.cos(x)
        return x
    h = 1e-6
    assert nf(0.7, 1.0) == pytest.approx((prim(0.7 + h) - prim(0.7 - h)) / (2 * h), rel=1e-6)


ARITH = '''
def f(a, b, i, j):
    t1 = a / b
    t2 = a // b
    t3 = a % b
    t4 = i // j
    t5 = i % j
    t6 = a ** 2
    t7 = a ** b
    t8 = i ** 3
    t9 = -a
    t10 = i / j
    t11 = a < b
    t12 = i == j
    t13 = not t11
    t14 = t11 and t12
    t15 = t11 or t12
    t16 = abs(i)
    t17 = min(a, b)
    t18 = max(i, j)
    t19 = float(i)
    t20 = int(a)
    t21 = i + a
    return (t1, t2, t3, t4, t5, t6, t7, t8, t9, t10, t11, t12, t13, t14, t15, t16, t17, t18, t19, t20, t21)
'''


@pytest.mark.parametrize("a,b,i,j", [(7.5, 2.0, 7, 2), (-7.5, 2.0, -7, 2), (7.5, -2.0, 7, -2),
                                     (-7.25, -2.0, -7, -3), (0.5, 3.0, 0, 5)])
def test_python_arithmetic_semantics(a, b, i, j):
    check(ARITH, "f", a, b, i, j)


def test_int_division_by_zero_raises():
    nf = compile_source(ARITH, "f", (T.F64, T.F64, T.I64, T.I64))
    with pytest.raises(ZeroDivisionError):
        nf(1.0, 2.0, 3, 0)


MATHS = '''
def f(x):
    a = math.sin(x)
    b = math.cos(x)
    c = math.tan(x)
    d = math.exp(x)
    e = math.log(x)
    g = math.sqrt(x)
    h = math.tanh(x)
    k = math.log1p(x)
    l = math.expm1(x)
    m = math.atan(x)
    n = math.pow(x, 1.5)
    o = math.fabs(x)
    p = np.sin(x)
    q = np.arcsin(0.5)
    r = math.pi
    s = np.maximum(x, 0.3)
    t = np.sign(x)
    u = np.square(x)
    return (a, b, c, d, e, g, h, k, l, m, n, o, p, q, r, s, t, u)
'''


@pytest.mark.parametrize("x", [0.25, 1.5, 3.0])
def test_math_functions(x):
    check(MATHS, "f", x, rtol=1e-14)


CONTROL = '''
def f(n, x):
    s = 0.0
    i = 0
    while True:
        c = i < n
        if not c:
            break
        i = i + 1
        r = i % 3
        z = r == 0
        if z:
            continue
        s = s + x
        big = s > 100.0
        if big:
            return s
    for k in range(n, 0, -2):
        s = s - 0.5
    for k in range(10, 3, -3):
        s = s * 1.01
    for k in range(0):
        s = s + 1000.0
    return s
'''


@pytest.mark.parametrize("n,x", [(0, 1.0), (7, 1.0), (200, 1.0), (11, -2.0)])
def test_control_flow(n, x):
    check(CONTROL, "f", n, x)


def test_while_condition_and_variable_step():
    src = '''
def f(a, b, st):
    s = 0
    for i in range(a, b, st):
        s = s + i
    k = 0
    while k < 5:
        k = k + 1
    return s + k
'''
    for a, b, st in [(0, 10, 3), (10, 0, -3), (5, 5, 1), (-4, 9, 2), (9, -4, -5)]:
        check(src, "f", a, b, st)
    nf = compile_source(src, "f", (T.I64, T.I64, T.I64))
    with pytest.raises(ValueError):
        nf(0, 10, 0)


def test_module_function_calls_and_tuples():
    src = '''
def helper(a, b):
    c = a * b
    d = a + b
    return (c, d)

def f(x, y):
    t = helper(x, y)
    p, q = t
    r = helper(p, 2.0)
    u = r[0]
    return u + q
'''
    check(src, "f", 1.5, -0.25)


def test_int_promotion_to_float():
    src = '''
def f(n):
    s = 0
    for i in range(n):
        s = s + 0.5
    return s
'''
    check(src, "f", 5)


def test_nan_propagates():
    src = '''
def f(x):
    a = math.sin(x)
    b = a * 2.0
    c = np.maximum(b, 1.0)
    return c
'''
    check(src, "f", float("nan"))


def test_stack_of_ints_and_bools_and_empty_pop():
    src = '''
def f(n):
    s = Stack()
    b = Stack()
    for i in range(n):
        s.push(i)
        c = i > 2
        b.append(c)
    t = 0
    for i in range(n):
        v = s.pop()
        c = b.pop()
        if c:
            t = t + v
    return t
'''
    check(src, "f", 10)
    src2 = '''
def g(n):
    s = Stack()
    s.push(1.0)
    for i in range(n):
        v = s.pop()
    return v
'''
    nf = compile_source(src2, "g", (T.I64,))
    assert nf(1) == 1.0
    with pytest.raises(IndexError, match="empty Stack 's'"):
        nf(2)


def test_unsupported_constructs_raise_native_unsupported():
    bad = {
        "def f(x):\n    y = [x]\n    return y\n": TypingError,
        "def f(x):\n    y = 'a'\n    return y\n": TypingError,
        "def f(x):\n    for i in [1, 2]:\n        x = x + i\n    return x\n": TypingError,
        "def f(x):\n    y = g(x)\n    return y\n": TypingError,
    }
    for src, exc in bad.items():
        with pytest.raises(NativeUnsupported) as info:
            compile_source(src, "f", (T.F64,))
        assert info.value.reason and info.value.lineno is not None
    assert issubclass(LoweringError, NativeUnsupported)


def test_recursion_is_rejected():
    src = "def f(x):\n    y = f(x)\n    return y\n"
    with pytest.raises(TypingError, match="recursive"):
        compile_source(src, "f", (T.F64,))


def test_wrong_argument_type_raises_type_error():
    nf = compile_source("def f(x, n):\n    y = x * n\n    return y\n", "f", (T.F64, T.I64))
    assert nf(2, 3) == 6.0
    with pytest.raises(TypeError, match="'n'"):
        nf(2.0, 1.5)
    with pytest.raises(TypeError, match="'x'"):
        nf("a", 1)


def test_float32_scalars():
    src = "def f(x, y):\n    z = x * y\n    w = z + 1.0\n    return w\n"
    import numpy as np
    nf = compile_source(src, "f", (T.F32, T.F32))
    assert nf.ret_type == T.F32
    assert nf(np.float32(1.5), np.float32(2.0)) == 4.0


def test_unbound_local_raises_instead_of_reading_garbage():
    src = '''
def f(n, c):
    for i in range(n):
        y = i * 2.0
    if c:
        z = 1.0
    w = y + 1.0
    if c:
        w = w + z
    return w
'''
    nf = check(src, "f", 3, True)
    assert nf(3, False) == 5.0
    with pytest.raises(UnboundLocalError):
        nf(0, True)
