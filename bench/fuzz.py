"""Differential fuzzing of the three backends for as long as asked.

    python bench/fuzz.py --seconds 300 [--seed 0] [--out fuzz-failures]

Random programs (tests/fuzz/fuzz_programs.py) run under backend="python", "native" and
"tape" and are compared with each other and with central differences (tests/fuzz/fuzz_run.py).
Prints the programs tried, skipped, mismatches and crashes; each failing program goes to the
output directory as seed<N>.py, with its input and every backend's answer in its header
(``python tests/fuzz/fuzz_minimize.py FILE`` shrinks it).
"""
import argparse
import collections
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fuzz"))

import fuzz_run  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=0, help="the first seed; then one by one")
    parser.add_argument("--out", default="fuzz-failures", help="where failing programs go")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    counts = collections.Counter()
    refusals = collections.Counter()
    seed, start = args.seed, time.time()
    with tempfile.TemporaryDirectory() as directory:
        while time.time() - start < args.seconds:
            outcome = fuzz_run.run(seed, directory)
            counts[outcome.verdict] += 1
            for backend, result in outcome.results.items():
                if isinstance(result, str) and result.startswith("refused"):
                    refusals[backend] += 1
            if outcome.verdict in ("mismatch", "crash"):
                path = os.path.join(args.out, f"seed{seed}.py")
                with open(path, "w") as out:
                    out.write(outcome.report())
                print(f"seed {seed}: {outcome.verdict} {outcome.detail} -> {path}", flush=True)
            seed += 1
    tried = sum(counts.values())
    print(f"{tried} programs in {time.time() - start:.0f} s (seeds {args.seed}..{seed - 1}): "
          f"{counts['ok']} compared, {counts['skip']} skipped (ties, unstable differences), "
          f"{counts['mismatch']} mismatches, {counts['crash']} crashes")
    print("refusals: " + (", ".join(f"{b} {n}" for b, n in sorted(refusals.items())) or "none"))
    return 1 if counts["mismatch"] or counts["crash"] else 0


if __name__ == "__main__":
    sys.exit(main())
