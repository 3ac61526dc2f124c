"""Native backend benchmarks against numba and jax (each optional; skipped with a note when missing).

    python bench/native.py

1. 1000-step scalar recurrence: gradient in the subset (save stack) vs a hand-written numba
   gradient vs jax.jit(jax.grad) of the primal.
2. Rosenbrock on 10,000 elements as an indexed loop: primal and hand-written reverse in the subset
   vs a hand-written numba gradient vs jax.jit(jax.grad) of the vectorized form.
3. Compile time of a gradient (first call) and per-call overhead for scalar arguments.
Times are the best of repeated calls (microseconds). The lead will switch the subset sources to
the compiler's generated gradients.
"""
import math
import sys
import time
import timeit

import numpy as np

sys.path.insert(0, ".")

from tapeflow.compiler import typing as T  # noqa: E402
from tapeflow.compiler.llvm import compile_function, compile_source  # noqa: E402

N_STEPS = 1000
N_ROSEN = 10_000

RECURRENCE = '''
def f(x):
    for i in range(1000):
        s = math.sin(x)
        c = math.cos(x)
        t = s * c
        t2 = 0.1 * t
        x1 = 0.9 * x
        x = x1 + t2
    return x

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

TRIVIAL = "def f(x, y):\n    z = x * y\n    return z\n"


def best(fn, *args, repeat=15, min_time=0.05):
    """Best per-call time in microseconds."""
    fn(*args)
    number = 1
    while True:
        t = timeit.timeit(lambda: fn(*args), number=number)
        if t > min_time or number > 1_000_000:
            break
        number *= 4
    return min(timeit.repeat(lambda: fn(*args), number=number, repeat=repeat)) / number * 1e6


def python_ref(src, name):
    from tapeflow.runtime.stack import Stack
    ns = {"math": math, "np": np, "Stack": Stack}
    exec(src, ns)
    return ns[name]


# ------------------------------------------------------------------------------------ peers

def numba_versions():
    try:
        import numba
    except ImportError:
        return None

    @numba.njit(fastmath=False)
    def rec_grad(x, dout):
        tape = np.empty(N_STEPS)
        for i in range(N_STEPS):
            tape[i] = x
            x = 0.9 * x + 0.1 * math.sin(x) * math.cos(x)
        dx = dout
        for i in range(N_STEPS - 1, -1, -1):
            x = tape[i]
            s = math.sin(x)
            c = math.cos(x)
            dx = 0.9 * dx + 0.1 * dx * (c * c - s * s)
        return dx

    @numba.njit
    def rosen_grad(x, df):
        n = x.shape[0]
        dx = np.zeros_like(x)
        for i in range(n - 1):
            a = x[i + 1]
            b = x[i]
            d = a - b * b
            dd = 200.0 * d * df
            dx[i + 1] += dd
            dx[i] -= 2.0 * b * dd + 2.0 * (1.0 - b) * df
        return dx

    @numba.njit
    def trivial(x, y):
        return x * y
    return {"rec_grad": rec_grad, "rosen_grad": rosen_grad, "trivial": trivial}


def jax_versions():
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)

    def rec(x):
        def body(i, x):
            return 0.9 * x + 0.1 * jnp.sin(x) * jnp.cos(x)
        return jax.lax.fori_loop(0, N_STEPS, body, x)

    def rosen(x):
        return jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)
    rec_grad = jax.jit(jax.grad(rec))
    rosen_grad = jax.jit(jax.grad(rosen))

    def run_rec(x, dout):
        return float(rec_grad(x)) * dout

    def run_rosen(x, df):
        return rosen_grad(x).block_until_ready()
    return {"rec_grad": run_rec, "rosen_grad": run_rosen}


def _rec_primal(x):
    for i in range(1000):
        x = 0.9 * x + 0.1 * math.sin(x) * math.cos(x)
    return x


def _rosen_primal(x):
    n = x.shape[0]
    s = 0.0
    for i in range(n - 1):
        s = s + 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2
    return s


def generated_rows(x, nb):
    """The compiler's own generated gradients of the two primals, compiled natively."""
    import ast
    try:
        from tapeflow.compiler.api import generate
    except Exception as e:      # noqa: BLE001
        print("note: compiler.api.generate unavailable, generated-gradient rows skipped:", e)
        return []
    rows = []
    for name, fn, kinds, args, peer in [
            ("recurrence grad (generated)", _rec_primal, (("float", 0),), (0.7,), "rec_grad"),
            ("rosenbrock grad 10k (generated)", _rosen_primal, (("array", 1),), (x,), "rosen_grad")]:
        try:
            gen = generate(fn, (0,), kinds)
            fdef = next(n for n in ast.parse(gen.source).body if isinstance(n, ast.FunctionDef))
            nf = compile_function(fdef, tuple(T.typeof(a) for a in args),
                                  constants=dict(gen.fn.__globals__))
        except Exception as e:  # noqa: BLE001
            print(f"note: {name} skipped: {e}")
            continue
        want, got = gen.fn(*args), nf(*args)
        assert np.allclose(np.asarray(want[1]), np.asarray(got[1]), rtol=1e-10)
        nb_t = best(nb[peer], *(args + (1.0,))) if nb else None
        rows.append((name, best(nf, *args), nb_t, None, best(gen.fn, *args, repeat=1, min_time=0.01)))
    return rows


# ------------------------------------------------------------------------------------ main

def main():
    rows = []
    notes = []
    nb = numba_versions()
    jx = jax_versions()
    if nb is None:
        notes.append("numba not installed: numba columns skipped")
    if jx is None:
        notes.append("jax not installed: jax columns skipped")

    # 1. scalar recurrence gradient
    t0 = time.perf_counter()
    g = compile_source(RECURRENCE, "f_grad", (T.F64, T.F64))
    compile_ms = (time.perf_counter() - t0) * 1e3
    ref = python_ref(RECURRENCE, "f_grad")(0.7, 1.0)
    assert abs(g(0.7, 1.0) - ref) <= 1e-12 * abs(ref)
    tf_t = best(g, 0.7, 1.0)
    py_t = best(python_ref(RECURRENCE, "f_grad"), 0.7, 1.0, repeat=3)
    nb_t = best(nb["rec_grad"], 0.7, 1.0) if nb else None
    if nb:
        assert abs(nb["rec_grad"](0.7, 1.0) - ref) <= 1e-10 * abs(ref)
    jx_t = best(jx["rec_grad"], 0.7, 1.0) if jx else None
    rows.append(("recurrence grad (1000 steps)", tf_t, nb_t, jx_t, py_t))

    # 2. Rosenbrock
    x = np.random.default_rng(0).random(N_ROSEN)
    rp = compile_source(ROSEN, "rosen", (T.Array(T.F64, 1),))
    rg = compile_source(ROSEN, "rosen_grad", (T.Array(T.F64, 1), T.F64))
    rg_nc = compile_source(ROSEN, "rosen_grad", (T.Array(T.F64, 1), T.F64), boundscheck=False)
    rp_nc = compile_source(ROSEN, "rosen", (T.Array(T.F64, 1),), boundscheck=False)
    want = python_ref(ROSEN, "rosen_grad")(x, 1.0)
    assert np.allclose(rg(x, 1.0), want, rtol=1e-12) and np.allclose(rg_nc(x, 1.0), want, rtol=1e-12)
    nb_rg = best(nb["rosen_grad"], x, 1.0) if nb else None
    jx_rg = best(jx["rosen_grad"], x, 1.0) if jx else None
    rows.append(("rosenbrock primal 10k", best(rp_nc, x), None, None, None))
    rows.append(("rosenbrock primal 10k (bounds-checked)", best(rp, x), None, None, None))
    rows.append(("rosenbrock grad 10k", best(rg_nc, x, 1.0), nb_rg, jx_rg,
                 best(python_ref(ROSEN, "rosen_grad"), x, 1.0, repeat=1, min_time=0.01)))
    rows.append(("rosenbrock grad 10k (bounds-checked)", best(rg, x, 1.0), nb_rg, jx_rg, None))

    # 1b/2b. the same gradients as the compiler generates them (skipped if it is unavailable)
    for row in generated_rows(x, nb):
        rows.append(row)

    # 3. per-call overhead and compile time
    tr = compile_source(TRIVIAL, "f", (T.F64, T.F64))
    rows.append(("call overhead, 2 float args", best(tr, 1.5, 2.0), best(nb["trivial"], 1.5, 2.0) if nb else None,
                 None, best(python_ref(TRIVIAL, "f"), 1.5, 2.0)))
    rows.append(("call overhead via py_entry", best(tr.py_entry, 1.5, 2.0), None, None, None))

    w = max(len(r[0]) for r in rows) + 2
    print(f"{'benchmark (us, best of repeats)':<{w}}{'tapeflow':>11}{'numba':>11}{'jax':>11}{'python':>12}"
          f"{'tf/numba':>10}")
    for name, tf_, nb_, jx_, py_ in rows:
        def cell(v, width=11):
            return f"{v:>{width}.2f}" if v is not None else f"{'-':>{width}}"
        ratio = f"{tf_ / nb_:>10.2f}" if nb_ else f"{'-':>10}"
        print(f"{name:<{w}}{cell(tf_)}{cell(nb_)}{cell(jx_)}{cell(py_, 12)}{ratio}")
    print(f"\ncompile time of the recurrence gradient (type+lower+O3+MCJIT): {compile_ms:.1f} ms")
    t0 = time.perf_counter()
    compile_source(ROSEN, "rosen_grad", (T.Array(T.F64, 1), T.F64))
    print(f"compile time of the Rosenbrock gradient: {(time.perf_counter() - t0) * 1e3:.1f} ms")
    for n in notes:
        print("note:", n)


if __name__ == "__main__":
    main()
