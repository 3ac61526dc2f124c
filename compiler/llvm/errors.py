"""Errors the native backend raises when a function is outside the subset it can compile.

The caller (backend="auto") catches ``NativeUnsupported`` and falls back to the Python backend,
reporting ``.reason`` and ``.lineno`` so the user learns why native code was not used.
"""


class NativeUnsupported(Exception):
    """Base of every 'cannot compile this natively' error."""

    def __init__(self, reason, lineno=None):
        self.reason = reason
        self.lineno = lineno
        where = f" (line {lineno})" if lineno is not None else ""
        super().__init__(f"{reason}{where}")


class TypingError(NativeUnsupported):
    """A value whose type cannot be decided statically, or a type the backend does not model."""


class LoweringError(NativeUnsupported):
    """A construct that typed fine but that the LLVM lowering does not implement."""
