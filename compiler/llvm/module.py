"""One LLVM module per compile job: declarations, runtime helpers and the error-message table.

The helpers (arena allocation, stack growth, integer power) are emitted as small internal IR
functions so that the optimizer inlines them; only malloc/realloc/free and libm come from the host
process, which MCJIT resolves by symbol name.
"""
from llvmlite import ir

from . import types as L
from .engine import process_function

_SUFFIX = {"double": "f64", "float": "f32", "i64": "i64", "i32": "i32", "i1": "i1", "i8": "i8"}


def _suffix(t):
    return _SUFFIX[str(t)]


class ModuleContext:
    def __init__(self, name, module_functions, boundscheck=True):
        self.module = ir.Module(name=name)
        self.mfuncs = module_functions or {}
        self.boundscheck = boundscheck
        self.messages = []             # (exception class name, format string)
        self._msg_index = {}
        self.functions = {}            # (callee name, arg types) -> FunctionLowerer
        self._counter = 0
        self.constants = {}
        self.keepalive = []            # constant arrays whose memory the code references
        self.blas_dgemm = None         # JIT only: the CBLAS dgemm symbol 2-d matmul may call
        self.poll = False              # JIT only: loops poll for signals (a handler may raise)

    def unique(self, base):
        self._counter += 1
        return f"{base}.{self._counter}"

    # -- error messages: the native code stores an index and up to three integers
    def message(self, exc, fmt):
        key = (exc, fmt)
        if key not in self._msg_index:
            self._msg_index[key] = len(self.messages) + 1     # 0 means "no message"
            self.messages.append(key)
        return self._msg_index[key]

    # -- declarations
    def declare(self, name, ret, args, attrs=()):
        fn = self.module.globals.get(name)
        if fn is None:
            fn = ir.Function(self.module, ir.FunctionType(ret, args), name)
            for a in attrs:
                fn.attributes.add(a)
        return fn

    def intrinsic(self, name, ret, args):
        if name.endswith(".sat"):
            full = name + "." + _suffix(ret) + "." + _suffix(args[0])
        else:
            full = name + "." + _suffix(args[0])
        return self.declare(full, ret, args)

    def libm(self, name, ty, nargs):
        cname = name if ty == L.F64 else name + "f"
        # libm is pure apart from errno, which nothing here reads: let LLVM hoist and CSE calls.
        return self.declare(cname, ty, [ty] * nargs, attrs=("nounwind", "readnone"))

    def malloc(self):
        return self.declare("malloc", L.PTR, [L.I64], attrs=("nounwind",))

    def realloc(self):
        return self.declare("realloc", L.PTR, [L.PTR, L.I64], attrs=("nounwind",))

    def free(self):
        return self.declare("free", L.VOID, [L.PTR], attrs=("nounwind",))

    def memcpy(self):
        return self.declare("llvm.memcpy.p0.p0.i64", L.VOID, [L.PTR, L.PTR, L.I64, L.I1])

    def memset(self):
        return self.declare("llvm.memset.p0.i64", L.VOID, [L.PTR, L.I8, L.I64, L.I1])

    # -- runtime helpers
    def _helper(self, name, ret, args, build):
        fn = self.module.globals.get(name)
        if fn is None:
            fn = ir.Function(self.module, ir.FunctionType(ret, args), name)
            fn.linkage = "internal"
            fn.attributes.add("nounwind")
            build(fn, ir.IRBuilder(fn.append_basic_block("entry")))
        return fn

    # Large temporaries are recycled across calls through a small per-module pool: a function
    # allocates the same sizes on every call, and fresh multi-page blocks would be page-faulted
    # in (and trimmed back to the OS by free) every time. The pool lock serializes access.
    POOL_MIN = 4096                 # smaller blocks go straight back to malloc
    POOL_MAX_BLOCKS = 64
    POOL_MAX_BYTES = 256 << 20
    POOL_T = ir.LiteralStructType([L.PTR, L.I64, L.I64])      # head, count, total bytes

    def _arena_pool(self):
        g = self.module.globals.get("tf_arena_pool")
        if g is None:
            g = ir.GlobalVariable(self.module, self.POOL_T, "tf_arena_pool")
            g.linkage = "internal"
            g.initializer = ir.Constant(self.POOL_T, None)
            g.type = L.PTR
        return g

    def _pool_field(self, b, k):
        return b.gep(self._arena_pool(), [ir.Constant(L.I32, 0), ir.Constant(L.I32, k)], source_etype=self.POOL_T)

    def build_release(self, name):
        """void name(): free what the module's pools still hold (arena blocks, save-stack
        buffers), run before its engine is disposed so freed code leaves no memory behind."""
        fn = ir.Function(self.module, ir.FunctionType(L.VOID, []), name)
        b = ir.IRBuilder(fn.append_basic_block("entry"))
        pools = [g for g in self.module.global_values if isinstance(g, ir.GlobalVariable)
                 and g.name.startswith("tf_pool.")]
        for g in pools:
            data = b.gep(g, [ir.Constant(L.I32, 0), ir.Constant(L.I32, 0)], source_etype=g.value_type)
            b.call(self.free(), [b.load(data, typ=L.PTR)])
        if self.module.globals.get("tf_arena_pool") is not None:
            headp = self._pool_field(b, 0)
            loop, body, done = (fn.append_basic_block(x) for x in ("loop", "body", "done"))
            b.branch(loop)
            b.position_at_end(loop)
            cur = b.load(headp, typ=L.PTR)
            b.cbranch(b.icmp_unsigned("==", cur, ir.Constant(L.PTR, None)), done, body)
            b.position_at_end(body)
            b.store(b.load(cur, typ=L.PTR), headp)       # a block's first word is its link
            b.call(self.free(), [cur])
            b.branch(loop)
            b.position_at_end(done)
        b.ret_void()
        return fn

    def pool_take(self):
        """ptr tf_pool_take(n): a pooled block whose capacity is in [n, 2n], unlinked; or null."""
        def build(fn, b):
            (n,) = fn.args
            c = lambda v: ir.Constant(L.I64, v)  # noqa: E731
            self.lock(b, fn)
            headp = self._pool_field(b, 0)
            loop, body, hit, nxt, done = (fn.append_basic_block(x) for x in ("loop", "body", "hit", "next", "done"))
            entry = b.block
            b.branch(loop)
            b.position_at_end(loop)
            prev = b.phi(L.PTR)          # address of the link pointing at cur
            steps = b.phi(L.I64)
            prev.add_incoming(headp, entry)
            steps.add_incoming(c(0), entry)
            cur = b.load(prev, typ=L.PTR)
            b.cbranch(b.or_(b.icmp_unsigned("==", cur, ir.Constant(L.PTR, None)),
                            b.icmp_signed(">=", steps, c(self.POOL_MAX_BLOCKS))), done, body)
            b.position_at_end(body)
            cap = b.load(b.gep(cur, [c(1)], source_etype=L.I64), typ=L.I64)
            fits = b.and_(b.icmp_signed(">=", cap, n), b.icmp_signed("<=", cap, b.mul(n, c(2))))
            b.cbranch(fits, hit, nxt)
            b.position_at_end(hit)
            b.store(b.load(cur, typ=L.PTR), prev)
            cntp, totp = self._pool_field(b, 1), self._pool_field(b, 2)
            b.store(b.sub(b.load(cntp, typ=L.I64), c(1)), cntp)
            b.store(b.sub(b.load(totp, typ=L.I64), cap), totp)
            self.unlock(b)
            b.ret(cur)
            b.position_at_end(nxt)
            prev.add_incoming(cur, nxt)          # cur's first word is its link
            steps.add_incoming(b.add(steps, c(1)), nxt)
            b.branch(loop)
            b.position_at_end(done)
            self.unlock(b)
            b.ret(ir.Constant(L.PTR, None))
        return self._helper("tf_pool_take", L.PTR, [L.I64], build)

    # -- threads and signals. JIT bodies run with the GIL released (entry.py), so the module's
    # pools (plain globals) are guarded by a spin lock held for a few instructions; and long
    # loops poll Python's signal handlers (lower.py), so Ctrl-C stops them.
    POLL_EVERY = 1 << 22            # loop iterations between two polls (~ms of work)
    SIGNAL_MESSAGE = -1             # error id: a signal handler raised; the exception is set

    def _lock_var(self):
        g = self.module.globals.get("tf_pool_lock")
        if g is None:
            g = ir.GlobalVariable(self.module, L.I32, "tf_pool_lock")
            g.linkage = "internal"
            g.initializer = ir.Constant(L.I32, 0)
        return g

    def lock(self, b, fn):
        """Spin on the module's pool lock (sched_yield while another thread holds it)."""
        g = self._lock_var()
        head, wait, got = (fn.append_basic_block(x) for x in ("lock", "lock.wait", "locked"))
        b.branch(head)
        b.position_at_end(head)
        old = b.atomic_rmw("xchg", g, ir.Constant(L.I32, 1), "acquire")
        b.cbranch(b.icmp_signed("==", old, ir.Constant(L.I32, 0)), got, wait)
        b.position_at_end(wait)
        b.call(self.declare("sched_yield", L.I32, []), [])
        b.branch(head)
        b.position_at_end(got)

    def unlock(self, b):
        b.store_atomic(ir.Constant(L.I32, 0), self._lock_var(), "release", 4)

    def poll_signals(self):
        """i32 tf_poll(): take the GIL, run Python's pending signal handlers, drop the GIL again;
        nonzero if a handler raised (KeyboardInterrupt is then the thread's pending exception)."""
        def build(fn, b):
            st = b.call(self.declare("PyGILState_Ensure", L.I32, []), [])
            r = b.call(self.declare("PyErr_CheckSignals", L.I32, []), [])
            b.call(self.declare("PyGILState_Release", L.VOID, [L.I32]), [st])
            b.ret(r)
        fn = self._helper("tf_poll", L.I32, [], build)
        fn.attributes.add("cold")
        fn.attributes.add("noinline")
        return fn

    def arena_alloc(self):
        """ptr tf_alloc(ctx, nbytes): a block chained into the call's arena (null on failure).
        Block header: [next block, capacity (-1 once adopted by a result array)]."""
        def build(fn, b):
            ctx, n = fn.args
            c = lambda v: ir.Constant(L.I64, v)  # noqa: E731
            null = ir.Constant(L.PTR, None)
            slot = b.alloca(L.PTR)
            b.store(null, slot)
            with b.if_then(b.icmp_signed(">=", n, c(self.POOL_MIN))):
                b.store(b.call(self.pool_take(), [n]), slot)
            with b.if_then(b.icmp_unsigned("==", b.load(slot, typ=L.PTR), null)):
                blk = b.call(self.malloc(), [b.add(n, c(16))])
                with b.if_then(b.icmp_unsigned("!=", blk, null)):
                    b.store(n, b.gep(blk, [c(1)], source_etype=L.I64))
                b.store(blk, slot)
            blk = b.load(slot, typ=L.PTR)
            yes, no = fn.append_basic_block("ok"), fn.append_basic_block("fail")
            b.cbranch(b.icmp_unsigned("!=", blk, null), yes, no)
            b.position_at_end(no)
            b.ret(null)
            b.position_at_end(yes)
            head = b.gep(ctx, [ir.Constant(L.I32, 0), ir.Constant(L.I32, 0)], source_etype=L.CTX_STRUCT)
            b.store(b.load(head, typ=L.PTR), blk)
            b.store(blk, head)
            b.ret(b.gep(blk, [c(16)], source_etype=L.I8, inbounds=True))
        fn = self._helper("tf_alloc", L.PTR, [L.PTR, L.I64], build)
        fn.return_value.add_attribute("noalias")
        return fn

    def arena_free(self):
        """void tf_arena_free(ctx): release (or pool) every block of the call; runs on every exit."""
        def build(fn, b):
            (ctx,) = fn.args
            head = b.gep(ctx, [ir.Constant(L.I32, 0), ir.Constant(L.I32, 0)], source_etype=L.CTX_STRUCT)
            first = b.load(head, typ=L.PTR)
            b.store(ir.Constant(L.PTR, None), head)
            from .arena_scope import free_chain
            b.call(free_chain(self), [first])
            b.ret_void()
        return self._helper("tf_arena_free", L.VOID, [L.PTR], build)

    def arena_adopt(self):
        """ptr tf_arena_adopt(ctx, data, nbytes): if ``data`` is exactly an arena block of
        ``nbytes``, detach it (it becomes a result array's memory) and return the block."""
        def build(fn, b):
            ctx, data, nbytes = fn.args
            head = b.gep(ctx, [ir.Constant(L.I32, 0), ir.Constant(L.I32, 0)], source_etype=L.CTX_STRUCT)
            first = b.load(head, typ=L.PTR)
            loop, body, found, nxtb, done = (fn.append_basic_block(n) for n in ("loop", "body", "found", "next", "done"))
            entry = b.block
            b.branch(loop)
            b.position_at_end(loop)
            cur = b.phi(L.PTR)
            cur.add_incoming(first, entry)
            b.cbranch(b.icmp_unsigned("==", cur, ir.Constant(L.PTR, None)), done, body)
            b.position_at_end(body)
            sizep = b.gep(cur, [ir.Constant(L.I64, 1)], source_etype=L.I64)
            hit = b.and_(b.icmp_unsigned("==", b.gep(cur, [ir.Constant(L.I64, 16)], source_etype=L.I8), data),
                         b.icmp_signed(">=", b.load(sizep, typ=L.I64), nbytes))
            b.cbranch(hit, found, nxtb)
            b.position_at_end(found)
            b.store(ir.Constant(L.I64, -1), sizep)
            b.ret(cur)
            b.position_at_end(nxtb)
            cur.add_incoming(b.load(cur, typ=L.PTR), nxtb)
            b.branch(loop)
            b.position_at_end(done)
            b.ret(ir.Constant(L.PTR, None))
        return self._helper("tf_arena_adopt", L.PTR, [L.PTR, L.PTR, L.I64], build)

    def stack_grow(self):
        """ptr tf_stack_grow(data, nbytes): realloc. Taking values (not the stack's address)
        keeps the stack's fields in registers: its alloca never escapes."""
        def build(fn, b):
            data, nbytes = fn.args
            b.ret(b.call(self.realloc(), [data, nbytes]))
        fn = self._helper("tf_stack_grow", L.PTR, [L.PTR, L.I64], build)
        fn.attributes.add("noinline")
        return fn

    def set_error(self):
        """void tf_set_error(ctx, msg, a, b, c): record an error (cold, out of line)."""
        def build(fn, b):
            ctx = fn.args[0]
            for k, v in enumerate(fn.args[1:]):
                b.store(v, b.gep(ctx, [ir.Constant(L.I32, 0), ir.Constant(L.I32, k + 1)], source_etype=L.CTX_STRUCT))
            b.ret_void()
        fn = self._helper("tf_set_error", L.VOID, [L.PTR] + [L.I64] * 4, build)
        fn.attributes.add("cold")
        fn.attributes.add("noinline")
        return fn

    def sincos(self):
        """{double, double} tf_sincos(x): both at once through libm's sincos. Kept out of line
        and marked readnone so GVN merges the sin(x) and cos(x) a gradient computes for the same
        x into one call (glibc's sincos gives the same bits as sin and cos)."""
        pair = ir.LiteralStructType([L.F64, L.F64])

        def build(fn, b):
            (x,) = fn.args
            ps, pc = L.alloca(b, L.F64), L.alloca(b, L.F64)
            sc = self.declare("sincos", L.VOID, [L.F64, L.PTR, L.PTR], attrs=("nounwind",))
            b.call(sc, [x, ps, pc])
            r = b.insert_value(ir.Constant(pair, ir.Undefined), b.load(ps, typ=L.F64), 0)
            b.ret(b.insert_value(r, b.load(pc, typ=L.F64), 1))
        fn = self._helper("tf_sincos", pair, [L.F64], build)
        fn.attributes.add("noinline")
        fn.attributes.add("readnone")
        return fn

    def ipow(self):
        def build(fn, b):
            base, e = fn.args
            loop, body, done = (fn.append_basic_block(n) for n in ("loop", "body", "done"))
            entry = b.block
            b.branch(loop)
            b.position_at_end(loop)
            acc = b.phi(L.I64)
            bb = b.phi(L.I64)
            ee = b.phi(L.I64)
            acc.add_incoming(ir.Constant(L.I64, 1), entry)
            bb.add_incoming(base, entry)
            ee.add_incoming(e, entry)
            b.cbranch(b.icmp_signed(">", ee, ir.Constant(L.I64, 0)), body, done)
            b.position_at_end(body)
            odd = b.trunc(ee, L.I1)
            acc2 = b.select(odd, b.mul(acc, bb), acc)
            acc.add_incoming(acc2, body)
            bb.add_incoming(b.mul(bb, bb), body)
            ee.add_incoming(b.ashr(ee, ir.Constant(L.I64, 1)), body)
            b.branch(loop)
            b.position_at_end(done)
            b.ret(acc)
        return self._helper("tf_ipow", L.I64, [L.I64, L.I64], build)


# ------------------------------------------------------------------------- CPython / numpy API
# The entry builds its Python result itself (floats, ints, tuples, numpy arrays) and raises its
# Python exception itself, so the ctypes prototype returns a py_object and no Python-side result
# decoding is needed. Numpy's C functions are reached through its exported API table.

def _numpy_api_table():
    import ctypes
    import numpy as np
    try:
        cap = np._core._multiarray_umath._ARRAY_API
    except AttributeError:          # numpy 1.x
        cap = np.core._multiarray_umath._ARRAY_API
    get = ctypes.pythonapi.PyCapsule_GetPointer
    get.restype = ctypes.c_void_p
    get.argtypes = [ctypes.py_object, ctypes.c_char_p]
    table = (ctypes.c_void_p * 300).from_address(get(cap, None))
    if table[2] != id(np.ndarray):
        raise RuntimeError("unexpected numpy C-API table layout")
    # slots of numpy's (ABI-stable) API table: 2 PyArray_Type, 93 PyArray_New, 282 SetBaseObject
    return {"PyArray_Type": table[2], "PyArray_New": table[93], "PyArray_SetBaseObject": table[282]}


_NP_API = None


def numpy_api():
    global _NP_API
    if _NP_API is None:
        import llvmlite.binding as llvm
        _NP_API = _numpy_api_table()
        for name, addr in _NP_API.items():    # visible to the JIT's symbol resolution
            llvm.add_symbol("tf_np_" + name, addr)
    return _NP_API


_OBJECTS = {}


def register_object(name, obj):
    """Make a long-lived Python object (e.g. builtins.print) addressable from JIT code."""
    sym = "tf_py_" + name
    if sym not in _OBJECTS:
        import llvmlite.binding as llvm
        _OBJECTS[sym] = obj           # keeps it alive
        llvm.add_symbol(sym, id(obj))
    return sym


class PyAPI:
    """Declarations of the CPython/numpy functions the entry calls (resolved in-process)."""

    def __init__(self, mctx):
        self.m = mctx
        self.mod = mctx.module

    def fn(self, name, ret, args, var_arg=False):
        f = self.mod.globals.get(name)
        if f is None:
            f = ir.Function(self.mod, ir.FunctionType(ret, args, var_arg=var_arg), name)
        return f

    def global_ptr(self, name):
        g = self.mod.globals.get(name)
        if g is None:
            g = ir.GlobalVariable(self.mod, L.PTR, name)
            g.linkage = "external"
        return g

    def object_address(self, name):
        """Address of an exported object (e.g. _Py_NoneStruct), not of a pointer to it."""
        g = self.mod.globals.get(name)
        if g is None:
            g = ir.GlobalVariable(self.mod, L.I8, name)
            g.linkage = "external"
        return g

    def np_fn(self, name, ret, args):
        numpy_api()
        return self.fn("tf_np_" + name, ret, args)

    def np_object(self, name):
        numpy_api()
        return self.object_address("tf_np_" + name)

    def cstring(self, text):
        data = bytearray(text.encode("utf-8") + b"\0")
        name = self.m.unique("tf_str")
        g = ir.GlobalVariable(self.mod, ir.ArrayType(L.I8, len(data)), name)
        g.global_constant = True
        g.linkage = "internal"
        g.initializer = ir.Constant(ir.ArrayType(L.I8, len(data)), data)
        return g

    def capsule_free(self):
        """void tf_rt_capsule_free(capsule): frees the malloc block an adopted result array lives
        in. Not a function of this module: the array may outlive the module's engine (freed
        code would then be its destructor), so it is the process-lifetime one of engine.py."""
        process_function("tf_rt_capsule_free")
        return self.fn("tf_rt_capsule_free", L.VOID, [L.PTR])
