"""Forward-mode transforms of the public face: jvp, jacfwd, hessian, hvp (JAX's names and shapes).

Each runs the tangent code that compiler/forward.py writes (``tapeflow.source`` shows it), on the
native backend or as Python, chosen as ``grad`` chooses. ``jacfwd`` pushes up to ``chunk``
directions through one sweep of vector-mode code (tangents with a leading batch axis);
``hessian`` and ``hvp`` are forward over reverse: the forward transform applied to the generated
gradient code, no third mechanism.
"""
import functools
import inspect
import numbers

import numpy as np

from . import pipeline
from .api import BACKENDS, _internal, grad
from .errors import TransformError
from .kinds import kind_of_argument, type_key

from tapeflow.runtime import forward as forward_runtime, trace
from tapeflow.runtime.tape import state as tape_state
from tapeflow.runtime.tensor import Tensor

# Directions per vector-mode sweep. Measured (bench/forward.py, the hand model R^26 -> R^2000):
# in Python numpy over the batch axis is 7x faster than 26 jvp calls; natively the scalar tangent
# lines run in one loop over the directions (forward_loops.py), 7.5x faster than 26 native jvp
# calls (the k-vector temporary per line it replaces made vector mode 2.6x at best).
CHUNK = 32


def _recording(values):
    """Whether a tape records and some value is a Tensor: the tangent code then runs on
    Tensors, so the enclosing gradient (grad of jvp) differentiates through it."""
    return bool(tape_state.tapes) and any(isinstance(v, Tensor) for v in values)


def _float_arg(a, differentiated):
    if isinstance(a, Tensor) and tape_state.tapes:
        return a
    if hasattr(a, "numpy") and not isinstance(a, np.ndarray):
        a = a.numpy()
    if differentiated and isinstance(a, numbers.Integral):
        return float(a)
    if differentiated and isinstance(a, np.ndarray) and a.dtype.kind in "biu":
        return a.astype(np.float64)
    return a


_SIGNATURES = {}


def _bind(fn, args):
    """One value per parameter, defaults filled in, as the generated code takes them."""
    target = getattr(fn, "fn", fn) if getattr(fn, "__tapeflow_gradient__", False) else fn
    code = getattr(target, "__code__", None)
    if code is not None and not target.__defaults__ and not target.__kwdefaults__ and \
            code.co_argcount == len(args) and not code.co_kwonlyargcount and \
            not code.co_flags & 0x0C:   # plain positional parameters, all given
        return tuple(args)
    try:
        sig = _SIGNATURES.get(target) or _SIGNATURES.setdefault(target,
                                                               inspect.signature(target))
    except (TypeError, ValueError):
        return tuple(args)
    bound = sig.bind(*args)
    bound.apply_defaults()
    return tuple(bound.arguments.values())


class Tangents:
    """The tangent code of one function for its argument kinds, per backend, cached."""

    def __init__(self, fn, backend, boundscheck=True):
        if not callable(fn):
            raise TypeError(f"expected a function, got {type(fn).__name__}")
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        self.fn = fn
        self.backend = backend
        self.boundscheck = boundscheck
        self.cache = {}
        self.reasons = {}
        self.generated = None

    def runner(self, argnums, args, tangents, batched, with_value=True):
        """(callable, backend) for these arguments; under "auto" native, else python."""
        fast_key = (argnums, type_key(args), batched, with_value)
        hit = self.cache.get(fast_key)
        if hit is not None and hit[2]():
            return hit[0], hit[1]
        kinds = tuple(kind_of_argument(a, i in argnums) for i, a in enumerate(args))
        key = (argnums, kinds, type_key(args), batched, with_value)
        hit = self.cache.get(key)
        if hit is not None and hit[2]():
            return hit[0], hit[1]
        reasons = []
        if self.backend == "tape":
            return self.tape_runner(len(args), argnums, batched, with_value), "tape"
        try:
            gen = pipeline.generate_forward(self.fn, argnums, kinds, batched, with_value)
        except Exception as e:
            if self.backend != "auto" or batched or not _internal(e):
                raise   # (a batch refused: jacfwd runs one direction at a time instead)
            reasons.append(("native or python", str(e) if isinstance(e, TransformError) else
                            f"internal error in the transform ({type(e).__name__}: {e})"))
            self.reasons[key] = ("tape", reasons)
            return self.tape_runner(len(args), argnums, batched, with_value), "tape"
        self.generated = gen
        run, used = gen.python, "python"
        if self.backend in ("auto", "native"):
            try:
                native_gen = gen
                if batched:   # natively, a loop over the directions (forward_loops.py)
                    native_gen = pipeline.generate_forward(self.fn, argnums, kinds, "loops",
                                                           with_value)
                run = pipeline.compile_gradient(native_gen, tuple(args) + tuple(tangents),
                                                self.boundscheck)
                self.generated = native_gen
                if not batched:
                    run = _shapes_checked(run, len(args), argnums)
                used = "native"
            except Exception as e:
                if self.backend == "native":
                    raise
                reasons.append(("native", str(e)))
                run, used = gen.python, "python"
        self.reasons[key] = (used, reasons)
        self.cache[key] = (run, used, gen.reads.checker())
        if all(type(a) in (float, np.ndarray) for a in args):   # kinds follow from types
            self.cache[fast_key] = self.cache[key]
        return run, used

    def tape_runner(self, n_args, argnums, batched, with_value):
        """Forward mode by the tape: f's own code traced under a ForwardAccumulator (one
        direction per call)."""
        if batched:
            raise TransformError("vector mode: the tape backend pushes one direction at a "
                                 "time", None, None, "tape")
        fn = self.fn

        def run(*args_and_tangents):
            args, tangents = args_and_tangents[:n_args], args_and_tangents[n_args:]
            value, tangent = forward_runtime.traced_jvp(fn, args, argnums, tangents)
            return (value, tangent) if with_value else tangent
        return run

    def call(self, argnums, args, tangents, batched=False, with_value=True):
        if _recording(tuple(args) + tuple(tangents)):
            # inside a recording tape: the generated Python, run on Tensors (or f's own code
            # under an accumulator, where no transform takes it)
            kinds = tuple(kind_of_argument(a, i in argnums) for i, a in enumerate(args))
            if self.backend != "tape":
                try:
                    gen = pipeline.generate_forward(self.fn, argnums, kinds, batched,
                                                    with_value)
                except Exception as e:
                    if self.backend != "auto" or batched or not _internal(e):
                        raise
                else:
                    self.generated = gen
                    return trace.run_traced(gen.fn, tuple(args) + tuple(tangents))
            return self.tape_runner(len(args), argnums, batched, with_value)(*args, *tangents)
        run, used = self.runner(argnums, args, tangents, batched, with_value)
        try:
            return run(*args, *tangents)
        except Exception:
            if used != "native" or self.backend != "auto":
                raise
            # native failed at its first call: the generated Python
            gen = pipeline.generate_forward(self.fn, argnums, tuple(
                kind_of_argument(a, i in argnums) for i, a in enumerate(args)), batched,
                with_value)
            self.cache.clear()
            self.cache[(argnums, type_key(args), batched, with_value)] = (
                gen.python, "python", gen.reads.checker())
            return gen.python(*args, *tangents)


def _shapes_checked(run, n_args, argnums):
    """The native tangent code, called only with tangents shaped like their primals: its
    bounds proofs take a tangent's shape from its primal's (forward.py's ``same_shape``)."""
    def checked(*args_and_tangents):
        for k, i in enumerate(argnums):
            t, p = args_and_tangents[n_args + k], args_and_tangents[i]
            if type(t) is np.ndarray and t.shape != np.shape(p):
                raise ValueError(f"a tangent of shape {t.shape} for an argument of shape "
                                 f"{np.shape(p)}")
        return run(*args_and_tangents)
    return checked


def _tangent_like(t, value, batch=None):
    """The tangent as float, shaped like the value (with the batch axis first if any)."""
    if isinstance(t, Tensor) or isinstance(value, Tensor):
        return t
    shape = np.shape(value) if batch is None else (batch,) + np.shape(value)
    if batch is None and not isinstance(value, np.ndarray):
        return float(np.asarray(t))
    if type(t) is np.ndarray and t.dtype == np.float64 and t.shape == shape:
        return t
    return np.array(np.broadcast_to(np.asarray(t, dtype=np.float64), shape))


def _structure(value, tangent, batch=None):
    if isinstance(value, tuple):
        return tuple(_structure(v, t, batch) for v, t in zip(value, tangent))
    return _tangent_like(tangent, value, batch)


def _check_value(value, fname):
    if isinstance(value, tuple):
        for v in value:
            _check_value(v, fname)
        return
    if isinstance(value, Tensor):
        return
    if isinstance(value, (numbers.Real, np.ndarray, np.generic)) and \
            np.asarray(value).dtype.kind in "biuf":
        return
    raise TypeError(f"{fname} must return floats, arrays or tuples of them for forward mode, "
                    f"got {type(value).__name__}")


def _differentiated(primals, tangents):
    """Indices of the primals that get a tangent (floats and float arrays; an int with a
    tangent of None or 0 is a constant), and the tangents as floats shaped like them."""
    argnums, ts = [], []
    for i, (p, t) in enumerate(zip(primals, tangents)):
        if t is None or (isinstance(p, numbers.Integral) and not np.any(t)):
            continue
        if isinstance(p, np.ndarray) and p.dtype.kind not in "biuf":
            raise TypeError(f"argument {i} is an array of {p.dtype}: no tangent")
        argnums.append(i)
        ts.append(_tangent_like(t, _float_arg(p, True)))
    return tuple(argnums), ts


_TANGENTS = {}


def _tangents_of(f, backend):
    key = (f, backend)
    t = _TANGENTS.get(key)
    if t is None:
        t = _TANGENTS[key] = Tangents(f, backend)
    return t


def jvp(f, primals, tangents, backend="auto"):
    """``(f(*primals), J(primals) @ tangents)``: the value and the directional derivative,
    for any output structure (a float, an array, a tuple of them)."""
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: {len(primals)} primals but {len(tangents)} tangents")
    primals = _bind(f, primals)
    tangents = tangents + (None,) * (len(primals) - len(tangents))
    argnums, ts = _differentiated(primals, tangents)
    args = tuple(_float_arg(a, i in argnums) for i, a in enumerate(primals))
    engine = _tangents_of(f, backend)
    value, tangent = engine.call(argnums, args, ts)
    _check_value(value, getattr(f, "__name__", "f"))
    return value, _structure(value, tangent)


jvp.__tapeflow_jvp__ = True   # called in a transformed function: its tangent code is inlined


class Jacobian:
    """``jacfwd(f, argnums)``: the Jacobian by forward mode, output shape + input shape, k
    directions per sweep (vector mode); one direction at a time where vector mode refuses."""

    def __init__(self, fn, argnums, backend, chunk=None):
        self.fn = fn
        self.tuple_out = isinstance(argnums, (tuple, list))
        self.argnums = tuple(argnums) if self.tuple_out else (argnums,)
        self.backend = backend
        self.explicit_chunk = chunk is not None
        self.chunk = chunk or CHUNK
        self.engine = _tangents_of(fn, backend)
        self.vector_refused = None   # why vector mode was not used, if it was not
        functools.update_wrapper(self, fn, updated=())

    @property
    def __tapeflow_source__(self):
        gen = self.engine.generated
        return gen.source if gen is not None else None

    def __call__(self, *args):
        args = _bind(self.fn, args)
        argnums = tuple(i % len(args) for i in self.argnums)
        args = tuple(_float_arg(a, i in argnums) for i, a in enumerate(args))
        one = self.on_tensors if _recording(args) else self.one
        jacs = tuple(one(args, i) for i in argnums)
        return jacs if self.tuple_out else jacs[0]

    def one(self, args, i):
        x = args[i]
        shape = np.shape(x)
        n = int(np.prod(shape))
        blocks, value = [], None
        for start in range(0, n, self.chunk):
            k = min(self.chunk, n - start)
            seeds = np.zeros((k, n))
            seeds[np.arange(k), start + np.arange(k)] = 1.0
            seeds = seeds.reshape((k,) + shape)
            value, tangent = self.sweep(args, i, seeds)
            blocks.append(tangent)
        _check_value(value, getattr(self.fn, "__name__", "f"))

        def assemble(v, parts):
            parts = [np.reshape(p, (-1,) + np.shape(v)) for p in parts]
            stacked = parts[0] if len(parts) == 1 else np.concatenate(parts)
            return np.moveaxis(stacked, 0, -1).reshape(np.shape(v) + shape)
        if isinstance(value, tuple):
            return tuple(assemble(v, [b[j] for b in blocks]) for j, v in enumerate(value))
        return assemble(value, blocks)

    def on_tensors(self, args, i):
        """Inside a recording tape (grad of jacfwd, hessian of a function calling hessian):
        one jvp per direction, on Tensors, the columns joined by recorded ops."""
        x = args[i]
        shape = np.shape(x.numpy() if isinstance(x, Tensor) else x)
        n = int(np.prod(shape))
        columns = []
        for j in range(n):
            seed = np.zeros(n)
            seed[j] = 1.0
            value, tangent = self.engine.call((i,), args,
                                              [seed.reshape(shape) if shape else 1.0])
            columns.append(tangent)
        _check_value(value, getattr(self.fn, "__name__", "f"))

        def assemble(v, cols):
            out_shape = np.shape(v.numpy() if isinstance(v, Tensor) else v)
            return np.reshape(np.stack(cols, axis=-1), out_shape + shape)
        if isinstance(value, tuple):
            return tuple(assemble(v, [c[k] for c in columns]) for k, v in enumerate(value))
        return assemble(value, columns)

    def sweep(self, args, i, seeds):
        """(value, tangents with a leading batch axis) for the directions ``seeds``."""
        if self.vector_refused is None:
            try:
                value, tangent = self.engine.call((i,), args, [seeds], batched=True)
                return value, _structure(value, tangent, len(seeds))
            except TransformError as e:
                self.vector_refused = str(e)
        return self.one_at_a_time(args, i, seeds)

    def one_at_a_time(self, args, i, seeds):
        outs = [self.engine.call((i,), args, [s]) for s in seeds]
        value = outs[0][0]
        if isinstance(value, tuple):
            return value, tuple(np.stack([_tangent_like(o[1][j], v) for o in outs])
                                for j, v in enumerate(value))
        return value, np.stack([_tangent_like(o[1], value) for o in outs])


def jacfwd(f, argnums=0, backend="auto", chunk=None):
    """The Jacobian of ``f`` by forward mode (shape: output shape + input shape, as JAX)."""
    return Jacobian(f, argnums, backend, chunk)


_GRADS = {}


def _gradient(f, argnums, backend):
    """One gradient function per (f, argnums, backend), so its tangent code is made once."""
    key = (f, argnums, backend)
    g = _GRADS.get(key)
    if g is None:
        g = _GRADS[key] = grad(f, argnums, backend="python" if backend == "auto" else backend)
    return g


def hessian(f, argnums=0, backend="auto"):
    """The Hessian of scalar ``f``: forward mode over the generated gradient code."""
    return jacfwd(_gradient(f, argnums, backend), argnums, backend)


def hvp(f, argnums=0, backend="auto"):
    """``hvp(f)(*args, v)``: the Hessian of ``f`` at ``args`` times ``v`` (forward over
    reverse: one sweep of the gradient's tangent code)."""
    g = _gradient(f, argnums, backend)

    def product(*args_and_v):
        *args, v = args_and_v
        args = list(_bind(f, args))
        x = _float_arg(args[argnums], True)
        args[argnums] = x
        tangent = _tangent_like(v, x)
        engine = _tangents_of(g, backend)
        return _tangent_like(engine.call((argnums,), tuple(args), [tangent], with_value=False),
                             x)
    product.__name__ = f"hvp_{getattr(f, '__name__', 'f')}"
    return product


def tangent_source(f):
    """The generated tangent code last used for ``f`` (see ``tapeflow.source``)."""
    for (fn, _), engine in _TANGENTS.items():
        if fn is f and engine.generated is not None:
            return engine.generated.source
    return None
