"""The native backend seen from the pipeline: gradients and primals compiled through compiler/llvm.

The generated gradient (see pipeline.generate) is typed for the actual arguments and lowered by
compiler/llvm as it is: the native code is the program the Python emitter prints, so a reader of
``tapeflow.source`` reads what runs.
"""
import copy
import numbers

import numpy as np

from .errors import TransformError


def _lowering():
    # llvmlite is imported on first native use only: `import tapeflow` stays light
    from . import typing as native_types
    from .llvm import NativeUnsupported, compile_function
    return native_types, compile_function, NativeUnsupported


def data_constants(namespace):
    """The values (numbers, tuples, arrays) among the names generated code can see, and the
    numpy scalar types (``dtype=np.int64`` reads one)."""
    return {k: v for k, v in namespace.items()
            if (isinstance(v, (numbers.Number, tuple, list, np.ndarray)) or
                isinstance(v, type) and issubclass(v, np.generic)) and not k.startswith("__")}


def gradient_ir(generated):
    """The generated gradient as the lowering reads it: the very tree ``source()`` prints."""
    return copy.deepcopy(generated.ir), data_constants(generated.fn.__globals__)


def _scalars(args):
    """0-d arrays as the numpy scalars they hold: the pipeline gives a 0-d array the kind of a
    float (kinds.kind_of_argument), so generated code treats it as one (``math.cos(x)``)."""
    return tuple(a[()] if type(a) is np.ndarray and a.ndim == 0 else a for a in args)


def _taking_0d_arrays(compiled, args):
    if any(type(a) is np.ndarray and a.ndim == 0 for a in args):
        return lambda *a: compiled(*_scalars(a))
    return compiled


def compile_ir(ir, constants, args, boundscheck=True):
    """Compile an IR function for these argument values; TransformError if it cannot be."""
    native_types, compile_function, NativeUnsupported = _lowering()
    given, args = args, _scalars(args)
    try:
        arg_types = [native_types.typeof(a, name) for a, name in
                     zip(args, (p.id for p in ir.args.args))]
        return _taking_0d_arrays(compile_function(ir, arg_types, boundscheck=boundscheck,
                                                  constants=constants), given)
    except NativeUnsupported as e:
        raise TransformError(f"not compiled natively: {e.reason if hasattr(e, 'reason') else e}",
                             "<native>", getattr(e, "lineno", None), "native") from None


def compile_gradient(generated, args, boundscheck=True):
    """The generated gradient compiled for arguments typed like ``args`` (once per generated
    gradient and argument types): a callable with the generated function's results. The
    compiled code lives on the Generated object, so it goes when a stale transform goes."""
    native_types, _, NativeUnsupported = _lowering()
    given, args = args, _scalars(args)
    try:
        key = (tuple(native_types.typeof(a) for a in args), boundscheck)
    except NativeUnsupported as e:
        raise TransformError(f"not compiled natively: {e}", "<native>", None, "native") from None
    compiled = generated.native.get(key)
    if compiled is None:
        ir, constants = gradient_ir(generated)
        compiled = compile_ir(ir, constants, args, boundscheck)
        generated.native[key] = compiled
    return _taking_0d_arrays(compiled, given)


def check_arguments(fname, args):
    """TypeError naming the argument the native code cannot take (a list, an object array...)."""
    native_types, _, NativeUnsupported = _lowering()
    try:
        for k, a in enumerate(_scalars(args)):
            native_types.typeof(a, f"argument {k}")
    except NativeUnsupported as e:
        raise TypeError(f"{fname}(): {e}") from None
