"""Lowering of one typed, normalized function to an LLVM function.

Every generated function has the internal calling convention
    i32 f(ptr ret_slot, ptr ctx, <flattened arguments>)
returning 0 on success and 1 after recording an error in ``ctx``. All exits, normal or error, go
through one cleanup block that frees the function's save stacks, so nothing leaks on an exception.
Locals are allocas (mem2reg turns them into SSA); control flow maps one-to-one onto blocks.
"""
import ast
from contextlib import contextmanager

from llvmlite import ir

from .. import typing as T
from . import types as L
from . import scalars as S
from .errors import LoweringError


class FunctionLowerer:
    def __init__(self, mctx, tinfo, llname, noalias=False, contiguous=False):
        self.m = mctx
        self.ti = tinfo
        self.fdef = tinfo.fdef
        self.noalias = noalias
        # contiguous: array arguments have unit innermost stride (the entry checks numpy's flags
        # and calls this version then), so inner loops index memory densely and vectorize
        self.contiguous = contiguous
        params = tinfo.params
        self.params = params
        argll = [ll for t in tinfo.arg_types for ll in L.flat_ll(t)]
        fnty = ir.FunctionType(L.I32, [L.PTR, L.PTR] + argll)
        self.fn = ir.Function(mctx.module, fnty, llname)
        self.fn.linkage = "internal"
        self.fn.attributes.add("nounwind")
        self.lineno = self.fdef.lineno
        self.loops = []          # (continue block, break block)
        self.unchecked_pushes = set()   # ids of push calls whose capacity a loop reserved
        self.acc_ops = set()            # ids of adds that extend a loop-carried accumulation
        from .bounds import BoundsFacts
        self.bounds = BoundsFacts(tinfo)   # indices statically known to be in range
        # a function computing both sin and cos (every gradient of sin or cos does) gets them
        # from one sincos call per argument value
        called = {T.call_name(n.func) for n in ast.walk(self.fdef) if isinstance(n, ast.Call)}
        called = {c.split(".")[-1] for c in called if c}
        self.use_sincos = {"sin", "cos"} <= called

    # ------------------------------------------------------------------ infrastructure
    def unsupported(self, reason):
        return LoweringError(reason, self.lineno)

    def intrinsic(self, name, ret, args):
        return self.m.intrinsic(name, ret, args)

    def libm(self, name, ty, nargs):
        return self.m.libm(name, ty, nargs)

    def helper_ipow(self):
        return self.m.ipow()

    def alloca(self, ty, name=""):
        with self.b.goto_block(self.entry_block):
            if self.entry_block.instructions:
                self.b.position_before(self.entry_block.instructions[0])
            return L.alloca(self.b, ty, name=name)

    @contextmanager
    def cold_if(self, cond):
        """Emit the body only when ``cond`` holds, marked unlikely (error paths)."""
        then = self.fn.append_basic_block("err")
        cont = self.fn.append_basic_block("ok")
        br = self.b.cbranch(cond, then, cont)
        br.set_weights([1, 100000])
        self.b.position_at_end(then)
        yield
        if not self.b.block.is_terminated:
            self.b.branch(cont)
        self.b.position_at_end(cont)

    def fail(self, exc, fmt, *ints):
        """Record an exception (class name, message, up to three integers) and leave."""
        b = self.b
        mid = self.m.message(exc, fmt)
        vals = [ir.Constant(L.I64, mid)] + [v if isinstance(v, ir.Value) else ir.Constant(L.I64, v)
                                             for v in ints]
        vals += [ir.Constant(L.I64, 0)] * (4 - len(vals))
        b.call(self.m.set_error(), [self.ctx] + vals)      # one out-of-line call per error site
        b.store(ir.Constant(L.I32, 1), self.status)
        b.branch(self.cleanup)

    def check_status(self, st):
        with self.cold_if(self.b.icmp_signed("!=", st, ir.Constant(L.I32, 0))):
            self.b.store(st, self.status)
            self.b.branch(self.cleanup)

    def arena_alloc(self, nbytes):
        p = self.b.call(self.m.arena_alloc(), [self.ctx, nbytes])
        with self.cold_if(self.b.icmp_unsigned("==", p, ir.Constant(L.PTR, None))):
            self.fail("MemoryError", "out of memory allocating {} bytes", nbytes)
        return p

    def for_range(self, n, body, start=None):
        """Counted loop k = start..n-1 with a phi induction variable; ``body(k)`` emits into it."""
        b = self.b
        start = start if start is not None else ir.Constant(L.I64, 0)
        pre = b.block
        head = self.fn.append_basic_block("loop")
        bodyb = self.fn.append_basic_block("body")
        done = self.fn.append_basic_block("done")
        b.branch(head)
        b.position_at_end(head)
        k = b.phi(L.I64)
        k.add_incoming(start, pre)
        b.cbranch(b.icmp_signed("<", k, n), bodyb, done)
        b.position_at_end(bodyb)
        body(k)
        k.add_incoming(b.add(k, ir.Constant(L.I64, 1), flags=["nsw"]), b.block)
        b.branch(head)
        b.position_at_end(done)

    def loop_nest(self, shape, body):
        """Nested counted loops over ``shape`` (outermost first); ``body(indices)``."""
        def level(d, idx):
            if d == len(shape):
                body(idx)
                return
            self.for_range(shape[d], lambda k: level(d + 1, idx + [k]))
        level(0, [])

    def dead_block_if_terminated(self):
        if self.b.block.is_terminated:
            self.b.position_at_end(self.fn.append_basic_block("dead"))

    # ------------------------------------------------------------------ names
    def name_type(self, name):
        return self.ti.names[name]

    def load_name(self, name):
        t = self.ti.names.get(name)
        if t is None:
            raise self.unsupported(f"unknown name {name!r}")
        if t == T.STACK:
            return self.slots[name]
        flag = self.assigned_flags.get(name)
        if flag is not None:
            with self.cold_if(self.b.icmp_unsigned("==", self.b.load(flag, typ=L.I1), ir.Constant(L.I1, 0))):
                self.fail("UnboundLocalError",
                          f"cannot access local variable '{name}' where it is not associated with a value")
        return L.unpack(self.b, t, self.b.load(self.slots[name], typ=L.ll_type(t)))

    def store_name(self, name, v, vt):
        t = self.ti.names[name]
        v = self.convert(v, vt, t)
        self.b.store(L.pack(self.b, t, v), self.slots[name])
        flag = self.assigned_flags.get(name)
        if flag is not None:
            self.b.store(ir.Constant(L.I1, 1), flag)

    def embed_constant(self, v, t):
        """A module constant as a compile-time value (arrays: their memory, kept alive)."""
        if isinstance(t, T.Scalar):
            return S.const(t, v)
        if isinstance(t, T.Tuple):
            return L.TupleVal(t, [self.embed_constant(x, xt) for x, xt in zip(v, t.items)])
        self.m.keepalive.append(v)
        addr = v.__array_interface__["data"][0]
        data = ir.Constant(L.I64, addr).inttoptr(L.PTR)
        isz = v.dtype.itemsize
        return L.ArrayVal(t, data, [ir.Constant(L.I64, d) for d in v.shape],
                          [ir.Constant(L.I64, st // isz) for st in v.strides])

    def convert(self, v, vt, t):
        """A value of type vt as a value of the (unified, wider) type t."""
        from . import arrays as A
        if vt == t:
            return v
        if isinstance(t, T.Scalar):
            return S.cast(self, v, vt, t)
        if isinstance(t, T.Array) and isinstance(vt, T.Array):
            return A.astype(self, v, t.dtype) if vt.dtype != t.dtype else v
        if isinstance(t, T.Array) and isinstance(vt, T.Scalar):
            return A.scalar_as_array(self, S.cast(self, v, vt, t.dtype), t)
        if isinstance(t, T.Tuple):
            return self.cast_tuple(v, vt, t)
        return v

    def cast_tuple(self, v, vt, t):
        return L.TupleVal(t, [self.convert(iv, it, tt) for iv, it, tt in zip(v.items, vt.items, t.items)])

    # ------------------------------------------------------------------ function
    def lower(self):
        b = self.b = ir.IRBuilder()
        self.entry_block = self.fn.append_basic_block("entry")
        start = self.fn.append_basic_block("start")
        self.cleanup = self.fn.append_basic_block("cleanup")
        b.position_at_end(self.entry_block)
        self.ret_ptr, self.ctx = self.fn.args[0], self.fn.args[1]
        self.status = L.alloca(b, L.I32, name="status")
        b.store(ir.Constant(L.I32, 0), self.status)
        self.slots = {}
        # locals that may be read before assignment carry an "assigned" flag (see unbound.py)
        from .unbound import maybe_unbound
        given = set(self.params) | set(self.ti.defaulted or {}) | set(self.ti.constants or {})
        local = {n for n, t in self.ti.names.items() if t != T.STACK} - given
        self.assigned_flags = {}
        for name in sorted(maybe_unbound(self.fdef, local, given)):
            self.assigned_flags[name] = L.alloca(b, L.I1, name=name + ".assigned")
            b.store(ir.Constant(L.I1, 0), self.assigned_flags[name])
        for name, t in self.ti.names.items():
            self.slots[name] = L.alloca(b, L.ll_type(t), name=name)
        self.poll_countdown = None
        if self.m.poll and any(isinstance(n, (ast.For, ast.While)) for n in ast.walk(self.fdef)):
            self.poll_countdown = L.alloca(b, L.I64, name="poll.countdown")
            b.store(ir.Constant(L.I64, self.m.POLL_EVERY), self.poll_countdown)
        stacks = [name for name, t in self.ti.names.items() if t == T.STACK]
        if stacks:          # (after all allocas: they stay in the entry block)
            self.m.lock(b, self.fn)
            for name in stacks:
                self._take_pooled_stack(name)
            self.m.unlock(b)
        args = iter(self.fn.args[2:])
        for p, t in zip(self.params, self.ti.arg_types):
            v = L.unflatten(t, args)
            if self.noalias and isinstance(t, T.Array):
                v.data.add_attribute("noalias")
            if self.contiguous and isinstance(t, T.Array) and t.ndim:
                v.strides[-1] = ir.Constant(L.I64, 1)
            self.store_name(p, v, t)
        for p, dv in list((self.ti.defaulted or {}).items()) + list((self.ti.constants or {}).items()):
            t = T.typeof(dv)
            self.store_name(p, self.embed_constant(dv, t), t)
        b.branch(start)
        b.position_at_end(start)
        self.block(self.fdef.body)
        if not b.block.is_terminated:
            if self.ti.ret == T.NONE:
                b.branch(self.cleanup)
            else:
                self.fail("TypeError", f"{self.fdef.name}() ended without returning a value")
        b.position_at_end(self.cleanup)
        stacks = [name for name, t in self.ti.names.items() if t == T.STACK]
        if stacks:
            self.m.lock(b, self.fn)
            for name in stacks:
                self._return_pooled_stack(name)
            self.m.unlock(b)
        b.ret(b.load(self.status, typ=L.I32))
        return self.fn

    # Save-stack buffers are pooled per (function, stack) across calls: a gradient pushes the
    # same amount every call, so after the first call no push reallocates and no page is faulted
    # in again. The pool slot is emptied while a call holds the buffer, so re-entry stays safe; the module's
    # pool lock makes taking and returning atomic (JIT bodies run without the GIL).
    POOL = ir.LiteralStructType([L.PTR, L.I64])

    def _pool(self, name):
        gname = f"tf_pool.{self.fn.name}.{name}"
        g = self.m.module.globals.get(gname)
        if g is None:
            g = ir.GlobalVariable(self.m.module, self.POOL, gname)
            g.linkage = "internal"
            g.initializer = ir.Constant(self.POOL, None)
            g.type = L.PTR          # opaque, like our allocas (see types.alloca)
        return g

    def _pool_fields(self, g):
        b = self.b
        return (b.gep(g, [ir.Constant(L.I32, 0), ir.Constant(L.I32, 0)], source_etype=self.POOL),
                b.gep(g, [ir.Constant(L.I32, 0), ir.Constant(L.I32, 1)], source_etype=self.POOL))

    def _stack_fields(self, name):
        b, p = self.b, self.slots[name]
        return [b.gep(p, [ir.Constant(L.I32, 0), ir.Constant(L.I32, k)], source_etype=L.STACK_STRUCT)
                for k in range(3)]

    def _take_pooled_stack(self, name):
        b = self.b
        gd, gc = self._pool_fields(self._pool(name))
        data, length, cap = self._stack_fields(name)
        b.store(b.load(gd, typ=L.PTR), data)
        b.store(b.load(gc, typ=L.I64), cap)
        b.store(ir.Constant(L.I64, 0), length)
        b.store(ir.Constant(L.PTR, None), gd)
        b.store(ir.Constant(L.I64, 0), gc)

    def _return_pooled_stack(self, name):
        b = self.b
        gd, gc = self._pool_fields(self._pool(name))
        data, length, cap = self._stack_fields(name)
        d = b.load(data, typ=L.PTR)
        with b.if_else(b.icmp_unsigned("==", b.load(gd, typ=L.PTR), ir.Constant(L.PTR, None))) as (keep, drop):
            with keep:
                b.store(d, gd)
                b.store(b.load(cap, typ=L.I64), gc)
            with drop:
                b.call(self.m.free(), [d])

    # ------------------------------------------------------------------ statements
    def block(self, stmts):
        for s in stmts:
            self.dead_block_if_terminated()
            self.lineno = getattr(s, "lineno", self.lineno)
            self.bounds.at(s)
            self.stmt(s)

    def stmt(self, s):
        b = self.b
        if isinstance(s, ast.Assign):
            tgt = s.targets[0]
            if isinstance(s.value, ast.Call) and T.call_name(s.value.func) == "Stack":
                # a (re-)created stack starts empty and keeps its buffer
                b.store(ir.Constant(L.I64, 0), self._stack_fields(tgt.id)[1])
                return
            val = s.value
            if (isinstance(val, ast.BinOp) and isinstance(tgt, ast.Name)
                    and isinstance(self.ti.type_of(val), T.Scalar)
                    and isinstance(val.op, (ast.Add, ast.Sub, ast.Mult))
                    and (id(val) in self.acc_ops
                         or any(isinstance(o, ast.Name) and o.id == tgt.id for o in (val.left, val.right)))):
                # `acc = acc + t` (or a chain back to a loop-carried acc): an accumulation;
                # reassoc lets LLVM vectorize the reduction
                lt, rt_ = self.ti.type_of(val.left), self.ti.type_of(val.right)
                v = S.binop(self, val.op, self.expr(val.left), lt, self.expr(val.right), rt_,
                            self.ti.type_of(val), acc=True)
                self.store_name(tgt.id, v, self.ti.type_of(val))
                return
            v = self.expr(val)
            self.assign(tgt, v, self.ti.type_of(val))
        elif isinstance(s, ast.AugAssign):
            self.augassign(s)
        elif isinstance(s, ast.Expr):
            if isinstance(s.value, ast.Call):
                self.expr(s.value)
        elif isinstance(s, ast.Return):
            rt = self.ti.ret
            if s.value is not None and rt != T.NONE:
                v = self.expr(s.value)
                vt = self.ti.type_of(s.value)
                v = self.convert(v, vt, rt)
                b.store(L.pack(b, rt, v), self.ret_ptr)
            b.store(ir.Constant(L.I32, 0), self.status)
            b.branch(self.cleanup)
        elif isinstance(s, ast.If):
            self.if_stmt(s)
        elif isinstance(s, ast.For):
            self.for_stmt(s)
        elif isinstance(s, ast.While):
            self.while_stmt(s)
        elif isinstance(s, ast.Break):
            if not self.loops:
                raise self.unsupported("break outside a loop")
            b.branch(self.loops[-1][1])
        elif isinstance(s, ast.Continue):
            if not self.loops:
                raise self.unsupported("continue outside a loop")
            b.branch(self.loops[-1][0])
        elif isinstance(s, ast.Pass):
            pass
        else:
            raise self.unsupported(f"statement {type(s).__name__}")

    def assign(self, tgt, v, vt):
        if isinstance(tgt, ast.Name):
            self.store_name(tgt.id, v, vt)
        elif isinstance(tgt, ast.Tuple):
            for e, iv, it in zip(tgt.elts, v.items, vt.items):
                self.assign(e, iv, it)
        elif isinstance(tgt, ast.Subscript):
            from . import arrays as A
            A.setitem(self, tgt, v, vt)
        else:
            raise self.unsupported("assignment target")

    def augassign(self, s):
        from . import arrays as A
        tgt = s.target
        rt = self.ti.type_of(s)
        if isinstance(tgt, ast.Name):
            lt = self.name_type(tgt.id)
            cur = self.load_name(tgt.id)
            val, vt = self.expr(s.value), self.ti.type_of(s.value)
            if isinstance(lt, T.Array):
                A.inplace(self, s.op, cur, val, vt)       # numpy's += updates the array itself
                return
            res = S.binop(self, s.op, cur, lt, val, vt, rt, acc=True)
            self.store_name(tgt.id, res, rt)
        elif isinstance(tgt, ast.Subscript):
            A.aug_setitem(self, s)
        else:
            raise self.unsupported("augmented assignment target")

    def cond_value(self, node):
        return S.truth(self, self.expr(node), self.ti.type_of(node))

    def if_stmt(self, s):
        b = self.b
        c = self.cond_value(s.test)
        then = self.fn.append_basic_block("then")
        other = self.fn.append_basic_block("else") if s.orelse else None
        merge = self.fn.append_basic_block("endif")
        b.cbranch(c, then, other or merge)
        b.position_at_end(then)
        self.block(s.body)
        if not b.block.is_terminated:
            b.branch(merge)
        if other is not None:
            b.position_at_end(other)
            self.block(s.orelse)
            if not b.block.is_terminated:
                b.branch(merge)
        b.position_at_end(merge)

    def for_stmt(self, s):
        b = self.b
        it = T.range_call(s.iter)
        backwards = it is not s.iter
        args = [self.expr(a) for a in it.args]
        args = [S.cast(self, v, self.ti.type_of(a), T.I64) for v, a in zip(args, it.args)]
        one, zero = ir.Constant(L.I64, 1), ir.Constant(L.I64, 0)
        if len(args) == 1:
            start, stop, step = zero, args[0], one
        elif len(args) == 2:
            start, stop, step = args[0], args[1], one
        else:
            start, stop, step = args
        # trip count up front, so LLVM sees a canonical counted loop (and vectorizes it)
        const_step = step.constant if isinstance(step, ir.Constant) else None
        if const_step is None:
            with self.cold_if(b.icmp_signed("==", step, zero)):
                self.fail("ValueError", "range() arg 3 must not be zero")

        def count(lo, hi, st):
            n = b.add(b.udiv(b.sub(b.sub(hi, lo), one), st), one)
            return b.select(b.icmp_signed(">", hi, lo), n, zero)
        if const_step is not None and const_step > 0:
            n = count(start, stop, step)
        elif const_step is not None:
            n = count(stop, start, b.neg(step))
        else:
            n = b.select(b.icmp_signed(">", step, zero), count(start, stop, step),
                         count(stop, start, b.neg(step)))
        self._reserve_stacks(s.body, n)
        self._mark_accumulations(s.body)
        k_slot = self.alloca(L.I64, "k")
        b.store(zero, k_slot)
        head = self.fn.append_basic_block("for")
        body = self.fn.append_basic_block("for.body")
        latch = self.fn.append_basic_block("for.next")
        done = self.fn.append_basic_block("for.end")
        limit = n
        if self.poll_countdown is not None:
            # Run the loop in chunks of at most POLL_EVERY iterations; each chunk's start charges
            # its length to the call's countdown and polls for signals when it runs out. The
            # inner loop keeps its canonical counted form (and vectorizes).
            chunk = self.fn.append_basic_block("for.chunk")
            chunk_body = self.fn.append_basic_block("for.chunk.start")
            lim_slot = self.alloca(L.I64, "k.limit")
            b.branch(chunk)
            b.position_at_end(chunk)
            k0 = b.load(k_slot, typ=L.I64)
            b.cbranch(b.icmp_signed("<", k0, n), chunk_body, done)
            b.position_at_end(chunk_body)
            every = ir.Constant(L.I64, self.m.POLL_EVERY)
            rest = b.sub(n, k0)
            steps = b.select(b.icmp_signed("<", rest, every), rest, every)
            b.store(b.add(k0, steps), lim_slot)
            self.charge_poll(steps)
            b.branch(head)
            b.position_at_end(head)
            k = b.load(k_slot, typ=L.I64)
            limit = b.load(lim_slot, typ=L.I64)
            b.cbranch(b.icmp_signed("<", k, limit), body, chunk)
        else:
            b.branch(head)
            b.position_at_end(head)
            k = b.load(k_slot, typ=L.I64)
            b.cbranch(b.icmp_signed("<", k, n), body, done)
        b.position_at_end(body)
        if backwards:      # reversed(range(...)): the same values, last first
            k = b.sub(b.sub(n, one), k)
        i = b.add(start, b.mul(k, step, flags=["nsw"]), flags=["nsw"])
        if (isinstance(start, ir.Constant) and start.constant >= 0 and const_step is not None
                and const_step > 0):
            # range(0, n) / reversed(range(n)): i >= 0, which lets the negative-index fix-ups and
            # bounds checks on a[i], a[i + 1] fold even in loops running backwards
            assume = self.m.declare("llvm.assume", L.VOID, [L.I1])
            b.call(assume, [b.icmp_signed(">=", i, ir.Constant(L.I64, 0))])
            b.call(assume, [b.icmp_signed("<", i, stop)])
        b.store(i, self.slots[s.target.id])
        if s.target.id in self.assigned_flags:
            b.store(ir.Constant(L.I1, 1), self.assigned_flags[s.target.id])
        self.loops.append((latch, done))
        entered = self.bounds.enter_loop(s, const_step == 1)
        self.block(s.body)
        if entered:
            self.bounds.exit_loop()
        self.loops.pop()
        if not b.block.is_terminated:
            b.branch(latch)
        b.position_at_end(latch)
        b.store(b.add(b.load(k_slot, typ=L.I64), one, flags=["nsw"]), k_slot)
        b.branch(head)
        b.position_at_end(done)

    def _mark_accumulations(self, body):
        """Adds on a chain from a loop-carried float back into it (`t = s + a; s = t + b`, as
        generated code writes sums) are accumulations: flag them like `s = s + a`."""
        stmts = []

        def flat(ss):
            for st in ss:
                stmts.append(st)
                if isinstance(st, (ast.If, ast.For, ast.While)):
                    flat(st.body)
                    flat(st.orelse)
        flat(body)
        assigned = {st.targets[0].id for st in stmts if isinstance(st, ast.Assign)
                    and isinstance(st.targets[0], ast.Name)
                    and isinstance(self.ti.names.get(st.targets[0].id), T.Scalar)
                    and self.ti.names[st.targets[0].id].is_float}
        read = {n.id for st in stmts for n in ast.walk(st) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        chain = assigned & read

        def path(node):
            """Flag the adds between ``node`` and a chain name it sums (nested expressions too)."""
            if isinstance(node, ast.Name):
                return node.id in chain
            if (isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub))
                    and isinstance(self.ti.node_types.get(id(node)), T.Scalar)
                    and self.ti.node_types[id(node)].is_float):
                hit = path(node.left)
                hit = path(node.right) or hit
                if hit:
                    self.acc_ops.add(id(node))
                return hit
            return False
        for st in stmts:
            if isinstance(st, ast.Assign) and isinstance(st.targets[0], ast.Name) and path(st.value):
                chain.add(st.targets[0].id)

    def _reserve_stacks(self, body, n):
        """Pushes that run at most once per iteration of this counted loop (not inside an inner
        loop) need at most n slots each: reserve them before the loop, push unchecked inside."""
        counts = {}

        def scan(stmts):
            for st in stmts:
                if isinstance(st, ast.If):
                    scan(st.body)
                    scan(st.orelse)
                elif (isinstance(st, ast.Expr) and isinstance(st.value, ast.Call)
                      and isinstance(st.value.func, ast.Attribute) and st.value.func.attr in ("push", "append")
                      and isinstance(st.value.func.value, ast.Name)
                      and self.ti.names.get(st.value.func.value.id) == T.STACK):
                    name = st.value.func.value.id
                    counts[name] = counts.get(name, 0) + 1
                    self.unchecked_pushes.add(id(st.value))
        scan(body)
        from .calls import reserve_stack
        for name, c in counts.items():
            reserve_stack(self, name, self.b.mul(n, ir.Constant(L.I64, c)))

    def while_stmt(self, s):
        b = self.b
        self._mark_accumulations(s.body)
        head = self.fn.append_basic_block("while")
        body = self.fn.append_basic_block("while.body")
        done = self.fn.append_basic_block("while.end")
        b.branch(head)
        b.position_at_end(head)
        if isinstance(s.test, ast.Constant) and s.test.value is True:
            b.branch(body)
        else:
            b.cbranch(self.cond_value(s.test), body, done)
        b.position_at_end(body)
        if self.poll_countdown is not None:
            self.charge_poll(ir.Constant(L.I64, 1))
        self.loops.append((head, done))
        self.block(s.body)
        self.loops.pop()
        if not b.block.is_terminated:
            b.branch(head)
        b.position_at_end(done)

    def charge_poll(self, steps):
        """Count ``steps`` loop iterations against the call's countdown; when it runs out, let
        Python run pending signal handlers (Ctrl-C) and leave if one raised."""
        b = self.b
        left = b.sub(b.load(self.poll_countdown, typ=L.I64), steps)
        b.store(left, self.poll_countdown)
        with self.cold_if(b.icmp_signed("<=", left, ir.Constant(L.I64, 0))):
            b.store(ir.Constant(L.I64, self.m.POLL_EVERY), self.poll_countdown)
            raised = b.call(self.m.poll_signals(), [])
            with self.cold_if(b.icmp_signed("!=", raised, ir.Constant(L.I32, 0))):
                b.call(self.m.set_error(), [self.ctx, ir.Constant(L.I64, self.m.SIGNAL_MESSAGE)]
                       + [ir.Constant(L.I64, 0)] * 3)
                b.store(ir.Constant(L.I32, 1), self.status)
                b.branch(self.cleanup)

    # ------------------------------------------------------------------ expressions
    def expr(self, node):
        b = self.b
        t = self.ti.type_of(node)
        if isinstance(node, ast.Constant):
            if t == T.NONE:
                return None
            return S.const(t, node.value)
        if isinstance(node, ast.Name):
            return self.load_name(node.id)
        if isinstance(node, ast.Tuple):
            return L.TupleVal(t, [self.expr(e) for e in node.elts])
        if isinstance(node, ast.BinOp):
            lt, rt_ = self.ti.type_of(node.left), self.ti.type_of(node.right)
            lv, rv = self.expr(node.left), self.expr(node.right)
            if isinstance(t, T.Array) or isinstance(node.op, ast.MatMult):
                from . import arrays as A
                return A.binop(self, node.op, lv, lt, rv, rt_, t)
            if isinstance(t, T.Tuple):
                return L.TupleVal(t, lv.items + rv.items)
            return S.binop(self, node.op, lv, lt, rv, rt_, t, acc=id(node) in self.acc_ops)
        if isinstance(node, ast.UnaryOp):
            ot = self.ti.type_of(node.operand)
            v = self.expr(node.operand)
            if isinstance(node.op, ast.Not):
                return b.xor(S.truth(self, v, ot), ir.Constant(L.I1, 1))
            if isinstance(node.op, ast.UAdd):
                return v
            if isinstance(ot, T.Array):
                from . import arrays as A
                return A.unary(self, "negative", v, t)
            return S.negate(self, v, ot)
        if isinstance(node, ast.Compare):
            lt, rt_ = self.ti.type_of(node.left), self.ti.type_of(node.comparators[0])
            lv, rv = self.expr(node.left), self.expr(node.comparators[0])
            if isinstance(t, T.Array):
                from . import arrays as A
                return A.compare(self, node.ops[0], lv, lt, rv, rt_)
            return S.compare(self, node.ops[0], lv, lt, rv, rt_)
        if isinstance(node, ast.BoolOp):
            vals = [(self.expr(v), self.ti.type_of(v)) for v in node.values]
            # operands are atoms (no side effects), so Python's short circuit is a select chain
            res = S.cast(self, vals[-1][0], vals[-1][1], t)
            for v, vt in reversed(vals[:-1]):
                c = S.truth(self, v, vt)
                cv = S.cast(self, v, vt, t)
                res = b.select(c, res, cv) if isinstance(node.op, ast.And) else b.select(c, cv, res)
            return res
        if isinstance(node, ast.IfExp):
            c = self.cond_value(node.test)
            a = self.expr(node.body)
            e = self.expr(node.orelse)
            if not isinstance(t, T.Scalar):
                raise self.unsupported("conditional expression of non-scalars")
            a = S.cast(self, a, self.ti.type_of(node.body), t)
            e = S.cast(self, e, self.ti.type_of(node.orelse), t)
            return b.select(c, a, e)
        if isinstance(node, ast.Attribute):
            return self.attribute(node, t)
        if isinstance(node, ast.Subscript):
            vt = self.ti.type_of(node.value)
            if isinstance(vt, T.Tuple):
                return self.tuple_item(node, vt)
            from . import arrays as A
            return A.getitem(self, node)
        if isinstance(node, ast.Call):
            from . import calls as C
            return C.call(self, node, t)
        raise self.unsupported(f"expression {type(node).__name__}")

    def attribute(self, node, t):
        import math
        v = node.value
        if isinstance(v, ast.Name) and v.id in ("math", "np", "numpy") and v.id not in self.ti.names:
            return ir.Constant(L.F64, {"pi": math.pi, "e": math.e, "inf": math.inf, "nan": math.nan,
                                       "tau": math.tau}[node.attr])
        at = self.ti.type_of(v)
        a = self.expr(v)
        if isinstance(at, T.Scalar):
            return a
        if node.attr == "shape":
            return L.TupleVal(t, list(a.shape))
        if node.attr == "ndim":
            return ir.Constant(L.I64, at.ndim)
        if node.attr == "size":
            return self.size_of(a)
        if node.attr == "T":
            from . import arrays as A
            return A.transpose(self, a, None)
        raise self.unsupported(f"attribute {node.attr}")

    def size_of(self, a):
        n = ir.Constant(L.I64, 1)
        for d in a.shape:
            n = self.b.mul(n, d)
        return n

    def tuple_item(self, node, vt):
        tv = self.expr(node.value)
        try:
            k = T.const_value(node.slice, self.ti.consts)
        except Exception:
            k = None
        if isinstance(k, int):
            return tv.items[k]
        # a runtime index into a homogeneous tuple: bounds-check, then a select chain
        b = self.b
        i = S.cast(self, self.expr(node.slice), self.ti.type_of(node.slice), T.I64)
        n = ir.Constant(L.I64, len(tv.items))
        i = b.select(b.icmp_signed("<", i, ir.Constant(L.I64, 0)), b.add(i, n), i)
        with self.cold_if(b.icmp_unsigned(">=", i, n)):
            self.fail("IndexError", "tuple index out of range")
        if not isinstance(vt.items[0], T.Scalar):
            raise self.unsupported("runtime index into a tuple of non-scalars")
        res = tv.items[0]
        for j in range(1, len(tv.items)):
            res = b.select(b.icmp_signed("==", i, ir.Constant(L.I64, j)), tv.items[j], res)
        return res
