"""The native backend seen from the API: gradients and primals compiled through compiler/llvm.

The generated gradient (Python source, see api.generate) is normalized again to one operation per
statement, typed for the actual arguments and lowered by compiler/llvm; so the native code is the
same program the Python emitter prints, and a reader of ``tapeflow.source`` reads what runs.
"""
import copy

from .errors import TransformError
from .normalize import normalize
from .parse import Parsed, namespace_of


def _lowering():
    # llvmlite is imported on first native use only: `import tapeflow` stays light
    from . import typing as native_types
    from .llvm import NativeUnsupported, compile_function
    return native_types, compile_function, NativeUnsupported


def anf_of(generated):
    """The generated gradient in the normalized form the lowering reads."""
    parsed = Parsed(copy.deepcopy(generated.ir), generated.filename,
                    namespace_of(generated.fn), generated.fn)
    ir, constants, _ = normalize(parsed)
    return ir, constants


def compile_ir(ir, constants, args, boundscheck=True):
    """Compile an IR function for these argument values; TransformError if it cannot be."""
    native_types, compile_function, NativeUnsupported = _lowering()
    try:
        arg_types = [native_types.typeof(a, name) for a, name in
                     zip(args, (p.id for p in ir.args.args))]
        return compile_function(ir, arg_types, boundscheck=boundscheck, constants=constants)
    except NativeUnsupported as e:
        raise TransformError(f"not compiled natively: {e.reason if hasattr(e, 'reason') else e}",
                             "<native>", getattr(e, "lineno", None), "native") from None


def gradient_runner(generated, args, boundscheck=True):
    """Native (value, gradients) for arguments shaped like ``args``."""
    ir, constants = anf_of(generated)
    compiled = compile_ir(ir, constants, tuple(args) + (1.0,), boundscheck)

    def run(*call_args):
        return compiled(*call_args, 1.0)
    run.compiled = compiled
    return run
