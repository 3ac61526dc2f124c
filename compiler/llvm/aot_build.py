"""``tapeflow build``: a Python file's functions -> shared library + C header + Python loader.

Steps per exported function: load the user's file as a module, normalize the primal and
generate the gradient for the signature's kinds (compiler.pipeline), lower both bodies with the
native backend, wrap them in C entry points (aot.py), then link all modules into one object
file for the chosen CPU and link that with the system C compiler. Files are written to a
temporary directory inside the output directory and moved into place at the end, the loader
last, so a failed build never leaves a half-written module behind.
"""
import hashlib
import importlib.util
import inspect
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

from .aot_loader import ExportInfo, header_text, identity_description, loader_text
from .aot_signature import BuildError, Export, parse_export, parse_types


# ------------------------------------------------------------------------------ C compiler

def find_cc():
    """The C compiler (as an argv prefix): $TAPEFLOW_CC, else cc, gcc or clang on PATH."""
    env = os.environ.get("TAPEFLOW_CC")
    if env:
        argv = shlex.split(env)
        if shutil.which(argv[0]) is None:
            raise BuildError(f"TAPEFLOW_CC={env!r}: {argv[0]!r} is not an executable on PATH")
        return argv
    for name in ("cc", "gcc", "clang"):
        if shutil.which(name):
            return [name]
    raise BuildError("no C compiler found to link the shared library: looked for $TAPEFLOW_CC, "
                     "cc, gcc and clang on PATH. Install one (e.g. `apt-get install gcc`) or set "
                     "TAPEFLOW_CC to its path.")


def link_shared(obj_path, so_path, cc=None):
    argv = (cc or find_cc()) + ["-shared", "-o", so_path, obj_path, "-lm"]
    proc = subprocess.run(argv, capture_output=True, text=True)
    if proc.returncode:
        raise BuildError(f"linking failed ({' '.join(argv)}):\n{proc.stderr.strip()}")


# ------------------------------------------------------------------------------ user code

def load_file(path):
    """Execute the user's file as a fresh module (its directory importable while it runs)."""
    path = os.path.abspath(path)
    if not os.path.isfile(path):
        raise BuildError(f"no such file: {path}")
    modname = "_tapeflow_aot_" + os.path.splitext(os.path.basename(path))[0].replace("-", "_")
    spec = importlib.util.spec_from_file_location(modname, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[modname] = module          # dataclasses, pickling etc. look modules up here
    sys.path.insert(0, os.path.dirname(path))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(os.path.dirname(path))
    return module


def get_function(module, name, path):
    fn = getattr(module, name, None)
    if getattr(fn, "__tapeflow_gradient__", False):
        raise BuildError(f"{name!r} in {path} is a gradient function (tapeflow.grad); export the "
                         "function it differentiates: its gradient is built with it")
    if fn is not None and not inspect.isfunction(fn):
        fn = inspect.unwrap(getattr(fn, "fn", fn))      # @tapeflow.jit / functools.wraps wrappers
    if not inspect.isfunction(fn):
        found = sorted(k for k, v in vars(module).items()
                       if inspect.isfunction(v) and v.__module__ == module.__name__)
        what = "is not a function" if fn is not None else "is not defined"
        raise BuildError(f"{name!r} {what} in {path} (functions there: {', '.join(found) or 'none'})")
    return fn


def params_of(fn, export):
    params = list(inspect.signature(fn).parameters.values())
    if any(p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params) \
            or len(params) != len(export.args):
        raise BuildError(f"signature {export.text!r} gives {len(export.args)} argument type(s), but "
                         f"{fn.__name__}{inspect.signature(fn)} takes {len(params)} positional "
                         f"parameter(s): give one type per parameter")
    return [p.name for p in params]


# ------------------------------------------------------------------------------ lowering

def _compile_errors():
    from ..errors import TransformError
    from .errors import NativeUnsupported
    from .aot import AotError
    return (TransformError, NativeUnsupported, AotError)


def export_modules(fn, export, module_name, tm, boundscheck=True):
    """LLVM module texts (primal, gradient, tangent code) with the C entries of one export, and
    the number of dimensions of the function's value (0: a scalar)."""
    from .. import native, pipeline
    from .. import typing as T
    from . import aot, aot_forward

    kinds = tuple(a.kind for a in export.args)
    arg_types = [aot.spec_type(a) for a in export.args]
    texts = []
    what = f"{fn.__name__} ({export.text})"
    prefix = f"{module_name}_{export.name}"
    wrt = export.wrt()
    try:
        ir, constants = pipeline.primal_ir(fn, kinds)
        mctx, ti, body = aot.lower_body(ir, arg_types, constants, module_name, tm, boundscheck)
        errfn = aot.error_function(mctx.module)
        variants = ((False, ""), (True, "__np")) if any(a.ndim for a in export.args) else ((False, ""),)
        if isinstance(ti.ret, T.Scalar):
            value_ndim = 0
            for np_objects, tail in variants:
                aot.emit_wrapper(mctx, ti, body, aot.WrapperSpec(f"{prefix}{tail}", export.args,
                                                                 numpy_objects=np_objects), errfn)
        else:
            if "grad" in export.derivatives:
                raise BuildError(f"{what} returns {ti.ret!r}: a gradient needs a scalar result; "
                                 f"export its Jacobian instead ('{export.name}:...+jacfwd', "
                                 f"or +jvp)")
            spec = aot_forward.ForwardSpec(prefix, export.args, "value")
            value_ndim = aot_forward.result_ndims(spec, ti)[0]
            aot_forward.emit_forward_wrapper(mctx, ti, body, spec, errfn)
        texts.append(_finish(aot, mctx))
        if wrt and "grad" in export.derivatives:
            gen = pipeline.generate(fn, wrt, kinds)
            gir, gconsts = native.gradient_ir(gen)
            gtypes = arg_types
            mctx, ti, body = aot.lower_body(gir, gtypes, gconsts, module_name, tm, boundscheck)
            errfn = aot.error_function(mctx.module)
            nested = len(wrt) > 1
            for suffix, value in (("_grad", False), ("_value_and_grad", True)):
                for np_objects, tail in variants:
                    spec = aot.WrapperSpec(f"{prefix}{suffix}{tail}", export.args,
                                           value=value, grads=wrt, nested=nested,
                                           from_gradient=True, numpy_objects=np_objects)
                    aot.emit_wrapper(mctx, ti, body, spec, errfn)
            texts.append(_finish(aot, mctx))
        forward = [d for d in ("jvp", "jacfwd") if d in export.derivatives]
        if forward and not wrt:
            raise BuildError(f"{what}: +{forward[0]} needs a float argument to differentiate")
        if forward:
            # one tangent body (a tangent per differentiated argument) serves both entries
            gen = pipeline.generate_forward(fn, wrt, kinds, False, True)
            gir, gconsts = native.gradient_ir(gen)
            ttypes = arg_types + [arg_types[i] for i in wrt]
            mctx, ti, body = aot.lower_body(gir, ttypes, gconsts, module_name, tm, boundscheck)
            errfn = aot.error_function(mctx.module)
            for d in forward:
                aot_forward.emit_forward_wrapper(
                    mctx, ti, body, aot_forward.ForwardSpec(f"{prefix}_{d}", export.args, d, wrt), errfn)
            texts.append(_finish(aot, mctx))
    except _compile_errors() as e:
        raise BuildError(f"cannot compile {what} ahead of time: {e}") from None
    return texts, value_ndim


def _finish(aot, mctx):
    text = aot.embed_constants(str(mctx.module), mctx)
    aot.check_externals(text)
    return text


def _exports(functions):
    """Accept ["f:f8[:]", ...], {"f": "f8[:]"} or a single string."""
    if isinstance(functions, str):
        functions = [functions]
    if isinstance(functions, dict):
        functions = [f"{k}:{v}" for k, v in functions.items()]
    out = [f if isinstance(f, Export) else parse_export(f) for f in functions]
    if not out:
        raise BuildError("nothing to build: give at least one --function NAME:SIGNATURE")
    names = [e.name for e in out]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise BuildError(f"function(s) {', '.join(sorted(dup))} given more than once "
                         "(one signature per function and module)")
    return out


def identity_module(name, texts, description, tm):
    """LLVM assembly of ``NAME_identity()``, returning "TAPEFLOW-ID:<sha256>:<description>": the
    hash covers the module name, the signatures, the CPU and every module's IR, so two builds
    of different functions never share an identity. The loader finds it in the file's bytes."""
    import llvmlite.binding as llvm
    digest = hashlib.sha256("\0".join([name, description] + texts).encode()).hexdigest()
    text = f"TAPEFLOW-ID:{digest}:{description}".encode("utf-8")[:2000] + b"\0"
    body = "".join(chr(c) if 32 <= c < 127 and c not in (34, 92) else f"\\{c:02X}" for c in text)
    return (f'target triple = "{llvm.get_process_triple()}"\n'
            f'target datalayout = "{tm.target_data}"\n'
            f'@tf_aot_identity = internal constant [{len(text)} x i8] c"{body}"\n'
            f"define ptr @{name}_identity() nounwind {{\n  ret ptr @tf_aot_identity\n}}\n")


def cpu_description(cpu):
    from . import aot
    import llvmlite.binding as llvm
    if cpu == "native":
        return f"native ({llvm.get_host_cpu_name()})"
    return cpu or f"{aot.baseline_cpu(llvm.get_process_triple())} (baseline)"


def build(file, functions, output, name, cpu=None, boundscheck=True):
    """Build module ``name`` in directory ``output`` from ``functions`` of ``file``.

    ``functions``: signatures like ``"rosen:f8[:]"`` or ``"loss:f8[:,:],f8[:],i8@0"`` (a list, or
    a dict name -> types). ``cpu``: None for the architecture's baseline (runs on any machine
    of this architecture), "native" for this host's CPU, or an LLVM CPU name. Returns a dict of
    the written paths: library, header, loader.
    """
    if not str(name).isidentifier():
        raise BuildError(f"module name {name!r} is not a Python identifier")
    exports = _exports(functions)
    cc = find_cc()                    # fail before any compile work
    module = load_file(file)
    fns = [get_function(module, e.name, file) for e in exports]
    infos = [ExportInfo(e.name, params_of(f, e), e) for f, e in zip(fns, exports)]

    from . import aot
    tm = aot.target_machine(cpu)
    texts = [aot.support_module(name, tm)]
    for fn, e, info in zip(fns, exports, infos):
        more, info.value_ndim = export_modules(fn, e, name, tm, boundscheck)
        texts += more
    cpu_desc = cpu_description(cpu)
    texts.append(identity_module(name, texts, identity_description(infos, cpu_desc), tm))
    identity = texts[-1].split("TAPEFLOW-ID:")[1][:64]
    try:
        llmod = aot.link_modules(texts, tm)
        obj = aot.emit_object(llmod, tm)
    except RuntimeError as e:
        raise BuildError(f"code generation failed: {e}") from e

    os.makedirs(output, exist_ok=True)
    src = os.path.basename(file)
    tmp = tempfile.mkdtemp(prefix=f".{name}-build-", dir=output)
    try:
        obj_path = os.path.join(tmp, f"{name}.o")
        with open(obj_path, "wb") as f:
            f.write(obj)
        files = {"library": f"lib{name}.so", "header": f"{name}.h", "loader": f"{name}.py"}
        link_shared(obj_path, os.path.join(tmp, files["library"]), cc)
        with open(os.path.join(tmp, files["header"]), "w") as f:
            f.write(header_text(name, infos, src, cpu_desc))
        with open(os.path.join(tmp, files["library"]), "rb") as f:
            lib_sha256 = hashlib.sha256(f.read()).hexdigest()
        with open(os.path.join(tmp, files["loader"]), "w") as f:
            f.write(loader_text(name, infos, src, cpu_desc, identity, lib_sha256))
        out = {}
        for key in ("library", "header", "loader"):         # the loader last: it marks completion
            dst = os.path.join(output, files[key])
            os.replace(os.path.join(tmp, files[key]), dst)
            out[key] = dst
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


# ------------------------------------------------------------------------------ show

def show(file, name, signature=None, llvm_ir=False, argnums=None, cpu=None):
    """The generated gradient source of ``name`` (or, with ``llvm_ir``, the optimized LLVM IR of
    its AOT module). ``signature``: types like "f8[:],i8"; default: every argument a float."""
    from .. import pipeline
    module = load_file(file)
    fn = get_function(module, name, file)
    n = len(inspect.signature(fn).parameters)
    types = signature if signature is not None else ",".join(["f8"] * n)
    text = f"{name}:{types}" + (f"@{argnums}" if argnums else "")
    export = parse_export(text)
    params_of(fn, export)
    kinds = tuple(a.kind for a in export.args)
    if not llvm_ir:
        wrt = export.wrt()
        if not wrt:
            raise BuildError(f"{text!r}: no float argument to differentiate")
        try:
            return pipeline.generate(fn, wrt, kinds).source
        except _compile_errors() as e:
            raise BuildError(f"cannot differentiate {name}: {e}") from None
    from . import aot
    tm = aot.target_machine(cpu)
    texts = [aot.support_module("show", tm)] + export_modules(fn, export, "show", tm)[0]
    return str(aot.link_modules(texts, tm))


__all__ = ["build", "show", "find_cc", "BuildError", "parse_types"]
