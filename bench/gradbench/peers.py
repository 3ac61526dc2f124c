"""tapeflow against GradBench's own JAX and PyTorch tools, on the inputs the evals send.

    python bench/gradbench/peers.py --src GRADBENCH_TREE [--evals lse gmm ...]
        [--args "lstm=-c 1024" ...] [--runs 5] [--seconds 0.2]

GRADBENCH_TREE is a GradBench checkout (as the local runner's setup.sh makes it, with the
C++ ``manual`` tool built: most evals check outputs with it). For each eval this script plays the
intermediary: it runs the eval, answers it with tapeflow's tool (so the eval validates tapeflow's
outputs, shown in the ``valid`` column), and on every input it also calls the peers' functions
directly (``gradbench.tools.jax.EVAL`` and ``gradbench.tools.pytorch.EVAL``: the Python
function each tool wraps, after its own input conversion), untimed once to compile or trace,
then timed: jax with ``block_until_ready`` (its tool does not wait for the result). Every tool
runs single-threaded (XLA and torch thread flags; tapeflow is single-threaded). jax and torch
are optional: a peer that is not installed, or does not implement an eval, shows ``-``.

The table gives, per eval and input, each tool's median derivative time and the ratio
derivative / objective (both medians, same input, same tool).
"""
import argparse
import importlib
import json
import os
import shlex
import statistics
import subprocess
import sys
import time

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                                   "intra_op_parallelism_threads=1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import tool  # noqa: E402  (tapeflow's GradBench tool, this folder)

# eval -> (objective function, derivative function), as the evals name them
FUNCTIONS = {
    "hello": ("square", "double"), "lse": ("primal", "gradient"),
    "llsq": ("primal", "gradient"), "ode": ("primal", "gradient"),
    "det": ("primal", "gradient"), "gmm": ("objective", "jacobian"),
    "lstm": ("objective", "jacobian"), "ba": ("objective", "jacobian"),
    "ht": ("objective", "jacobian"), "kmeans": ("cost", "dir"),
}
# what runs here in reasonable time (the snapshot's lstm data has 4096 characters)
# one or two mid-sized inputs per eval, so that a run takes minutes; --args changes them
DEFAULT_ARGS = {"lse": "-n 10000 160000", "llsq": "-n 256", "ode": "-n 1000 -s 10",
                "gmm": "-d 10 -k 25", "lstm": "-l 2 -c 1024", "kmeans": "-k 100 -n 1000 -d 8",
                "det": "-l 7", "ht": "--max 2", "ba": "--max 1"}
PEERS = ("jax", "pytorch")


def peer_function(peer, eval_name, function):
    """The peer tool's Wrapped function for this eval, or None."""
    try:
        module = importlib.import_module(f"gradbench.tools.{peer}.{eval_name}")
    except Exception as e:  # not installed, or no such eval
        print(f"peers: {peer} {eval_name}: {type(e).__name__}: {e}", file=sys.stderr)
        return None
    return getattr(module, function, None)


def settle(peer, out):
    if peer == "jax":
        import jax
        jax.block_until_ready(out)
    return out


def time_peer(peer, wrapped, raw, runs, seconds):
    """Median seconds of the peer's function on this input (one untimed call first)."""
    if peer == "pytorch":
        import torch
        torch.set_num_threads(1)
    prepared = pre_of(wrapped)(raw)
    settle(peer, wrapped.function(prepared))
    times, total = [], 0.0
    while len(times) < runs or total < seconds:
        start = time.perf_counter()
        settle(peer, wrapped.function(prepared))
        took = time.perf_counter() - start
        times.append(took)
        total += took
    return statistics.median(times)


def pre_of(wrapped):
    """The input conversion given to the tool's ``wrap.multiple_runs`` (or ``wrap.function``)."""
    cells = dict(zip(wrapped.wrapped.__code__.co_freevars, wrapped.wrapped.__closure__ or ()))
    return cells["pre"].cell_contents


def tapeflow_time(response):
    ts = [t["nanoseconds"] for t in response.get("timings", []) if t["name"] == "evaluate"]
    return statistics.median(ts) / 1e9 if ts else None


def run_eval(src, eval_name, eval_args, runs, seconds):
    """Rows (description, function, {tool: seconds}, valid) for one eval."""
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
            times = {"tapeflow": tapeflow_time(response) if response.get("success") else None}
            for peer in PEERS:
                wrapped = peer_function(peer, eval_name, message["function"])
                times[peer] = None
                if wrapped is not None:
                    try:
                        times[peer] = time_peer(peer, wrapped, message["input"], runs, seconds)
                    except Exception as e:
                        print(f"peers: {peer} {eval_name}.{message['function']}: "
                              f"{type(e).__name__}: {e}", file=sys.stderr)
            pending[message["id"]] = len(rows)
            rows.append([message.get("description", ""), message["function"], times, None])
        elif kind == "analysis":
            response = {"id": message["id"]}
            if message.get("of") in pending:
                rows[pending[message["of"]]][3] = message.get("valid")
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


def table(results):
    tools = ("tapeflow",) + PEERS
    lines = ["| eval | input | tapeflow valid | " +
             " | ".join(f"{t} derivative | {t} ratio" for t in tools) + " |",
             "|---" * (3 + 2 * len(tools)) + "|"]
    for eval_name, rows in results.items():
        objective, derivative = FUNCTIONS[eval_name]
        by_input = {}
        for desc, fn, times, valid in rows:
            by_input.setdefault(desc, {})[fn] = (times, valid)
        for desc, fns in by_input.items():
            if derivative not in fns:
                continue
            d_times, valid = fns[derivative]
            o_times = fns.get(objective, ({}, None))[0]
            cells = []
            for t in tools:
                d, o = d_times.get(t), o_times.get(t)
                cells.append(f"{d * 1e3:.3f} ms" if d is not None else "-")
                cells.append(f"{d / o:.1f}" if d is not None and o else "-")
            lines.append(f"| {eval_name} | {desc} | {valid} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--src", default=os.path.expanduser("~/.cache/gradbench/src"))
    parser.add_argument("--evals", nargs="*", default=list(FUNCTIONS))
    parser.add_argument("--args", action="append", default=[],
                        help='extra eval flags, e.g. "lstm=-c 1024" (repeatable)')
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=0.2)
    parser.add_argument("--json", help="also write the raw rows here")
    opts = parser.parse_args()
    sys.path.insert(0, os.path.join(opts.src, "python", "gradbench"))
    eval_args = dict(DEFAULT_ARGS)
    for a in opts.args:
        name, _, flags = a.partition("=")
        eval_args[name] = flags
    results = {}
    for eval_name in opts.evals:
        print(f"peers: {eval_name} ...", file=sys.stderr, flush=True)
        results[eval_name] = run_eval(opts.src, eval_name, eval_args.get(eval_name, ""),
                                      opts.runs, opts.seconds)
        print(table({eval_name: results[eval_name]}), file=sys.stderr, flush=True)   # so far
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump(results, f, indent=1)
    print(table(results))


if __name__ == "__main__":
    main()
