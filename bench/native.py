"""Native backend benchmarks: tapeflow's generated gradients, compiled through LLVM, against
hand-written numba gradients and jax.jit(jax.grad) (each optional: skipped with a note if missing).

    python bench/native.py             # the table, with the peers that are installed
    python bench/native.py --json      # tapeflow's figures alone, {case: microseconds}

1. The 1000-step scalar recurrence gradient.      bars: <= 1.5x numba, <= 1.0x jax
2. Rosenbrock on 10,000 elements (indexed loop).   bars: <= 1.5x numba, <= 1.0x jax (vectorized)
3. ADBench GMM, d=10 K=25 N=1000, written with loops (exp(Q) precomputed; and the naive spelling
   with exp recomputed per data point). bars: grad <= 4x own primal, <= 1.0x jax
4. The seed MLP (8 -> 30 relu -> 1, batch 11610), numpy code. bar: <= 1.0x jax
5. Compile time of the Rosenbrock gradient (first call), per-call overhead, bounds-check cost.
All times: best of repeated calls, microseconds, one process (so ratios are side by side).
Single thread for everyone (the bars are single-threaded): OpenBLAS (which tapeflow's matmul
calls), XLA and numba are held to one thread unless the environment already says otherwise.
"""
import os

for _var, _value in (("OPENBLAS_NUM_THREADS", "1"), ("OMP_NUM_THREADS", "1"),
                     ("NUMBA_NUM_THREADS", "1"),
                     ("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                                   "intra_op_parallelism_threads=1")):
    os.environ.setdefault(_var, _value)   # before numpy, jax or numba load

import math  # noqa: E402
import time  # noqa: E402
import timeit  # noqa: E402
import types  # noqa: E402

import numpy as np  # noqa: E402

import tapeflow as tf  # noqa: E402
from workloads import (gmm_inputs, gmm_objective, gmm_objective_naive, mlp_inputs,  # noqa: E402
                       mlp_loss, recurrence, rosenbrock)

N_STEPS = 1000


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


# ---- peers ---------------------------------------------------------------------------------
def numba_versions():
    try:
        import numba
    except ImportError:
        return None

    @numba.njit
    def rec_grad(x):
        tape = np.empty(N_STEPS)
        for i in range(N_STEPS):
            tape[i] = x
            x = 0.9 * x + 0.1 * math.sin(x) * math.cos(x)
        dx = 1.0
        for i in range(N_STEPS - 1, -1, -1):
            s, c = math.sin(tape[i]), math.cos(tape[i])
            dx = 0.9 * dx + 0.1 * dx * (c * c - s * s)
        return dx

    @numba.njit
    def rosen_grad(x):
        dx = np.zeros_like(x)
        for i in range(x.shape[0] - 1):
            b = x[i]
            dd = 200.0 * (x[i + 1] - b * b)
            dx[i + 1] += dd
            dx[i] -= 2.0 * b * dd + 2.0 * (1.0 - b)
        return dx
    return {"recurrence": rec_grad, "rosenbrock": rosen_grad}


def jax_versions():
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)

    def rec(x):
        return jax.lax.fori_loop(0, N_STEPS, lambda i, x: 0.9 * x + 0.1 * jnp.sin(x) * jnp.cos(x),
                                 x)

    def rosen(x):
        return jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)

    def gmm(alphas, means, icf, x, gamma, m):
        n, d = x.shape
        q, lower = icf[:, :d], icf[:, d:]
        rows = [r for c in range(d) for r in range(c + 1, d)]   # column by column
        cols = [c for c in range(d) for r in range(c + 1, d)]
        Q = jnp.zeros((alphas.shape[0], d, d)).at[:, rows, cols].set(lower)
        Q = Q + jax.vmap(jnp.diag)(jnp.exp(q))
        z = jnp.einsum("kij,knj->kni", Q, x[None, :, :] - means[:, None, :])
        beta = alphas[:, None] + q.sum(1)[:, None] - 0.5 * jnp.sum(z * z, axis=2)
        total = jax.nn.logsumexp(beta, axis=0).sum() - n * jax.nn.logsumexp(alphas)
        frob = jnp.sum(jnp.exp(2.0 * q), 1) + jnp.sum(lower * lower, 1)
        total = total + jnp.sum(m * q.sum(1) - 0.5 * gamma * gamma * frob)
        return total - n * d * 0.5 * math.log(2.0 * math.pi)

    def mlp(w1, b1, w2, b2, x, y):
        h = jnp.maximum(x @ w1 + b1, 0.0)
        return jnp.mean(((h @ w2 + b2)[:, 0] - y) ** 2)

    def ready(f):
        return lambda *a: jax.block_until_ready(f(*a))
    return {"recurrence": ready(jax.jit(jax.grad(rec))),
            "rosenbrock": ready(jax.jit(jax.grad(rosen))),
            "gmm": (gmm, ready(jax.jit(jax.grad(gmm, argnums=(0, 1, 2))))),
            "mlp": ready(jax.jit(jax.grad(mlp, argnums=(0, 1, 2, 3)))),
            "asarray": jnp.asarray}


def fresh_copy(fn):
    """The same function as a new object, so no cache of tapeflow's has seen it."""
    return types.FunctionType(fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__)


def native_entry_of(g):
    """The compiled function under a native gradient's wrapper. Older trees (e886428) cached
    the runner alone, newer ones (runner, staleness check): both read, so bench/before_after.py
    can time an older library with this script."""
    entry = g.cache[g.last_key]
    return (entry[0] if isinstance(entry, tuple) else entry).target


# ---- main ---------------------------------------------------------------------------------
def measure(peers=True):
    """(rows of (case, tapeflow, numba, jax) in microseconds, {gmm label: grad/primal},
    compile time in ms, notes)."""
    rows, notes = [], []
    nb, jx = (numba_versions(), jax_versions()) if peers else (None, None)
    if nb is None:
        notes.append("numba not installed: its column is empty")
    if jx is None:
        notes.append("jax not installed: its column is empty")
    x_rosen = np.linspace(-1.0, 1.5, 10_000)

    # 5a. compile time first, before any cache has seen Rosenbrock
    t0 = time.perf_counter()
    tf.grad(fresh_copy(rosenbrock), backend="native")(x_rosen)
    compile_ms = (time.perf_counter() - t0) * 1e3

    # 1, 2: the generated gradients against the peers
    for name, fn, arg in (("recurrence", recurrence, 0.5), ("rosenbrock", rosenbrock, x_rosen)):
        g = tf.grad(fn, backend="native")
        np.testing.assert_allclose(g(arg), tf.grad(fn, backend="python")(arg), rtol=1e-10)
        nb_t = best(nb[name], arg) if nb else None
        jx_t = best(jx[name], arg) if jx else None
        rows.append((f"{name} gradient", best(g, arg), nb_t, jx_t))
    unchecked = tf.grad(rosenbrock, backend="native", boundscheck=False)
    rows.append(("rosenbrock gradient, no bounds checks", best(unchecked, x_rosen), None, None))
    rows.append(("rosenbrock primal (tf.jit)", best(tf.jit(rosenbrock), x_rosen), None, None))

    # 3: GMM, both spellings (the same objective: one jax column)
    args = gmm_inputs(10, 25, 1000)
    jx_t = None
    if jx:
        jgmm, jgrad = jx["gmm"]
        jargs = [jx["asarray"](a) for a in args[:4]] + list(args[4:])
        assert abs(float(jgmm(*jargs)) - gmm_objective(*args)) < 1e-8 * abs(gmm_objective(*args))
        jx_t = best(jgrad, *jargs, repeat=7)
    gmm_ratios = {}
    for label, objective in (("gmm", gmm_objective), ("gmm naive", gmm_objective_naive)):
        g = tf.grad(objective, argnums=(0, 1, 2), backend="native")
        primal = tf.jit(objective)
        if jx:
            for ours, theirs in zip(g(*args), jgrad(*jargs)):
                np.testing.assert_allclose(ours, np.asarray(theirs), rtol=1e-8, atol=1e-8)
        gmm_grad, gmm_primal = best(g, *args, repeat=7), best(primal, *args, repeat=7)
        gmm_ratios[label] = gmm_grad / gmm_primal
        rows.append((f"{label} gradient (d=10 K=25 N=1000)", gmm_grad, None, jx_t))
        rows.append((f"{label} primal (tf.jit)", gmm_primal, None, None))

    # 4: MLP
    args = mlp_inputs()
    g = tf.grad(mlp_loss, argnums=(0, 1, 2, 3), backend="native")
    jx_t = best(jx["mlp"], *[jx["asarray"](a) for a in args], repeat=7) if jx else None
    rows.append(("mlp gradient (batch 11610)", best(g, *args, repeat=7), None, jx_t))

    # 5b: per-call overhead for scalar arguments
    def mul(x, y):
        return x * y
    g = tf.grad(mul, backend="native")
    rows.append(("call overhead: tf.grad(mul)(1.5, 2.0)", best(g, 1.5, 2.0), None, None))
    native_entry = native_entry_of(g)
    rows.append(("call overhead: the native entry alone", best(native_entry, 1.5, 2.0),
                 None, None))
    return rows, gmm_ratios, compile_ms, notes


def main(argv=None):
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true",
                        help="print tapeflow's figures as JSON (no peers): {case: microseconds}, "
                             "the compile time in ms under 'compile time (ms)'")
    opts = parser.parse_args(argv)
    rows, gmm_ratios, compile_ms, notes = measure(peers=not opts.json)
    if opts.json:
        import json
        figures = {name: ours for name, ours, _, _ in rows}
        figures["compile time of the Rosenbrock gradient (ms)"] = compile_ms
        print(json.dumps({"tapeflow": tf.__file__, "figures": figures}))
        return
    w = max(len(r[0]) for r in rows) + 2
    print(f"{'benchmark (us, best of repeats)':<{w}}{'tapeflow':>11}{'numba':>11}{'jax':>11}"
          f"   ratios")
    for name, ours, nb_t, jx_t in rows:
        cells = "".join(f"{v:11.2f}" if v else f"{'-':>11}" for v in (ours, nb_t, jx_t))
        ratios = ", ".join(f"{ours / v:.2f}x {who}" for v, who in ((nb_t, "numba"), (jx_t, "jax"))
                           if v)
        print(f"{name:<{w}}{cells}   {ratios}")
    print()
    for label, r in gmm_ratios.items():
        print(f"{label} gradient / {label} primal: {r:.2f}")
    print(f"compile time of the Rosenbrock gradient (first call: transform, type, lower, O3, "
          f"MCJIT): {compile_ms:.0f} ms")
    for n in notes:
        print("note:", n)


if __name__ == "__main__":
    main()
