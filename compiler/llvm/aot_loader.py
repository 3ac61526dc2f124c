"""Text of an AOT module's C header and of its Python loader.

The loader is plain Python that needs numpy and ctypes only: it opens the shared library next
to it, declares the C prototypes once, and gives each export a function that checks its
arguments (TypeError naming the argument on a wrong kind/dtype/ndim), allocates the outputs
and turns a nonzero return code into the Python exception the compiled function raised.
Nothing here imports llvmlite; the texts are generated from the signatures alone.
"""
from .aot_loader_forward import (forward_functions, forward_header_lines, result_params,
                                 FORWARD_CONVENTION, TAKE_HELPER)

_NP_NAMES = {"float64": "_F8", "float32": "_F4", "int64": "_I8", "bool": "_B1"}
_CT_NAMES = {"float64": "_ct.c_double", "float32": "_ct.c_float", "int64": "_ct.c_int64",
             "bool": "_ct.c_uint8"}


class ExportInfo:
    """One exported function as the header and loader see it."""

    def __init__(self, name, params, export):
        self.name = name
        self.params = list(params)         # the Python parameter names
        self.args = export.args            # ArgSpec per parameter
        self.wrt = export.wrt()            # differentiated argument indices
        self.tuple_grads = len(self.wrt) > 1        # as tapeflow.grad with a tuple of argnums
        self.text = export.text
        self.derivatives = export.derivatives  # "grad", "jvp", "jacfwd" (aot_signature)
        self.value_ndim = 0                    # dimensions of the value (set once lowered)
        taken = set(self.params)
        self.tangent_params = []               # the Python names of jvp's tangents: x_dot
        for i in self.wrt:
            t = self.params[i] + "_dot"
            while t in taken:
                t += "_"
            taken.add(t)
            self.tangent_params.append(t)

    @property
    def grads(self):
        """Whether NAME_grad and NAME_value_and_grad are exported."""
        return bool(self.wrt) and "grad" in self.derivatives

    def describe(self):
        extra = "".join("+" + d for d in self.derivatives if d != "grad")
        return f"{self.name}({', '.join(f'{p}: {a.code()}' for p, a in zip(self.params, self.args))}){extra}"


# ------------------------------------------------------------------------------------- header

_CONVENTION = """\
Calling convention (all functions):
  * scalar arguments by value: f8 -> double, f4 -> float, i8 -> int64_t, b1 -> uint8_t (0/1);
  * an array argument X is three parameters: `const T *X` (data), `const int64_t *X_shape`
    (ndim extents) and `const int64_t *X_strides` (ndim strides in BYTES, multiples of
    sizeof(T); negative strides allowed); data aligned to sizeof(T). The arrays are only read;
  * outputs by pointer, after the arguments: `double *out_value` (the function's value), then
    one gradient output per differentiated argument, in argument order: `double *out_grad_X`
    for a scalar, and for an array a caller-allocated, C-contiguous buffer `T *out_grad_X`
    with X's dtype and shape;
  * the return value is 0 on success; 1 when the function raised an error (e.g. an index out
    of bounds) and 2 if a gradient did not fit its argument's shape. Then
    PREFIX_last_error() returns the message ("ExceptionName: text") of this thread's last
    failed call; outputs are unspecified.
  * the PREFIX_*__np entries are the Python loader's (they take numpy array objects); not for C.
  * functions returning arrays, NAME_jvp and NAME_jacfwd: see "Results of any shape" below;
  * thread-safe: calls of one function from several threads are serialized (a lock around
    its pools of temporaries); no global initialization is needed. Nothing calls Python."""


# C (and C++) keywords a Python parameter may be named: the header appends "_" to them
_C_RESERVED = set("""auto break case char const continue default do double else enum extern float
for goto if inline int long register restrict return short signed sizeof static struct switch
typedef union unsigned void volatile while bool true false class new delete this template
typename namespace operator private protected public virtual friend explicit mutable using
catch throw try int8_t int16_t int32_t int64_t uint8_t uint16_t uint32_t
uint64_t size_t NULL""".split())


def _c_names(info):
    """C parameter names: {(param, role): name} with role "", "shape", "strides" or "grad", and
    the name of the value output. The user's names come first (a C keyword gets "_"); a derived
    name (``x_shape``, ``out_grad_x``, ``out_value``) that another parameter already uses gets
    "_" appended until it is unique."""
    taken, names = set(), {}
    for p in info.params:
        c = p + "_" if p in _C_RESERVED else p
        while c in taken:
            c += "_"
        taken.add(c)
        names[(p, "")] = c

    def fresh(base):
        while base in taken:
            base += "_"
        taken.add(base)
        return base
    for p, a in zip(info.params, info.args):
        if a.ndim:
            names[(p, "shape")] = fresh(names[(p, "")] + "_shape")
            names[(p, "strides")] = fresh(names[(p, "")] + "_strides")
    for i in info.wrt:
        p = info.params[i]
        names[(p, "grad")] = fresh("out_grad_" + names[(p, "")])
    names["out_value"] = fresh("out_value")
    if info.value_ndim:
        names["out_value_shape"] = fresh("out_value_shape")
    if "jvp" in info.derivatives:
        for i, t in zip(info.wrt, info.tangent_params):
            p = info.params[i]
            names[(p, "dot")] = fresh(t if t not in _C_RESERVED else t + "_")
            if info.args[i].ndim:
                names[(p, "dot_shape")] = fresh(names[(p, "dot")] + "_shape")
                names[(p, "dot_strides")] = fresh(names[(p, "dot")] + "_strides")
        names["out_tangent"] = fresh("out_tangent")
        names["out_tangent_shape"] = fresh("out_tangent_shape")
    if "jacfwd" in info.derivatives:
        for i in info.wrt:
            p = info.params[i]
            names[(p, "jac")] = fresh("out_jac_" + names[(p, "")])
            names[(p, "jac_shape")] = fresh(names[(p, "jac")] + "_shape")
    return names


def _c_args(info, names):
    out = []
    for p, a in zip(info.params, info.args):
        if a.ndim:
            out += [f"const {a.ctype} *{names[(p, '')]}", f"const int64_t *{names[(p, 'shape')]}",
                    f"const int64_t *{names[(p, 'strides')]}"]
        else:
            out.append(f"{a.ctype} {names[(p, '')]}")
    return out


def _c_grads(info, names):
    out = []
    for i in info.wrt:
        a, g = info.args[i], names[(info.params[i], "grad")]
        out.append(f"{a.ctype} *{g}" if a.ndim else f"double *{g}")
    return out


def header_text(module, infos, source_name, cpu_desc):
    guard = f"TAPEFLOW_{module.upper()}_H"
    lines = [f"/* {module}.h -- gradients of {source_name}, compiled ahead of time by tapeflow",
             f" * (cpu: {cpu_desc}). Link with -l{module} (lib{module}.so) and -lm.", " *"]
    lines += [" * " + ln if ln else " *" for ln in _CONVENTION.replace("PREFIX", module).splitlines()]
    if any(info.value_ndim or set(info.derivatives) - {"grad"} for info in infos):
        lines += [" *"] + [" * " + ln if ln else " *"
                           for ln in FORWARD_CONVENTION.replace("PREFIX", module).splitlines()]
    lines += [" */", f"#ifndef {guard}", f"#define {guard}", "", "#include <stdint.h>", "",
              "#ifdef __cplusplus", 'extern "C" {', "#endif", "",
              f"/* Message of this thread's last failed call (\"ExceptionName: text\"). */",
              f"const char *{module}_last_error(void);", ""]
    lines += ["/* Releases a result the library allocated (an array result's data). */",
              f"void {module}_free(void *data);", ""]
    lines += ["/* Identity of this build (\"TAPEFLOW-ID:<sha256>:<signatures>\"). */",
              f"const char *{module}_identity(void);", ""]
    for info in infos:
        names = _c_names(info)
        args = _c_args(info, names)
        out_value = f"double *{names['out_value']}"
        wrt = ", ".join(info.params[i] for i in info.wrt) or "nothing (no float argument)"
        lines.append(f"/* {info.describe()}; derivatives with respect to {wrt} */")
        if info.value_ndim:
            lines.append(f"int32_t {module}_{info.name}({', '.join(args + result_params('out_value', info.value_ndim, names))});")
        else:
            lines.append(f"int32_t {module}_{info.name}({', '.join(args + [out_value])});")
        lines += forward_header_lines(module, info, names, args)
        if info.grads:
            lines.append(f"int32_t {module}_{info.name}_grad({', '.join(args + _c_grads(info, names))});")
            lines.append(f"int32_t {module}_{info.name}_value_and_grad("
                         f"{', '.join(args + [out_value] + _c_grads(info, names))});")
        lines.append("")
    lines += ["#ifdef __cplusplus", "}", "#endif", f"#endif /* {guard} */", ""]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------- loader

_PRELUDE = '''\
import ctypes as _ct
import os as _os

import numpy as _np

_IDENTITY = "{identity}"
_LIB_SHA256 = "{lib_sha256}"


def _open_library():
    """The library, after checking (before dlopen: a truncated file would SIGBUS) that it is
    exactly the build this loader was written for."""
    import hashlib
    import re
    path = _os.path.join(_os.path.dirname(_os.path.abspath(__file__)), "lib{module}.so")
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise ImportError(f"{module}: cannot read its library {{path}}: {{e}}") from None
    if hashlib.sha256(data).hexdigest() != _LIB_SHA256:
        found = re.search(rb"TAPEFLOW-ID:([0-9a-f]{{64}}):([^\\0]{{0,2000}})", data)
        what = (f"build {{found.group(1).decode()}} of {{found.group(2).decode('utf-8', 'replace')}}"
                if found else f"not a tapeflow build, or damaged ({{len(data)}} bytes)")
        raise ImportError(f"{module}: {{path}} is not the library this loader was built with: "
                          f"the loader expects build {{_IDENTITY}} ({describe}); the file is {{what}}. "
                          "Rebuild the module, or keep the loader and library of one build together.")
    lib = _ct.CDLL(path)
    lib.{module}_identity.restype = _ct.c_char_p
    lib.{module}_identity.argtypes = []
    if lib.{module}_identity().decode().split(":")[1] != _IDENTITY:
        raise ImportError(f"{module}: library identity mismatch (expected {{_IDENTITY}})")
    return lib


_lib = _open_library()
_lib.{module}_last_error.restype = _ct.c_char_p
_lib.{module}_last_error.argtypes = []
_P = _ct.c_void_p
_I32 = _ct.c_int32
_F8, _F4, _I8, _B1 = (_np.dtype(t) for t in ("float64", "float32", "int64", "bool"))
_ndarray = _np.ndarray
_ERRORS = {{e.__name__: e for e in (IndexError, ValueError, TypeError, ZeroDivisionError,
                                    OverflowError, MemoryError, AssertionError, KeyError,
                                    FloatingPointError, RuntimeError)}}


def _fail(code):
    text = (_lib.{module}_last_error() or b"").decode("utf-8", "replace")
    name, _, msg = text.partition(": ")
    if name in _ERRORS:
        raise _ERRORS[name](msg)
    raise RuntimeError(f"{module}: error code {{code}}: {{text}}")


def _float(v, name):
    if isinstance(v, (float, int, _np.floating, _np.integer)) and not isinstance(v, (bool, _np.bool_)):
        return float(v)
    if isinstance(v, _ndarray) and v.ndim == 0 and v.dtype.kind in "fiu":
        return float(v)
    raise TypeError(f"argument {{name!r}}: expected a float, got {{type(v).__name__}}")


def _int(v, name):
    if isinstance(v, (int, _np.integer)) and not isinstance(v, (bool, _np.bool_)):
        return int(v)
    raise TypeError(f"argument {{name!r}}: expected an int, got {{type(v).__name__}}")


def _overflow(v, name):
    raise OverflowError(f"argument {{name!r}}: {{v}} does not fit int64")


def _bool(v, name):
    if isinstance(v, (bool, _np.bool_)):
        return int(bool(v))
    raise TypeError(f"argument {{name!r}}: expected a bool, got {{type(v).__name__}}")


def _np_fields():
    """Whether numpy arrays have the field layout the library's ``__np`` entries read
    (data at +16, dimensions at +32, strides at +40 of the object: numpy's stable ABI)."""
    try:
        a = _np.zeros((2, 3))
        at = lambda off: _ct.c_void_p.from_address(id(a) + off).value  # noqa: E731
        dims = tuple((_ct.c_int64 * 2).from_address(at(32)))
        strides = tuple((_ct.c_int64 * 2).from_address(at(40)))
        return at(16) == a.__array_interface__["data"][0] and dims == a.shape and strides == a.strides
    except Exception:
        return False


_NP_FIELDS = _np_fields()
_O = _ct.py_object


def _array(v, name, dtype, ndim):
    """The argument as an array the library reads (aligned); TypeError if it is not one."""
    if not isinstance(v, _ndarray):
        raise TypeError(f"argument {{name!r}}: expected a {{ndim}}-d array of {{dtype}}, "
                        f"got {{type(v).__name__}}")
    if v.dtype.newbyteorder("=") != dtype or v.ndim != ndim:
        raise TypeError(f"argument {{name!r}}: expected a {{ndim}}-d array of {{dtype}}, "
                        f"got a {{v.ndim}}-d array of {{v.dtype}}")
    if v.dtype.byteorder not in "=|" or not v.flags.aligned:
        v = _np.ascontiguousarray(v, dtype=dtype.newbyteorder("="))
    return v
'''


# Inside the generated functions every name that is not a parameter starts with a prefix no
# parameter starts with (``_tf_``, lengthened if needed), bound at module level to the helpers:
# a parameter named ``_np``, ``_v``, ``type`` or ``x_c`` shadows nothing the body uses.
_HELPERS = ("np", "ct", "ndarray", "F8", "F4", "I8", "B1", "array", "float", "int", "bool",
            "overflow", "fail", "take")
_BUILTINS = ("type", "pyfloat", "pyint", "pybool")


def name_prefix(infos):
    prefix = "_tf_"
    while any(p.startswith(prefix) for info in infos for p in info.params + info.tangent_params):
        prefix += "_"
    return prefix


def _aliases(P):
    lines = [f"{P}{h} = _{h}" for h in _HELPERS]
    lines += [f"{P}type, {P}pyfloat, {P}pyint, {P}pybool = type, float, int, bool"]
    return lines


def _check_lines(info, P, numpy_objects=False):
    """Argument checks: a fast identity test inline, the full check only when it fails."""
    lines = []
    for p, a in zip(info.params, info.args):
        if a.ndim:
            dt = P + _NP_NAMES[a.dtype][1:]
            lines.append(f"    if {P}type({p}) is not {P}ndarray or {p}.dtype is not {dt} or {p}.ndim != {a.ndim} "
                         f"or not {p}.flags.aligned:")
            lines.append(f"        {p} = {P}array({p}, {p!r}, {dt}, {a.ndim})")
            if not numpy_objects:
                lines.append(f"    {P}a_{p} = {p}.ctypes")
        else:
            py, conv = {"float64": ("pyfloat", "float"), "float32": ("pyfloat", "float"),
                        "int64": ("pyint", "int"), "bool": ("pybool", "bool")}[a.dtype]
            if a.dtype == "bool":
                lines.append(f"    {p} = {P}bool({p}, {p!r})")
            else:
                lines.append(f"    if {P}type({p}) is not {P}{py}: {p} = {P}{conv}({p}, {p!r})")
            if a.dtype == "int64":      # ctypes would wrap silently
                lines.append(f"    if not -0x8000000000000000 <= {p} <= 0x7fffffffffffffff: {P}overflow({p}, {p!r})")
    return lines


def _call_args(info, P, numpy_objects):
    out = []
    for p, a in zip(info.params, info.args):
        if a.ndim:
            out += [p] if numpy_objects else [f"{P}a_{p}.data", f"{P}a_{p}.shape", f"{P}a_{p}.strides"]
        else:
            out.append(p)
    return out


def _argtypes(info, value, grads, numpy_objects):
    out = []
    for a in info.args:
        if a.ndim:
            out += ["_O"] if numpy_objects else ["_P", "_P", "_P"]
        else:
            out.append(_CT_NAMES[a.dtype])
    out += ["_P"] if value else []
    for i in info.wrt if grads else ():
        out.append("_O" if numpy_objects and info.args[i].ndim else "_P")
    return "[" + ", ".join(out) + "]"


def _grad_outputs(info, P, numpy_objects):
    """(allocation lines, call arguments, result expressions) of the gradient outputs."""
    alloc, cargs, results = [], [], []
    for i in info.wrt:
        p, a = info.params[i], info.args[i]
        g = f"{P}g_{p}"
        if a.ndim:
            alloc.append(f"    {g} = {P}np.empty({p}.shape, {P}{_NP_NAMES[a.dtype][1:]})")
            cargs.append(g if numpy_objects else f"{g}.ctypes.data")
            results.append(g)
        else:
            alloc.append(f"    {g} = {P}ct.c_double()")
            cargs.append(f"{P}ct.byref({g})")
            results.append(f"{g}.value")
    return alloc, cargs, results


def _function(module, info, suffix, P, numpy_objects=False):
    cname = f"{module}_{info.name}{suffix}" + ("__np" if numpy_objects else "")
    value = suffix != "_grad"
    grads = suffix != ""
    g_alloc, g_args, g_res = _grad_outputs(info, P, numpy_objects) if grads else ([], [], [])
    handle = f"{P}c_{info.name}{suffix}"
    lines = [f"{handle} = _lib.{cname}",
             f"{handle}.argtypes = {_argtypes(info, value, grads, numpy_objects)}",
             f"{handle}.restype = _I32", "", "",
             f"def {info.name}{suffix}({', '.join(info.params)}):"]
    what = {"": "the value", "_grad": "the gradient", "_value_and_grad": "(value, gradient)"}[suffix]
    wrt = ", ".join(info.params[i] for i in info.wrt)
    lines.append(f'    """{what.capitalize() if what[0] != "(" else what} of {info.describe()}'
                 + (f" with respect to {wrt}" if grads else "") + '."""')
    lines += _check_lines(info, P, numpy_objects)
    outs = []
    if value:
        lines.append(f"    {P}v = {P}ct.c_double()")
        outs.append(f"{P}ct.byref({P}v)")
    lines += g_alloc
    outs += g_args
    lines.append(f"    {P}r = {handle}({', '.join(_call_args(info, P, numpy_objects) + outs)})")
    lines.append(f"    if {P}r:")
    lines.append(f"        {P}fail({P}r)")
    grad_expr = None
    if grads:
        grad_expr = f"({', '.join(g_res)},)" if info.tuple_grads else g_res[0]
    if suffix == "":
        lines.append(f"    return {P}v.value")
    elif suffix == "_grad":
        lines.append(f"    return {grad_expr}")
    else:
        lines.append(f"    return {P}v.value, {grad_expr}")
    return lines


def identity_description(infos, cpu_desc):
    return "; ".join(info.describe() for info in infos) + f"; cpu {cpu_desc}"


def loader_text(module, infos, source_name, cpu_desc, identity="", lib_sha256=""):
    names = []
    for info in infos:
        names.append(info.name)
        if info.grads:
            names += [info.name + "_grad", info.name + "_value_and_grad"]
        names += [info.name + "_" + d for d in ("jvp", "jacfwd") if d in info.derivatives]
    doc = [f'"""{module}: gradients of {source_name}, compiled ahead of time by tapeflow (cpu: {cpu_desc}).',
           "",
           "Needs only numpy and ctypes; the code is in lib" + module + ".so next to this file.",
           "Gradients are taken with respect to the float arguments named below; a gradient is",
           "returned as a float for a scalar argument and as an array shaped like the argument;",
           "several are returned as a tuple. NAME_jvp(*args, *tangents) returns (value, tangent)",
           "(a tangent per differentiated argument, shaped like it); NAME_jacfwd(*args) the",
           "Jacobian (the value's shape, then the argument's), a tuple of them for several.", ""]
    for info in infos:
        wrt = ", ".join(info.params[i] for i in info.wrt) or "(none)"
        what = ", ".join(info.derivatives) if info.wrt else "nothing"
        doc.append(f"    {info.describe()}  -- {what} with respect to {wrt}")
    doc.append('"""')
    describe = identity_description(infos, cpu_desc).replace("\\", "/").replace('"', "'")
    out = doc + [_PRELUDE.format(module=module, identity=identity, lib_sha256=lib_sha256,
                                 describe=describe.replace("{", "{{").replace("}", "}}"))]
    out += [TAKE_HELPER.format(module=module)]
    P = name_prefix(infos)
    out += _aliases(P)
    for info in infos:
        out += forward_functions(module, info, P, _check_lines)
        suffixes = ("",) if not info.value_ndim else ()
        suffixes += ("_grad", "_value_and_grad") if info.grads else ()
        for suffix in suffixes:
            if not any(a.ndim for a in info.args):
                out += ["", ""] + _function(module, info, suffix, P)
                continue
            # arrays: pass the numpy objects themselves when numpy's layout is the known one
            out += ["", "", "if _NP_FIELDS:"]
            out += [("    " + ln) if ln else ln for ln in _function(module, info, suffix, P, True)]
            out += ["else:"]
            out += [("    " + ln) if ln else ln for ln in _function(module, info, suffix, P, False)]
    out += ["", "", f"__all__ = {names!r}", ""]
    return "\n".join(out)

