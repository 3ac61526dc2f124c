"""The Python face of a compiled function: argument checks, one native call, result conversion.

The checking wrapper is generated Python source specialised to the signature (a fixed sequence
of ``type(x) is float`` style tests), which keeps entry overhead near one ctypes call. The native
entry builds the Python result and raises errors itself, so the wrapper is checks + one call.
"""
import ctypes

import numpy as np

from .. import typing as T

_CT = {"float64": ctypes.c_double, "float32": ctypes.c_float, "int64": ctypes.c_int64, "bool": ctypes.c_bool}


def _c_argtypes(t):
    if isinstance(t, T.Scalar):
        return [_CT[t.name]]
    if isinstance(t, T.Array):
        return [ctypes.py_object]
    return [x for it in t.items for x in _c_argtypes(it)]


def _to_float(v, name):
    if isinstance(v, (float, int, np.floating, np.integer)) and not isinstance(v, np.complexfloating):
        return float(v)
    raise TypeError(f"argument {name!r}: expected a float, got {type(v).__name__}")


def _to_int(v, name):
    if isinstance(v, (int, np.integer)):
        return int(v)
    raise TypeError(f"argument {name!r}: expected an int, got {type(v).__name__} "
                    "(compiled for an integer argument)")


_I64_MIN, _I64_MAX = -2 ** 63, 2 ** 63 - 1


def _overflow(v, name):
    raise OverflowError(f"argument {name!r}: {v} does not fit the compiled int64 "
                        f"(range {_I64_MIN}..{_I64_MAX})")


def _to_bool(v, name):
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    raise TypeError(f"argument {name!r}: expected a bool, got {type(v).__name__}")


def _bad_array(v, name, t):
    if isinstance(v, np.ndarray) and v.dtype == t.dtype.np_dtype and v.ndim == t.ndim:
        if not v.flags.aligned:
            raise TypeError(f"argument {name!r}: unaligned arrays are not supported natively")
        return
    got = (f"array of {v.dtype} with {v.ndim} dimension(s)" if isinstance(v, np.ndarray)
           else type(v).__name__)
    raise TypeError(f"argument {name!r}: expected a {t.ndim}-d array of {t.dtype}, got {got}")


class NativeFunction:
    """A compiled function; call it with the original Python arguments."""

    def __init__(self, address, tinfo, messages, ir_text, llmod, fast=None, code=None):
        self._code = code            # engine.Code: the machine code lives as long as this does
        self.address = address
        self.type_info = tinfo
        self.arg_types = tinfo.arg_types
        self.ret_type = tinfo.ret
        self.name = tinfo.fdef.name
        self.ir = ir_text
        self._llmod = llmod
        self._messages = messages
        self._alias_factory = None
        self._alias_variant = None
        self._fast = fast            # (address of the METH_FASTCALL entry, its fallback slot)
        self._keep = None
        argtypes = [x for t in self.arg_types for x in _c_argtypes(t)]
        # PYFUNCTYPE: the GIL stays held (the entry calls the C-API) and a NULL result re-raises
        # the exception the entry set; restype py_object takes ownership of the new reference.
        self._cfunc = ctypes.PYFUNCTYPE(ctypes.py_object, *argtypes)(address)
        self._rebuild_wrapper()

    def _rebuild_wrapper(self):
        # py_checked: the Python checking wrapper. py_entry: what to call — a builtin that goes
        # straight to native code and hands uncommon arguments to py_checked (not when written
        # arrays must be checked for overlap: that check lives in py_checked).
        self.py_checked = self.py_entry = _generate(self)
        if self._fast is not None and self._alias_factory is None:
            from .fastcall import make_builtin
            self.py_entry, self._keep = make_builtin(self.name, self._fast[0], self._fast[1], self.py_checked)
            self._keep.append(self._code)   # held by the builtin: it may outlive this object
        # calling the object itself: a per-instance subclass whose __call__ *is* py_entry (a
        # staticmethod, so no Python frame in between) — ~60 ns less than a forwarding method
        self.__class__ = type("NativeFunction", (NativeFunction,), {"__call__": staticmethod(self.py_entry)})

    def __call__(self, *args):
        return self.py_entry(*args)

    def _aliased_call(self, *args):
        if self._alias_variant is None:
            self._alias_variant = self._alias_factory()
        return self._alias_variant(*args)

    def inspect_asm(self):
        from .engine import asm_of
        if self._llmod is None:
            return "(loaded from the disk cache)"
        return asm_of(self._llmod)

    def __repr__(self):
        sig = ", ".join(map(repr, self.arg_types))
        return f"<NativeFunction {self.name}({sig}) -> {self.ret_type!r}>"


def _generate(nf):
    params = list(nf.type_info.params)
    env = {"_c": nf._cfunc, "_type": type, "_float": float, "_int": int, "_bool": bool,
           "_ndarray": np.ndarray, "_to_float": _to_float, "_to_int": _to_int, "_to_bool": _to_bool,
           "_bad_array": _bad_array, "_overflow": _overflow, "_tuple": tuple, "_len": len,
           "_may_share": np.may_share_memory, "_aliased": nf._aliased_call}
    lines = [f"def {nf.name}_native({', '.join(params)}):"]
    cargs = []
    arrays = []
    counter = [0]

    def check(expr, t, label):
        if isinstance(t, T.Scalar):
            py, conv = {"float64": ("_float", "_to_float"), "float32": ("_float", "_to_float"),
                        "int64": ("_int", "_to_int"), "bool": ("_bool", "_to_bool")}[t.name]
            lines.append(f"    if _type({expr}) is not {py}: {expr} = {conv}({expr}, {label!r})")
            if t == T.I64:      # ctypes would wrap silently: refuse before native code runs
                lines.append(f"    if not {_I64_MIN} <= {expr} <= {_I64_MAX}: _overflow({expr}, {label!r})")
            cargs.append(expr)
        elif isinstance(t, T.Array):
            k = counter[0]
            counter[0] += 1
            env[f"_t{k}"] = t
            env[f"_dt{k}"] = t.dtype.np_dtype
            lines.append(f"    if _type({expr}) is not _ndarray or {expr}.dtype is not _dt{k} "
                         f"or {expr}.ndim != {t.ndim}: _bad_array({expr}, {label!r}, _t{k})")
            if expr in nf.type_info.written_params:
                msg = f"assignment destination is read-only (argument {label!r})"
                lines.append(f"    if not {expr}.flags.writeable: raise ValueError({msg!r})")
            cargs.append(expr)
            arrays.append(expr)
        else:
            subs = []
            for j in range(len(t.items)):
                subs.append(f"{expr}_{j}")
            lines.append(f"    if _type({expr}) is not _tuple or _len({expr}) != {len(t.items)}: "
                         f"raise TypeError('argument {label}: expected a tuple of {len(t.items)} items')")
            lines.append(f"    {', '.join(subs)}, = {expr}")
            for j, (s, it) in enumerate(zip(subs, t.items)):
                check(s, it, f"{label}[{j}]")
    for p, t in zip(params, nf.arg_types):
        check(p, t, p)
    if nf._alias_factory is not None:
        written = [p for p in params if p in nf.type_info.written_params]
        conds = [f"_may_share({w}, {o})" for w in written for o in arrays if o != w]
        if conds:
            lines.append(f"    if {' or '.join(conds)}: return _aliased({', '.join(params)})")
    lines.append(f"    return _c({', '.join(cargs)})")
    src = "\n".join(lines) + "\n"
    exec(compile(src, f"<tapeflow native wrapper {nf.name}>", "exec"), env)
    fn = env[f"{nf.name}_native"]
    fn.__tapeflow_source__ = src
    return fn
