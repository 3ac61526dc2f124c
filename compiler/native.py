"""The native backend seen from the API: gradients and primals compiled through compiler/llvm.

The generated gradient (see api.generate) is typed for the actual arguments and lowered by
compiler/llvm as it is: the native code is the program the Python emitter prints, so a reader of
``tapeflow.source`` reads what runs.
"""
import copy
import numbers

import gast
import numpy as np

from .errors import TransformError
from .parse import parse_function


def _lowering():
    # llvmlite is imported on first native use only: `import tapeflow` stays light
    from . import typing as native_types
    from .llvm import NativeUnsupported, compile_function
    return native_types, compile_function, NativeUnsupported


def data_constants(namespace):
    """The values (numbers, tuples, arrays) among the names generated code can see."""
    return {k: v for k, v in namespace.items()
            if isinstance(v, (numbers.Number, tuple, list, np.ndarray)) and not k.startswith("__")}


def gradient_ir(generated):
    """The generated gradient as the lowering reads it: the very tree ``source()`` prints."""
    return copy.deepcopy(generated.ir), data_constants(generated.fn.__globals__)


def primal_ir(fn, kinds):
    """The normalized primal with its single-use temporaries written back into expressions
    (what the user wrote, minus what normalization desugared): LLVM sees whole loop bodies."""
    from .api import _normalized
    from .optimize import fuse_temporaries
    ir, constants, _ = _normalized(fn, kinds)
    ir = copy.deepcopy(ir)
    user_names = {n.id for n in gast.walk(parse_function(fn).node) if isinstance(n, gast.Name)}
    fuse_temporaries(ir, user_names)
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


def compile_gradient(generated, args, boundscheck=True):
    """The generated gradient compiled for arguments typed like ``args`` (once per generated
    gradient and argument types): a callable with the generated function's results."""
    native_types, _, NativeUnsupported = _lowering()
    try:
        key = (id(generated), tuple(native_types.typeof(a) for a in args), boundscheck)
    except NativeUnsupported as e:
        raise TransformError(f"not compiled natively: {e}", "<native>", None, "native") from None
    compiled = _COMPILED.get(key)
    if compiled is None:
        ir, constants = gradient_ir(generated)
        compiled = compile_ir(ir, constants, args, boundscheck)
        _COMPILED[key] = compiled
    return compiled


class Jitted:
    """``tapeflow.jit(f)``: f itself compiled to native code, once per argument signature."""

    def __init__(self, fn, boundscheck=True):
        import functools
        self.fn = fn
        self.boundscheck = boundscheck
        self.cache = {}
        functools.update_wrapper(self, fn, updated=())

    def __call__(self, *args):
        compiled = self.cache.get(tuple(a.dtype.str + str(a.ndim) if type(a) is np.ndarray
                                        else type(a) for a in args))
        if compiled is None:
            compiled = self.compile(args)
        return compiled(*args)

    def compile(self, args):
        from .api import kind_of_argument
        native_types, _, NativeUnsupported = _lowering()
        try:
            for k, a in enumerate(args):
                native_types.typeof(a, f"argument {k}")
        except NativeUnsupported as e:
            raise TypeError(f"{self.fn.__name__}(): {e}") from None
        ir, constants = primal_ir(self.fn, tuple(kind_of_argument(a, False) for a in args))
        compiled = compile_ir(ir, constants, args, self.boundscheck)
        self.cache[tuple(a.dtype.str + str(a.ndim) if type(a) is np.ndarray else type(a)
                         for a in args)] = compiled
        return compiled


def jit(fn=None, *, boundscheck=True):
    """Compile ``fn`` (the primal alone) to native code on first call, per argument signature.
    Usable as ``@jit`` or ``@jit(boundscheck=False)``."""
    if fn is None:
        return lambda f: Jitted(f, boundscheck)
    return Jitted(fn, boundscheck)
