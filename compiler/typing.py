"""Static types for the native backend: argument types from values, and inference over a function.

The IR is the normalized (one operation per statement) AST. ``infer`` assigns one type to every
local name by iterating to a fixed point (a loop may use a name before the statement that assigns
it textually), and records the type of every right-hand side so lowering never re-derives it.
Promotion follows numpy (NEP 50): Python literals are "weak" and adopt the other operand's kind.
"""
import ast
from dataclasses import dataclass

import numpy as np

# the lowering reads types as T.<name> (compiler.typing is its one door to them)
from .call_names import call_name, const_value, native_family, range_call  # noqa: F401
from .call_types import CallTyper
from .expr_types import ExprTyper
from .llvm.errors import NativeUnsupported, TypingError  # noqa: F401
from .native_types import (BOOL, F32, F64, I64, NONE, SCALARS, STACK, Array,  # noqa: F401
                           Scalar, Tuple, _Conflict, _Unknown, dtype_of, ndim_of, promote,
                           signature, typeof, unify)


# --------------------------------------------------------------------------------- inference

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
    if isinstance(v, np.ndarray) and v.ndim == 0:
        # read through its memory at each call (``W[()] = 2.0`` is seen), as its scalar
        return v if v.dtype in (F64.np_dtype, F32.np_dtype, I64.np_dtype) else None
    if isinstance(v, np.ndarray):
        try:
            typeof(v)
        except TypingError:
            return None
        return v
    return None


def constant_type(v):
    """The type code sees a module constant as: a 0-d array is the scalar it holds."""
    return typeof(v[()]) if isinstance(v, np.ndarray) and v.ndim == 0 else typeof(v)


def infer(funcdef, arg_types, module_functions=None, _active=None, constants=None):
    """Type every name of ``funcdef`` called with ``arg_types``; raise TypingError when impossible."""
    fdef = to_ast(funcdef)
    return _Inferer(fdef, tuple(arg_types), module_functions or {}, _active or set(), constants).run()


class _Inferer(ExprTyper, CallTyper):
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
                self.names[name] = constant_type(cv)
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

    def module_call(self, name, node):
        if node.keywords:
            self.err("keyword arguments to module functions are not supported natively", node)
        ats = tuple(self.expr(a) for a in node.args)
        key = (name, ats)
        if key not in self.callees:
            self.callees[key] = infer(self.mfuncs[name], ats, self._raw_mfuncs, self.active, self.raw_constants)
        return self.callees[key].ret
