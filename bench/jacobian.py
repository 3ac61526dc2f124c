"""Reverse-mode Jacobians (issue 10): jacrev's vector mode vs k separate vjp calls, vs JAX.

    python bench/jacobian.py            (jax optional: pip install jax jaxlib)

The function is bench/forward.py's loop-written hand model with fewer points, R^26 -> R^(2*P):
jacrev pulls one cotangent per output element, so P points mean 2P reverse sweeps.
1. Vector mode: chunks of k rows through one primal sweep each (compiler/replay.py), for
   k = 1, 4, 16, 64, 2P, against 2P separate vjp calls, on the python and native backends
   (the factor in brackets is the speedup over the separate calls).
2. jax.jit(jax.jacrev) of the same model written with jnp, if jax is installed.
Times are the best of several runs, in milliseconds; rerun on a quiet machine to quote them.
"""
import time

import numpy as np

import tapeflow as tf

P = 100
RNG = np.random.default_rng(1)
BASE = RNG.uniform(-1, 1, (P, 2))


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


def best(fn, repeat=5):
    fn()   # transform / compile / warm up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times) * 1e3


def separate_vjps(backend, params):
    """The Jacobian one vjp call per row (what vector mode replaces)."""
    _, vjp_fn = tf.vjp(hand, params, BASE, backend=backend)
    eye = np.eye(2 * P)

    def run():
        return np.stack([vjp_fn(eye[j].reshape(P, 2))[0] for j in range(2 * P)])
    return run


def jax_jacrev():
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    bone = np.arange(P) % 11

    def hand_jax(params):
        angle = params[0] + params[3 + 2 * bone]
        scale = params[1] * params[4 + 2 * bone]
        c, s = jnp.cos(angle), jnp.sin(angle)
        x, y = BASE[:, 0], BASE[:, 1]
        return jnp.stack([scale * (c * x - s * y) + params[24] + params[2] * x,
                          scale * (s * x + c * y) + params[25] + params[2] * y], axis=1)
    return jax.jit(jax.jacrev(hand_jax))


def main():
    print("machine load matters: rerun on a quiet machine for figures to quote\n")
    params = RNG.uniform(0.5, 1.5, 26)
    reference = tf.jacrev(hand, backend="tape")(params, BASE)
    print(f"Jacobian of hand(params[26]) -> ({P}, 2): {2 * P} cotangent rows; ms")
    rows = []
    for backend, repeat in (("python", 3), ("native", 5)):
        sep = separate_vjps(backend, params)
        np.testing.assert_allclose(sep().reshape(P, 2, 26), reference, rtol=1e-10)
        t_sep = best(sep, repeat)
        rows.append((f"{2 * P} separate vjp calls ({backend})", t_sep))
        for k in (1, 4, 16, 64, 2 * P):
            jr = tf.jacrev(hand, backend=backend, chunk=k)
            np.testing.assert_allclose(jr(params, BASE), reference, rtol=1e-10)
            t = best(lambda: jr(params, BASE), repeat)
            rows.append((f"jacrev vector mode k={k:<3d} ({backend})  [{t_sep / t:5.2f}x]", t))
    jj = jax_jacrev()
    if jj is not None:
        np.testing.assert_allclose(np.asarray(jj(params)), reference, rtol=1e-10)
        rows.append(("jax.jit(jax.jacrev), vectorized jnp model",
                     best(lambda: jj(params).block_until_ready())))
    else:
        rows.append(("jax.jit(jax.jacrev): jax not installed", float("nan")))
    for label, ms in rows:
        print(f"   {label:52s} {ms:9.3f}")


if __name__ == "__main__":
    main()
