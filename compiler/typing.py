"""Static types for the native backend: argument types from values, and inference over a function.

The IR is the normalized (one operation per statement) AST. ``infer`` assigns one type to every
local name by iterating to a fixed point (a loop may use a name before the statement that assigns
it textually), and records the type of every right-hand side so lowering never re-derives it.
Promotion follows numpy (NEP 50): Python literals are "weak" and adopt the other operand's kind.
"""
import ast
import math
from dataclasses import dataclass, field

import numpy as np

from tapeflow.runtime import rules

from .llvm.errors import NativeUnsupported, TypingError  # noqa: F401  (re-exported)


# ----------------------------------------------------------------------------------------- types

@dataclass(frozen=True)
class Scalar:
    name: str            # 'float64' | 'float32' | 'int64' | 'bool'

    def __repr__(self):
        return self.name

    @property
    def kind(self):
        return {"bool": 0, "int64": 1, "float32": 2, "float64": 2}[self.name]

    @property
    def is_float(self):
        return self.kind == 2

    @property
    def np_dtype(self):
        return np.dtype(self.name)


F64, F32, I64, BOOL = Scalar("float64"), Scalar("float32"), Scalar("int64"), Scalar("bool")
SCALARS = {t.name: t for t in (F64, F32, I64, BOOL)}


@dataclass(frozen=True)
class Array:
    dtype: Scalar
    ndim: int
    # The compiled code handles any strides, so layout is informative and not part of identity.
    layout: str = field(default="A", compare=False)

    def __repr__(self):
        return f"array({self.dtype}, {self.ndim}d)"


@dataclass(frozen=True)
class Tuple:
    items: tuple

    def __repr__(self):
        return "(" + ", ".join(map(repr, self.items)) + ("," if len(self.items) == 1 else "") + ")"


@dataclass(frozen=True)
class StackType:
    """A save stack; its element type lives in ``TypeInfo.stack_elems`` (pushes decide it)."""

    def __repr__(self):
        return "Stack"


@dataclass(frozen=True)
class NoneType_:
    def __repr__(self):
        return "None"


NONE = NoneType_()
STACK = StackType()


# --------------------------------------------------------------------------- argument types

def typeof(value, name="argument"):
    """The static type of a call argument: bool/int/float scalars and numpy arrays of those."""
    if isinstance(value, (bool, np.bool_)):
        return BOOL
    if isinstance(value, (int, np.integer)) and not isinstance(value, np.uint64):
        return I64
    if isinstance(value, np.float32):
        return F32
    if isinstance(value, (float, np.floating)) and not isinstance(value, np.longdouble):
        return F64
    if isinstance(value, np.ndarray):
        dt = value.dtype
        for t in (F64, F32, I64, BOOL):
            if dt == t.np_dtype:
                layout = "C" if value.flags.c_contiguous else ("F" if value.flags.f_contiguous else "A")
                return Array(t, value.ndim, layout)
        raise TypingError(f"{name}: unsupported array dtype {dt}")
    if isinstance(value, tuple):
        return Tuple(tuple(typeof(v, name) for v in value))
    raise TypingError(f"{name}: unsupported argument type {type(value).__name__}")


def signature(args):
    """The argument types of a call: the key to compile (and cache) a native version under."""
    return tuple(typeof(a, f"argument {i}") for i, a in enumerate(args))


# --------------------------------------------------------------------------------- promotion

def _default(kind):
    return (BOOL, I64, F64)[kind]


def promote(a, aw, b, bw):
    """Result dtype of an arithmetic op between scalar dtypes a and b (aw/bw: weak literal)."""
    if a == b:
        return a
    if aw != bw:
        strong, weak = (b, a) if aw else (a, b)
        return strong if strong.kind >= weak.kind else _default(weak.kind)
    if a.kind != b.kind:
        return a if a.kind > b.kind else b
    return F64  # float32 with float64


def unify(old, new):
    """The type a name keeps when assigned values of types old and new (None: not yet known)."""
    if old is None or old == new:
        return new
    if new is None:
        return old
    if isinstance(old, Scalar) and isinstance(new, Scalar):
        if old.is_float or new.is_float:
            return F64 if F64 in (old, new) or not (old == F32 or new == F32) else F32
        return I64
    if isinstance(old, Array) and isinstance(new, Array) and old.ndim == new.ndim:
        return Array(unify(old.dtype, new.dtype), old.ndim)
    # a scalar stored in an array-typed name (e.g. an adjoint reset with `da = 0.0`) becomes a
    # 1-element array broadcastable to any shape: arithmetic then gives numpy's results
    if isinstance(old, Array) and isinstance(new, Scalar):
        return Array(unify(old.dtype, new), old.ndim)
    if isinstance(old, Scalar) and isinstance(new, Array):
        return Array(unify(old, new.dtype), new.ndim)
    if isinstance(old, Tuple) and isinstance(new, Tuple) and len(old.items) == len(new.items):
        return Tuple(tuple(unify(a, b) for a, b in zip(old.items, new.items)))
    return _Conflict(old, new)


@dataclass(frozen=True)
class _Conflict:
    a: object
    b: object


def dtype_of(t):
    return t.dtype if isinstance(t, Array) else t


def ndim_of(t):
    return t.ndim if isinstance(t, Array) else 0


def make(dtype, ndim):
    return Array(dtype, ndim) if ndim else dtype


# --------------------------------------------------------------------------------- call table

def native_family(name, method=False):
    """The family under which native code types and lowers ``np.<name>`` (or the array method
    ``.<name>()``): read off the primitive table (runtime/rules), None if it has none."""
    fn = rules.method(name) if method else getattr(np, name, None)
    entry = rules.entry_of(fn) if fn is not None else None
    return entry.native if entry is not None else None


def _names(family, module=np):
    return {c.__name__ for e in rules.ENTRIES if e.native == family for c in e.callables
            if getattr(module, getattr(c, "__name__", ""), None) is c}


# views of the table, by family
HELPERS = {c.__name__ for e in rules.ENTRIES if e.native == "helper" for c in e.callables}
UNARY_FLOAT = _names("unary_float")
UNARY_SAME = _names("unary_same")
REDUCTIONS = _names("reduction")
MATH_FLOAT = {n for f in ("unary_float", "unary_same", "binary", "math") for n in _names(f, math)}
DTYPE_NAMES = {"float64": F64, "float32": F32, "int64": I64, "bool_": BOOL, "bool": BOOL,
               "float": F64, "int": I64, "double": F64, "single": F32, "intp": I64}


def call_name(func):
    """'np.sin' / 'math.exp' / 'abs' / 'g' for the func node of a call, or None."""
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        mod = func.value.id
        if mod in ("np", "numpy"):
            return "np." + func.attr
        if mod == "math":
            return "math." + func.attr
    return None


def range_call(it):
    """The range(...) call of a for loop's iterator, looking through reversed(...)."""
    if (isinstance(it, ast.Call) and call_name(it.func) == "reversed" and len(it.args) == 1
            and not it.keywords):
        return it.args[0]
    return it


def const_value(node, consts=None):
    """The Python value of a constant node (ints, floats, None, tuples of them), else raise."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -const_value(node.operand, consts)
    if isinstance(node, ast.Tuple):
        return tuple(const_value(e, consts) for e in node.elts)
    if isinstance(node, ast.Name) and consts is not None and node.id in consts:
        return consts[node.id]
    raise TypingError("expected a constant", getattr(node, "lineno", None))


def dtype_from_node(node):
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in ("np", "numpy"):
        if node.attr in DTYPE_NAMES:
            return DTYPE_NAMES[node.attr]
    if isinstance(node, ast.Name) and node.id in ("float", "int", "bool"):
        return DTYPE_NAMES[node.id]
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in DTYPE_NAMES:
        return DTYPE_NAMES[node.value]
    raise TypingError("unsupported dtype", getattr(node, "lineno", None))


# --------------------------------------------------------------------------------- inference

class _Unknown(Exception):
    """A name read before any assignment typed it (retried in the next fixed-point pass)."""


@dataclass
class TypeInfo:
    fdef: ast.FunctionDef
    arg_types: tuple
    names: dict                     # name -> type
    node_types: dict                # id(expr node) -> type
    stack_elems: dict               # stack name -> element type
    ret: object                     # return type (NONE if no value)
    callees: dict                   # (callee name, arg types) -> TypeInfo
    consts: dict                    # names bound once to a constant -> value
    written_params: set             # parameters stored into (a[i] = ...)
    params: list = None             # the parameters passed (defaulted trailing ones excluded)
    defaulted: dict = None          # parameter -> default value, for those not passed
    constants: dict = None          # module constant name -> value embedded in the code

    def type_of(self, node):
        return self.node_types[id(node)]


def to_ast(funcdef):
    """Accept a gast or stdlib ast FunctionDef (or a Module holding one)."""
    if type(funcdef).__module__.startswith("gast"):
        import gast
        funcdef = gast.gast_to_ast(funcdef)
    if isinstance(funcdef, ast.Module):
        funcdef = next(n for n in funcdef.body if isinstance(n, ast.FunctionDef))
    return funcdef


def constant_value(v):
    """A module-level constant the function reads, in the form the backend embeds (or None)."""
    if isinstance(v, (bool, int, float, np.bool_, np.integer, np.floating)):
        return v
    if isinstance(v, (list, tuple)) and v and all(isinstance(x, (bool, int, float)) for x in v):
        return np.asarray(v) if isinstance(v, list) else tuple(v)
    if isinstance(v, (list, tuple)) and v and all(isinstance(x, (list, tuple, int, float)) for x in v):
        try:
            a = np.asarray(v, dtype=np.float64)
        except (ValueError, TypeError):
            return None
        return a
    if isinstance(v, np.ndarray) and v.ndim > 0:
        try:
            typeof(v)
        except TypingError:
            return None
        return v
    return None


def infer(funcdef, arg_types, module_functions=None, _active=None, constants=None):
    """Type every name of ``funcdef`` called with ``arg_types``; raise TypingError when impossible."""
    fdef = to_ast(funcdef)
    return _Inferer(fdef, tuple(arg_types), module_functions or {}, _active or set(), constants).run()


class _Inferer:
    def __init__(self, fdef, arg_types, module_functions, active, constants=None):
        self.raw_constants = constants or {}
        self.fdef = fdef
        self.arg_types = arg_types
        self.mfuncs = {k: to_ast(v) for k, v in module_functions.items()}
        self._raw_mfuncs = module_functions
        self.active = active
        self.names = {}
        self.node_types = {}
        self.stack_elems = {}
        self.ret = None
        self.callees = {}
        self.changed = False
        self.strict = False
        self.consts = {}
        self.written = set()

    # -- driver
    def run(self):
        f = self.fdef
        a = f.args
        if a.vararg or a.kwarg or a.kwonlyargs or getattr(a, "posonlyargs", None):
            raise TypingError("only plain positional parameters are supported", f.lineno)
        params = [p.arg for p in a.args]
        # trailing parameters with constant defaults (e.g. a gradient's `dout=1.0`) may be left
        # out of arg_types: they become locals initialized to the default
        ndef = len(a.defaults)
        required = len(params) - ndef
        if not required <= len(self.arg_types) <= len(params):
            raise TypingError(f"{f.name} takes {len(params)} arguments, got {len(self.arg_types)}", f.lineno)
        self.defaulted = {}
        for p, d in zip(params[required:], a.defaults):
            if params.index(p) >= len(self.arg_types):
                try:
                    v = const_value(d)
                except TypingError:
                    v = (constant_value(self.raw_constants[d.id])
                         if isinstance(d, ast.Name) and d.id in self.raw_constants else None)
                    if v is None:
                        raise TypingError(f"default of parameter {p!r} must be a constant", f.lineno)
                if not isinstance(v, (bool, int, float, np.ndarray, tuple, np.number)):
                    raise TypingError(f"default of parameter {p!r} must be a number or array", f.lineno)
                self.defaulted[p] = v
                self.names[p] = typeof(v)
        params = params[:len(self.arg_types)]
        for p, t in zip(params, self.arg_types):
            if not isinstance(t, (Scalar, Array, Tuple)):
                raise TypingError(f"parameter {p!r}: unsupported type {t!r}", f.lineno)
            self.names[p] = t
        self.params = params
        # module-level constants the function reads (and never assigns) become embedded values
        assigned = {n.id for n in ast.walk(f) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        self.constants = {}
        for name, v in self.raw_constants.items():
            if name in self.names or name in assigned:
                continue
            cv = constant_value(v)
            if cv is not None:
                self.constants[name] = cv
                self.names[name] = typeof(cv)
        self._find_consts()
        key = (f.name, self.arg_types)
        if key in self.active:
            raise TypingError(f"recursive call of {f.name} is not supported natively", f.lineno)
        self.active = self.active | {key}
        for _ in range(50):
            self.changed = False
            self.block(f.body)
            if not self.changed:
                break
        self.strict = True
        self.block(f.body)
        for n, t in self.names.items():
            if isinstance(t, _Conflict):
                raise TypingError(f"name {n!r} holds both {t.a!r} and {t.b!r}", f.lineno)
        for n, t in self.stack_elems.items():
            if isinstance(t, _Conflict):
                raise TypingError(f"stack {n!r} holds both {t.a!r} and {t.b!r}", f.lineno)
        for n in self.names:
            if self.names[n] == STACK and self.stack_elems.get(n) is None:
                self.stack_elems[n] = F64     # never pushed: any element type will do
        return TypeInfo(f, self.arg_types, self.names, self.node_types, self.stack_elems,
                        self.ret if self.ret is not None else NONE, self.callees, self.consts,
                        self.written & set(self.params), self.params, self.defaulted, self.constants)

    def _find_consts(self):
        counts = {}
        for node in ast.walk(self.fdef):
            if isinstance(node, (ast.Assign, ast.AugAssign, ast.For)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    for n in ast.walk(t):
                        if isinstance(n, ast.Name):
                            counts[n.id] = counts.get(n.id, 0) + (1 if isinstance(node, ast.Assign) else 99)
        for node in ast.walk(self.fdef):
            if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                    and counts.get(node.targets[0].id) == 1 and node.targets[0].id not in self.params):
                try:
                    v = const_value(node.value)
                except TypingError:
                    continue
                if isinstance(v, (int, tuple)) and not isinstance(v, bool):
                    self.consts[node.targets[0].id] = v

    def err(self, msg, node):
        raise TypingError(msg, getattr(node, "lineno", None))

    def assign_name(self, name, t, node):
        old = self.names.get(name)
        new = unify(old, t)
        if isinstance(new, _Conflict):
            self.err(f"name {name!r} holds both {old!r} and {t!r}", node)
        if new != old:
            self.names[name] = new
            self.changed = True

    # -- statements
    def block(self, stmts):
        for s in stmts:
            try:
                self.stmt(s)
            except _Unknown as e:
                if self.strict:
                    self.err(f"name {e.args[0]!r} is used before it is assigned", s)

    def stmt(self, s):
        if isinstance(s, ast.Assign):
            if len(s.targets) != 1:
                self.err("chained assignment is not supported", s)
            tgt = s.targets[0]
            if isinstance(s.value, ast.Call) and call_name(s.value.func) == "Stack":
                if not isinstance(tgt, ast.Name):
                    self.err("Stack() must be bound to a name", s)
                self.assign_name(tgt.id, STACK, s)
                return
            t = self.expr(s.value)
            self.target(tgt, t, s)
        elif isinstance(s, ast.AugAssign):
            binop = ast.BinOp(left=s.target, op=s.op, right=s.value)
            ast.copy_location(binop, s)
            if isinstance(s.target, ast.Name):
                lt = self.lookup(s.target.id, s)
                rt = self.binop_type(s.op, lt, False, self.expr(s.value), self.weak(s.value), s)
                if isinstance(lt, Array):
                    if not isinstance(rt, Array) or rt.ndim != lt.ndim:
                        self.err("in-place array update would change the array's shape", s)
                    self.node_types[id(s)] = lt
                else:
                    self.node_types[id(s)] = rt
                    self.assign_name(s.target.id, rt, s)
            elif isinstance(s.target, ast.Subscript):
                et = self.expr(s.target)
                self.expr(s.value)
                self.node_types[id(s)] = et
                self._mark_written(s.target)
            else:
                self.err("unsupported augmented assignment target", s)
        elif isinstance(s, ast.Expr):
            v = s.value
            if isinstance(v, ast.Call) and isinstance(v.func, ast.Attribute) and v.func.attr in ("push", "append"):
                self.push(v)
                self.node_types[id(v)] = NONE
            elif isinstance(v, ast.Call):
                self.expr(v)
            elif isinstance(v, ast.Constant):
                pass      # docstring
            else:
                self.err("unsupported expression statement", s)
        elif isinstance(s, ast.Return):
            t = NONE if s.value is None else self.expr(s.value)
            if isinstance(t, Tuple):
                t = Tuple(tuple(self._strong(x) for x in t.items))
            new = unify(self.ret, t)
            if isinstance(new, _Conflict):
                self.err(f"returns both {self.ret!r} and {t!r}", s)
            if new != self.ret:
                self.ret = new
                self.changed = True
        elif isinstance(s, ast.If):
            self.cond(s.test)
            self.block(s.body)
            self.block(s.orelse)
        elif isinstance(s, ast.While):
            if s.orelse:
                self.err("while ... else is not supported", s)
            self.cond(s.test)
            self.block(s.body)
        elif isinstance(s, ast.For):
            if s.orelse:
                self.err("for ... else is not supported", s)
            it = range_call(s.iter)
            if not (isinstance(it, ast.Call) and call_name(it.func) == "range" and not it.keywords
                    and 1 <= len(it.args) <= 3):
                self.err("only `for i in range(...)` loops are supported", s)
            for a in it.args:
                at = self.expr(a)
                if not (isinstance(at, Scalar) and not at.is_float):
                    self.err("range() arguments must be integers", s)
            if len(it.args) == 3:
                try:
                    if const_value(it.args[2], self.consts) == 0:
                        self.err("range() arg 3 must not be zero", s)
                except TypingError:
                    pass
            if not isinstance(s.target, ast.Name):
                self.err("the loop variable must be a plain name", s)
            self.assign_name(s.target.id, I64, s)
            self.block(s.body)
        elif isinstance(s, (ast.Break, ast.Continue, ast.Pass)):
            pass
        else:
            self.err(f"unsupported statement {type(s).__name__}", s)

    def _mark_written(self, sub):
        v = sub.value
        if isinstance(v, ast.Name):
            self.written.add(v.id)

    def cond(self, node):
        t = self.expr(node)
        if not isinstance(t, Scalar):
            self.err("the truth value of an array is ambiguous; a condition must be a scalar", node)

    def push(self, call):
        stack = call.func.value
        if not isinstance(stack, ast.Name) or len(call.args) != 1:
            self.err("push(value) on a named Stack expected", call)
        if self.lookup(stack.id, call) != STACK:
            self.err(f"{stack.id!r} is not a Stack", call)
        t = self._strong(self.expr(call.args[0]))
        old = self.stack_elems.get(stack.id)
        new = unify(old, t)
        if isinstance(new, _Conflict):
            self.err(f"stack {stack.id!r} holds both {old!r} and {t!r}", call)
        if new != old:
            self.stack_elems[stack.id] = new
            self.changed = True

    def _strong(self, t):
        return t

    def target(self, tgt, t, s):
        if isinstance(tgt, ast.Name):
            if t == NONE:
                self.err("assigning None is not supported", s)
            self.assign_name(tgt.id, t, s)
        elif isinstance(tgt, ast.Tuple):
            if not isinstance(t, Tuple) or len(t.items) != len(tgt.elts):
                self.err(f"cannot unpack {t!r} into {len(tgt.elts)} names", s)
            for e, et in zip(tgt.elts, t.items):
                self.target(e, et, s)
        elif isinstance(tgt, ast.Subscript):
            at = self.expr(tgt.value)
            if not isinstance(at, Array):
                self.err("item assignment needs an array", s)
            self.expr(tgt)
            self._mark_written(tgt)
        else:
            self.err("unsupported assignment target", s)

    # -- expressions
    def lookup(self, name, node):
        t = self.names.get(name)
        if t is None:
            if name in self.mfuncs:
                self.err(f"function {name!r} used as a value", node)
            raise _Unknown(name)
        return t

    def weak(self, node):
        return isinstance(node, ast.Constant) or (
            isinstance(node, ast.UnaryOp) and isinstance(node.operand, ast.Constant))

    def expr(self, node):
        t = self._expr(node)
        self.node_types[id(node)] = t
        return t

    def _expr(self, node):
        if isinstance(node, ast.Constant):
            v = node.value
            if isinstance(v, bool):
                return BOOL
            if isinstance(v, int):
                if not -2**63 <= v < 2**63:
                    self.err("integer constant does not fit in 64 bits", node)
                return I64
            if isinstance(v, float):
                return F64
            if v is None:
                return NONE
            self.err(f"unsupported constant {v!r}", node)
        if isinstance(node, ast.Name):
            return self.lookup(node.id, node)
        if isinstance(node, ast.Tuple):
            return Tuple(tuple(self.expr(e) for e in node.elts))
        if isinstance(node, ast.BinOp):
            lt, rt = self.expr(node.left), self.expr(node.right)
            return self.binop_type(node.op, lt, self.weak(node.left), rt, self.weak(node.right), node)
        if isinstance(node, ast.UnaryOp):
            t = self.expr(node.operand)
            if isinstance(node.op, ast.Not):
                if not isinstance(t, Scalar):
                    self.err("`not` on an array", node)
                return BOOL
            if isinstance(node.op, (ast.USub, ast.UAdd)):
                if dtype_of(t) == BOOL:
                    return make(I64, ndim_of(t))
                if isinstance(t, (Scalar, Array)):
                    return t
            self.err("unsupported unary operator", node)
        if isinstance(node, ast.Compare):
            if len(node.ops) != 1:
                self.err("chained comparison is not supported", node)
            lt, rt = self.expr(node.left), self.expr(node.comparators[0])
            if isinstance(node.ops[0], (ast.Is, ast.IsNot, ast.In, ast.NotIn)):
                self.err("unsupported comparison operator", node)
            for t in (lt, rt):
                if not isinstance(t, (Scalar, Array)):
                    self.err(f"cannot compare {t!r}", node)
            return make(BOOL, max(ndim_of(lt), ndim_of(rt)))
        if isinstance(node, ast.BoolOp):
            ts = [self.expr(v) for v in node.values]
            out = None
            for t in ts:
                if not isinstance(t, Scalar):
                    self.err("and/or need scalar operands", node)
                out = unify(out, t)
            return out
        if isinstance(node, ast.IfExp):
            self.cond(node.test)
            a, b = self.expr(node.body), self.expr(node.orelse)
            u = unify(a, b)
            if isinstance(u, _Conflict):
                self.err(f"conditional expression mixes {a!r} and {b!r}", node)
            return u
        if isinstance(node, ast.Attribute):
            return self.attribute(node)
        if isinstance(node, ast.Subscript):
            return self.subscript(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        self.err(f"unsupported expression {type(node).__name__}", node)

    def binop_type(self, op, lt, lw, rt, rw, node):
        if isinstance(op, ast.MatMult):
            return self.matmul_type(lt, rt, node)
        if isinstance(op, (ast.BitAnd, ast.BitOr, ast.BitXor, ast.LShift, ast.RShift)):
            if dtype_of(lt).is_float or dtype_of(rt).is_float:
                self.err("bitwise operator on floats", node)
            dt = BOOL if dtype_of(lt) == dtype_of(rt) == BOOL and not isinstance(op, (ast.LShift, ast.RShift)) else I64
            return make(dt, max(ndim_of(lt), ndim_of(rt)))
        if isinstance(lt, Tuple) and isinstance(rt, Tuple) and isinstance(op, ast.Add):
            return Tuple(lt.items + rt.items)
        for t in (lt, rt):
            if not isinstance(t, (Scalar, Array)):
                self.err(f"unsupported operand type {t!r}", node)
        dt = promote(dtype_of(lt), lw, dtype_of(rt), rw)
        nd = max(ndim_of(lt), ndim_of(rt))
        if isinstance(op, ast.Div):
            if not dt.is_float:
                dt = F64
        elif isinstance(op, (ast.Add, ast.Sub, ast.Mult, ast.FloorDiv, ast.Mod, ast.Pow)):
            if dt == BOOL:
                dt = I64
        else:
            self.err(f"unsupported operator {type(op).__name__}", node)
        return make(dt, nd)

    def matmul_type(self, lt, rt, node):
        if not (isinstance(lt, Array) and isinstance(rt, Array)):
            self.err("@ needs two arrays", node)
        dt = promote(lt.dtype, False, rt.dtype, False)
        if dt == BOOL:
            dt = I64
        nd = {(1, 1): 0, (2, 2): 2, (2, 1): 1, (1, 2): 1}.get((lt.ndim, rt.ndim))
        if nd is None:
            self.err(f"matmul of {lt.ndim}-d and {rt.ndim}-d arrays is not supported natively", node)
        return make(dt, nd)

    def attribute(self, node):
        v = node.value
        if isinstance(v, ast.Name) and v.id == "math" and v.id not in self.names:
            if node.attr in ("pi", "e", "inf", "nan", "tau"):
                return F64
            self.err(f"unsupported math attribute {node.attr!r}", node)
        if isinstance(v, ast.Name) and v.id in ("np", "numpy") and v.id not in self.names:
            if node.attr in ("pi", "e", "inf", "nan"):
                return F64
            self.err(f"unsupported numpy attribute {node.attr!r}", node)
        t = self.expr(v)
        if isinstance(t, Array):
            if node.attr == "shape":
                return Tuple((I64,) * t.ndim)
            if node.attr in ("ndim", "size"):
                return I64
            if node.attr == "T":
                return t
            self.err(f"unsupported array attribute {node.attr!r}", node)
        if isinstance(t, Scalar) and node.attr in ("real",):
            return t
        self.err(f"unsupported attribute {node.attr!r} of {t!r}", node)

    def index_parts(self, sl):
        return list(sl.elts) if isinstance(sl, ast.Tuple) else [sl]

    def subscript(self, node):
        vt = self.expr(node.value)
        sl = node.slice
        if isinstance(vt, Tuple):
            try:
                k = const_value(sl, self.consts)
            except TypingError:
                k = None
            if isinstance(k, int):
                if not -len(vt.items) <= k < len(vt.items):
                    self.err("tuple index out of range", node)
                return vt.items[k]
            it = self.expr(sl)
            if isinstance(it, Scalar) and not it.is_float and len(set(vt.items)) == 1:
                return vt.items[0]
            self.err("tuple index must be a constant integer", node)
        if not isinstance(vt, Array):
            self.err(f"{vt!r} is not subscriptable", node)
        parts = self.index_parts(sl)
        newaxes = sum(1 for p in parts if isinstance(p, ast.Constant) and p.value is None)
        if len(parts) - newaxes > vt.ndim:
            self.err(f"too many indices for a {vt.ndim}-d array", node)
        nd = vt.ndim + newaxes
        for p in parts:
            if isinstance(p, ast.Constant) and p.value is None:     # np.newaxis
                self.node_types[id(p)] = NONE
                continue
            if isinstance(p, ast.Slice):
                for b in (p.lower, p.upper, p.step):
                    if b is not None:
                        bt = self.expr(b)
                        if not (isinstance(bt, Scalar) and not bt.is_float) and bt != NONE:
                            self.err("slice bounds must be integers", node)
            else:
                it = self.expr(p)
                if not (isinstance(it, Scalar) and not it.is_float):
                    self.err("array indices must be integers (fancy indexing is not supported natively)", node)
                nd -= 1
        return make(vt.dtype, nd)

    # -- calls
    def call(self, node):
        name = call_name(node.func)
        if name is None and isinstance(node.func, ast.Attribute):
            # array methods: x.sum(axis=0) is np.sum(x, axis=0)
            if node.func.attr in ("push", "append", "pop"):
                return self.stack_call(node)
            if node.func.attr in ("copy", "extend") and isinstance(node.func.value, ast.Name) \
                    and self.names.get(node.func.value.id) == STACK:
                return self.stack_call(node)   # vector mode's replay (compiler/replay.py)
            if node.func.attr in rules.METHODS:
                recv = self.expr(node.func.value)
                if isinstance(recv, Array):
                    return self.np_call(node.func.attr, [node.func.value] + list(node.args), node, recv_method=True)
            self.err(f"unsupported method call .{node.func.attr}()", node)
        if name is None:
            self.err("unsupported call", node)
        if name == self.fdef.name and name not in self.names:
            self.err(f"recursive call of {name} is not supported natively", node)
        if name in self.mfuncs and name not in self.names:
            return self.module_call(name, node)
        if name.startswith("np."):
            return self.np_call(name[3:], list(node.args), node)
        if name.startswith("math."):
            return self.math_call(name[5:], node)
        return self.builtin_call(name, node)

    def stack_call(self, node):
        stack = node.func.value
        if not isinstance(stack, ast.Name) or self.lookup(stack.id, node) != STACK:
            self.err(f".{node.func.attr}() on something that is not a Stack", node)
        if node.func.attr == "pop":
            if node.args:
                self.err("Stack.pop() takes no index natively", node)
            t = self.stack_elems.get(stack.id)
            if t is None:
                raise _Unknown(stack.id + " (stack element)")
            return t
        if node.func.attr == "copy":
            # natively a pop only moves the top down, so the saved contents are the stack's
            # own: ``saved = s.copy()`` keeps its length, ``s.extend(saved)`` moves back to it
            return I64
        if node.func.attr == "extend":
            if len(node.args) != 1 or self.expr(node.args[0]) != I64:
                self.err("Stack.extend() natively takes what its .copy() returned", node)
            return NONE
        self.push(node)
        return NONE

    def module_call(self, name, node):
        if node.keywords:
            self.err("keyword arguments to module functions are not supported natively", node)
        ats = tuple(self.expr(a) for a in node.args)
        key = (name, ats)
        if key not in self.callees:
            self.callees[key] = infer(self.mfuncs[name], ats, self._raw_mfuncs, self.active, self.raw_constants)
        return self.callees[key].ret

    def kw(self, node, name, default=None):
        for k in node.keywords:
            if k.arg == name:
                return k.value
        return default

    def math_call(self, f, node):
        ats = [self.expr(a) for a in node.args]
        for t in ats:
            if not isinstance(t, Scalar):
                self.err(f"math.{f} needs scalar arguments", node)
        if f in MATH_FLOAT:
            return F64 if f not in ("floor", "ceil", "trunc") else I64
        if f in ("isnan", "isinf", "isfinite"):
            return BOOL
        self.err(f"math.{f} is not supported natively", node)

    def builtin_call(self, f, node):
        if f == "print":      # runs in the compiled code too, through Python's print
            if node.keywords:
                self.err("print() keywords are not supported natively", node)
            for a in node.args:
                if isinstance(a, ast.Constant) and isinstance(a.value, str):
                    self.node_types[id(a)] = NONE
                else:
                    self.expr(a)
            return NONE
        ats = [self.expr(a) for a in node.args]
        if node.keywords:
            self.err(f"keyword arguments to {f}() are not supported natively", node)
        if f == "abs" and len(ats) == 1:
            t = ats[0]
            return make(I64, t.ndim) if dtype_of(t) == BOOL and isinstance(t, Array) else (I64 if t == BOOL else t)
        if f in ("min", "max") and len(ats) == 2:
            if not all(isinstance(t, Scalar) for t in ats):
                self.err(f"{f}() of arrays is not supported natively", node)
            return promote(ats[0], self.weak(node.args[0]), ats[1], self.weak(node.args[1]))
        if f in ("float", "int", "bool") and len(ats) == 1 and isinstance(ats[0], Scalar):
            return DTYPE_NAMES[f]
        if f == "len" and len(ats) == 1:
            if isinstance(ats[0], Array):
                return I64
            if isinstance(ats[0], Tuple):
                return I64
        if f in HELPERS:
            return self.helper_call(f, ats, node)
        if f == "range":
            self.err("range() is only supported as a for-loop iterator", node)
        self.err(f"call to {f}() is not supported natively", node)

    def helper_call(self, f, ats, node):
        g = ats[0]
        if f == "unbroadcast":
            like = ats[1]
            if isinstance(like, Scalar):
                return dtype_of(g)
            if not isinstance(g, Array) or g.ndim < like.ndim:
                self.err("unbroadcast: gradient has fewer dimensions than its input", node)
            return Array(g.dtype, like.ndim)
        if f == "sum_to_shape":
            sh = ats[1]
            if not isinstance(sh, Tuple):
                self.err("sum_to_shape needs a shape tuple", node)
            if not sh.items:
                return dtype_of(g)
            return Array(dtype_of(g), len(sh.items))
        if f == "unreduce":
            like = ats[1]
            if not isinstance(like, Array):
                return g
            return Array(dtype_of(g), like.ndim)
        if f == "untranspose":
            return g
        if f == "extremum_weights":
            like = ats[1]
            dt = dtype_of(like)
            return make(dt if dt.is_float else F64, ndim_of(like))
        if f == "prod_of_others":
            return g
        self.err(f"{f}() is not supported natively", node)

    def shape_ndim(self, node):
        t = self.expr(node)
        if isinstance(t, Tuple):
            if not all(isinstance(x, Scalar) and not x.is_float for x in t.items):
                self.err("a shape must be a tuple of integers", node)
            return len(t.items)
        if isinstance(t, Scalar) and not t.is_float:
            return 1
        self.err("a shape must be an int or a tuple of ints", node)

    def np_call(self, f, args, node, recv_method=False):
        from .np_types import np_call_type
        return np_call_type(self, f, args, node, recv_method)
