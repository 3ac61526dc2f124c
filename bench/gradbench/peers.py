"""tapeflow against the C++ ``manual`` tool, JAX and PyTorch, on the inputs GradBench's evals send.

    python bench/gradbench/peers.py [--src GRADBENCH_TREE] [--evals lse gmm ...]
        [--args "lstm=-l 2 -c 1024" ...] [--runs 3] [--seconds 0.5] [--skip pytorch:ba ...]
        [--markdown FILE] [--json FILE]

GRADBENCH_TREE is a GradBench tree as the local runner's setup.sh makes it (default
``~/.cache/gradbench/src``; the C++ ``manual`` tool built: most evals check outputs with it).
For each eval this script plays the intermediary: it runs the eval and answers it with tapeflow's
tool (so the eval validates tapeflow's outputs: the ``valid`` column). Every evaluate message
also goes, unchanged, to the three peers:

- ``manual``: the C++ binary ``tools/manual/bin/EVAL`` (what ``gradbench run --tool manual``
  runs), which repeats the function ``min_runs``/``min_seconds`` times and reports its own
  timings; built single-threaded (GradBench's default, ``MULTITHREADED=no``);
- ``jax`` and ``pytorch``: the Python function each GradBench tool wraps
  (``gradbench.tools.jax.EVAL``...), after the tool's own input conversion, called once untimed
  (to compile or trace), then timed as often: jax with ``block_until_ready`` (its tool does
  not wait for the result, so its own timings show dispatch only). A first call slower than
  ``--peer-budget`` seconds is taken as the measurement (one run, marked ``*``).

Everything runs single-threaded (XLA and torch thread flags; tapeflow's native code is
single-threaded). A peer that is not installed, does not implement an eval, or is skipped
shows ``–``. The table gives, per eval and input, each tool's median derivative time and the
ratio derivative / objective (both medians, same input, same tool), and tapeflow's compile time
(its first call of the derivative for that signature, one run included).
"""
import argparse
import importlib
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                                   "intra_op_parallelism_threads=1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import tool  # noqa: E402  (tapeflow's GradBench tool, this folder)

# eval -> (objective function, derivative functions), as the evals name them
FUNCTIONS = {
    "hello": ("square", ("double",)), "lse": ("primal", ("gradient",)),
    "llsq": ("primal", ("gradient",)), "ode": ("primal", ("gradient",)),
    "det": ("primal", ("gradient",)), "gmm": ("objective", ("jacobian",)),
    "kmeans": ("cost", ("dir",)), "lstm": ("objective", ("jacobian",)),
    "ba": ("objective", ("jacobian",)), "ht": ("objective", ("jacobian",)),
    "particle": (None, ("ff", "fr", "rf", "rr")), "saddle": (None, ("ff", "fr", "rf", "rr")),
}
# The largest input of each eval that runs here in minutes (README, "Sizes"); --args changes them.
DEFAULT_ARGS = {"lse": "-n 1280000", "llsq": "-n 16392", "ode": "-n 100000 -s 100",
                "det": "-l 11", "gmm": "-d 64 -k 100", "kmeans": "-k 1000 -n 10000 -d 16",
                "lstm": "-l 6 -c 4096", "ba": "--min 14 --max 14", "ht": "--min 11 --max 11"}
PEERS = ("manual", "jax", "pytorch")
TOOLS = ("tapeflow",) + PEERS


class Timed:
    """A median in seconds, how many runs it is of, and whether it is a lone first call."""

    def __init__(self, seconds, runs, first_call=False):
        self.seconds, self.runs, self.first_call = seconds, runs, first_call

    def json(self):
        return {"seconds": self.seconds, "runs": self.runs, "first_call": self.first_call}


def median_of(timings, name="evaluate"):
    ts = [t["nanoseconds"] for t in timings if t["name"] == name]
    return Timed(statistics.median(ts) / 1e9, len(ts)) if ts else None


def manual_time(src, module, function, input):
    """The manual tool's own median on this input (its binary, as gradbench.cpp runs it)."""
    binary = os.path.join(src, "tools", "manual", "bin", module)
    if not os.path.exists(binary):
        return None
    with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
        json.dump(input, f)
        f.flush()
        proc = subprocess.run([binary, f.name, function], capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"peers: manual {module}.{function}: {proc.stderr.strip()}", file=sys.stderr)
        return None
    return median_of([json.loads(line) for line in proc.stdout.splitlines()[1:]])


MISSING = set()   # (peer, eval) pairs already reported as not there


def peer_function(peer, eval_name, function):
    """The peer tool's Wrapped function for this eval, or None."""
    try:
        module = importlib.import_module(f"gradbench.tools.{peer}.{eval_name}")
    except Exception as e:  # not installed, or no such eval
        if (peer, eval_name) not in MISSING:
            MISSING.add((peer, eval_name))
            print(f"peers: {peer} {eval_name}: {type(e).__name__}: {e}", file=sys.stderr)
        return None
    return getattr(module, function, None)


def settle(peer, out):
    if peer == "jax":
        import jax
        jax.block_until_ready(out)
    return out


def pre_of(wrapped):
    """The input conversion given to the tool's ``wrap.multiple_runs`` (or ``wrap.function``)."""
    cells = dict(zip(wrapped.wrapped.__code__.co_freevars, wrapped.wrapped.__closure__ or ()))
    return cells["pre"].cell_contents


def python_peer_time(peer, wrapped, raw, budget):
    """Median of the peer's function on this input, as often as the input asks."""
    if peer == "pytorch":
        import torch
        torch.set_num_threads(1)
    prepared = pre_of(wrapped)(raw)
    start = time.perf_counter()
    settle(peer, wrapped.function(prepared))
    first = time.perf_counter() - start
    if first > budget:
        return Timed(first, 1, first_call=True)
    times = []
    while len(times) < raw.get("min_runs", 1) or sum(times) < raw.get("min_seconds", 0):
        start = time.perf_counter()
        settle(peer, wrapped.function(prepared))
        times.append(time.perf_counter() - start)
    return Timed(statistics.median(times), len(times))


def peer_times(src, eval_name, message, skip, budget):
    times = {}
    for peer in PEERS:
        times[peer] = None
        if f"{peer}:{eval_name}" in skip:
            continue
        try:
            if peer == "manual":
                times[peer] = manual_time(src, message["module"], message["function"],
                                          message["input"])
            else:
                wrapped = peer_function(peer, eval_name, message["function"])
                if wrapped is not None:
                    times[peer] = python_peer_time(peer, wrapped, message["input"], budget)
        except Exception as e:
            print(f"peers: {peer} {eval_name}.{message['function']}: "
                  f"{type(e).__name__}: {e}", file=sys.stderr)
        print(f"peers:   {peer} {message['function']} {message.get('description', '')}: "
              f"{fmt(times[peer])}", file=sys.stderr, flush=True)
    return times


def run_eval(src, eval_name, eval_args, runs, seconds, skip, budget):
    """Rows {description, function, times: {tool: Timed}, compile, valid} for one eval."""
    env = dict(os.environ, PYTHONPATH=os.path.join(src, "python", "gradbench"))
    script = os.path.join(src, "python", "gradbench", "gradbench", "evals", eval_name, "run.py")
    args = shlex.split(eval_args) + ["--min-runs", str(runs), "--min-seconds", str(seconds)]
    proc = subprocess.Popen([sys.executable, script] + args, cwd=src, env=env, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    rows, pending = [], {}
    for line in proc.stdout:
        message = json.loads(line)
        kind = message.get("kind")
        if kind == "evaluate":
            response = tool.respond(message)
            ok = response.get("success")
            if not ok:
                print(f"peers: tapeflow {eval_name}.{message['function']} failed:\n"
                      f"{response.get('error')}", file=sys.stderr)
            timings = response.get("timings", []) if ok else []
            compiled = median_of(timings, "compile")
            times = {"tapeflow": median_of(timings)}
            print(f"peers:   tapeflow {message['function']} {message.get('description', '')}: "
                  f"{fmt(times['tapeflow'])} (compile {fmt(compiled)})", file=sys.stderr,
                  flush=True)
            times |= peer_times(src, eval_name, message, skip, budget)
            pending[message["id"]] = len(rows)
            rows.append({"description": message.get("description", ""),
                         "function": message["function"], "times": times,
                         "compile": compiled, "valid": False if not ok else None})
        elif kind == "analysis":
            response = {"id": message["id"]}
            if message.get("of") in pending:
                row = rows[pending[message["of"]]]
                row["valid"] = message.get("valid") and row["valid"] is not False
                if not message.get("valid"):
                    print(f"peers: INVALID {eval_name}.{row['function']} "
                          f"{row['description']}: {message.get('error')}", file=sys.stderr)
        elif kind == "define":   # go on without tapeflow's module: the peers are still timed
            response = tool.respond(message)
            if not response.get("success"):
                print(f"peers: tapeflow has no {eval_name}", file=sys.stderr)
                response = {"id": message["id"], "success": True}
        else:
            response = tool.respond(message)
        proc.stdin.write(json.dumps(response) + "\n")
        proc.stdin.flush()
    proc.stdin.close()
    proc.wait()
    return rows


def fmt(t):
    if t is None:
        return "–"
    s = t.seconds
    text = f"{s:.3g} s" if s >= 1 else f"{s * 1e3:.3g} ms" if s >= 1e-3 else f"{s * 1e6:.3g} µs"
    return text + ("*" if t.first_call else "")


def table(results):
    lines = ["| eval | input | function | tapeflow valid | tapeflow compile | " +
             " | ".join(f"{t} | {t} ratio" for t in TOOLS) + " |",
             "|---" * (5 + 2 * len(TOOLS)) + "|"]
    for eval_name, rows in results.items():
        objective, derivatives = FUNCTIONS[eval_name]
        by_input = {}
        for row in rows:
            by_input.setdefault(row["description"], {})[row["function"]] = row
        for desc, fns in by_input.items():
            for derivative in derivatives:
                if derivative not in fns:
                    continue
                row = fns[derivative]
                o_times = fns[objective]["times"] if objective in fns else {}
                valid = {True: "valid", False: "**INVALID**", None: "?"}[row["valid"]]
                cells = [fmt(row["compile"])]
                for t in TOOLS:
                    d, o = row["times"].get(t), o_times.get(t)
                    cells.append(fmt(d))
                    cells.append(f"{d.seconds / o.seconds:.2g}" if d and o else "–")
                lines.append(f"| {eval_name} | {desc} | {derivative} | {valid} | " +
                             " | ".join(cells) + " |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--src", default=os.path.expanduser("~/.cache/gradbench/src"))
    parser.add_argument("--evals", nargs="*", default=[e for e in FUNCTIONS if e != "hello"])
    parser.add_argument("--args", action="append", default=[],
                        help='eval flags instead of the default, e.g. "lstm=-c 1024" (repeatable)')
    parser.add_argument("--runs", type=int, default=3, help="--min-runs for every eval")
    parser.add_argument("--seconds", type=float, default=0.5, help="--min-seconds for every eval")
    parser.add_argument("--skip", nargs="*", default=[], help="PEER:EVAL pairs not to run")
    parser.add_argument("--peer-budget", type=float, default=10.0,
                        help="a jax/pytorch first call slower than this is the measurement")
    parser.add_argument("--json", help="also write the raw rows here")
    parser.add_argument("--markdown", help="also write the table here")
    opts = parser.parse_args()
    sys.path.insert(0, os.path.join(opts.src, "python", "gradbench"))
    eval_args = dict(DEFAULT_ARGS)
    for a in opts.args:
        name, _, flags = a.partition("=")
        eval_args[name] = flags
    results, load = {}, [os.getloadavg()]
    for eval_name in opts.evals:
        print(f"peers: {eval_name} {eval_args.get(eval_name, '')} ...", file=sys.stderr,
              flush=True)
        results[eval_name] = run_eval(opts.src, eval_name, eval_args.get(eval_name, ""),
                                      opts.runs, opts.seconds, set(opts.skip), opts.peer_budget)
        print(table({eval_name: results[eval_name]}), file=sys.stderr, flush=True)   # so far
    load.append(os.getloadavg())
    text = table(results) + "\n\nload average (1, 5, 15 min) at the start: " + \
        ", ".join(f"{v:.2f}" for v in load[0]) + "; at the end: " + \
        ", ".join(f"{v:.2f}" for v in load[1])
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump({e: [r | {"times": {t: v and v.json() for t, v in r["times"].items()},
                                "compile": r["compile"] and r["compile"].json()} for r in rows]
                       for e, rows in results.items()}, f, indent=1)
    if opts.markdown:
        with open(opts.markdown, "w") as f:
            f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
