"""Matrix products: matmul (BLAS for contiguous float64/float32 2-d operands, else loops) and
outer."""
import ast

from llvmlite import ir

from .. import typing as T
from . import types as L
from . import scalars as S
from .arrays import ONE, ZERO, alloc, dt, fill, full, load_at, map_elementwise, store_at


# ------------------------------------------------------------------------------ products

def matmul(lw, lv, lt, rv, rt, t):
    b = lw.b
    if not isinstance(lt, T.Array) or not isinstance(rt, T.Array):
        return map_elementwise(lw, t.dtype, [(lv, lt), (rv, rt)],
                               lambda k, v: S.binop(k, ast.Mult(), v[0], dt(lt), v[1], dt(rt), t.dtype),
                               key=("bin", "Mult")) \
            if isinstance(t, T.Array) else S.binop(lw, ast.Mult(), lv, lt, rv, rt, t)
    od = T.dtype_of(t)
    flags = S.FAST_ACC

    def ld(a, off):
        return S.cast(lw, load_at(lw, a, off), a.dtype, od)

    def mul(x, y):
        return b.fmul(x, y, flags=flags) if od.is_float else b.mul(x, y)

    def add(x, y):
        return b.fadd(x, y, flags=flags) if od.is_float else b.add(x, y)
    kl = lv.shape[-1]
    check_aligned(lw, kl, rv.shape[0])
    if lt.ndim == 1 and rt.ndim == 1:
        slot = lw.alloca(L.scalar_ll(od))
        b.store(S.const(od, 0), slot)
        lw.for_range(kl, lambda k: b.store(add(b.load(slot, typ=L.scalar_ll(od)),
                                               mul(ld(lv, b.mul(k, lv.strides[0])), ld(rv, b.mul(k, rv.strides[0])))),
                                           slot))
        return b.load(slot, typ=L.scalar_ll(od))
    if lt.ndim == 2 and rt.ndim == 1:
        out = alloc(lw, od, [lv.shape[0]])

        def row(i):
            slot = lw.alloca(L.scalar_ll(od))
            b.store(S.const(od, 0), slot)
            base = b.mul(i, lv.strides[0])
            lw.for_range(kl, lambda k: b.store(
                add(b.load(slot, typ=L.scalar_ll(od)),
                    mul(ld(lv, b.add(base, b.mul(k, lv.strides[1]))), ld(rv, b.mul(k, rv.strides[0])))), slot))
            store_at(lw, out, i, b.load(slot, typ=L.scalar_ll(od)))
        lw.for_range(lv.shape[0], row)
        return out
    if lt.ndim == 1 and rt.ndim == 2:
        n = rv.shape[1]
        out = full(lw, od, [n], S.const(od, 0))

        def krow(k):
            x = ld(lv, b.mul(k, lv.strides[0]))
            base = b.mul(k, rv.strides[0])
            lw.for_range(n, lambda j: store_at(lw, out, j, add(load_at(lw, out, j),
                                                               mul(x, ld(rv, b.add(base, b.mul(j, rv.strides[1])))))))
        lw.for_range(kl, krow)
        return out
    m, n = lv.shape[0], rv.shape[1]
    if lw.m.blas_dgemm and od == T.F64 and lt.dtype == T.F64 and rt.dtype == T.F64:
        # dgemm with beta = 0 overwrites every element of C: no zero-fill on that path
        out = alloc(lw, od, [m, n])

        def loops():
            fill(lw, out, S.const(od, 0))
            matmul_loops(lw, lv, rv, out, m, n, kl, ld, add, mul)
        blas_or_loops(lw, lv, rv, out, m, n, kl, loops)
        return out
    out = full(lw, od, [m, n], S.const(od, 0))
    matmul_loops(lw, lv, rv, out, m, n, kl, ld, add, mul)
    return out


def check_aligned(lw, kl, kr):
    with lw.cold_if(lw.b.icmp_signed("!=", kl, kr)):
        lw.fail("ValueError", "matmul: shapes not aligned: {} (last axis of the first operand) != {} "
                "(first axis of the second)", kl, kr)


def blas_or_loops(lw, lv, rv, out, m, n, k, loops):
    """C = A @ B through CBLAS dgemm when each operand has a unit stride on one axis (any
    transposed or sliced-by-rows view qualifies), else through ``loops()``."""
    b = lw.b
    i32 = ir.IntType(32)

    def layout(a, rows, cols):
        # row-major with leading dimension strides[0], or its transpose (column-major)
        plain = b.and_(b.icmp_signed("==", a.strides[1], ONE),
                       b.icmp_signed(">=", a.strides[0], b.select(b.icmp_signed(">", cols, ONE),
                                                                   cols, ONE)))
        flipped = b.and_(b.icmp_signed("==", a.strides[0], ONE),
                         b.icmp_signed(">=", a.strides[1], b.select(b.icmp_signed(">", rows, ONE),
                                                                     rows, ONE)))
        trans = b.select(plain, ir.Constant(i32, 111), ir.Constant(i32, 112))
        lead = b.select(plain, a.strides[0], a.strides[1])
        return b.or_(plain, flipped), trans, lead

    ok_a, trans_a, lda = layout(lv, m, k)
    ok_b, trans_b, ldb = layout(rv, k, n)
    ldc = b.select(b.icmp_signed(">", n, ONE), n, ONE)
    dbl = ir.DoubleType()
    gemm = lw.m.declare(lw.m.blas_dgemm, ir.VoidType(),
                           [i32, i32, i32, L.I64, L.I64, L.I64, dbl, L.PTR, L.I64, L.PTR, L.I64,
                            dbl, L.PTR, L.I64])
    # k == 0 goes to the loops too: C is then all zeros, which the loops' fill writes
    usable = b.and_(b.and_(ok_a, ok_b), b.icmp_signed(">", k, ZERO))
    with b.if_else(usable) as (blas, fallback):
        with blas:
            b.call(gemm, [ir.Constant(i32, 101), trans_a, trans_b, m, n, k,
                          ir.Constant(dbl, 1.0), lv.data, lda, rv.data, ldb,
                          ir.Constant(dbl, 0.0), out.data, ldc])
        with fallback:
            loops()


def matmul_loops(lw, lv, rv, out, m, n, kl, ld, add, mul):
    b = lw.b

    def irow(i):
        obase = b.mul(i, n)

        def kk(k):
            x = ld(lv, b.add(b.mul(i, lv.strides[0]), b.mul(k, lv.strides[1])))
            base = b.mul(k, rv.strides[0])
            lw.for_range(n, lambda j: store_at(lw, out, b.add(obase, j), add(
                load_at(lw, out, b.add(obase, j)), mul(x, ld(rv, b.add(base, b.mul(j, rv.strides[1])))))))
        lw.for_range(kl, kk)
    lw.for_range(m, irow)


def outer(lw, av, at, bv, bt, t):
    if at.ndim != 1 or bt.ndim != 1:
        raise lw.unsupported("np.outer of arrays that are not 1-d")
    a2 = L.ArrayVal(T.Array(at.dtype, 2), av.data, [av.shape[0], ONE], [av.strides[0], ZERO])
    b2 = L.ArrayVal(T.Array(bt.dtype, 2), bv.data, [ONE, bv.shape[0]], [ZERO, bv.strides[0]])
    return map_elementwise(lw, t.dtype, [(a2, a2.type), (b2, b2.type)],
                           lambda k, v: S.binop(k, ast.Mult(), v[0], at.dtype, v[1], bt.dtype, t.dtype),
                           key=("bin", "Mult"))
