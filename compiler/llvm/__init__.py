"""Native backend: lower normalized, typed functions (primal and gradient) to machine code.

Public entry points (imported lazily so that ``compiler.typing`` can import the errors without a
cycle):
    compile_function(funcdef, arg_types, module_functions=None, boundscheck=True) -> NativeFunction
    compile_source(src, name, arg_types, **kw) -> NativeFunction
    jit(py_function, boundscheck=True) -> Dispatcher (compiles per argument signature)
    NativeUnsupported, TypingError, LoweringError
"""
from .errors import LoweringError, NativeUnsupported, TypingError

__all__ = ["compile_function", "compile_source", "jit", "Dispatcher", "NativeFunction",
           "NativeUnsupported", "TypingError", "LoweringError"]


def __getattr__(name):
    if name in ("compile_function", "compile_source"):
        from . import compile as _c
        return getattr(_c, name)
    if name in ("jit", "Dispatcher"):
        from . import dispatch
        return getattr(dispatch, name)
    if name == "NativeFunction":
        from .wrapper import NativeFunction
        return NativeFunction
    raise AttributeError(name)
