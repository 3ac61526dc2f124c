"""The compiler's public face: grad, value_and_grad, differentiable, jit, source, explain.

A gradient function specialises on the kinds of its arguments (float, int, array of ndim k) and
caches one runner per kind signature; the work of making one is compiler/pipeline's. Backends,
fastest first: "native" (llvmlite), "python" (generated source), "tape" (the GradientTape
runtime). Under "auto" a backend that refuses a function, or fails inside (transform, typing,
lowering, or its first call), hands it to the next, and explain() says why; errors of the
user's own code reach the user.
"""
import functools
import inspect
import numbers
import types

import numpy as np

from tapeflow.runtime import memory
from tapeflow.runtime.tape import state as tape_state
from tapeflow.runtime.tensor import Tensor, constant

from . import pipeline
from .errors import TransformError
from .kinds import kind_of_argument, type_key

BACKENDS = ("auto", "native", "python", "tape")


def parameters_of(fn):
    """(names in binding order, number of positional ones, inspect.Signature) of ``fn``, or
    (None, None, None) for a callable without a signature. *args and **kwargs are refused:
    the generated code takes one value per parameter."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None, None, None
    names, positional = [], 0
    for p in sig.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            stars = "*" if p.kind is p.VAR_POSITIONAL else "**"
            raise TypeError(f"grad cannot differentiate {getattr(fn, '__name__', fn)}: its "
                            f"parameter {stars}{p.name} takes a variable number of arguments "
                            f"(give each argument its own parameter)")
        names.append(p.name)
        positional += p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    return names, positional, sig


def positional_copy(fn):
    """``fn`` with its keyword-only parameters made positional (same code, same globals), so
    the tape can call it with the flat arguments the generated code takes."""
    code = fn.__code__
    if not code.co_kwonlyargcount:
        return fn
    # keyword-only parameters follow the positional ones in co_varnames: only the counts change
    code = code.replace(co_argcount=code.co_argcount + code.co_kwonlyargcount,
                        co_kwonlyargcount=0, co_posonlyargcount=0)
    return types.FunctionType(code, fn.__globals__, fn.__name__, None, fn.__closure__)


def _internal(e):
    """A refusal or a failure of tapeflow's own machinery, not of the user's code."""
    if isinstance(e, pipeline.ResultTypeError):
        return False
    module = getattr(type(e), "__module__", "") or ""
    return module.startswith(("tapeflow.compiler", "llvmlite")) or \
        isinstance(e, (TransformError, SyntaxError)) or type(e).__name__ == "TraceEscape"


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
        self.cache = {}    # signature -> (runner, staleness check or None)
        # calls needing no conversion: argument types -> (runner, check, finish), or for a
        # signature with arrays, {type_key -> (runner, check, finish)}
        self.fast = {}
        self.finish = finisher(self.argnums, self.tuple_out, with_value)
        self.reasons = {}
        self.last_key = None
        functools.update_wrapper(self, fn, updated=())  # not fn.__dict__: our own caches
        self.params, n, self.sig = parameters_of(fn)
        self.n_positional = n
        # the plain call f(a, b) binds as-is only when every parameter is positional
        self.n_params = len(self.params) if self.params is not None and \
            n == len(self.params) else None
        if n is not None and any(i >= n or i < -n for i in self.argnums):
            raise ValueError(f"argnums={argnums!r} is out of range for {fn.__name__}, which "
                             f"takes {n} positional argument(s)")

    def bind(self, args, kwargs):
        """One value per parameter, in order, as Python binds them: keywords placed,
        keyword-only ones included, defaults filled in (TypeError as Python's)."""
        if self.sig is None:
            if kwargs:
                raise TypeError(f"{getattr(self.fn, '__name__', 'f')}: keyword arguments need "
                                f"a function with a signature")
            return args
        bound = self.sig.bind(*args, **kwargs)
        bound.apply_defaults()
        return tuple(bound.arguments.values())

    def signature(self, args):
        """Kinds decide the generated code; dtypes the compiled code."""
        kinds = tuple(kind_of_argument(a, i in self.argnums) for i, a in enumerate(args))
        return kinds, type_key(args)

    def __call__(self, *args, **kwargs):
        if kwargs or len(args) != self.n_params:
            args = self.bind(args, kwargs)
        if tape_state.tapes and self.traced_inside(args):
            return self.call_on_tensors(args)   # inside a recording tape: differentiable too
        fast = self.fast.get(tuple(map(type, args)))
        if fast is not None:   # seen before, and the arguments need no conversion
            if type(fast) is dict:   # arrays among them: their dtypes and ndims decide too
                fast = fast.get(type_key(args))
            if fast is not None:
                run, unchanged, finish = fast
                if unchanged is None or unchanged():
                    return finish(run(*args), args)
                self.forget()   # something the function reads has changed: transform again
        return self.call_converted(args)

    def call_converted(self, args):
        """A call the fast table does not know: arguments converted (Tensors, ints and int
        arrays where a gradient is taken), refused if not differentiable, runner found or made."""
        argnums = tuple(i % len(args) for i in self.argnums)
        given = args
        args = tuple(a.numpy() if hasattr(a, "numpy") and not isinstance(a, np.ndarray) else
                     float(a) if i in argnums and isinstance(a, numbers.Integral) else
                     a.astype(np.float64) if i in argnums and isinstance(a, np.ndarray) and
                     a.dtype.kind in "biu" else a
                     for i, a in enumerate(args))
        key = self.last_key = self.signature(args)
        for i in argnums:
            # complex inputs have no gradient convention here (the tape would drop their
            # imaginary part): refused like any other non-real argument
            if key[0][i][0] == "any" or isinstance(args[i], np.ndarray) and \
                    args[i].dtype.kind != "f" or isinstance(args[i], (complex, np.complexfloating)):
                self.refuse_argument(i, args[i])
        entry = self.cache.get(key)
        if entry is not None and entry[1] is not None and not entry[1]():
            self.forget()
            entry = None
        if entry is None:
            entry, result = self.first_call(key, args)
        else:
            result = entry[0](*args)
        if all(a is b for a, b in zip(args, given)):
            self.remember(args, key[1], entry)
        return self.finish(result, args)

    def remember(self, args, types_key, entry):
        """Put a runner in the fast table, under the key ``__call__`` looks it up by. A runner
        of gradients alone goes in bare (its wrapper only adds the value None)."""
        run, unchanged = entry
        bare = getattr(run, "bare", None)
        fast = (run, unchanged, self.finish) if bare is None else \
            (bare, unchanged, finisher(self.argnums, self.tuple_out, self.with_value, True))
        types = tuple(map(type, args))
        if np.ndarray in types:
            self.fast.setdefault(types, {})[types_key] = fast
        else:
            self.fast[types] = fast

    def traced_inside(self, args):
        """Whether an enclosing trace records through this call: a Tensor argument, or a traced
        value the function closes over (``lambda y: x * y`` with x traced), which a transform
        would read as a constant and the outer gradient would miss."""
        from tapeflow.runtime import trace
        return any(isinstance(a, Tensor) for a in args) or trace.reads_traced_values(self.fn)

    def refuse_argument(self, i, value):
        name = self.params[i] if self.params else f"#{i}"
        what = f"an array of {value.dtype}" if isinstance(value, np.ndarray) else \
            type(value).__name__
        raise TypeError(f"{getattr(self.fn, '__name__', 'f')}(): argument {name!r} is {what}, "
                        f"which cannot be differentiated (give a float, an int or a real "
                        f"array)")

    def forget(self):
        self.cache.clear()
        self.fast.clear()

    def call_on_tensors(self, args):
        """Called inside a traced computation: differentiate through the tape, in Tensors."""
        from tapeflow.runtime import trace
        argnums = tuple(i % len(args) for i in self.argnums)
        args = tuple(a if isinstance(a, Tensor) or i not in argnums else
                     constant(np.asarray(a, dtype=np.float64)) for i, a in enumerate(args))
        fn = positional_copy(self.fn) if inspect.isfunction(self.fn) else self.fn
        value, grads = trace.traced_value_and_grad(fn, argnums, args)
        grads = tuple(grads) if self.tuple_out else grads[0]
        return (value, grads) if self.with_value else grads

    def first_call(self, key, args):
        """Run the fastest backend that takes f for this signature; under "auto" one that
        refuses, or fails at its first call for a reason of ours, hands over to the next.
        Returns ((runner, still_valid), result), still_valid() saying whether what the code
        was made from is unchanged (None: nothing to check); the runner is cached only once it
        has worked."""
        memory.keep_freed_memory()   # gradients allocate big temporaries every call
        reasons, failed = [], []
        for backend, runner, reads in self.runners(key, args, reasons):
            try:
                result = runner(*args)
            except Exception as e:
                if self.backend != "auto" or isinstance(e, pipeline.ResultTypeError):
                    raise
                # the next backend tells: if it succeeds, this failure was ours
                failed.append((backend, e))
                reasons.append((backend, f"failed at its first call ({type(e).__name__}: {e})"))
                continue
            self.reasons[key] = (backend, reasons)
            entry = self.cache[key] = (runner, reads.checker() if reads is not None else None)
            return entry, result
        # every backend failed: the user's error. The generated Python's is the one Python
        # gives for their code (the tape's speaks TensorFlow, native's C); refusals come last.
        order = {"python": 0, "tape": 1, "native": 2}
        failed.sort(key=lambda f: (_internal(f[1]), order[f[0]]))
        raise failed[0][1]

    def runners(self, key, args, reasons):
        """(backend, runner, reads) for this signature, fastest first (only the forced one
        unless "auto"); refusals and internal failures on the way are added to ``reasons``."""
        argnums = tuple(i % len(args) for i in self.argnums)
        name = getattr(self.fn, "__name__", "f")
        auto = self.backend == "auto"
        if self.backend != "tape":
            gen = None
            try:
                gen = pipeline.generate(self.fn, argnums, key[0], self.with_value)
            except pipeline.ResultTypeError:
                raise
            except Exception as e:    # the user's code does not run in the transform
                if not auto:
                    raise
                reasons.append(("native or python", str(e) if isinstance(e, TransformError)
                                else f"internal error in the transform ({type(e).__name__}: {e})"))
            if gen is not None:
                self.generated = gen
                if self.backend in ("auto", "native"):
                    try:
                        runner = pipeline.compile_gradient(gen, args, self.boundscheck)
                    except Exception as e:
                        if not auto:
                            raise
                        reasons.append(("native", str(e) if isinstance(e, TransformError) else
                                        f"internal error ({type(e).__name__}: {e})"))
                    else:
                        yield "native", with_scalar_value(runner, gen, name, True), gen.reads
                if self.backend in ("auto", "python"):
                    yield "python", with_scalar_value(gen.python, gen, name), gen.reads
        if self.backend in ("auto", "tape"):
            yield "tape", self.tape_runner(argnums), None

    def tape_runner(self, argnums):
        from tapeflow.runtime import trace
        fn = self.fn
        if not inspect.isfunction(fn) and self.sig is not None and \
                len(self.params) != self.n_positional:
            # a partial(f, y=2.0) or a callable object with keyword-only parameters: they are
            # passed back by keyword, as Python bound them
            fn = functools.partial(_call_by_keyword, fn, self.params, self.n_positional)
        if not inspect.isfunction(fn) or not fn.__code__.co_kwonlyargcount:
            return trace.value_and_grad_runner(fn, argnums)

        def run(*args):   # made per call: the tape reads the function as it is now
            return trace.value_and_grad_runner(positional_copy(fn), argnums)(*args)
        return run


def _call_by_keyword(fn, names, n_positional, *args):
    return fn(*args[:n_positional], **dict(zip(names[n_positional:], args[n_positional:])))


class NativeShapeMismatch(TransformError):
    """Native code gave a 1-element array where Python gives a scalar: a name typed as an array
    was rebound to a scalar (``x = np.sum(x)``). Not the user's error: auto moves on."""


def with_scalar_value(fn, gen, fname, native=False):
    """A runner returning (value, gradients): the value checked to be a real scalar, or None
    where the generated code (grad alone, scalar known beforehand) does not compute it."""
    if not gen.with_value:
        def run(*args):
            return None, fn(*args)
        run.target = run.bare = fn
        return run

    check = pipeline.check_result

    def run(*args):
        value, grads = fn(*args)
        if type(value) is not float:
            if native and isinstance(value, np.ndarray) and value.ndim and value.size == 1:
                raise NativeShapeMismatch(
                    "not compiled natively: a name holding both an array and a scalar is "
                    "typed as an array, so the result would have shape (1,)", fname, None,
                    "native")
            check(value, fname)
        return value, grads
    run.target = fn
    return run


@functools.lru_cache(maxsize=256)
def finisher(argnums, tuple_out, with_value, bare=False):
    """``finish(result, args)``: a runner's (value, gradients) as the caller asked, each gradient
    shaped like its argument; written out for these argnums (run after every call). ``bare``:
    the result is the gradients alone (the value None)."""
    n = len(argnums)
    if n == 0:
        return lambda result, args: (((None if bare else result[0]), ()) if with_value else ())
    grads = [f"g{k}" for k in range(n)]
    unpacked = grads[0] if n == 1 else f"({', '.join(grads)})"
    lines = [f"{unpacked} = result" if bare else f"value, {unpacked} = result"]
    for g, i in zip(grads, argnums):
        # shape_like's two cases that return the gradient as it is, tested here (every call)
        lines += [f"a = args[{i}]",
                  "if type(a) is ndarray:",
                  f"    if not (type({g}) is ndarray and {g}.dtype is a.dtype and "
                  f"{g}.shape == a.shape):",
                  f"        {g} = shape_like({g}, a)",
                  f"elif type({g}) is not float:",
                  f"    {g} = shape_like({g}, a)"]
    out = f"({', '.join(grads)},)" if tuple_out else grads[0]
    lines.append(f"return {'None' if bare else 'value'}, {out}" if with_value else
                 f"return {out}")
    source = "\n    ".join(["def finish(result, args):"] + lines)
    scope = {"shape_like": shape_like, "ndarray": np.ndarray}
    exec(compile(source, "<tapeflow finish>", "exec"), scope)
    return scope["finish"]


def shape_like(g, arg):
    """The gradient in the argument's shape and float dtype (zeros where nothing flowed)."""
    if type(g) is float and type(arg) is not np.ndarray:
        return g
    if type(g) is np.ndarray and type(arg) is np.ndarray and g.dtype is arg.dtype and \
            g.shape == arg.shape:
        return g
    if np.iscomplexobj(g):
        # complex intermediates (x * 1j): rules have no convention for them (|z|, conj...), so
        # a real part taken here could be wrong: refused, never a silently dropped part
        raise TypeError("the gradient went through complex values, which tapeflow does not "
                        "differentiate; write the real and imaginary parts as real arrays")
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
        from . import transforms   # tangent code generated for g by jvp, jacfwd, hessian
        src = transforms.tangent_source(g)
    if src is None:
        raise TypeError("source() expects a function returned by tapeflow.grad, jacfwd or "
                        "hessian, or a function jvp has run")
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


class Jitted:
    """``tapeflow.jit(f)``: f itself compiled to native code, once per argument signature."""

    def __init__(self, fn, boundscheck=True):
        self.fn = fn
        self.boundscheck = boundscheck
        self.cache = {}
        functools.update_wrapper(self, fn, updated=())

    def __call__(self, *args):
        key = type_key(args)
        hit = self.cache.get(key)
        if hit is None or not hit[1]():   # a rebound global or helper: compiled again
            hit = self.cache[key] = pipeline.compile_primal(self.fn, args, self.boundscheck)
        return hit[0](*args)


def jit(fn=None, *, boundscheck=True):
    """Compile ``fn`` (the primal alone) to native code on first call, per argument signature.
    Usable as ``@jit`` or ``@jit(boundscheck=False)``."""
    if fn is None:
        return lambda f: Jitted(f, boundscheck)
    return Jitted(fn, boundscheck)
