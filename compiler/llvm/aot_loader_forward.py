"""Header and loader text of the entries with results of any shape (aot_forward.py):
array-valued functions, NAME_jvp and NAME_jacfwd. Generated from the signatures and the
value's number of dimensions alone; nothing here imports llvmlite."""
from types import SimpleNamespace

_CT_NAMES = {"float64": "_ct.c_double", "float32": "_ct.c_float", "int64": "_ct.c_int64",
             "bool": "_ct.c_uint8"}

FORWARD_CONVENTION = """\
Results of any shape (functions returning arrays, PREFIX_NAME_jvp, PREFIX_NAME_jacfwd):
  * a scalar result is a `double *`; an array result of d dimensions is two outputs,
    `double **R` and `int64_t *R_shape` (d extents, written by the call): the library
    allocates the C-contiguous float64 data and the caller releases it with PREFIX_free(*R).
    After a nonzero return nothing is allocated and *R is NULL;
  * PREFIX_NAME_jvp takes, after the arguments, one tangent per differentiated argument,
    passed as that argument is (same type; an array's shape must equal the argument's), and
    writes the value and the tangent J @ tangents (shaped like the value);
  * PREFIX_NAME_jacfwd writes one Jacobian per differentiated argument X, shaped as the value
    followed by X (d(value)[i...] / dX[j...] at [i..., j...])."""

TAKE_HELPER = '''
_lib.{module}_free.restype = None
_lib.{module}_free.argtypes = [_ct.c_void_p]


def _take(data, shape):
    """A result the library allocated, as a numpy array (copied; the library's buffer freed)."""
    out = _np.empty(tuple(shape), _F8)
    if out.nbytes:
        _ct.memmove(out.ctypes.data, data.value, out.nbytes)
    _lib.{module}_free(data)
    return out
'''


def result_params(base, ndim, names):
    """C parameters of the result named ``base`` in ``names`` (see _c_names)."""
    if not ndim:
        return [f"double *{names[base]}"]
    return [f"double **{names[base]}", f"int64_t *{names[base + '_shape']}"]


def _tangent_c_args(info, names):
    out = []
    for i in info.wrt:
        p, a = info.params[i], info.args[i]
        t = names[(p, "dot")]
        if a.ndim:
            out += [f"const {a.ctype} *{t}", f"const int64_t *{names[(p, 'dot_shape')]}",
                    f"const int64_t *{names[(p, 'dot_strides')]}"]
        else:
            out.append(f"{a.ctype} {t}")
    return out


def forward_header_lines(module, info, names, args):
    lines = []
    if not info.wrt:
        return lines
    nd = info.value_ndim
    if "jvp" in info.derivatives:
        outs = result_params("out_value", nd, names) + result_params("out_tangent", nd, names)
        lines.append(f"int32_t {module}_{info.name}_jvp("
                     f"{', '.join(args + _tangent_c_args(info, names) + outs)});")
    if "jacfwd" in info.derivatives:
        outs = []
        for i in info.wrt:
            p = info.params[i]
            jd = nd + info.args[i].ndim
            outs += result_params((p, "jac"), jd, names) if not jd else \
                [f"double **{names[(p, 'jac')]}", f"int64_t *{names[(p, 'jac_shape')]}"]
        lines.append(f"int32_t {module}_{info.name}_jacfwd({', '.join(args + outs)});")
    return lines


def _result_ndims(info, suffix):
    nd = info.value_ndim
    if suffix == "":
        return [nd]
    if suffix == "_jvp":
        return [nd, nd]
    return [nd + info.args[i].ndim for i in info.wrt]


def _function(module, info, suffix, P, check_lines):
    """The loader's function NAME{suffix} (pointer arguments: arrays as data, shape, strides)."""
    tangents = suffix == "_jvp"
    params = info.params + (info.tangent_params if tangents else [])
    args = list(info.args) + ([info.args[i] for i in info.wrt] if tangents else [])
    view = SimpleNamespace(params=params, args=args)
    argtypes = []
    for a in args:
        argtypes += ["_P", "_P", "_P"] if a.ndim else [_CT_NAMES[a.dtype]]
    ndims = _result_ndims(info, suffix)
    for nd in ndims:
        argtypes += ["_P", "_P"] if nd else ["_P"]
    handle = f"{P}c_{info.name}{suffix}"
    wrt = ", ".join(info.params[i] for i in info.wrt)
    what = {"": "The value", "_jvp": "(value, J @ tangents)",
            "_jacfwd": "The Jacobian (value's shape + the argument's)"}[suffix]
    lines = [f"{handle} = _lib.{module}_{info.name}{suffix}",
             f"{handle}.argtypes = [{', '.join(argtypes)}]",
             f"{handle}.restype = _I32", "", "",
             f"def {info.name}{suffix}({', '.join(params)}):",
             f'    """{what} of {info.describe()}'
             + (f" with respect to {wrt}" if suffix else "") + '."""']
    lines += check_lines(view, P)
    call, results = [], []
    for p, a in zip(params, args):
        call += [f"{P}a_{p}.data", f"{P}a_{p}.shape", f"{P}a_{p}.strides"] if a.ndim else [p]
    for k, nd in enumerate(ndims):
        o = f"{P}o{k}"
        if nd:
            lines.append(f"    {o}, {P}s{k} = {P}ct.c_void_p(), ({P}ct.c_int64 * {nd})()")
            call += [f"{P}ct.byref({o})", f"{P}s{k}"]
            results.append(f"{P}take({o}, {P}s{k})")
        else:
            lines.append(f"    {o} = {P}ct.c_double()")
            call.append(f"{P}ct.byref({o})")
            results.append(f"{o}.value")
    lines += [f"    {P}r = {handle}({', '.join(call)})", f"    if {P}r:", f"        {P}fail({P}r)"]
    if suffix == "_jvp":
        lines.append(f"    return {results[0]}, {results[1]}")
    elif suffix == "_jacfwd" and len(results) > 1:
        lines.append(f"    return ({', '.join(results)},)")
    else:
        lines.append(f"    return {results[0]}")
    return lines


def forward_functions(module, info, P, check_lines):
    """Loader lines of the entries of ``info`` that aot_forward.py writes."""
    out = []
    suffixes = [""] if info.value_ndim else []
    if info.wrt:
        suffixes += ["_" + d for d in ("jvp", "jacfwd") if d in info.derivatives]
    for suffix in suffixes:
        out += ["", ""] + _function(module, info, suffix, P, check_lines)
    return out
