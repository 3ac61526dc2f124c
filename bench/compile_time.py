"""Compile time of tapeflow's native GradBench derivatives (issue 12's bar: first call <= 2 s).

For each eval (ode, lstm, gmm: the reverse-mode gradients bench/gradbench compiles) the gradient
is generated once, then its native code is compiled once per LLVM variant, side by side in one
run, on the smallest input (compile time depends on the signature, not the sizes). Reported per
variant: wall and CPU seconds of the native compile (CPU is what a loaded machine does not
inflate), the instruction count of the IR, and the gradient's run time at a mid-size input; the
results of every variant must equal the generated Python's (checked). The disk cache of object
code is off in this script (it would turn the second compile into a load).

    python bench/compile_time.py [ode lstm gmm]
"""
import importlib.util
import os
import sys
import time
import timeit

import numpy as np

os.environ.pop("TAPEFLOW_NATIVE_CACHE", None)

import tapeflow as tf                                         # noqa: E402
from tapeflow.compiler import native                          # noqa: E402
from tapeflow.compiler.llvm import compile as lowering        # noqa: E402
from tapeflow.compiler.llvm import engine                     # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(0)


def tool_load(name):
    spec = importlib.util.spec_from_file_location("tapeflow_gradbench_tool",
                                                  os.path.join(HERE, "gradbench", "tool.py"))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool.load(name)


def lstm_args(layers, chars, b):
    return (rng.random((2 * layers, 4 * b)), rng.random((3, b)), rng.random((2 * layers, b)),
            rng.random((chars, b)))


def gmm_args(k, d, n):
    return (rng.random(k), rng.random((k, d)), rng.random((k, d)),
            rng.random((k, d * (d - 1) // 2)), rng.random((n, d)), 1.0, 0)


# eval -> (module function, argnums, small input, mid-size input for the run time)
CASES = {
    "ode": ("ode_last", (0,), lambda: (rng.random(4), 2), lambda: (rng.random(100), 100)),
    "lstm": ("lstm_objective", (0, 1), lambda: lstm_args(2, 3, 4), lambda: lstm_args(2, 100, 14)),
    "gmm": ("gmm_objective", (0, 1, 2, 3), lambda: gmm_args(2, 2, 3),
            lambda: gmm_args(10, 8, 200)),
}


def old_twin_rule(ti):
    """The contiguous-twin test before this change: any subscript of an argument in a loop."""
    import ast
    arrays = {p for p, t in zip(ti.params, ti.arg_types) if hasattr(t, "ndim")}
    for node in ast.walk(ti.fdef):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and \
                isinstance(node.targets[0], ast.Name) and isinstance(node.value, ast.Name) and \
                node.value.id in arrays:
            arrays.add(node.targets[0].id)
    return any(isinstance(n, ast.Subscript) and isinstance(n.value, ast.Name) and n.value.id in arrays
               for loop in ast.walk(ti.fdef) if isinstance(loop, (ast.For, ast.While))
               for n in ast.walk(loop))


NEW_TWIN_RULE = lowering._indexes_arguments_in_loops
NEW_LARGE = engine.LARGE_PIPELINE
VARIANTS = {     # label -> (contiguous-twin rule, pipeline of functions over the size limit)
    "before": (old_twin_rule, engine.SMALL_PIPELINE),
    "twin rule": (NEW_TWIN_RULE, engine.SMALL_PIPELINE),
    "after": (NEW_TWIN_RULE, NEW_LARGE),
}
for extra in os.environ.get("PIPELINES", "").split():     # e.g. PIPELINES="O3 pre+O2 O1"
    VARIANTS[extra] = (NEW_TWIN_RULE, tuple(extra.split("+")))


def flat(result):
    return np.concatenate([np.ravel(np.asarray(r, dtype=float)) for r in
                           (result if isinstance(result, tuple) else (result,))])


def main(names):
    print(os.popen("uptime").read().strip())
    print(f"{'eval':6s} {'variant':10s} {'compile wall':>12s} {'compile cpu':>11s} {'body lines':>10s} "
          f"{'run (mid)':>10s}  first call")
    for name in names:
        fname, argnums, small, mid = CASES[name]
        module = tool_load(name)
        fn = getattr(module, fname)
        small_args, mid_args = small(), mid()
        g = tf.grad(fn, argnums=argnums, backend="native")
        start = time.perf_counter()
        g(*small_args)
        first = time.perf_counter() - start
        python = flat(tf.grad(fn, argnums=argnums, backend="python")(*mid_args))
        reference = None
        for label, (rule, large) in VARIANTS.items():
            lowering._indexes_arguments_in_loops, engine.LARGE_PIPELINE = rule, large
            ir, constants = native.gradient_ir(g.generated)
            wall, cpu = time.perf_counter(), time.process_time()
            compiled = native.compile_ir(ir, constants, small_args)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            lines = engine.largest_function_lines(compiled.ir)
            got = flat(compiled(*mid_args))
            reference = got if reference is None else reference
            if not np.array_equal(got, reference):      # same code, other LLVM passes: same bits
                raise AssertionError(f"{name} {label}: differs from 'before' by "
                                     f"{np.max(np.abs(got - reference)):.3g}")
            np.testing.assert_allclose(got, python, rtol=1e-9, atol=1e-12)
            run = min(timeit.repeat(lambda: compiled(*mid_args), number=5, repeat=15)) / 5
            print(f"{name:6s} {label:10s} {wall:11.2f}s {cpu:10.2f}s {lines:10d} "
                  f"{run * 1e3:8.3f}ms  {first:.2f}s" if label == "after" else
                  f"{name:6s} {label:10s} {wall:11.2f}s {cpu:10.2f}s {lines:10d} "
                  f"{run * 1e3:8.3f}ms", flush=True)
        lowering._indexes_arguments_in_loops, engine.LARGE_PIPELINE = NEW_TWIN_RULE, NEW_LARGE
    print(os.popen("uptime").read().strip())


if __name__ == "__main__":
    main(sys.argv[1:] or list(CASES))
