"""Benchmark of the GradientTape runtime against PyTorch eager, TensorFlow eager and hand-written numpy.

Two workloads:
  * recurrence: 1000 steps of x = 0.9*x + 0.1*sin(x)*cos(x) from x0 = 0.5, value and dx_1000/dx0
    (6000 scalar ops: measures per-op overhead of recording and replaying the tape);
  * mlp_step: one training step of seed 001's model (8 -> Dense(30, relu) -> Dense(1), MSE loss,
    SGD lr 3e-3) on 11610 rows of the housing stand-in: forward + gradient + update.

Each row runs in its own interpreter and is the best of several repeats (timeit.repeat), in ms per
call, with its ratio to the reference (PyTorch eager for the recurrence, the hand-written numpy
gradient for the MLP step) and the minor page faults per call. Peers are imported lazily and skipped
with a note when not installed. Every row gets the same thread count (default 1).

    python bench/tape.py                  # full (2 rounds)
    python bench/tape.py --quick          # fewer repeats, 1 round is enough with --rounds 1
    python bench/tape.py --malloc-tuned   # also a table with glibc's trim/mmap thresholds raised
    python bench/tape.py --profile        # also cProfile the tapeflow rows (top functions by own time)
"""
import argparse
import json
import math
import os
import resource
import subprocess
import sys
import timeit
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples" / "seeds"))
from _housing import StandardScaler, fetch_california_housing, train_test_split  # noqa: E402

N_STEPS = 1000
X0 = 0.5
LR = 3e-3
# The bars: tapeflow <= 1.0x PyTorch eager on the scalar loop, <= 1.3x hand numpy on the MLP step.
BARS = {"recurrence": ("torch eager float64", 1.0), "mlp_step": ("numpy (hand gradient)", 1.3)}


# --------------------------------------------------------------------------- recurrence

def recurrence_numpy(x0=X0, n=N_STEPS):
    """Forward storing every x, then the backward sweep: d x_{k+1}/d x_k = 0.9 + 0.1 cos(2 x_k)."""
    xs = [0.0] * n
    x = x0
    sin, cos = math.sin, math.cos
    for k in range(n):
        xs[k] = x
        x = 0.9 * x + 0.1 * sin(x) * cos(x)
    g = 1.0
    for k in range(n - 1, -1, -1):
        xk = xs[k]
        c, s = cos(xk), sin(xk)
        g *= 0.9 + 0.1 * (c * c - s * s)
    return x, g


def make_recurrence_tape(module, dtype_name):
    """The recurrence on a GradientTape: ``module`` is "tapeflow" or "tensorflow" (same code)."""
    tf = __import__(module)
    dtype = getattr(tf, dtype_name)

    def run(x0=X0, n=N_STEPS):
        x = tf.constant(x0, dtype=dtype)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = x
            for _ in range(n):
                y = 0.9 * y + 0.1 * tf.sin(y) * tf.cos(y)
        return y, tape.gradient(y, x)
    return run


def make_recurrence_torch(dtype_name):
    import torch
    dtype = getattr(torch, dtype_name)

    def run(x0=X0, n=N_STEPS):
        x = torch.tensor(x0, dtype=dtype, requires_grad=True)
        y = x
        for _ in range(n):
            y = 0.9 * y + 0.1 * torch.sin(y) * torch.cos(y)
        (g,) = torch.autograd.grad(y, x)
        return y.detach(), g
    return run


# --------------------------------------------------------------------------- MLP step

def housing_batch():
    """The 11610 standardized training rows of the housing stand-in (float32) and their targets."""
    h = fetch_california_housing()
    x_all, _, y_all, _ = train_test_split(h.data, h.target, random_state=7)
    x, _, y, _ = train_test_split(x_all, y_all, random_state=11)
    return StandardScaler().fit_transform(x).astype(np.float32), y.astype(np.float32)


def init_params(seed=0):
    """Glorot-uniform kernels and zero biases (the same start for every implementation)."""
    rng = np.random.default_rng(seed)
    lim1, lim2 = math.sqrt(6 / (8 + 30)), math.sqrt(6 / (30 + 1))
    return [rng.uniform(-lim1, lim1, (8, 30)).astype(np.float32), np.zeros(30, np.float32),
            rng.uniform(-lim2, lim2, (30, 1)).astype(np.float32), np.zeros(1, np.float32)]


def make_mlp_numpy(x, y):
    w1, b1, w2, b2 = params = init_params()
    n = np.float32(len(x))
    lr = np.float32(LR)

    def step():
        h = x @ w1
        h += b1
        a = np.maximum(h, 0)
        p = (a @ w2)[:, 0]
        p += b2
        r = p - y
        loss = np.dot(r, r) / n
        gp = r * (2 / n)                               # d loss / d p
        gw2 = a.T @ gp[:, None]
        gb2 = gp.sum(keepdims=True)
        gh = np.outer(gp, w2[:, 0])                    # d loss / d a
        gh *= h > 0                                    # through relu
        gw1 = x.T @ gh
        gb1 = gh.sum(axis=0)
        for v, g in zip(params, (gw1, gb1, gw2, gb2)):
            v -= lr * g
        return loss
    return step


def make_mlp_tapeflow(x, y):
    import tapeflow as tf
    from tapeflow import keras
    model = keras.Sequential([keras.layers.Dense(30, activation="relu", input_shape=(8,)),
                              keras.layers.Dense(1)])
    for v, value in zip(model.variables, init_params()):
        v.assign(value)
    opt = keras.optimizers.SGD(learning_rate=LR)
    xt, yt = tf.constant(x), tf.constant(y)

    def step():
        with tf.GradientTape() as tape:
            pred = tf.squeeze(model(xt), 1)
            loss = keras.losses.mean_squared_error(yt, pred)
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        return loss
    return step


def make_mlp_torch(x, y):
    import torch
    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "1")))
    model = torch.nn.Sequential(torch.nn.Linear(8, 30), torch.nn.ReLU(), torch.nn.Linear(30, 1))
    w1, b1, w2, b2 = init_params()
    with torch.no_grad():   # torch stores Linear weights as (out, in)
        model[0].weight.copy_(torch.from_numpy(w1.T.copy())); model[0].bias.copy_(torch.from_numpy(b1))
        model[2].weight.copy_(torch.from_numpy(w2.T.copy())); model[2].bias.copy_(torch.from_numpy(b2))
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = torch.mean((model(xt)[:, 0] - yt) ** 2)
        loss.backward()
        opt.step()
        return loss.detach()
    return step


def make_mlp_tensorflow(x, y):
    import tensorflow as tf
    from tensorflow import keras
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(30, activation="relu"),
                              keras.layers.Dense(1)])
    model.set_weights(init_params())
    opt = keras.optimizers.SGD(learning_rate=LR)
    xt, yt = tf.constant(x), tf.constant(y)

    def step():
        with tf.GradientTape() as tape:
            pred = tf.squeeze(model(xt), 1)
            loss = tf.reduce_mean(tf.square(pred - yt))
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        return loss
    return step


# --------------------------------------------------------------------------- running

def _recurrence_check(name, fn):
    ref = recurrence_numpy()
    y, g = fn()
    y, g = float(np.asarray(y)), float(np.asarray(g))
    tol = 1e-4 if "32" in name else 1e-9
    if not (math.isclose(y, ref[0], rel_tol=tol) and math.isclose(g, ref[1], rel_tol=tol)):
        raise AssertionError(f"{name}: value/gradient {y}, {g} differ from numpy {ref}")


def _mlp_check(name, fn):
    # Every implementation starts from the same weights: the first losses must agree.
    ref = float(make_mlp_numpy(*housing_batch())())
    loss = float(fn())
    if not math.isclose(loss, ref, rel_tol=1e-4):
        raise AssertionError(f"{name}: first loss {loss} differs from numpy's {ref}")


# key -> (benchmark, label, factory, calls per timing)
ROWS = {
    "rec-numpy": ("recurrence", "numpy (hand gradient)", lambda: recurrence_numpy, 20),
    "rec-tapeflow-f64": ("recurrence", "tapeflow tape float64",
                         lambda: make_recurrence_tape("tapeflow", "float64"), 2),
    "rec-torch-f64": ("recurrence", "torch eager float64", lambda: make_recurrence_torch("float64"), 2),
    "rec-tapeflow-f32": ("recurrence", "tapeflow tape float32",
                         lambda: make_recurrence_tape("tapeflow", "float32"), 2),
    "rec-torch-f32": ("recurrence", "torch eager float32", lambda: make_recurrence_torch("float32"), 2),
    "rec-tensorflow-f64": ("recurrence", "tensorflow eager float64",
                           lambda: make_recurrence_tape("tensorflow", "float64"), 1),
    "mlp-numpy": ("mlp_step", "numpy (hand gradient)", lambda: make_mlp_numpy(*housing_batch()), 50),
    "mlp-tapeflow": ("mlp_step", "tapeflow tape + keras", lambda: make_mlp_tapeflow(*housing_batch()),
                     50),
    "mlp-torch": ("mlp_step", "torch eager", lambda: make_mlp_torch(*housing_batch()), 50),
    "mlp-tensorflow": ("mlp_step", "tensorflow eager (keras)",
                       lambda: make_mlp_tensorflow(*housing_batch()), 20),
}


def best_ms(fn, number, repeat):
    """(best ms per call, minor page faults per call) over ``repeat`` timings of ``number`` calls."""
    fn()  # warm up (imports, caches, first-call allocations)
    f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    best = min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e3
    faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0) / (number * repeat)
    return best, faults


def run_row(key, repeat):
    """Time one row in this process; returns {"ms": ..., "faults": ...} or {"skip": reason}."""
    bench, label, make, number = ROWS[key]
    try:
        fn = make()
    except ImportError as ex:
        return {"skip": f"{ex.name or ex} not installed"}
    # Timed first, from a pristine process: glibc's heap history decides whether the big
    # temporaries of a step are page-faulted in again on every call (the hand numpy step pays
    # ~1000 faults per call if anything big was allocated and freed before it, ~1 otherwise).
    ms, faults = best_ms(fn, number, repeat)
    # Then the correctness check, on a fresh instance (same starting weights / start value).
    (_recurrence_check if bench == "recurrence" else _mlp_check)(label, make())
    return {"ms": ms, "faults": faults}


def print_table(results):
    print(f"{'benchmark':<12} {'implementation':<26} {'ms/call':>10} {'ratio':>8} "
          f"{'faults/call':>12}  reference")
    notes = []
    for bench, (ref_label, bar) in BARS.items():
        keys = [k for k in ROWS if ROWS[k][0] == bench]
        ref = next((results[k].get("ms") for k in keys if ROWS[k][1].startswith(ref_label)), None)
        ours = None
        for k in keys:
            label, r = ROWS[k][1], results[k]
            if "ms" not in r:
                why = "skipped: " + r["skip"] if "skip" in r else "failed: " + r["error"]
                notes.append(f"{bench}: {label} {why}")
                continue
            ratio = f"{r['ms'] / ref:7.2f}x" if ref else "       -"
            print(f"{bench:<12} {label:<26} {r['ms']:10.3f} {ratio} {r['faults']:12.1f}  "
                  f"{ref_label if ref else '(reference missing)'}")
            if label.startswith("tapeflow") and ours is None:
                ours = r["ms"]
        if ref and ours:
            verdict = "meets" if ours / ref <= bar else "MISSES"
            notes.insert(0, f"bar {bench}: tapeflow {ours / ref:.2f}x {ref_label} "
                            f"(bar <= {bar}x): {verdict}")
    for note in notes:
        print(note)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats")
    ap.add_argument("--profile", action="store_true", help="cProfile the tapeflow rows")
    ap.add_argument("--rounds", type=int, default=2, help="sweeps over all rows (best kept)")
    ap.add_argument("--malloc-tuned", action="store_true",
                    help="also run every row with glibc's trim/mmap thresholds raised")
    ap.add_argument("--threads", type=int, default=1,
                    help="BLAS / torch / TensorFlow threads in every row (default 1: on a small "
                         "shared machine multi-threaded BLAS measures the neighbours' load)")
    ap.add_argument("--row", help=argparse.SUPPRESS)  # internal: time one row, print JSON
    args = ap.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    repeat = 3 if args.quick else 7

    if args.row:
        print(json.dumps(run_row(args.row, repeat)))
        return

    # Each row runs in a fresh interpreter: torch's and TensorFlow's thread pools and imports must
    # not slow down the numpy and tapeflow rows (on a 2-vCPU machine they did, by 4x). The sweep is
    # repeated (--rounds) and each row keeps its best, so that load from other processes that comes
    # and goes does not favour whichever row ran in a quiet moment.
    t = str(args.threads)
    threads_env = {"BENCH_THREADS": t, "OPENBLAS_NUM_THREADS": t, "OMP_NUM_THREADS": t,
                   "MKL_NUM_THREADS": t, "TF_NUM_INTRAOP_THREADS": t, "TF_NUM_INTEROP_THREADS": t}
    configs = [("default glibc malloc", {})]
    if args.malloc_tuned:
        # glibc gives large freed blocks back to the OS (munmap / heap trim), so a step that frees and
        # re-allocates megabytes of temporaries pays minor page faults on every step. These two
        # settings keep freed memory in the process; they apply to every row alike.
        configs.append(("glibc malloc tuned (MALLOC_MMAP_THRESHOLD_/MALLOC_TRIM_THRESHOLD_)",
                        {"MALLOC_MMAP_THRESHOLD_": str(1 << 27), "MALLOC_TRIM_THRESHOLD_": str(1 << 30)}))
    for title, extra_env in configs:
        results = {}
        for _ in range(args.rounds):
            for key in ROWS:
                cmd = [sys.executable, __file__, "--row", key] + (["--quick"] if args.quick else [])
                proc = subprocess.run(cmd, capture_output=True, text=True,
                                      env=dict(os.environ, **threads_env, **extra_env))
                lines = proc.stdout.strip().splitlines()
                if proc.returncode != 0 or not lines:
                    r = {"error": (proc.stderr.strip().splitlines() or ["?"])[-1]}
                else:
                    r = json.loads(lines[-1])
                prev = results.get(key)
                if prev is None or ("ms" in r and ("ms" not in prev or r["ms"] < prev["ms"])):
                    results[key] = r
        print(f"\n== {title}; {args.threads} thread(s); best of {args.rounds} round(s) x {repeat} "
              f"repeats")
        print_table(results)

    if args.profile:
        import cProfile
        import pstats
        for key, (bench, label, make, _) in ROWS.items():
            if label.startswith("tapeflow"):
                fn = make()
                fn()
                print(f"\n--- cProfile {bench} / {label}: 5 calls, top 15 by own time")
                prof = cProfile.Profile()
                prof.runcall(lambda: [fn() for _ in range(5)])
                pstats.Stats(prof).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
