"""Forward mode: Jacobians, Hessian-vector products, and vector mode (issue 10).

    python bench/forward.py            (jax optional: pip install jax jaxlib)

1. Jacobian of a loop-written R^26 -> R^(2*1000) map (hand-tracking-like: each point rotated and
   scaled by its bone's parameters): tapeflow jacfwd (vector mode, native) vs jacrev (if present)
   vs jax.jit(jax.jacfwd) of the same model written with jnp (vectorized: a Python loop of 1000
   scatters would take JAX's tracer minutes to compile).
2. Hessian-vector product of the Rosenbrock loop at n = 10^4: tapeflow hvp (forward over
   reverse, native) vs jax.jit of jvp-of-grad, and vs tapeflow's own gradient time.
3. Vector-mode speedup: one sweep with k directions vs k separate jvp calls, k = 1, 4, 16, 26
   (natively also the plain k-vector form that direction loops replaced, in the same run).
Times are the best of several runs, in milliseconds.
"""
import time

import numpy as np

import tapeflow as tf
from tapeflow.compiler import transforms

N_POINTS = 1000
RNG = np.random.default_rng(0)
BASE = RNG.uniform(-1, 1, (N_POINTS, 2))


def hand(params, base):
    out = np.zeros((base.shape[0], 2))
    for i in range(base.shape[0]):
        b = i % 11
        angle = params[0] + params[3 + 2 * b]
        scale = params[1] * params[4 + 2 * b]
        c = np.cos(angle)
        s = np.sin(angle)
        x = base[i, 0]
        y = base[i, 1]
        out[i, 0] = scale * (c * x - s * y) + params[24] + params[2] * x
        out[i, 1] = scale * (s * x + c * y) + params[25] + params[2] * y
    return out


def rosen(x):
    s = 0.0
    for i in range(x.shape[0] - 1):
        s += 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2
    return s


def best(fn, repeat=5):
    fn()   # compile / warm up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times) * 1e3


def jax_models():
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    bone = np.arange(N_POINTS) % 11

    def hand_jax(params):
        angle = params[0] + params[3 + 2 * bone]
        scale = params[1] * params[4 + 2 * bone]
        c, s = jnp.cos(angle), jnp.sin(angle)
        x, y = BASE[:, 0], BASE[:, 1]
        return jnp.stack([scale * (c * x - s * y) + params[24] + params[2] * x,
                          scale * (s * x + c * y) + params[25] + params[2] * y], axis=1)

    def rosen_jax(x):
        return jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)

    jac = jax.jit(jax.jacfwd(hand_jax))
    hvp = jax.jit(lambda x, v: jax.jvp(jax.grad(rosen_jax), (x,), (v,))[1])
    return jax, jac, hvp


def main():
    print("machine load matters: rerun on a quiet machine for figures to quote\n")
    params = RNG.uniform(0.5, 1.5, 26)
    jax_side = jax_models()
    print("1. Jacobian of hand(params[26]) -> (1000, 2), loops; ms")
    jac = tf.jacfwd(hand, backend="native", chunk=26)
    J = jac(params, BASE)
    rows = [("tapeflow jacfwd, vector mode k=26 (native)", best(lambda: jac(params, BASE)))]
    jac1 = tf.jacfwd(hand, backend="native", chunk=1)   # one direction per native call
    np.testing.assert_allclose(jac1(params, BASE), J, rtol=1e-12)
    rows.append(("tapeflow jacfwd, k=1 x 26 (native)", best(lambda: jac1(params, BASE))))
    jac_py = tf.jacfwd(hand, backend="python", chunk=26)
    rows.append(("tapeflow jacfwd, vector mode k=26 (python)",
                 best(lambda: jac_py(params, BASE), 2)))
    if hasattr(tf, "jacrev"):
        jr = tf.jacrev(hand, backend="native")
        np.testing.assert_allclose(jr(params, BASE), J, rtol=1e-10)
        rows.append(("tapeflow jacrev (native)", best(lambda: jr(params, BASE))))
    else:
        rows.append(("tapeflow jacrev", float("nan")))
    if jax_side:
        _, jj, _ = jax_side
        np.testing.assert_allclose(np.asarray(jj(params)), J, rtol=1e-10)
        rows.append(("jax.jit(jax.jacfwd), vectorized jnp model",
                     best(lambda: jj(params).block_until_ready())))
    for label, ms in rows:
        print(f"   {label:48s} {ms:9.3f}")

    print("\n2. Hessian-vector product, Rosenbrock loop, n = 10^4; ms")
    x = RNG.uniform(-1, 1, 10_000)
    v = RNG.uniform(-1, 1, 10_000)
    hvp = tf.hvp(rosen, backend="native")
    g = tf.grad(rosen, backend="native")
    hv = hvp(x, v)
    rows = [("tapeflow hvp (forward over reverse, native)", best(lambda: hvp(x, v))),
            ("tapeflow grad (native)", best(lambda: g(x)))]
    if jax_side:
        _, _, jh = jax_side
        np.testing.assert_allclose(np.asarray(jh(x, v)), hv, rtol=1e-9)
        rows.append(("jax.jit(jvp of grad)", best(lambda: jh(x, v).block_until_ready())))
    for label, ms in rows:
        print(f"   {label:48s} {ms:9.3f}")
    print(f"   hvp / grad: {rows[0][1] / rows[1][1]:.2f}x")

    for backend in ("python", "native"):
        print(f"\n3. vector mode: one sweep of k directions vs k jvp calls ({backend}); ms")
        engine = transforms._tangents_of(hand, backend)
        for k in (1, 4, 16, 26):
            seeds = np.eye(26)[:k]
            sweep = best(lambda: engine.call((0,), (params, BASE), [seeds], batched=True), 3)
            calls = best(lambda: [engine.call((0,), (params, BASE), [s]) for s in seeds], 3)
            line = (f"   k={k:2d}: one sweep {sweep:9.3f}   {k:2d} jvp calls {calls:9.3f}   "
                    f"speedup {calls / sweep:5.2f}x")
            if backend == "native":   # the form before direction loops: a k-vector per line
                vectors = k_vector_sweep(params, seeds)
                line += f"   (k-vector form: sweep {vectors:7.3f}, {calls / vectors:5.2f}x)"
            print(line)


def k_vector_sweep(params, seeds):
    """Time of one native sweep of the plain vector-mode code (each scalar tangent a k-vector),
    the form compiler/forward_loops.py replaces natively."""
    from tapeflow.compiler import pipeline
    from tapeflow.compiler.kinds import kind_of_argument
    kinds = (kind_of_argument(params, True), kind_of_argument(BASE, False))
    gen = pipeline.generate_forward(hand, (0,), kinds, True, True)
    run = pipeline.compile_gradient(gen, (params, BASE, seeds))
    np.testing.assert_allclose(run(params, BASE, seeds)[1],
                               transforms._tangents_of(hand, "native").call(
                                   (0,), (params, BASE), [seeds], batched=True)[1], rtol=1e-13)
    return best(lambda: run(params, BASE, seeds), 3)


if __name__ == "__main__":
    main()
