"""The compiler's public face: grad, value_and_grad, differentiable, source, explain.

A gradient function specialises on the kinds of its arguments (float, int, array of ndim k) and
caches one generated gradient per kind signature. Backends, fastest first:
"native" (llvmlite), "python" (generated source), "tape" (the GradientTape runtime).
"""
import copy
import functools
import inspect
import numbers

import gast
import numpy as np

from tapeflow.runtime import memory, rules
from tapeflow.runtime.stack import Stack
from tapeflow.runtime.tape import state as tape_state
from tapeflow.runtime.tensor import Tensor, constant

from . import emit_python
from .analyze import Analysis, propagate_inplace_updates
from .errors import TransformError
from .normalize import normalize
from .optimize import optimize
from .parse import parse_function
from .reverse import reverse

BACKENDS = ("auto", "native", "python", "tape")


def kind_of_argument(value, differentiated):
    if isinstance(value, np.ndarray) and value.ndim > 0:
        return ("array", value.ndim)
    if isinstance(value, (bool, np.bool_)) and not differentiated:
        return ("bool", 0)
    if isinstance(value, numbers.Integral) and not differentiated:
        return ("int", 0)
    if isinstance(value, (numbers.Real, np.ndarray)):
        return ("float", 0)
    if hasattr(value, "numpy"):
        return kind_of_argument(value.numpy(), differentiated)
    return ("any", None)


class Generated:
    """One generated gradient: its source, the loaded function, and how it was made."""

    def __init__(self, source, fn, ir, filename, with_value):
        self.source = source
        self.fn = fn
        self.ir = ir
        self.filename = filename
        self.with_value = with_value


@functools.lru_cache(maxsize=None)
def _normalized(fn, kinds):
    # kinds matter only where fn calls a gradient function (grad of grad)
    params = list(inspect.signature(fn).parameters)
    return normalize(parse_function(fn), dict(zip(params, kinds)))


_GENERATED = {}


def generate(fn, argnums, kinds, with_value=True):
    """Transform ``fn`` for arguments of the given kinds (cached); raises TransformError.
    The generated function returns ``(value, gradients)``; without ``with_value``, where the
    value is known to be a scalar, only the gradients (``Generated.with_value`` says which)."""
    key = (fn, tuple(argnums), tuple(kinds), with_value)
    gen = _GENERATED.get(key)
    if gen is None:
        gen = _GENERATED[key] = _generate(fn, argnums, kinds, with_value)
    return gen


def _generate(fn, argnums, kinds, with_value):
    fn = as_function(fn)
    ir, constants, used = _normalized(fn, kinds)
    ir = copy.deepcopy(ir)
    params = [a.id for a in ir.args.args]
    wrt = [params[i] for i in argnums]
    constant_kinds = {n: kind_of_argument(v, False) for n, v in constants.items()}
    ir = propagate_inplace_updates(ir, Analysis(ir, kinds, wrt, constant_kinds).kinds)
    analysis = Analysis(ir, kinds, wrt, constant_kinds)
    filename = parse_function(fn).filename
    for stmt, _names in analysis.dropped:
        raise TransformError(
            "a differentiable value reaches this line inside a list or tuple (or another "
            "container) that the source transform cannot carry a gradient through",
            filename, getattr(stmt, "lineno", None), "container")
    grad_ir = reverse(ir, analysis, wrt, used, filename, with_value)
    user_names = {n.id for n in gast.walk(parse_function(fn).node) if isinstance(n, gast.Name)}
    user_names |= set(params)
    # the user's variables and their adjoints (dx for x) stay named; temporaries may be fused
    keep = user_names | {d for v, d in grad_ir.adjoint_names.items() if v in user_names}
    grad_ir = optimize(grad_ir, keep=keep)
    namespace = {"np": np, "Stack": Stack, "math": __import__("math"),
                 "operator": __import__("operator")}
    namespace.update({n: getattr(rules, n) for n in rules.__all__ if not n.isupper()})
    namespace.update(constants)
    filename = f"<gradient of {ir.name}>"
    loaded, source = emit_python.load(grad_ir, namespace, filename)
    return Generated(source, loaded, grad_ir, filename, grad_ir.returns_value)


def as_function(fn):
    """A plain function to transform: a gradient function is wrapped in a def calling it."""
    if not getattr(fn, "__tapeflow_gradient__", False):
        return fn
    params = list(inspect.signature(fn.fn).parameters)
    name = f"{'value_and_' if fn.with_value else ''}grad_of_{fn.__name__}"
    src = f"def {name}({', '.join(params)}):\n    return inner({', '.join(params)})\n"
    scope = {"inner": fn}
    exec(compile(src, f"<{name}>", "exec"), scope)
    wrapper = scope[name]
    wrapper.__tapeflow_source__ = src
    return wrapper


class GradFunction:
    """What grad() and value_and_grad() return: call it like f, get gradients."""
    __tapeflow_gradient__ = True

    def __init__(self, fn, argnums, backend, with_value, boundscheck=True):
        if not callable(fn):
            raise TypeError(f"grad expects a function, got {type(fn).__name__}")
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        self.fn = fn
        self.tuple_out = isinstance(argnums, (tuple, list))
        self.argnums = tuple(argnums) if self.tuple_out else (argnums,)
        if not all(isinstance(i, int) for i in self.argnums):
            raise TypeError(f"argnums must be an int or a tuple of ints, got {argnums!r}")
        self.backend = backend
        self.with_value = with_value
        self.boundscheck = boundscheck
        self.cache = {}
        self.fast = {}   # plain argument types -> runner, for calls that need no conversion
        self.reasons = {}
        self.last_key = None
        functools.update_wrapper(self, fn, updated=())  # not fn.__dict__: our own caches
        n = getattr(getattr(fn, "__code__", None), "co_argcount", None)
        self.n_params = n
        self.defaults = getattr(fn, "__defaults__", None)
        if n is not None and any(i >= n or i < -n for i in self.argnums):
            raise ValueError(f"argnums={argnums!r} is out of range for {fn.__name__}, which "
                             f"takes {n} positional argument(s)")

    def bind(self, args, kwargs):
        """Positional arguments for the generated code: keywords placed, defaults filled in."""
        bound = inspect.signature(self.fn).bind(*args, **kwargs)
        bound.apply_defaults()
        return bound.args

    def signature(self, args):
        """Kinds decide the generated code; dtypes the compiled code."""
        kinds = tuple(kind_of_argument(a, i in self.argnums) for i, a in enumerate(args))
        return kinds, type_key(args)

    def __call__(self, *args, **kwargs):
        if kwargs or self.defaults and len(args) < self.n_params:
            args = self.bind(args, kwargs)
        fast = self.fast.get(type_key(args))
        if fast is not None:   # seen before, and the arguments need no conversion
            return self.finish(fast(*args), args)
        if any(isinstance(a, Tensor) for a in args) and tape_state.tapes:
            return self.call_on_tensors(args)   # inside a recording tape: differentiable too
        argnums = tuple(i % len(args) for i in self.argnums)
        given = args
        args = tuple(a.numpy() if hasattr(a, "numpy") and not isinstance(a, np.ndarray) else
                     float(a) if i in argnums and isinstance(a, numbers.Integral) else
                     a.astype(np.float64) if i in argnums and isinstance(a, np.ndarray) and
                     a.dtype.kind in "biu" else a
                     for i, a in enumerate(args))
        key = self.last_key = self.signature(args)
        entry = self.cache.get(key)
        if entry is None:
            entry = self.cache[key] = self.build(key, args)
        if all(a is b for a, b in zip(args, given)):
            self.fast[type_key(args)] = entry
        return self.finish(entry(*args), args)

    def finish(self, result, args):
        """(value, gradients) as the caller asked: shaped like their arguments."""
        value, grads = result
        argnums = self.argnums
        if len(argnums) == 1:
            grads = (shape_like(grads, args[argnums[0]]),)
        else:
            grads = tuple(shape_like(g, args[i]) for g, i in zip(grads, argnums))
        if not self.tuple_out:
            grads = grads[0]
        return (value, grads) if self.with_value else grads

    def call_on_tensors(self, args):
        """Called inside a traced computation: differentiate through the tape, in Tensors."""
        from tapeflow.runtime import trace
        argnums = tuple(i % len(args) for i in self.argnums)
        args = tuple(a if isinstance(a, Tensor) or i not in argnums else
                     constant(np.asarray(a, dtype=np.float64)) for i, a in enumerate(args))
        value, grads = trace.traced_value_and_grad(self.fn, argnums, args)
        grads = tuple(grads) if self.tuple_out else grads[0]
        return (value, grads) if self.with_value else grads

    def build(self, key, args):
        """The runner for arguments of this signature: the fastest backend that can take f
        (under "auto"), with the reasons the faster ones could not."""
        argnums = tuple(i % len(args) for i in self.argnums)
        kinds = key[0]
        name = getattr(self.fn, "__name__", "f")
        memory.keep_freed_memory()   # gradients allocate big temporaries every call
        reasons = []
        if self.backend != "tape":
            try:
                gen = generate(self.fn, argnums, kinds, self.with_value)
            except TransformError as e:
                if self.backend != "auto":
                    raise
                reasons.append(("native or python", str(e)))
            else:
                self.generated = gen
                if self.backend in ("auto", "native"):
                    from . import native
                    try:
                        runner = native.compile_gradient(gen, args, self.boundscheck)
                        self.reasons[key] = ("native", reasons)
                        return with_scalar_value(runner, gen, name)
                    except TransformError as e:
                        if self.backend == "native":
                            raise
                        reasons.append(("native", str(e)))
                self.reasons[key] = ("python", reasons)
                return with_scalar_value(gen.fn, gen, name)
        from tapeflow.runtime import trace
        self.reasons[key] = ("tape", reasons)
        return trace.value_and_grad_runner(self.fn, argnums)


def type_key(args):
    """What the compiled code depends on: each argument's type, and an array's dtype and ndim
    (cheap enough for every call)."""
    return tuple([(a.dtype, a.ndim) if type(a) is np.ndarray else type(a) for a in args])


def with_scalar_value(fn, gen, fname):
    """A runner returning (value, gradients): the value checked to be a scalar, or None where
    the generated code (grad alone, scalar known beforehand) does not compute it."""
    if not gen.with_value:
        def run(*args):
            return None, fn(*args)
        run.target = fn
        return run

    def run(*args):
        value, grads = fn(*args)
        if type(value) is not float and np.ndim(value) != 0:
            raise TypeError(f"grad requires {fname} to return a scalar, "
                            f"got an array of shape {np.shape(value)}")
        return value, grads
    run.target = fn
    return run


def shape_like(g, arg):
    """The gradient in the argument's shape and float dtype (zeros where nothing flowed)."""
    if type(g) is float and type(arg) is not np.ndarray:
        return g
    if type(g) is np.ndarray and type(arg) is np.ndarray and g.dtype is arg.dtype and \
            g.shape == arg.shape:
        return g
    if isinstance(arg, np.ndarray) and arg.ndim > 0:
        dtype = arg.dtype if arg.dtype.kind in "fc" else np.float64
        if np.ndim(g) == 0:
            return np.full(arg.shape, g, dtype=dtype)
        return np.asarray(g, dtype=dtype)
    return float(g)


def grad(f, argnums=0, backend="auto", boundscheck=True):
    """The gradient of scalar-valued ``f`` with respect to argument(s) ``argnums``.
    ``boundscheck=False``: native code does not check indices (negative ones still count from
    the end); an out-of-bounds index is then undefined behaviour, not IndexError."""
    return GradFunction(f, argnums, backend, with_value=False, boundscheck=boundscheck)


def value_and_grad(f, argnums=0, backend="auto", boundscheck=True):
    """Like grad, but returns ``(f(*args), gradient)``."""
    return GradFunction(f, argnums, backend, with_value=True, boundscheck=boundscheck)


def source(g):
    """The generated Python source of a gradient function (after its first call)."""
    if isinstance(g, GradFunction):
        gen = getattr(g, "generated", None)
        if gen is None:
            raise ValueError("call the gradient function once (its code is generated for the "
                             "kinds of its arguments), or use a backend other than 'tape'")
        return gen.source
    src = getattr(g, "__tapeflow_source__", None)
    if src is None:
        raise TypeError("source() expects a function returned by tapeflow.grad")
    return src


def explain(f, *args, argnums=0):
    """Which backend differentiates ``f`` for these arguments, and why faster ones were not used."""
    g = f if isinstance(f, GradFunction) else grad(f, argnums)
    g(*args)
    backend, reasons = g.reasons.get(g.last_key, (g.backend, []))
    lines = [f"{getattr(f, '__name__', 'f')}: backend '{backend}'"]
    for b, r in reasons:
        lines.append(f"  not {b}: {r}")
    return "\n".join(lines)


def differentiable(fn):
    """Mark ``fn``: adds ``fn.grad`` and ``fn.value_and_grad`` (cached gradient functions)."""
    fn.grad = grad(fn)
    fn.value_and_grad = value_and_grad(fn)
    return fn
