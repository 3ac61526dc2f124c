"""Before/after: bench/native.py's and bench/compiler.py's figures for two checkouts of tapeflow,
measured in one run, in interleaved rounds, so that the machine's noise falls on both alike.

    python bench/before_after.py --before OLD_CHECKOUT --before-python OLD_PYTHON \\
        [--after NEW_CHECKOUT --after-python NEW_PYTHON] [--rounds 5] [--only native compiler]

Each interpreter must import tapeflow from its own checkout (an editable install of it); the
runner checks this and refuses otherwise. ``--after`` defaults to the checkout holding this file
and ``--after-python`` to the interpreter running it.

What is measured is the library, not the scripts: every round runs the benchmark scripts of the
checkout holding this file (``bench/native.py --json``, ``bench/compiler.py --json``, and the
per-call overhead worker below) once with each interpreter, in a fresh subprocess, so both
libraries run the same workloads (bench/workloads.py), timed by the same code, with the same
environment (one BLAS/OpenMP thread, no PYTHONPATH). The scripts use the public API, plus one
internal read (the native entry under a gradient's wrapper, read in both cache layouts). The
order within a round alternates (before first, then after first). A round's figure for a case
is already that script's best of repeated calls; the table gives the best over rounds, and the
median over rounds of the per-round ratio as a check of the noise. The compile-time case is
one first call per round.

    python bench/before_after.py --overhead-worker    # the overhead cases alone, as JSON
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
JOBS = {"native": ["native.py", "--json"], "compiler": ["compiler.py", "--json"],
        "overhead": ["before_after.py", "--overhead-worker"]}


def overhead_worker():
    """Per-call overhead of a gradient of scalars, tf.grad(lambda x, y: x * y): through the
    GradFunction (dispatch, staleness check, finishing) and the compiled entry alone."""
    import timeit

    import tapeflow as tf
    from native import native_entry_of

    def best(fn, *args, number=20_000, repeat=25):
        fn(*args)
        return min(timeit.repeat(lambda: fn(*args), number=number, repeat=repeat)) / number * 1e6

    figures = {}
    for backend in ("native", "python"):
        g = tf.grad(lambda x, y: x * y, backend=backend)
        assert g(1.5, 2.0) == 2.0
        figures[f"overhead: tf.grad(lambda x, y: x * y, backend={backend!r})(1.5, 2.0)"] = \
            best(g, 1.5, 2.0)
        if backend == "native":
            figures["overhead: its native entry alone"] = best(native_entry_of(g), 1.5, 2.0)
    g = tf.grad(lambda x, y: x * y, argnums=(0, 1), backend="native")
    figures["overhead: tf.grad(lambda x, y: x * y, argnums=(0, 1), backend='native')(1.5, 2.0)"] \
        = best(g, 1.5, 2.0)
    print(json.dumps({"tapeflow": tf.__file__, "figures": figures}))


def revision(checkout):
    """The checkout's short commit, with '+changes' when its tracked files differ from it."""
    def git(*args):
        return subprocess.run(["git", "-C", checkout, *args], capture_output=True,
                              text=True).stdout.strip()
    rev = git("rev-parse", "--short", "HEAD") or "?"
    return rev + ("+changes" if git("status", "--porcelain", "--untracked-files=no") else "")


def run_job(python, job, workdir):
    """One subprocess: this checkout's script under ``python``; its JSON output."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    script, *args = JOBS[job]
    done = subprocess.run([python, os.path.join(HERE, script), *args], cwd=workdir, env=env,
                          capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"{python} {script} {' '.join(args)} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def check_source(side, checkout, tapeflow_file):
    inside = os.path.realpath(tapeflow_file).startswith(os.path.realpath(checkout) + os.sep)
    if not inside:
        sys.exit(f"{side}: the interpreter imports tapeflow from {tapeflow_file}, not from "
                 f"{checkout} (install that checkout in it: pip install -e CHECKOUT)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", help="the older checkout")
    parser.add_argument("--before-python", help="an interpreter with --before installed")
    parser.add_argument("--after", default=os.path.dirname(HERE))
    parser.add_argument("--after-python", default=sys.executable)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", nargs="+", choices=sorted(JOBS), default=list(JOBS))
    parser.add_argument("--overhead-worker", action="store_true", help=argparse.SUPPRESS)
    opts = parser.parse_args(argv)
    if opts.overhead_worker:
        return overhead_worker()
    if not (opts.before and opts.before_python):
        parser.error("--before and --before-python are required")
    sides = {"before": (opts.before, opts.before_python), "after": (opts.after, opts.after_python)}
    print("command:", " ".join([os.path.basename(sys.executable), *sys.argv]))
    for side, (checkout, python) in sides.items():
        print(f"{side}: {checkout} at {revision(checkout)}, {python}")
    sys.stdout.flush()
    load_start, t0 = os.getloadavg(), time.time()
    figures = {side: {} for side in sides}   # side -> case -> [one figure per round]
    with tempfile.TemporaryDirectory() as workdir:   # no checkout on sys.path via the cwd
        for r in range(opts.rounds):
            order = ("before", "after") if r % 2 == 0 else ("after", "before")
            for job in opts.only:
                for side in order:
                    out = run_job(sides[side][1], job, workdir)
                    check_source(side, sides[side][0], out["tapeflow"])
                    for case, value in out["figures"].items():
                        figures[side].setdefault(case, []).append(value)
            print(f"round {r + 1}/{opts.rounds} done ({time.time() - t0:.0f} s)", file=sys.stderr)
    load_end = os.getloadavg()
    cases = [c for c in figures["after"] if c in figures["before"]]
    w = max(len(c) for c in cases) + 2
    print(f"\n{opts.rounds} rounds; figures in microseconds (ms where the case says), best over "
          f"rounds; median ratio: median over rounds of that round's after/before")
    print(f"{'case':<{w}}{'before':>12}{'after':>12}{'after/before':>14}{'median ratio':>14}")
    for case in cases:
        b, a = figures["before"][case], figures["after"][case]
        ratios = [y / x for x, y in zip(b, a)]
        print(f"{case:<{w}}{min(b):12.2f}{min(a):12.2f}{min(a) / min(b):14.2f}"
              f"{statistics.median(ratios):14.2f}")
    for side in sides:
        missing = [c for c in figures[side] if c not in cases]
        if missing:
            print(f"only {side} has: {', '.join(missing)}")
    print(f"load average (1, 5, 15 min): {' '.join(f'{x:.2f}' for x in load_start)} at the "
          f"start, {' '.join(f'{x:.2f}' for x in load_end)} at the end; "
          f"{time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
