"""Target machine, optimization pipeline and the in-process JIT (MCJIT) shared by all compiles.

One MCJIT execution engine per compiled module (a few ms, against the hundreds the optimizer and
code generator take): the engine is owned by a ``Code`` object that the compiled function keeps,
so when the last reference to the function goes, its machine code and memory go with it (one
engine for the process, as Numba has, never frees anything). Symbol names of entries are unique
per compile; helpers are internal to their module.
"""
import atexit
import ctypes
import hashlib
import os
import threading

import llvmlite
import llvmlite.binding as llvm

from . import disk_cache

# Loop unrolling measured no faster here (the vectorizer interleaves already) and ~40% slower
# to compile; off.
UNROLL = False
_lock = threading.RLock()
_state = {}


def _init():
    if _state:
        return _state
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    triple = llvm.get_process_triple()
    target = llvm.Target.from_triple(triple)
    cpu, features = llvm.get_host_cpu_name(), llvm.get_host_cpu_features().flatten()
    # host CPU name + features (as Numba does): AVX2/FMA are used when the machine has them
    tm = target.create_target_machine(cpu=cpu, features=features, opt=3, jit=True)
    _state.update(triple=triple, tm=tm, target=target, cpu=cpu, features=features,
                  data_layout=str(tm.target_data), counter=0)
    return _state


def _new_engine(s):
    # the engine owns its target machine: a fresh one each
    tm = s["target"].create_target_machine(cpu=s["cpu"], features=s["features"], opt=3, jit=True)
    empty = llvm.parse_assembly("")
    empty.triple = s["triple"]
    return llvm.create_mcjit_compiler(empty, tm)


# Engines are held here, not by their Code: a compiled function sits in reference cycles, and
# the garbage collector finalizes a cycle's objects in any order; an engine finalized before its
# Code would free the release function Code is about to call.
_engines = {}


# At interpreter exit the process's memory goes back whole; freeing engines then, in whatever
# order the last collection meets their owners, crashed (quickstart segfaulted on exit).
_exiting = False


def _at_exit():
    global _exiting
    _exiting = True


atexit.register(_at_exit)


class Code:
    """The engine holding one compiled module. Dropping the last reference runs the module's
    release function (its pooled buffers) and disposes of the engine (its machine code)."""

    def __init__(self, engine, release):
        _engines[id(self)] = engine
        self.release = release

    def __del__(self):
        engine = _engines.pop(id(self), None)
        if engine is None or _exiting:
            return
        try:
            if self.release:
                ctypes.CFUNCTYPE(None)(self.release)()
        finally:
            engine.close()


# Functions that Python objects call after the module that made them may be gone: the
# destructor of the capsule owning an adopted result array's memory runs whenever the array is
# freed, which may be long after its compiled function (and engine) was collected. They live in
# one module compiled once and never disposed of; other modules reach them by symbol name.
_PROCESS_IR = """
declare ptr @PyCapsule_GetPointer(ptr, ptr)
declare void @free(ptr)

define void @tf_rt_capsule_free(ptr %capsule) nounwind {
  %block = call ptr @PyCapsule_GetPointer(ptr %capsule, ptr null)
  call void @free(ptr %block)
  ret void
}
"""
_process_engine = []


def process_function(name):
    """Make the process-lifetime helper ``name`` (defined in _PROCESS_IR) resolvable from JIT
    code, compiling the helpers on first use; returns its address."""
    with _lock:
        s = _init()
        if not _process_engine:
            mod = llvm.parse_assembly(_PROCESS_IR)
            mod.triple = s["triple"]
            mod.data_layout = s["data_layout"]
            mod.verify()
            engine = _new_engine(s)
            engine.add_module(mod)
            engine.finalize_object()
            for fn in mod.functions:
                if not fn.is_declaration:
                    llvm.add_symbol(fn.name, engine.get_function_address(fn.name))
            _process_engine.append(engine)      # never closed
        return _process_engine[0].get_function_address(name)


_BLAS = []


def blas_dgemm():
    """The name of numpy's own CBLAS dgemm, loaded into the process for JIT code, or None.
    numpy wheels ship OpenBLAS (symbol ``scipy_cblas_dgemm64_``, 64-bit integers); calling it
    for 2-d float64 matmul beats any loop nest we emit. AOT code never uses it (no numpy)."""
    if not _BLAS:
        name = None
        try:
            import glob
            import numpy
            libs = os.path.join(os.path.dirname(os.path.dirname(numpy.__file__)), "numpy.libs")
            for path in glob.glob(os.path.join(libs, "libscipy_openblas64_*.so")):
                _init()
                llvm.load_library_permanently(path)
                if llvm.address_of_symbol("scipy_cblas_dgemm64_"):
                    name = "scipy_cblas_dgemm64_"
                    break
        except Exception:      # noqa: BLE001 - no BLAS: the loop nest is used
            name = None
        _BLAS.append(name)
    return _BLAS[0]


def target_info():
    s = _init()
    return s["triple"], s["data_layout"]


def unique_name(base):
    with _lock:
        s = _init()
        s["counter"] += 1
        return f"{base}__tf{s['counter']}"


# A module whose largest function has more IR lines than this gets a cheaper pipeline: the O2
# round alone, no O1 pre-round. Generated gradients of whole programs (GradBench's lstm, ode:
# 14-21k lines, mostly shape checks, allocations and stack pushes around kernel calls) spent
# 10+ s in O1+O3 and code generation, superlinear in function size; see LARGE_PIPELINE.
LARGE_FUNCTION_LINES = 6000
LARGE_PIPELINE = ("O2",)
SMALL_PIPELINE = ("pre", "O3")


def largest_function_lines(ir_text):
    """Lines of the longest function definition in ``ir_text`` (a cheap size measure)."""
    longest, start = 0, None
    for i, line in enumerate(ir_text.split("\n")):
        if line.startswith("define "):
            start = i
        elif line.startswith("}") and start is not None:
            longest, start = max(longest, i - start), None
    return longest


def _run(mod, tm, speed_level, vectorize):
    pto = llvm.create_pipeline_tuning_options(speed_level=speed_level)
    pto.loop_vectorization = vectorize
    pto.slp_vectorization = vectorize     # off by default in LLVM's pipeline options
    pto.loop_unrolling = UNROLL and vectorize
    if vectorize:
        pto.loop_interleaving = True
    pb = llvm.create_pass_builder(tm, pto)
    pb.getModulePassManager().run(mod, pb)


def optimize(mod, pipeline=SMALL_PIPELINE):
    s = _init()
    for step in pipeline:
        if step == "pre":
            # A cheap O1 round first (as Numba runs a cheap pass before its full pipeline):
            # bounds checks and the negative-index fix-ups fold there, so when the O3 round's
            # vectorizer runs the loops are already check-free. Measured: bounds-checked
            # Rosenbrock gradient 11.3 -> 4.8 us, for ~40% more optimization time.
            _run(mod, s["tm"], 1, False)
        else:
            _run(mod, s["tm"], int(step[1:]), True)


def pipeline_for(ir_text):
    limit = LARGE_FUNCTION_LINES
    return LARGE_PIPELINE if limit is not None and largest_function_lines(ir_text) > limit \
        else SMALL_PIPELINE


# ----------------------------------------------------------------------------- on-disk cache
# Off by default. Keyed by the exact IR text (which already spells the signature, the embedded
# constants' addresses and the entry names), the host CPU and the llvmlite/LLVM versions; a hit
# skips optimization and code generation (the expensive part) and loads the object file. The
# checks that make it safe to execute what it holds are in disk_cache.py.
_cache = {"dir": None, "requested": os.environ.get("TAPEFLOW_NATIVE_CACHE") or None}


def enable_disk_cache(path):
    """Cache compiled object code under ``path`` (None turns the cache off). An unsafe
    directory (another owner, group/world-writable) warns and leaves the cache off."""
    _cache["requested"] = None
    _cache["dir"] = None if path is None else disk_cache.checked_directory(path)


def _cache_dir():
    if _cache["requested"] is not None:        # from the environment: checked on first use
        path, _cache["requested"] = _cache["requested"], None
        _cache["dir"] = disk_cache.checked_directory(path)
    return _cache["dir"]


def _cache_key(ir_text):
    return hashlib.sha256("\0".join([ir_text, llvm.get_host_cpu_name(), llvm.get_host_cpu_features().flatten(),
                                     llvmlite.__version__, ".".join(map(str, llvm.llvm_version_info)),
                                     str(UNROLL), repr(pipeline_for(ir_text))]).encode()).hexdigest()


def compile_ir(ir_text, entry_names, opt=True, global_names=(), release=None):
    """Parse, verify, optimize and JIT an IR module; return ({name: address}, module, Code) for
    the entry functions and the named globals (module is None when loaded from the disk cache).
    The addresses are valid while the Code object lives; ``release`` names the module's
    function that frees its pools."""
    with _lock:
        s = _init()
        directory = _cache_dir()
        sec = disk_cache.secret() if directory else None
        key = _cache_key(ir_text) if sec else None
        obj = disk_cache.load(sec, directory, key) if key else None
        mod = None
        if obj is None:
            mod = llvm.parse_assembly(ir_text)
            mod.triple = s["triple"]
            mod.data_layout = s["data_layout"]
            mod.verify()
            if opt:
                optimize(mod, pipeline_for(ir_text))
            if key:
                obj = s["tm"].emit_object(mod)
                disk_cache.store(sec, directory, key, obj)
        engine = _new_engine(s)
        if obj is not None:
            # the checked bytes themselves are loaded: no window between check and load
            engine.add_object_file(llvm.ObjectFileRef.from_data(obj))
        else:
            engine.add_module(mod)
        engine.finalize_object()
        addrs = {n: engine.get_function_address(n) for n in entry_names}
        addrs.update({n: engine.get_global_value_address(n) for n in global_names})
        code = Code(engine, engine.get_function_address(release) if release else 0)
        return addrs, mod, code


def asm_of(mod):
    return _init()["tm"].emit_assembly(mod)
