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


def emit_message_switch(b, fn, mctx, ctx, emit, otherwise=None):
    """Branch on the error record a failed body left in ``ctx`` (message id, three integers):
    one block per message the module can raise calls ``emit(exception_name, c_format, x, y, z)``
    (the message's ``{}`` slots become ``%lld``); an unknown id calls ``otherwise(x, y, z)``.
    The JIT entry raises the Python exception from it, the AOT wrapper writes the text."""
    from llvmlite import ir

    from . import types as L

    def c(v, ty=L.I64):
        return ir.Constant(ty, v)

    mid, x, y, z = [b.load(b.gep(ctx, [c(0, L.I32), c(k, L.I32)], source_etype=L.CTX_STRUCT),
                           typ=L.I64) for k in (1, 2, 3, 4)]
    done = fn.append_basic_block("error_reported")
    unknown = fn.append_basic_block("error_unknown") if otherwise is not None else done
    sw = b.switch(mid, unknown)
    for k, (exc, fmt) in enumerate(list(mctx.messages)):
        blk = fn.append_basic_block(f"message{k + 1}")
        sw.add_case(c(k + 1), blk)
        b.position_at_end(blk)
        emit(exc, fmt.replace("%", "%%").replace("{}", "%lld"), x, y, z)
        b.branch(done)
    if otherwise is not None:
        b.position_at_end(unknown)
        otherwise(x, y, z)
        b.branch(done)
    b.position_at_end(done)
