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


_COMPILED = {}


def gradient_runner(generated, args, boundscheck=True):
    """Native (value, gradients) for arguments shaped like ``args`` (compiled once per
    generated gradient and argument types)."""
    native_types, _, NativeUnsupported = _lowering()
    try:
        key = (id(generated), tuple(native_types.typeof(a) for a in args), boundscheck)
    except NativeUnsupported as e:
        raise TransformError(f"not compiled natively: {e}", "<native>", None, "native") from None
    compiled = _COMPILED.get(key)
    if compiled is None:
        ir, constants = anf_of(generated)
        compiled = compile_ir(ir, constants, tuple(args) + (1.0,), boundscheck)
        _COMPILED[key] = compiled

    def run(*call_args):
        return compiled(*call_args, 1.0)
    run.compiled = compiled
    return run


class Jitted:
    """``tapeflow.jit(f)``: f itself compiled to native code, once per argument signature."""

    def __init__(self, fn, boundscheck=True):
        import functools
        self.fn = fn
        self.boundscheck = boundscheck
        self.cache = {}
        functools.update_wrapper(self, fn, updated=())

    def __call__(self, *args):
        from .api import _normalized, kind_of_argument
        native_types, _, NativeUnsupported = _lowering()
        try:
            key = tuple(native_types.typeof(a, f"argument {k}") for k, a in enumerate(args))
        except NativeUnsupported as e:
            raise TypeError(f"{self.fn.__name__}(): {e}") from None
        compiled = self.cache.get(key)
        if compiled is None:
            kinds = tuple(kind_of_argument(a, False) for a in args)
            ir, constants, _ = _normalized(self.fn, kinds)
            compiled = self.cache[key] = compile_ir(copy.deepcopy(ir), constants, args,
                                                    self.boundscheck)
        return compiled(*args)


def jit(fn=None, *, boundscheck=True):
    """Compile ``fn`` (the primal alone) to native code on first call, per argument signature.
    Usable as ``@jit`` or ``@jit(boundscheck=False)``."""
    if fn is None:
        return lambda f: Jitted(f, boundscheck)
    return Jitted(fn, boundscheck)
