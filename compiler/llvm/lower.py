"""Lowering of one typed, normalized function to an LLVM function.

Every generated function has the internal calling convention
    i32 f(ptr ret_slot, ptr ctx, <flattened arguments>)
returning 0 on success and 1 after recording an error in ``ctx``. All exits, normal or error, go
through one cleanup block that frees the function's save stacks, so nothing leaks on an exception.
Locals are allocas (mem2reg turns them into SSA); control flow maps one-to-one onto blocks.
"""
import ast
from contextlib import contextmanager

import numpy as np
from llvmlite import ir

from .. import typing as T
from . import types as L
from . import fused_pairs
from . import scalars as S
from .arena_scope import ArenaScope
from .errors import LoweringError
from .loops import LoopLowerer
from .lower_expr import ExprLowerer
from .stack_pool import StackPool


class FunctionLowerer(ArenaScope, StackPool, LoopLowerer, ExprLowerer):
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
        if isinstance(t, T.Scalar) and isinstance(v, np.ndarray):   # a 0-d array: its value now
            self.m.keepalive.append(v)
            addr = ir.Constant(L.I64, v.__array_interface__["data"][0]).inttoptr(L.PTR)
            return self.b.load(addr, typ=L.ll_type(t))
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
        self.zero_array_slots()
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
            t = T.constant_type(dv)
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

    # ------------------------------------------------------------------ statements
    def block(self, stmts):
        skip = None
        for i, s in enumerate(stmts):
            if s is skip:
                continue
            self.dead_block_if_terminated()
            self.lineno = getattr(s, "lineno", self.lineno)
            self.bounds.at(s)
            nxt = stmts[i + 1] if i + 1 < len(stmts) else None
            kind = fused_pairs.match(self, s, nxt)
            if kind:                  # the second statement's work done in the first's loop
                fused_pairs.lower_pair(self, kind, s, nxt)
                skip = nxt
                continue
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
            from . import indexing
            indexing.setitem(self, tgt, v, vt)
        else:
            raise self.unsupported("assignment target")

    def augassign(self, s):
        from . import arrays as A, indexing
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
            indexing.aug_setitem(self, s)
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








