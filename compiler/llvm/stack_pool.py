"""Save-stack buffers pooled per (function, stack) across calls: a gradient pushes the same
amount every call, so after the first call no push reallocates and no page is faulted in again.
The pool slot is emptied while a call holds the buffer, so re-entry stays safe; the module's
pool lock makes taking and returning atomic (JIT bodies run without the GIL)."""
from llvmlite import ir

from . import types as L


class StackPool:
    """Mixed into FunctionLowerer."""

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
