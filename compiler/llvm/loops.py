"""Loops of the function lowerer: counted `for` over range (forwards or reversed), `while`, the
accumulations they carry and the save-stack capacity they reserve before the loop."""
import ast

from llvmlite import ir

from .. import typing as T
from . import types as L
from . import scalars as S
from .array_stacks import holds_arrays


class LoopLowerer:
    """Mixed into FunctionLowerer."""

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
        scope = self.arena_scope(s.body)
        k_slot = self.alloca(L.I64, "k")
        b.store(zero, k_slot)
        head = self.fn.append_basic_block("for")
        body = self.fn.append_basic_block("for.body")
        latch = self.fn.append_basic_block("for.next")
        done = self.fn.append_basic_block("for.end")
        limit = n
        chunked = self.poll_countdown is not None and not self.loops
        if self.poll_countdown is not None and not chunked:
            # a nested loop charges its trip count on entry, and is not chunked: chunking a short
            # inner loop cost a third of the ADBench GMM's time. A signal is seen at the next
            # entry or chunk, so one very long run of an inner loop is not interrupted.
            self.charge_poll(n)
        if chunked:
            # Run the outermost loop in chunks of at most POLL_EVERY iterations; each chunk's
            # start charges its length to the call's countdown and polls for signals when it
            # runs out. The loop keeps its canonical counted form (and vectorizes).
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
        self.arena_release(scope)
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
                      and self.ti.names.get(st.value.func.value.id) == T.STACK
                      and not holds_arrays(self.ti.stack_elems[st.value.func.value.id])):
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
        scope = self.arena_scope(s.body)
        head = self.fn.append_basic_block("while")
        body = self.fn.append_basic_block("while.body")
        latch = self.fn.append_basic_block("while.next")
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
        self.loops.append((latch, done))
        self.block(s.body)
        self.loops.pop()
        if not b.block.is_terminated:
            b.branch(latch)
        b.position_at_end(latch)
        self.arena_release(scope)
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
