"""Signatures of ahead-of-time exports: ``NAME:TYPE,TYPE,...[@ARGNUMS][+WHAT...]``.

Types are numpy-style codes: ``f8`` (float64), ``f4`` (float32), ``i8`` (int64), ``b1`` (bool),
each optionally followed by ``[:]``, ``[:,:]``, ... for an array of that many dimensions.
``@0,2`` chooses the arguments to differentiate; without it every float argument (scalar or
array) is differentiated. ``+WHAT`` (repeatable) says which derivatives are exported
besides the function itself: ``+grad`` (NAME_grad, NAME_value_and_grad: the default, for a
function returning a scalar), ``+jvp`` (NAME_jvp: value and Jacobian-vector product),
and ``+jacfwd`` (NAME_jacfwd: the Jacobian by forward mode), e.g.
``hand:f8[:],f8[:,:]@0+jvp+jacfwd``. This module imports neither llvmlite nor the compiler: the
CLI and the loader generator use it before (or without) any compilation.
"""
import re
from dataclasses import dataclass

DTYPES = {"f8": "float64", "f4": "float32", "i8": "int64", "b1": "bool"}
C_TYPES = {"float64": "double", "float32": "float", "int64": "int64_t", "bool": "uint8_t"}

_TYPE = re.compile(r"^(f8|f4|i8|b1)(?:\[\s*(:(?:\s*,\s*:)*)\s*\])?$")


class BuildError(Exception):
    """An ahead-of-time build that cannot be done; the message says what and where."""


class SignatureError(BuildError, ValueError):
    """A signature string that cannot be read; the message quotes it."""


@dataclass(frozen=True)
class ArgSpec:
    dtype: str           # numpy dtype name: float64 | float32 | int64 | bool
    ndim: int            # 0 for a scalar

    @property
    def is_float(self):
        return self.dtype.startswith("float")

    @property
    def ctype(self):
        return C_TYPES[self.dtype]

    @property
    def kind(self):
        """tapeflow's argument kind (see compiler.api.kind_of_argument)."""
        if self.ndim:
            return ("array", self.ndim)
        return {"float64": ("float", 0), "float32": ("float", 0), "int64": ("int", 0),
                "bool": ("bool", 0)}[self.dtype]

    def code(self):
        code = next(k for k, v in DTYPES.items() if v == self.dtype)
        return code + (f"[{','.join(':' * self.ndim)}]" if self.ndim else "")


@dataclass(frozen=True)
class Export:
    name: str
    args: tuple          # ArgSpec per positional parameter
    argnums: tuple       # differentiated arguments (None: every float argument)
    text: str            # as the user wrote it, for messages
    derivatives: tuple = ("grad",)   # what is exported besides the function (DERIVATIVES)

    def wrt(self):
        if self.argnums is not None:
            return self.argnums
        return tuple(i for i, a in enumerate(self.args) if a.is_float)


DERIVATIVES = ("grad", "jvp", "jacfwd")


def _split_derivatives(text, whole):
    """``'f8[:]@0+jvp+jacfwd'`` -> ``('f8[:]@0', ('jvp', 'jacfwd'))``; no ``+``: the gradient."""
    head, *names = [p.strip() for p in text.split("+")]
    if not names:
        return head, ("grad",)
    for n in names:
        if n not in DERIVATIVES:
            raise SignatureError(f"bad export {n!r} in signature {whole!r}: expected "
                                 f"{', '.join('+' + d for d in DERIVATIVES)}")
    if len(set(names)) != len(names):
        raise SignatureError(f"repeated export in signature {whole!r}")
    return head, tuple(names)


def _split_types(text):
    """Split ``f8[:,:],f8[:],i8`` at the commas outside brackets."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return [p.strip() for p in parts]


def parse_type(text, whole=None):
    m = _TYPE.match(text.strip())
    if not m:
        raise SignatureError(
            f"bad type {text.strip()!r} in signature {whole or text!r}: expected one of "
            f"{', '.join(DTYPES)} optionally followed by [:] or [:,:] (e.g. 'f8[:]')")
    ndim = 0 if m.group(2) is None else m.group(2).count(":")
    return ArgSpec(DTYPES[m.group(1)], ndim)


def parse_export(text):
    """``'loss:f8[:,:],f8[:],i8@0'`` -> Export. Raises SignatureError naming the text."""
    if ":" not in text:
        raise SignatureError(f"bad function signature {text!r}: expected NAME:TYPES, "
                             f"e.g. 'rosen:f8[:]' or 'loss:f8[:,:],f8[:],i8'")
    name, _, rest = text.partition(":")
    name = name.strip()
    if not name.isidentifier():
        raise SignatureError(f"bad function signature {text!r}: {name!r} is not a function name")
    rest, derivatives = _split_derivatives(rest, text)
    rest, at, nums = rest.partition("@")
    if not rest.strip():
        raise SignatureError(f"bad function signature {text!r}: no argument types after ':'")
    args = tuple(parse_type(t, text) for t in _split_types(rest))
    argnums = None
    if at:
        try:
            argnums = tuple(int(n) for n in nums.split(","))
        except ValueError:
            raise SignatureError(f"bad argnums {nums!r} in signature {text!r}: expected "
                                 f"comma-separated argument positions, e.g. '@0,2'") from None
        for i in argnums:
            if not 0 <= i < len(args):
                raise SignatureError(f"argnum {i} in signature {text!r} is out of range "
                                     f"({len(args)} argument(s))")
            if not args[i].is_float:
                raise SignatureError(f"argnum {i} in signature {text!r} is a {args[i].code()} "
                                     f"argument: only float arguments (f8, f4) are differentiated")
        if len(set(argnums)) != len(argnums):
            raise SignatureError(f"repeated argnum in signature {text!r}")
    return Export(name, args, argnums, text, derivatives)


def parse_types(text):
    """A bare type list (``'f8[:],i8'``), as ``tapeflow show --signature`` takes it."""
    return tuple(parse_type(t, text) for t in _split_types(text))
