"""Scalar semantics: casts, Python/numpy arithmetic, comparisons and math functions on one element.

Array code calls the same functions per element, so an operator means one thing everywhere.
Float division by zero follows IEEE (inf/nan, as numpy does); integer division by zero raises
ZeroDivisionError (LLVM's sdiv would be undefined). ``//`` and ``%`` follow Python's floor rules.
"""
import ast
import math

from llvmlite import ir

from .. import typing as T
from . import types as L

FAST_ACC = ("reassoc", "contract")    # on accumulations only: lets reductions vectorize


def const(t, v):
    return ir.Constant(L.scalar_ll(t), int(v) if not t.is_float else float(v))


def cast(lw, v, frm, to):
    """Convert a scalar SSA value between dtypes with numpy's casting semantics."""
    b = lw.b
    if frm == to:
        return v
    if to == T.BOOL:
        return truth(lw, v, frm)
    if frm == T.BOOL:
        return b.zext(v, L.I64) if to == T.I64 else b.uitofp(v, L.scalar_ll(to))
    if frm == T.I64:
        return b.sitofp(v, L.scalar_ll(to))
    if to == T.I64:          # float -> int truncates toward zero; saturating avoids poison on nan/inf
        fn = lw.intrinsic("llvm.fptosi.sat", L.I64, [L.scalar_ll(frm)])
        return b.call(fn, [v])
    if frm == T.F32 and to == T.F64:
        return b.fpext(v, L.F64)
    return b.fptrunc(v, L.F32)


def truth(lw, v, t):
    b = lw.b
    if t == T.BOOL:
        return v
    if t.is_float:
        return b.fcmp_unordered("!=", v, ir.Constant(v.type, 0.0))   # nan is true, as in Python
    return b.icmp_signed("!=", v, ir.Constant(v.type, 0))


def binop(lw, op, a, at, bv, bt, rt, acc=False):
    """``a OP b`` for scalar dtypes at/bt giving rt (the typed result). ``acc``: an accumulation."""
    b = lw.b
    if isinstance(op, ast.Div):
        a, bv = cast(lw, a, at, rt), cast(lw, bv, bt, rt)
        return b.fdiv(a, bv)
    if isinstance(op, (ast.BitAnd, ast.BitOr, ast.BitXor, ast.LShift, ast.RShift)):
        a, bv = cast(lw, a, at, rt), cast(lw, bv, bt, rt)
        return {ast.BitAnd: b.and_, ast.BitOr: b.or_, ast.BitXor: b.xor, ast.LShift: b.shl,
                ast.RShift: b.ashr}[type(op)](a, bv)
    a, bv = cast(lw, a, at, rt), cast(lw, bv, bt, rt)
    flt = rt.is_float
    flags = FAST_ACC if acc else ()
    # integer ops are nsw: Python ints never wrap, so a wrapped i64 result is already wrong, and
    # the flag lets LLVM reason about index arithmetic (i + 1 < n) to drop bounds checks
    if isinstance(op, ast.Add):
        return b.fadd(a, bv, flags=flags) if flt else b.add(a, bv, flags=["nsw"])
    if isinstance(op, ast.Sub):
        return b.fsub(a, bv, flags=flags) if flt else b.sub(a, bv, flags=["nsw"])
    if isinstance(op, ast.Mult):
        return b.fmul(a, bv, flags=flags) if flt else b.mul(a, bv, flags=["nsw"])
    if isinstance(op, ast.FloorDiv):
        return floordiv(lw, a, bv, rt)
    if isinstance(op, ast.Mod):
        return mod(lw, a, bv, rt)
    if isinstance(op, ast.Pow):
        return power(lw, a, bv, rt, bt)
    raise lw.unsupported(f"operator {type(op).__name__}")


def _int_zero_check(lw, d):
    b = lw.b
    with lw.cold_if(b.icmp_signed("==", d, ir.Constant(L.I64, 0))):
        lw.fail("ZeroDivisionError", "integer division or modulo by zero")


def floordiv(lw, a, d, t):
    b = lw.b
    if not t.is_float:
        _int_zero_check(lw, d)
        q = b.sdiv(a, d)
        r = b.srem(a, d)
        # round toward -inf: subtract one when the remainder is nonzero and signs differ
        adj = b.and_(b.icmp_signed("!=", r, ir.Constant(L.I64, 0)),
                     b.icmp_signed("<", b.xor(r, d), ir.Constant(L.I64, 0)))
        return b.sub(q, b.zext(adj, L.I64))
    # Python: div = (a - fmod(a, d)) / d, fixed so that it is the floor, as floatobject.c does
    m = b.frem(a, d)
    div = b.fdiv(b.fsub(a, m), d)
    zero = ir.Constant(a.type, 0.0)
    fix = b.and_(b.fcmp_ordered("!=", m, zero),
                 b.xor(b.fcmp_ordered("<", d, zero), b.fcmp_ordered("<", m, zero)))
    div = b.select(fix, b.fsub(div, ir.Constant(a.type, 1.0)), div)
    fl = b.call(lw.intrinsic("llvm.floor", a.type, [a.type]), [div])
    fl = b.select(b.fcmp_ordered(">", b.fsub(div, fl), ir.Constant(a.type, 0.5)),
                  b.fadd(fl, ir.Constant(a.type, 1.0)), fl)
    # a zero quotient keeps the sign of a/d; division by zero follows IEEE like numpy
    q = b.select(b.fcmp_ordered("==", div, zero), b.call(lw.intrinsic("llvm.copysign", a.type, [a.type, a.type]),
                                                         [zero, b.fdiv(a, d)]), fl)
    return b.select(b.fcmp_ordered("==", d, zero), b.fdiv(a, d), q)


def mod(lw, a, d, t):
    b = lw.b
    if not t.is_float:
        _int_zero_check(lw, d)
        r = b.srem(a, d)
        adj = b.and_(b.icmp_signed("!=", r, ir.Constant(L.I64, 0)),
                     b.icmp_signed("<", b.xor(r, d), ir.Constant(L.I64, 0)))
        return b.select(adj, b.add(r, d), r)
    zero = ir.Constant(a.type, 0.0)
    r = b.frem(a, d)
    fix = b.and_(b.fcmp_ordered("!=", r, zero),
                 b.xor(b.fcmp_ordered("<", d, zero), b.fcmp_ordered("<", r, zero)))
    r = b.select(fix, b.fadd(r, d), r)
    # a zero remainder takes the divisor's sign (Python's rule)
    cs = lw.intrinsic("llvm.copysign", a.type, [a.type, a.type])
    return b.select(b.fcmp_ordered("==", r, zero), b.call(cs, [zero, d]), r)


def power(lw, a, e, t, et):
    b = lw.b
    if t.is_float:
        if isinstance(e, ir.Constant) and e.constant == 2.0:
            return b.fmul(a, a)
        if isinstance(e, ir.Constant) and e.constant == 1.0:
            return a
        return b.call(lw.intrinsic("llvm.pow", a.type, [a.type, a.type]), [a, e])
    # integer power by repeated squaring; a negative exponent is an error, as in numpy
    with lw.cold_if(b.icmp_signed("<", e, ir.Constant(L.I64, 0))):
        lw.fail("ValueError", "Integers to negative integer powers are not allowed.")
    return b.call(lw.helper_ipow(), [a, e])


def compare(lw, op, a, at, bv, bt):
    b = lw.b
    ct = T.promote(at, False, bt, False)
    if ct == T.BOOL:
        ct = T.I64
    a, bv = cast(lw, a, at, ct), cast(lw, bv, bt, ct)
    sym = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}[type(op)]
    if ct.is_float:
        if sym == "!=":
            return b.fcmp_unordered("!=", a, bv)
        return b.fcmp_ordered(sym, a, bv)
    return b.icmp_signed(sym, a, bv)


def negate(lw, v, t):
    if t.is_float:
        return lw.b.fneg(v)
    if t == T.BOOL:
        v = cast(lw, v, t, T.I64)
    return lw.b.neg(v)


# --------------------------------------------------------------------------- math functions

INTRINSIC_1 = {"sin": "llvm.sin", "cos": "llvm.cos", "exp": "llvm.exp", "log": "llvm.log",
               "sqrt": "llvm.sqrt", "fabs": "llvm.fabs", "abs": "llvm.fabs", "absolute": "llvm.fabs",
               "floor": "llvm.floor", "ceil": "llvm.ceil", "exp2": "llvm.exp2", "log2": "llvm.log2",
               "log10": "llvm.log10", "trunc": "llvm.trunc"}
LIBM_1 = {"tan": "tan", "tanh": "tanh", "sinh": "sinh", "cosh": "cosh", "arcsin": "asin",
          "arccos": "acos", "arctan": "atan", "asin": "asin", "acos": "acos", "atan": "atan",
          "log1p": "log1p", "expm1": "expm1", "erf": "erf", "erfc": "erfc", "lgamma": "lgamma",
          "gamma": "tgamma", "arcsinh": "asinh", "arccosh": "acosh", "arctanh": "atanh",
          "asinh": "asinh", "acosh": "acosh", "atanh": "atanh", "cbrt": "cbrt"}
# unit conversions: a multiplication by the factor numpy uses
SCALED_1 = {"deg2rad": math.pi / 180.0, "radians": math.pi / 180.0,
            "rad2deg": 180.0 / math.pi, "degrees": 180.0 / math.pi}
LIBM_2 = {"atan2": "atan2", "arctan2": "atan2", "hypot": "hypot", "fmod": "fmod"}


def unary_math(lw, f, v, t):
    """np.<f>/math.<f> of one float (``t`` already the float result dtype) or int where meaningful."""
    b = lw.b
    if f in ("abs", "absolute", "fabs") and not t.is_float:
        return b.select(b.icmp_signed("<", v, ir.Constant(v.type, 0)), b.neg(v), v)
    if f == "square":
        return b.fmul(v, v) if t.is_float else b.mul(v, v)
    if f == "negative":
        return negate(lw, v, t)
    if f == "positive":
        return v
    if f == "reciprocal":
        if not t.is_float:   # numpy's integer reciprocal truncates (and 1/0 is undefined)
            raise lw.unsupported("np.reciprocal of integers")
        return b.fdiv(ir.Constant(v.type, 1.0), v)
    if f == "sign":
        if t.is_float:
            zero, one = ir.Constant(v.type, 0.0), ir.Constant(v.type, 1.0)
            s = b.select(b.fcmp_ordered(">", v, zero), one,
                         b.select(b.fcmp_ordered("<", v, zero), ir.Constant(v.type, -1.0), zero))
            return b.select(b.fcmp_unordered("uno", v, v), v, s)
        gt = b.zext(b.icmp_signed(">", v, ir.Constant(v.type, 0)), v.type)
        lt = b.zext(b.icmp_signed("<", v, ir.Constant(v.type, 0)), v.type)
        return b.sub(gt, lt)
    if f in ("isnan", "isinf", "isfinite"):
        if not t.is_float:
            return ir.Constant(L.I1, f == "isfinite")
        if f == "isnan":
            return b.fcmp_unordered("uno", v, v)
        inf = ir.Constant(v.type, float("inf"))
        fa = b.call(lw.intrinsic("llvm.fabs", v.type, [v.type]), [v])
        return b.fcmp_ordered("==", fa, inf) if f == "isinf" else b.fcmp_ordered("<", fa, inf)
    if f in ("sin", "cos") and v.type == L.F64 and getattr(lw, "use_sincos", False):
        return b.extract_value(b.call(lw.m.sincos(), [v]), 0 if f == "sin" else 1)
    if f in INTRINSIC_1:
        return b.call(lw.intrinsic(INTRINSIC_1[f], v.type, [v.type]), [v])
    if f in LIBM_1:
        return b.call(lw.libm(LIBM_1[f], v.type, 1), [v])
    if f in SCALED_1:
        return b.fmul(v, ir.Constant(v.type, SCALED_1[f]))
    raise lw.unsupported(f"math function {f}")


def binary_math(lw, f, a, bv, t):
    b = lw.b
    if f in ("maximum", "minimum"):
        if t.is_float:      # numpy propagates nan
            name = "llvm.maximum" if f == "maximum" else "llvm.minimum"
            return b.call(lw.intrinsic(name, a.type, [a.type, a.type]), [a, bv])
        sym = ">" if f == "maximum" else "<"
        cmp = b.icmp_signed(sym, a, bv) if t != T.BOOL else b.icmp_unsigned(sym, a, bv)
        return b.select(cmp, a, bv)
    if f in ("fmax", "fmin"):
        name = "llvm.maxnum" if f == "fmax" else "llvm.minnum"
        return b.call(lw.intrinsic(name, a.type, [a.type, a.type]), [a, bv])
    if f in ("max", "min"):   # Python builtins: the first argument wins ties and nan comparisons
        sym = ">" if f == "max" else "<"
        cmp = b.fcmp_ordered(sym, bv, a) if t.is_float else b.icmp_signed(sym, bv, a)
        return b.select(cmp, bv, a)
    if f in ("pow", "power"):
        return power(lw, a, bv, t, t)
    if f == "copysign":
        return b.call(lw.intrinsic("llvm.copysign", a.type, [a.type, a.type]), [a, bv])
    if f in LIBM_2:
        return b.call(lw.libm(LIBM_2[f], a.type, 2), [a, bv])
    raise lw.unsupported(f"math function {f}")
