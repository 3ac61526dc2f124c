"""Out-of-line array kernels, shared by every identical use within a module.

Inlining each elementwise loop nest into the function made gradient modules of array code huge
(dozens of loop nests in one function, each vectorized with its own runtime checks): compile
time grew to seconds. A kernel is one small noinline function per (operation, operand dtypes and
kinds, output dtype, rank); a call costs a few nanoseconds per whole-array operation.

    i32 kernel(ptr ctx, i64 shape[nd], out data, out strides[nd],
               per array operand: data, strides[nd] (already broadcast: 0 on stretched axes),
               per scalar operand: value)
"""
from llvmlite import ir

from .. import typing as T
from . import types as L
from .lower import FunctionLowerer


class KernelLowerer(FunctionLowerer):
    """A FunctionLowerer over a bare kernel function: same error/loop helpers, no Python body."""

    def __init__(self, mctx, name, argtys, use_sincos):
        self.m = mctx
        self.fn = ir.Function(mctx.module, ir.FunctionType(L.I32, [L.PTR] + argtys), name)
        self.fn.linkage = "internal"
        self.fn.attributes.add("nounwind")
        self.fn.attributes.add("noinline")
        self.lineno = None
        self.loops = []
        self.use_sincos = use_sincos
        self.noalias = False
        self.assigned_flags = {}
        b = self.b = ir.IRBuilder()
        self.entry_block = self.fn.append_basic_block("entry")
        start = self.fn.append_basic_block("start")
        self.cleanup = self.fn.append_basic_block("cleanup")
        b.position_at_end(self.entry_block)
        self.ctx = self.fn.args[0]
        self.status = L.alloca(b, L.I32, name="status")
        b.store(ir.Constant(L.I32, 0), self.status)
        b.branch(start)
        b.position_at_end(start)

    def finish(self):
        b = self.b
        if not b.block.is_terminated:
            b.branch(self.cleanup)
        b.position_at_end(self.cleanup)
        b.ret(b.load(self.status, typ=L.I32))


def _kind(t):
    return ("A", T.dtype_of(t).name) if isinstance(t, T.Array) else ("S", t.name)


def call_elementwise_kernel(lw, key, out_dtype, operands, fn, out, shape, stride_lists,
                            after=None):
    """``key`` names what ``fn`` (and ``after``, see emit_elementwise) compute."""
    from .arrays import emit_elementwise
    nd = len(shape)
    kinds = tuple(_kind(t) for _, t in operands)
    full_key = ("ew", key, out_dtype.name, nd, kinds, lw.m.boundscheck)
    kernels = lw.m.__dict__.setdefault("kernels", {})
    kfn = kernels.get(full_key)
    if kfn is None:
        argtys = [L.I64] * nd + [L.PTR] + [L.I64] * nd
        for _, t in operands:
            argtys += [L.PTR] + [L.I64] * nd if isinstance(t, T.Array) else [L.scalar_ll(t)]
        k = KernelLowerer(lw.m, lw.m.unique("tf_kernel"), argtys, getattr(lw, "use_sincos", False))
        args = iter(k.fn.args[1:])
        kshape = [next(args) for _ in range(nd)]
        kout = L.ArrayVal(T.Array(out_dtype, nd), next(args), kshape, [next(args) for _ in range(nd)])
        kops, kstrides = [], []
        for _, t in operands:
            if isinstance(t, T.Array):
                data = next(args)
                st = [next(args) for _ in range(nd)]
                kops.append((L.ArrayVal(T.Array(t.dtype, nd), data, kshape, st), T.Array(t.dtype, nd)))
                kstrides.append(st)
            else:
                kops.append((next(args), t))
        emit_elementwise(k, kops, fn, kout, kshape, kstrides + [kout.strides], after)
        k.finish()
        kfn = kernels[full_key] = k.fn
    args = list(shape) + [out.data] + list(stride_lists[-1])
    j = 0
    for v, t in operands:
        if isinstance(t, T.Array):
            args += [v.data] + list(stride_lists[j])
            j += 1
        else:
            args.append(v)
    lw.check_status(lw.b.call(kfn, [lw.ctx] + args))
