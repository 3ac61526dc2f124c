"""Loops free their iterations' temporaries.

Every array result is a block chained into the call's arena, and the arena used to be released
only when the call returned: a loop making a few small temporaries per iteration held all of
them (a 16-element array saved 10^5 times in a loop peaked at ~2 KB per iteration). Now a loop
that may allocate remembers the arena's head before it starts, and at the end of each
iteration unlinks and frees (or pools) every block allocated since, except the blocks a local
assigned in the loop body still points into. Nothing else can point into them: save stacks
copy the arrays they are given (array_stacks.py), locals not assigned in the body hold older
values, and an expression's temporaries are dead once its statement has run. A break or a
return skips the release; the call's own release then frees the blocks.
"""
import ast

from llvmlite import ir

from .. import typing as T
from . import types as L
from .array_stacks import data_leaves, holds_arrays


def free_chain(m):
    """void tf_free_chain(first): pool (when small enough to keep) or free each block of the
    chain starting at ``first``; adopted blocks (capacity -1) are skipped."""
    def build(fn, b):
        (first,) = fn.args
        c = lambda v: ir.Constant(L.I64, v)  # noqa: E731
        m.lock(b, fn)
        loop, body, done = (fn.append_basic_block(n) for n in ("loop", "body", "done"))
        entry = b.block
        b.branch(loop)
        b.position_at_end(loop)
        cur = b.phi(L.PTR)
        cur.add_incoming(first, entry)
        b.cbranch(b.icmp_unsigned("==", cur, ir.Constant(L.PTR, None)), done, body)
        b.position_at_end(body)
        nxt = b.load(cur, typ=L.PTR)
        size = b.load(b.gep(cur, [c(1)], source_etype=L.I64), typ=L.I64)
        cntp, totp, headp = m._pool_field(b, 1), m._pool_field(b, 2), m._pool_field(b, 0)
        cnt, tot = b.load(cntp, typ=L.I64), b.load(totp, typ=L.I64)
        keep = b.and_(b.and_(b.icmp_signed(">=", size, c(m.POOL_MIN)),
                             b.icmp_signed("<", cnt, c(m.POOL_MAX_BLOCKS))),
                      b.icmp_signed("<=", b.add(tot, size), c(m.POOL_MAX_BYTES)))
        adopted = b.icmp_signed("==", size, c(-1))
        after = fn.append_basic_block("next")
        dopool, notpool = fn.append_basic_block("pool"), fn.append_basic_block("notpool")
        b.cbranch(keep, dopool, notpool)
        b.position_at_end(dopool)
        b.store(b.load(headp, typ=L.PTR), cur)
        b.store(cur, headp)
        b.store(b.add(cnt, c(1)), cntp)
        b.store(b.add(tot, size), totp)
        b.branch(after)
        b.position_at_end(notpool)
        dofree = fn.append_basic_block("free")
        b.cbranch(adopted, after, dofree)
        b.position_at_end(dofree)
        b.call(m.free(), [cur])
        b.branch(after)
        b.position_at_end(after)
        cur.add_incoming(nxt, after)
        b.branch(loop)
        b.position_at_end(done)
        m.unlock(b)
        b.ret_void()
    return m._helper("tf_free_chain", L.VOID, [L.PTR], build)


def release_since(m):
    """void tf_arena_release(ctx, mark, keep, nkeep): free the call's blocks newer than ``mark``
    that none of the ``nkeep`` pointers at ``keep`` points into."""
    def build(fn, b):
        ctx, mark, keep, nkeep = fn.args
        c = lambda v: ir.Constant(L.I64, v)  # noqa: E731
        null = ir.Constant(L.PTR, None)
        head = b.gep(ctx, [ir.Constant(L.I32, 0), ir.Constant(L.I32, 0)], source_etype=L.CTX_STRUCT)
        names = ("walk", "block", "scan", "test", "kept", "dead", "done")
        walk, block, scan, test, kept, dead, done = (fn.append_basic_block(n) for n in names)
        entry = b.block
        b.branch(walk)
        b.position_at_end(walk)
        link = b.phi(L.PTR)            # the link that points at cur (a block's first word)
        freed = b.phi(L.PTR)           # the chain of blocks to free
        link.add_incoming(head, entry)
        freed.add_incoming(null, entry)
        cur = b.load(link, typ=L.PTR)
        stop = b.or_(b.icmp_unsigned("==", cur, mark), b.icmp_unsigned("==", cur, null))
        b.cbranch(stop, done, block)
        b.position_at_end(block)
        lo = b.ptrtoint(b.gep(cur, [c(16)], source_etype=L.I8), L.I64)
        hi = b.add(lo, b.load(b.gep(cur, [c(1)], source_etype=L.I64), typ=L.I64))
        b.branch(scan)
        b.position_at_end(scan)
        j = b.phi(L.I64)
        j.add_incoming(c(0), block)
        b.cbranch(b.icmp_signed("<", j, nkeep), test, dead)
        b.position_at_end(test)
        p = b.ptrtoint(b.load(b.gep(keep, [j], source_etype=L.PTR), typ=L.PTR), L.I64)
        inside = b.and_(b.icmp_unsigned(">=", p, lo), b.icmp_unsigned("<=", p, hi))
        j.add_incoming(b.add(j, c(1)), test)
        b.cbranch(inside, kept, scan)
        b.position_at_end(kept)        # stays linked: the walk goes on from its link
        link.add_incoming(cur, kept)
        freed.add_incoming(freed, kept)
        b.branch(walk)
        b.position_at_end(dead)        # unlink it and put it on the chain to free
        b.store(b.load(cur, typ=L.PTR), link)
        b.store(freed, cur)
        link.add_incoming(link, dead)
        freed.add_incoming(cur, dead)
        b.branch(walk)
        b.position_at_end(done)
        b.call(free_chain(m), [freed])
        b.ret_void()
    return m._helper("tf_arena_release", L.VOID, [L.PTR, L.PTR, L.PTR, L.I64], build)


_VIEWS = (ast.Name, ast.Attribute, ast.Tuple, ast.Constant)


def may_allocate(lw, body):
    """Whether statements ``body`` may make arena blocks: an array-valued expression that is
    not a name or a view, a call given an array, a call of a module function, a fancy index."""
    for st in body:
        for n in ast.walk(st):
            if isinstance(n, ast.Call):
                name = T.call_name(n.func)
                if name in lw.m.mfuncs or any(holds_arrays(lw.ti.node_types.get(id(a))) for a in n.args):
                    return True
            if isinstance(n, ast.Subscript):
                if any(holds_arrays(lw.ti.node_types.get(id(x))) for x in ast.walk(n.slice)):
                    return True
                continue
            if not isinstance(n, _VIEWS) and isinstance(n, ast.expr) and \
                    holds_arrays(lw.ti.node_types.get(id(n))):
                return True
    return False


def _assigned(body):
    out = set()
    for st in body:
        for n in ast.walk(st):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
                out.add(n.id)
    return sorted(out)


class ArenaScope:
    """Mixed into FunctionLowerer."""

    def zero_array_slots(self):
        """Locals holding arrays start as null pointers, so an iteration's release may read a
        local the loop has not assigned yet."""
        for name, t in self.ti.names.items():
            if t != T.STACK and holds_arrays(t):
                self.b.store(ir.Constant(L.ll_type(t), None), self.slots[name])

    def arena_scope(self, body):
        """Call before a loop: the state its iterations' release needs, or None when its body
        makes no blocks."""
        if not may_allocate(self, body):
            return None
        b = self.b
        head = b.gep(self.ctx, [ir.Constant(L.I32, 0), ir.Constant(L.I32, 0)], source_etype=L.CTX_STRUCT)
        names = [n for n in _assigned(body) if self.ti.names.get(n) not in (None, T.STACK)
                 and holds_arrays(self.ti.names[n])]
        mark = self.alloca(L.PTR, "arena.mark")
        b.store(b.load(head, typ=L.PTR), mark)
        return head, mark, names

    def arena_release(self, scope):
        """End of an iteration: free the blocks no local assigned in the body points into."""
        if scope is None:
            return
        b = self.b
        head, mark, names = scope
        mark = b.load(mark, typ=L.PTR)
        with b.if_then(b.icmp_unsigned("!=", b.load(head, typ=L.PTR), mark)):
            ptrs = []
            for n in names:
                t = self.ti.names[n]
                v = L.unpack(b, t, b.load(self.slots[n], typ=L.ll_type(t)))
                leaves = L.flatten(t, v)
                ptrs += [leaves[k] for k in data_leaves(t)]
            keep = self.alloca(ir.ArrayType(L.PTR, max(len(ptrs), 1)), "arena.keep")
            for k, p in enumerate(ptrs):
                b.store(p, b.gep(keep, [ir.Constant(L.I64, k)], source_etype=L.PTR))
            b.call(release_since(self.m), [self.ctx, mark, keep, ir.Constant(L.I64, len(ptrs))])

