"""Ahead-of-time lowering: plain C-ABI entry points around the backend's lowered bodies.

The JIT entry (entry.py) takes numpy objects and builds Python results through the CPython
API, which a C program or a Python without llvmlite cannot provide. Here every exported
function gets a C wrapper instead, in the same LLVM module as its body:

    int32_t MOD_f(<args>, double *out_value)                            primal
    int32_t MOD_f_grad(<args>, <gradient outputs>)                      gradient
    int32_t MOD_f_value_and_grad(<args>, double *out_value, <outputs>)  both

* a scalar argument is passed by value (double, float, int64_t, uint8_t for bool);
* an array argument is three pointers: data, shape (ndim int64), strides (ndim int64, in
  bytes, multiples of the item size; negative allowed);
* a gradient output is a ``double *`` for a scalar argument, and for an array argument a
  caller-allocated, C-contiguous buffer of the argument's dtype and shape;
* the result is 0 on success; 1 when the function raised (message via MOD_last_error());
  2 when a gradient's shape does not fit its argument (a bug to report).

The body is the backend's internal function ``i32 body(ret slot, ctx, flattened args)``; the
wrapper converts byte strides to element strides, calls it, copies results out of the body's
arena (result arrays may live there) into the caller's buffers, and frees the arena. Module
constants are embedded as private globals rather than the JIT's in-process addresses.
Per-module state (temporary pools, save-stack pools) is guarded by a spin lock, so calls from
several threads are safe (serialized per function); the error text is thread-local.
"""
import re

import llvmlite.binding as llvm
from llvmlite import ir

from .. import typing as T
from . import engine
from . import types as L
from .errors import emit_message_switch

ERRBUF_SIZE = 512
ERR_RAISED, ERR_SHAPE = 1, 2

# symbols the generated code may take from libc/libm; anything else external is refused
_C_RUNTIME = {"malloc", "realloc", "free", "snprintf", "sched_yield"}


class AotError(Exception):
    """A function (or a construct in it) that cannot be compiled ahead of time."""


def spec_type(spec):
    """compiler.typing type of an aot_signature.ArgSpec."""
    s = T.SCALARS[spec.dtype]
    return T.Array(s, spec.ndim, "C") if spec.ndim else s


# ------------------------------------------------------------------------------ target machine

def _init_llvm():
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()


def baseline_cpu(triple):
    """The architecture's baseline CPU: the object runs on any machine of that architecture."""
    arch = triple.split("-")[0]
    return {"x86_64": "x86-64", "aarch64": "generic", "arm64": "generic"}.get(arch, "generic")


def target_machine(cpu=None):
    """An AOT target machine: PIC code for a shared library; ``cpu``: None (baseline),
    "native" (this host's CPU and features, as the JIT uses) or an LLVM CPU name."""
    _init_llvm()
    triple = llvm.get_process_triple()
    target = llvm.Target.from_triple(triple)
    if cpu == "native":
        name, features = llvm.get_host_cpu_name(), llvm.get_host_cpu_features().flatten()
    else:
        name, features = (cpu or baseline_cpu(triple)), ""
    try:
        return target.create_target_machine(cpu=name, features=features, opt=3, reloc="pic",
                                            codemodel="default")
    except RuntimeError as e:
        raise AotError(f"cannot create a target machine for cpu {name!r}: {e}") from None


# ------------------------------------------------------------------------------ small emitters

def broadcast_strides(b, v, shape):
    """Whether array ``v`` does not broadcast to ``shape`` (each extent equal or 1), and the
    strides that read it at that shape (0 along the extents of 1)."""
    bad, strides = ir.Constant(L.I1, 0), []
    for k in range(len(shape)):
        same = b.icmp_signed("==", v.shape[k], shape[k])
        one = b.icmp_signed("==", v.shape[k], _c(1))
        bad = b.or_(bad, b.and_(b.not_(same), b.not_(one)))
        strides.append(b.select(same, v.strides[k], _c(0)))
    return bad, strides


def _c(v, ty=L.I64):
    return ir.Constant(ty, v)


class _Code:
    """A builder positioned in a wrapper, with the loops and strings the wrapper needs."""

    def __init__(self, module, fn):
        self.module, self.fn = module, fn
        self.b = ir.IRBuilder(fn.append_basic_block("entry"))

    def loop(self, n, body):
        """for k in range(n): body(k) -- a counted loop with a phi induction variable."""
        b = self.b
        pre = b.block
        head, inner, done = (self.fn.append_basic_block(x) for x in ("loop", "body", "done"))
        b.branch(head)
        b.position_at_end(head)
        k = b.phi(L.I64)
        k.add_incoming(_c(0), pre)
        b.cbranch(b.icmp_signed("<", k, n), inner, done)
        b.position_at_end(inner)
        body(k)
        k.add_incoming(b.add(k, _c(1), flags=["nsw"]), b.block)
        b.branch(head)
        b.position_at_end(done)

    def nest(self, shape, body, idx=()):
        if len(idx) == len(shape):
            body(list(idx))
            return
        self.loop(shape[len(idx)], lambda k: self.nest(shape, body, idx + (k,)))

    def cstring(self, text, name):
        data = bytearray(text.encode("utf-8") + b"\0")
        ty = ir.ArrayType(L.I8, len(data))
        g = ir.GlobalVariable(self.module, ty, self.module.get_unique_name(name))
        g.global_constant = True
        g.linkage = "private"
        g.initializer = ir.Constant(ty, data)
        return g


def _convert(b, v, src, dst):
    """Scalar ``v`` of type ``src`` as LLVM type ``dst`` (double/float; bool/int widen)."""
    if not isinstance(src, T.Scalar):
        raise AotError(f"a result of type {src!r} where a scalar is exported")
    if isinstance(dst, (ir.DoubleType, ir.FloatType)):
        if src.is_float:
            have = L.scalar_ll(src)
            if have == dst:
                return v
            return b.fpext(v, dst) if isinstance(dst, ir.DoubleType) else b.fptrunc(v, dst)
        return b.uitofp(v, dst) if src == T.BOOL else b.sitofp(v, dst)
    raise AotError(f"a result of type {src!r} cannot be written as {dst}")


# ------------------------------------------------------------------------------ one export

class WrapperSpec:
    """What one C entry point takes and writes.

    ``args``: ArgSpecs of the user's parameters; ``extra``: trailing body arguments the wrapper
    supplies itself (the gradient's seed ``dout=1.0``); ``value``: writes the function value;
    ``grads``: indices of the arguments whose gradients are written; ``nested``: the body
    returns (value, (g1, g2...)) rather than (value, g) -- tapeflow's tuple argnums.
    """

    def __init__(self, cname, args, extra=(), value=True, grads=(), nested=False, from_gradient=False,
                 numpy_objects=False):
        self.cname, self.args, self.extra = cname, tuple(args), tuple(extra)
        self.value, self.grads, self.nested = value, tuple(grads), nested
        self.from_gradient = from_gradient
        # the loader's variant: arrays (arguments and gradient outputs) arrive as numpy array
        # objects whose fields are read at numpy's stable offsets -- plain memory reads, no
        # Python API -- which saves the loader ~2 us of ``arr.ctypes`` per array and call
        self.numpy_objects = numpy_objects


# numpy's PyArrayObject_fields: PyObject_HEAD (16 bytes), data, nd, dimensions, strides
NP_DATA, NP_DIMS, NP_STRIDES = 16, 32, 40


def _np_field(b, obj, off):
    return b.load(b.gep(obj, [_c(off)], source_etype=L.I8), typ=L.PTR)


def c_params(args, numpy_objects=False):
    """LLVM parameter types of the user's arguments at the C boundary."""
    out = []
    for a in args:
        if a.ndim:
            out += [L.PTR] if numpy_objects else [L.PTR, L.PTR, L.PTR]
        else:
            out.append(L.I8 if a.dtype == "bool" else L.scalar_ll(T.SCALARS[a.dtype]))
    return out


def lower_body(funcdef, arg_types, constants, module_name, tm, boundscheck=True):
    """Type and lower ``funcdef`` into a fresh module for ``tm``; (module context, type info, body)."""
    from .compile import lower_body as lower
    return lower(funcdef, arg_types, module_name=module_name, triple=llvm.get_process_triple(),
                 data_layout=str(tm.target_data), boundscheck=boundscheck, noalias=None,
                 constants=constants)


def read_args(b, params, args, arg_types, numpy_objects=False):
    """The body's flattened arguments from the C parameters ``params`` (an iterator, advanced
    past the arguments ``args``), and {argument index: its extents} of the array arguments."""
    flat, shapes = [], {}
    for i, (a, t) in enumerate(zip(args, arg_types)):
        if not a.ndim:
            v = next(params)
            flat.append(b.icmp_unsigned("!=", v, _c(0, L.I8)) if a.dtype == "bool" else v)
            continue
        if numpy_objects:
            obj = next(params)
            data, shp, strd = (_np_field(b, obj, off) for off in (NP_DATA, NP_DIMS, NP_STRIDES))
        else:
            data, shp, strd = next(params), next(params), next(params)
        dims = [b.load(b.gep(shp, [_c(k)], source_etype=L.I64), typ=L.I64) for k in range(a.ndim)]
        size = _c(L.itemsize(t.dtype))
        # byte strides -> element strides (exact: the header requires multiples of the item size)
        strides = [b.sdiv(b.load(b.gep(strd, [_c(k)], source_etype=L.I64), typ=L.I64), size)
                   for k in range(a.ndim)]
        flat += [data] + dims + strides
        shapes[i] = dims
    return flat, shapes


def emit_wrapper(mctx, ti, body, spec, errfn):
    """The C entry ``spec.cname`` around ``body`` in ``mctx.module``."""
    mod = mctx.module
    outs = ([L.PTR] if spec.value else []) + [L.PTR] * len(spec.grads)
    fn = ir.Function(mod, ir.FunctionType(L.I32, c_params(spec.args, spec.numpy_objects) + outs), spec.cname)
    code = _Code(mod, fn)
    b = code.b
    params = iter(fn.args)
    flat, shapes = read_args(b, params, spec.args, ti.arg_types, spec.numpy_objects)
    for t, v in spec.extra:
        flat.append(ir.Constant(L.scalar_ll(t), v))
    out_ptrs = list(params)

    lock = _lock_global(mod)
    _acquire(code, lock)
    ctx = L.alloca(b, L.CTX_STRUCT)
    b.store(ir.Constant(L.CTX_STRUCT, None), ctx)
    rt = ti.ret
    slot = L.alloca(b, L.ll_type(rt))
    status = L.alloca(b, L.I32)
    st = b.call(body.fn, [slot, ctx] + flat)
    b.store(st, status)
    with b.if_else(b.icmp_signed("==", st, _c(0, L.I32))) as (ok, failed):
        with ok:
            res = L.unpack(b, rt, b.load(slot, typ=L.ll_type(rt)))
            if spec.numpy_objects:     # gradient arrays: numpy objects -> their data
                k0 = int(spec.value)
                for k, i in enumerate(spec.grads):
                    if spec.args[i].ndim:
                        out_ptrs[k0 + k] = _np_field(b, out_ptrs[k0 + k], NP_DATA)
            _store_results(code, spec, ti, res, shapes, out_ptrs, status, errfn)
        with failed:
            _report_raised(code, mctx, ctx, errfn)
            b.store(_c(ERR_RAISED, L.I32), status)
    b.call(mctx.arena_free(), [ctx])
    _release(code, lock)
    b.ret(b.load(status, typ=L.I32))
    return fn


def _store_results(code, spec, ti, res, shapes, out_ptrs, status, errfn):
    b = code.b
    rt = ti.ret
    outs = iter(out_ptrs)
    if spec.from_gradient:
        value, vt = res.items[0], rt.items[0]
        gvals, gtypes = res.items[1], rt.items[1]
        if spec.nested:
            gvals, gtypes = gvals.items, gtypes.items
        else:
            gvals, gtypes = [gvals], [gtypes]
    else:
        value, vt, gvals, gtypes = res, rt, [], []
    if spec.value:
        b.store(_convert(b, value, vt, L.F64), next(outs))
    if not spec.grads:
        return
    for i, g, gt in zip(spec.grads, gvals, gtypes):
        a = spec.args[i]
        dst = next(outs)
        if not a.ndim:
            b.store(_convert(b, g, gt, L.F64), dst)
            continue
        _copy_gradient(code, a, shapes[i], g, gt, dst, status, errfn)


def _copy_gradient(code, a, shape, g, gt, dst, status, errfn):
    """Write gradient ``g`` into the C-contiguous buffer ``dst`` shaped like argument ``a``.
    A scalar gradient fills it; an array broadcasts (extent 1 -> stride 0), as numpy would."""
    b = code.b
    elt = L.scalar_ll(T.SCALARS[a.dtype])
    if isinstance(gt, T.Scalar):
        v = _convert(b, g, gt, elt)
        n = _c(1)
        for d in shape:
            n = b.mul(n, d)
        code.loop(n, lambda k: b.store(v, b.gep(dst, [k], source_etype=elt)))
        return
    if not isinstance(gt, T.Array) or gt.ndim != a.ndim or not gt.dtype.is_float:
        raise AotError(f"gradient of type {gt!r} for a {a.code()} argument is not supported ahead of time")
    bad, strides = broadcast_strides(b, g, shape)
    with b.if_else(bad) as (mismatch, fine):
        with mismatch:
            msg = code.cstring("ValueError: gradient of shape (%lld, ...) does not fit its argument "
                               "of extent %lld in dimension %lld", "tf_aot_msg")
            b.call(errfn, [msg, g.shape[0], shape[0], _c(0)])
            b.store(_c(ERR_SHAPE, L.I32), status)
        with fine:
            src_elt = L.elem_ll(gt.dtype)
            # destination strides of a C-contiguous array of ``shape``
            cstr = [None] * a.ndim
            s = _c(1)
            for k in range(a.ndim - 1, -1, -1):
                cstr[k] = s
                s = b.mul(s, shape[k])

            def one_element(idx):
                so, do = _c(0), _c(0)
                for k, i in enumerate(idx):
                    so = b.add(so, b.mul(i, strides[k]))
                    do = b.add(do, b.mul(i, cstr[k]))
                v = b.load(b.gep(g.data, [so], source_etype=src_elt), typ=src_elt)
                b.store(_convert(b, v, gt.dtype, elt), b.gep(dst, [do], source_etype=elt))
            code.nest(shape, one_element)


def _report_raised(code, mctx, ctx, errfn):
    """The body's error record (message id, three integers) as text in the error buffer."""
    def write(exc, cformat, x, y, z):
        # keep the exception's name in front: the loader raises that class
        code.b.call(errfn, [code.cstring(f"{exc}: " + cformat, "tf_aot_msg"), x, y, z])

    def unknown(x, y, z):
        code.b.call(errfn, [code.cstring("RuntimeError: the compiled function failed", "tf_aot_msg"),
                            x, y, z])
    emit_message_switch(code.b, code.fn, mctx, ctx, write, unknown)


# A spin lock per LLVM module: the module's pools of temporaries are plain globals.
def _lock_global(mod):
    g = mod.globals.get("tf_aot_lock")
    if g is None:
        g = ir.GlobalVariable(mod, L.I32, "tf_aot_lock")
        g.linkage = "internal"
        g.initializer = _c(0, L.I32)
    return g


def _acquire(code, lock):
    b = code.b
    yield_fn = code.module.globals.get("sched_yield") or ir.Function(
        code.module, ir.FunctionType(L.I32, []), "sched_yield")
    head, wait, got = (code.fn.append_basic_block(x) for x in ("lock", "wait", "locked"))
    b.branch(head)
    b.position_at_end(head)
    old = b.atomic_rmw("xchg", lock, _c(1, L.I32), "acquire")
    b.cbranch(b.icmp_signed("==", old, _c(0, L.I32)), got, wait)
    b.position_at_end(wait)
    b.call(yield_fn, [])
    b.branch(head)
    b.position_at_end(got)


def _release(code, lock):
    code.b.store_atomic(_c(0, L.I32), lock, "release", 4)


# ------------------------------------------------------------------------------ module text

def error_function(mod):
    """Declaration of ``tf_aot_set_error(fmt, a, b, c)`` (defined in the support module)."""
    return mod.globals.get("tf_aot_set_error") or ir.Function(
        mod, ir.FunctionType(L.VOID, [L.PTR, L.I64, L.I64, L.I64]), "tf_aot_set_error")


def support_module(module_name, tm):
    """The error buffer (thread-local), its setter, ``MODULE_last_error`` and ``MODULE_free``
    (releases a result the library allocated), as LLVM assembly."""
    n = ERRBUF_SIZE
    return f"""
target triple = "{llvm.get_process_triple()}"
target datalayout = "{tm.target_data}"
@tf_aot_errbuf = internal thread_local global [{n} x i8] zeroinitializer
declare i32 @snprintf(ptr, i64, ptr, ...)
define hidden void @tf_aot_set_error(ptr %fmt, i64 %a, i64 %b, i64 %c) nounwind {{
  %r = call i32 (ptr, i64, ptr, ...) @snprintf(ptr @tf_aot_errbuf, i64 {n}, ptr %fmt, i64 %a, i64 %b, i64 %c)
  ret void
}}
define ptr @{module_name}_last_error() nounwind {{
  ret ptr @tf_aot_errbuf
}}
declare void @free(ptr)
define void @{module_name}_free(ptr %p) nounwind {{
  call void @free(ptr %p)
  ret void
}}
"""


_ADDR = re.compile(r"inttoptr \(i64 (\d+) to ptr\)")


def embed_constants(text, mctx):
    """Replace the JIT's in-process addresses of constant arrays by private globals holding
    their bytes (the object file must not point into the compiling process)."""
    import ctypes
    arrays = {}
    for a in mctx.keepalive:
        arrays[a.__array_interface__["data"][0]] = a
    defs = []

    def replace(m):
        addr = int(m.group(1))
        a = arrays.get(addr)
        if a is None:
            raise AotError("the compiled code refers to an object of the compiling process "
                           f"(address {addr:#x}); it cannot be compiled ahead of time")
        isz = a.dtype.itemsize
        lo = sum((n - 1) * s for n, s in zip(a.shape, a.strides) if s < 0 and n)
        hi = sum((n - 1) * s for n, s in zip(a.shape, a.strides) if s > 0 and n) + isz
        raw = ctypes.string_at(addr + lo, hi - lo) if a.size else b""
        name = f"tf_aot_const.{len(defs)}"
        body = "".join(f"\\{x:02X}" for x in raw)
        defs.append(f"@\"{name}\" = private unnamed_addr constant [{len(raw)} x i8] c\"{body}\", align 16")
        return f"getelementptr (i8, ptr @\"{name}\", i64 {-lo})"

    text = _ADDR.sub(replace, text)
    return text + "\n" + "\n".join(defs) + "\n"


def check_externals(text):
    """Refuse modules that call into Python (print) or anything beyond libc/libm."""
    for m in re.finditer(r"^declare [^@]*@\"?([\w.$]+)\"?\(", text, re.M):
        name = m.group(1)
        if name.startswith("llvm.") or name in _C_RUNTIME or name == "tf_aot_set_error":
            continue
        if name.startswith(("Py", "_Py", "tf_py_", "tf_np_")):
            raise AotError(f"the code calls into Python ({name}: print() or another Python "
                           "object), which an ahead-of-time module cannot do; remove that call")
        if not re.fullmatch(r"[a-z0-9_]+", name):
            raise AotError(f"the code needs the external symbol {name!r}, which is not in the C library")
    for m in re.finditer(r"^@\"?([\w.$]+)\"? = external ", text, re.M):
        raise AotError(f"the code refers to the process object {m.group(1)!r} (a call into "
                       "Python, e.g. print()); it cannot be compiled ahead of time")


# ------------------------------------------------------------------------------ object code

def optimize(mod, tm):
    """The JIT's pipeline (engine.optimize), tuned for the AOT target machine."""
    pto = llvm.create_pipeline_tuning_options(speed_level=3)
    pto.loop_vectorization = True
    pto.slp_vectorization = True
    pto.loop_unrolling = getattr(engine, "UNROLL", True)
    pto.loop_interleaving = True
    pb = llvm.create_pass_builder(tm, pto)
    pb.getModulePassManager().run(mod, pb)


def link_modules(texts, tm):
    """Parse, verify and link the modules' texts into one optimized llvmlite module."""
    _init_llvm()
    mods = []
    for text in texts:
        m = llvm.parse_assembly(text)
        m.verify()
        mods.append(m)
    main = mods[0]
    for m in mods[1:]:
        main.link_in(m)
    main.triple = llvm.get_process_triple()
    main.data_layout = str(tm.target_data)
    main.verify()
    optimize(main, tm)
    return main


def emit_object(mod, tm):
    return tm.emit_object(mod)
