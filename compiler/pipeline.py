"""The compiler's driver: parse -> normalize -> analyze -> reverse -> optimize -> emit / lower.

Everything here flows one way: the API calls the pipeline, the pipeline calls the passes, and no
pass imports the pipeline or the API (a gradient called inside a function, grad of grad, reaches
normalize as the ``gradient_of`` argument).

A derivative depends on more than the function's source: on the globals, closure cells and
callees it reads, and on ``__code__``/``__defaults__``. Each cached result carries its ``Reads``
(reads.py), checked cheaply (identities) before it is reused, so a rebound global, a redefined
helper or a replaced ``__code__`` gives a fresh transform.
"""
import copy
import inspect
import math
import numbers
import operator

import gast
import numpy as np

from tapeflow.runtime import rules
from tapeflow.runtime.stack import Stack

from . import emit_python
from .caches import FunctionCache
from .ieee_math import ieee_floats, math_namespace, runs_on_plain_floats
from .errors import TransformError
from .aliases import propagate_writes
from .analyze import Analysis
from .kinds import kind_of_argument, type_key  # noqa: F401  (the pipeline's vocabulary)
from .normalize import normalize
from .optimize import fuse_temporaries, optimize
from .parse import parse_function
from .reads import Reads
from .reverse import reverse
from .forward import forward

class ResultTypeError(TypeError):
    """The function returns something that has no gradient (None, a string, a tuple...): the
    user's error under every backend, never a reason to fall back."""


def check_result(value, fname):
    """``value`` if it is a real scalar; else ResultTypeError naming the function and type."""
    if type(value) is float:
        return value
    if isinstance(value, np.ndarray) and value.ndim == 0 or isinstance(value, np.generic):
        if value.dtype.kind in "biuf":
            return value
    elif isinstance(value, numbers.Real):
        return value
    elif isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        raise ResultTypeError(f"grad requires {fname} to return a scalar, "
                              f"got an array of shape {value.shape}")
    raise ResultTypeError(f"grad requires {fname} to return a real scalar, "
                          f"got {type(value).__name__}")


class Generated:
    """One generated gradient: its source, the loaded function, and how it was made."""

    def __init__(self, source, fn, ir, filename, with_value, reads, python):
        self.source = source
        self.fn = fn
        self.ir = ir
        self.filename = filename
        self.with_value = with_value
        self.reads = reads
        self.native = {}      # (argument types, boundscheck) -> compiled code (native.py)
        self.python = python  # how the python backend calls fn (ieee_math.ieee_floats)


def _generated_bytes(gen):
    # an estimate: the trees and source scale with the source's length; compiled code with its IR
    return 40 * len(gen.source) + sum(4 * len(getattr(nf, "ir", "")) for nf in gen.native.values())


_NORMALIZED = FunctionCache(lambda hit: 0)


def normalized(fn, kinds):
    """(IR, constants, used names, Reads) of ``fn`` normalized for argument kinds (cached
    while what it read is unchanged). Kinds matter only where fn calls a gradient function."""
    hit = _NORMALIZED.get(fn, kinds)
    if hit is not None and hit[3].valid():
        return hit
    reads, parsed, inner = Reads(), [], []

    def gradient_of(gfn, argnums, gkinds, forward=False):
        gen = (generate_forward if forward else generate)(gfn, argnums, gkinds)
        inner.append(gen.reads)
        return gen
    params = list(inspect.signature(fn, follow_wrapped=False).parameters)
    ir, constants, used = normalize(parse_function(fn), dict(zip(params, kinds)), gradient_of,
                                    parsed)
    for p in parsed:
        reads.add_parsed(p)
    for r in inner:
        reads.extend(r)
    _check_returned(ir, fn.__name__)
    hit = _NORMALIZED.put(fn, kinds, (ir, constants, used, reads))
    return hit


def _check_returned(ir, fname):
    """A returned constant that is not a number (None, a string, a complex): refused before
    any backend computes a zero gradient for it."""
    last = ir.body[-1] if ir.body else None
    if isinstance(last, gast.Return) and isinstance(last.value, gast.Constant):
        value = last.value.value
        if not isinstance(value, numbers.Real):
            check_result(value, fname)


_GENERATED = FunctionCache(_generated_bytes)


def generate(fn, argnums, kinds, with_value=True, rows=None):
    """Transform ``fn`` for arguments of the given kinds (cached); raises TransformError.
    The generated function returns ``(value, gradients)``; without ``with_value``, where the
    value is known to be a scalar, only the gradients (``Generated.with_value`` says which)."""
    fn = getattr(fn, "__tapeflow_traced_copy_of__", fn)
    key = (tuple(argnums), tuple(kinds), with_value, rows)
    gen = _GENERATED.get(fn, key)
    if gen is None or not gen.reads.valid():
        gen = _GENERATED.put(fn, key, _generate(fn, argnums, kinds, with_value, rows))
    return gen


def _analyzed(fn, argnums, kinds, tuple_result=False):
    """Normalize and analyze ``fn`` for a transform with respect to arguments ``argnums``:
    the steps reverse and forward mode share, refusals included. With ``tuple_result`` (forward
    mode) the tuple the function returns carries tangents, so it is not a dropped container."""
    ir, constants, used, reads = normalized(fn, tuple(kinds))
    ir = copy.deepcopy(ir)
    params = [a.id for a in ir.args.args]
    wrt = [params[i] for i in argnums]
    constant_kinds = {n: kind_of_argument(v, False) for n, v in constants.items()}
    parsed = parse_function(fn)
    ir = propagate_writes(ir, Analysis(ir, kinds, wrt, constant_kinds).kinds, parsed.filename)
    analysis = Analysis(ir, kinds, wrt, constant_kinds)
    result = _result_tuples(ir) if tuple_result else set()
    for stmt, _names in analysis.dropped:   # refused, never a silent zero
        if stmt.targets[0].id in result and isinstance(stmt.value, gast.Tuple):
            continue
        raise TransformError(
            "a differentiable value reaches this line inside a list or tuple (or another "
            "container) that the source transform cannot carry a gradient through",
            parsed.filename, getattr(stmt, "lineno", None), "container")
    return ir, constants, used, reads, params, wrt, analysis, parsed


def _result_tuples(ir):
    """Names of the (nested) tuple literals the function returns at its end."""
    last = ir.body[-1] if ir.body else None
    if not (isinstance(last, gast.Return) and isinstance(last.value, gast.Name)):
        return set()
    names = {last.value.id}
    for s in reversed(ir.body):
        if isinstance(s, gast.Assign) and isinstance(s.value, gast.Tuple) and \
                isinstance(s.targets[0], gast.Name) and s.targets[0].id in names:
            names |= {e.id for e in s.value.elts if isinstance(e, gast.Name)}
    return names


def _emitted(derived_ir, derived_names, ir, params, constants, parsed, reads, label,
             returns_value):
    """Optimize and load a derived function. The user's variables and their derivatives (dx,
    x_dot) stay named; temporaries may be fused."""
    user_names = {n.id for n in gast.walk(parsed.node) if isinstance(n, gast.Name)}
    user_names |= set(params)
    keep = user_names | {d for v, d in derived_names.items() if v in user_names}
    derived_ir = optimize(derived_ir, keep=keep)
    namespace = {"np": np, "Stack": Stack, "math": math_namespace, "operator": operator}
    namespace.update({n: getattr(rules, n) for n in rules.HELPERS})
    namespace.update(constants)
    filename = f"<{label} of {ir.name}>"
    loaded, source = emit_python.load(derived_ir, namespace, filename)
    plain = None
    if runs_on_plain_floats(derived_ir, rules.HELPERS):
        plain, _ = emit_python.load(derived_ir, dict(namespace, math=math), filename)
    return Generated(source, loaded, derived_ir, filename, returns_value, reads,
                     ieee_floats(loaded, plain))


def _generate(fn, argnums, kinds, with_value, rows=None):
    fn = as_function(fn)
    ir, constants, used, reads, params, wrt, analysis, parsed = _analyzed(fn, argnums, kinds)
    grad_ir = reverse(ir, analysis, wrt, used, parsed.filename, with_value,
                      [params[i] for i in rows or ()])
    return _emitted(grad_ir, grad_ir.adjoint_names, ir, params, constants, parsed, reads,
                    "gradient", grad_ir.returns_value)


_FORWARD = FunctionCache(_generated_bytes)


def generate_forward(fn, argnums, kinds, batched=False, with_value=True):
    """The tangent code of ``fn`` (cached): ``jvp_f(*args, *tangents)`` returning ``(value,
    tangent)``, the tangents of arguments ``argnums`` carrying a leading batch axis of k
    directions if ``batched``; without ``with_value`` only the tangent. Raises TransformError."""
    fn = getattr(fn, "__tapeflow_traced_copy_of__", fn)
    key = (tuple(argnums), tuple(kinds), batched, with_value)
    gen = _FORWARD.get(fn, key)
    if gen is None or not gen.reads.valid():
        gen = _FORWARD.put(fn, key, _generate_forward(fn, argnums, kinds, batched, with_value))
    return gen


def _generate_forward(fn, argnums, kinds, batched, with_value):
    fn = as_function(fn)
    ir, constants, used, reads, params, wrt, analysis, parsed = _analyzed(fn, argnums, kinds,
                                                                          tuple_result=True)
    jvp_ir = forward(ir, analysis, wrt, used, parsed.filename, batched, with_value)
    return _emitted(jvp_ir, jvp_ir.tangent_names, ir, params, constants, parsed, reads,
                    "tangent", with_value)


def as_function(fn):
    """A plain function to transform: a gradient function is wrapped in a def calling it (made
    once per gradient function: what the transform read stays valid while it lives); the
    tape's traced copy of a function (a transform called inside a traced function) is the
    function itself (its globals are the traced stand-ins, which no transform reads)."""
    fn = getattr(fn, "__tapeflow_traced_copy_of__", fn)
    if not getattr(fn, "__tapeflow_gradient__", False):
        return fn
    made = getattr(fn, "_as_function", None)
    if made is not None:
        return made
    params = list(inspect.signature(fn.fn).parameters)
    # a lambda's name is not an identifier: the wrapper's must be
    base = fn.__name__ if fn.__name__.isidentifier() else "lambda"
    name = f"{'value_and_' if fn.with_value else ''}grad_of_{base}"
    src = f"def {name}({', '.join(params)}):\n    return inner({', '.join(params)})\n"
    scope = {"inner": fn}
    exec(compile(src, f"<{name}>", "exec"), scope)
    wrapper = scope[name]
    wrapper.__tapeflow_source__ = src
    try:
        fn._as_function = wrapper
    except AttributeError:
        pass
    return wrapper


def primal_ir(fn, kinds):
    """The normalized primal with its single-use temporaries written back into expressions
    (what the user wrote, minus what normalization desugared): LLVM sees whole loop bodies."""
    ir, constants, _, _ = normalized(fn, tuple(kinds))
    ir = copy.deepcopy(ir)
    user_names = {n.id for n in gast.walk(parse_function(fn).node) if isinstance(n, gast.Name)}
    fuse_temporaries(ir, user_names)
    return ir, constants


def compile_gradient(generated, args, boundscheck=True):
    """The generated gradient lowered to native code for these arguments (TransformError if it
    cannot be); llvmlite is loaded on first use only."""
    from . import native
    return native.compile_gradient(generated, args, boundscheck)


def compile_primal(fn, args, boundscheck=True):
    """``fn`` itself (no gradient) compiled to native code for these arguments, and a check
    that what it read (globals, helpers, ``__code__``, ``mymod.A``) is unchanged."""
    from . import native
    native.check_arguments(fn.__name__, args)
    kinds = tuple(kind_of_argument(a, False) for a in args)
    ir, constants = primal_ir(fn, kinds)
    reads = normalized(fn, kinds)[3]
    return native.compile_ir(ir, constants, args, boundscheck), reads.checker()
