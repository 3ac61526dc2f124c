"""Reverse mode for any output structure: ``vjp(f, *primals)`` and ``jacrev(f, argnums)``.

The reverse transform differentiates scalar functions. A vector-Jacobian product ``J^T c`` of a
function with any outputs (a float, an array, a tuple of them) is the gradient of the scalar
``<f(x), c>``: the adjoint sweep of that function starts with ``dy = c`` (the seeded cotangent)
instead of ``1.0``. So ``vjp`` writes, for f's output structure, the small function

    def vjp_of_f(x, cotangent):
        out = f(x)
        return np.sum(out * cotangent)

(f inlined by normalize like any callee), and hands it to the same gradient machinery ``grad``
uses: every backend, ``auto``'s fallback, ``explain`` and ``source`` work as for ``grad``, and
a call on Tensors inside a recording tape goes through the tape (differentiable again).
"""
import keyword
import numbers
import weakref

import numpy as np

from tapeflow.runtime.tensor import Tensor

from . import pipeline
from .api import GradFunction, parameters_of
from .errors import TransformError
from .kinds import kind_of_argument

__all__ = ["vjp", "jacrev"]

CHUNK = 64   # cotangent rows per replayed sweep (vector mode; bench/jacobian.py measures it)


# --- output structure -------------------------------------------------------------------------
def structure_of(value, fname):
    """``("scalar",)``, ``("array", shape, dtype)`` or a tuple of structures: what f returned."""
    if isinstance(value, (tuple, list)):
        return tuple(structure_of(v, fname) for v in value)
    if isinstance(value, Tensor):
        value = value.numpy()
    if isinstance(value, (bool, np.bool_)) or value is None or \
            not isinstance(value, (numbers.Real, np.ndarray, np.generic)):
        raise TypeError(f"{fname} returns {type(value).__name__}, which has no cotangent "
                        f"(return floats, numeric arrays or tuples of them)")
    if isinstance(value, np.ndarray) and value.ndim > 0:
        if value.dtype.kind not in "biuf":
            raise TypeError(f"{fname} returns an array of {value.dtype}, which has no cotangent")
        return ("array", value.shape)
    return ("scalar",)


def leaves(structure):
    """The leaf structures in order (a tuple flattened, depth first)."""
    if isinstance(structure, tuple) and structure and isinstance(structure[0], tuple):
        return [leaf for s in structure for leaf in leaves(s)]
    if structure == ():
        return []
    return [structure]


def is_leaf(structure):
    return not (structure == () or isinstance(structure[0], tuple))


def leaf_shape(leaf):
    return leaf[1] if leaf[0] == "array" else ()


def flatten_like(structure, value, what):
    """The leaves of ``value`` (a cotangent) checked against ``structure``: float arrays or
    floats of the output's shapes."""
    if is_leaf(structure):
        if isinstance(value, (tuple, list)):
            raise ValueError(f"{what} is a {type(value).__name__}, but the output is one "
                             f"{'array' if structure[0] == 'array' else 'scalar'}")
        if isinstance(value, Tensor):
            return [value]
        arr = np.asarray(value, dtype=np.float64)
        if arr.shape != leaf_shape(structure):
            raise ValueError(f"{what} has shape {arr.shape}, the output has shape "
                             f"{leaf_shape(structure)}")
        return [arr if arr.ndim else float(arr)]
    if not isinstance(value, (tuple, list)) or len(value) != len(structure):
        raise ValueError(f"{what} must be a tuple of {len(structure)} cotangents, like the output")
    out = []
    for k, (s, v) in enumerate(zip(structure, value)):
        out += flatten_like(s, v, f"{what}[{k}]")
    return out


# --- the scalar function <f(x), c> ------------------------------------------------------------
def _identifier(name, taken):
    base = name if name.isidentifier() and not keyword.iskeyword(name) else "arg"
    candidate, k = base, 2
    while candidate in taken:
        candidate, k = f"{base}{k}", k + 1
    taken.add(candidate)
    return candidate


def cotangent_function(f, n_args, structure):
    """The source and function of ``<f(*args), c>`` with one cotangent parameter per leaf."""
    fname = getattr(f, "__name__", "f")
    names, _, _ = parameters_of(f)
    names = list(names or [])[:n_args]
    names += [f"arg{i}" for i in range(len(names), n_args)]
    taken = {"np"}
    params = [_identifier(p, taken) for p in names]
    fn_name = _identifier(fname if fname.isidentifier() else "fn", taken)
    n_leaves = len(leaves(structure))
    single = is_leaf(structure)
    outs = [_identifier("out" if single else f"out{k}", taken) for k in range(n_leaves)]
    cts = [_identifier("cotangent" if single else f"cotangent{k}", taken)
           for k in range(n_leaves)]
    counter = iter(range(n_leaves))

    def pattern(s):
        if is_leaf(s):
            return outs[next(counter)]
        return "(" + ", ".join(pattern(x) for x in s) + ("," if len(s) == 1 else "") + ")"
    target = pattern(structure)
    terms = [f"{o} * {c}" if leaf[0] == "scalar" else f"np.sum({o} * {c})"
             for o, c, leaf in zip(outs, cts, leaves(structure))]
    wrapper = f"vjp_of_{fname}" if fname.isidentifier() else "vjp_of_lambda"
    src = (f"def {wrapper}({', '.join(params + cts)}):\n"
           f"    {target} = {fn_name}({', '.join(params)})\n"
           f"    return {' + '.join(terms) if terms else '0.0'}\n")
    scope = {"np": np, fn_name: f}
    exec(compile(src, f"<{wrapper}>", "exec"), scope)
    fn = scope[wrapper]
    fn.__tapeflow_source__ = src   # parse reads this instead of a file
    return fn


_CACHE = weakref.WeakKeyDictionary()   # f -> {(n_args, structure, argnums, backend): GradFunction}
_STRONG = {}                           # for callables that take no weak reference


def seeded_gradient(f, n_args, structure, argnums, backend):
    """The cached gradient of ``<f, c>`` with respect to ``argnums`` (a tuple)."""
    try:
        table = _CACHE.setdefault(f, {})
    except TypeError:
        table = _STRONG.setdefault(f, {})
    key = (n_args, structure, argnums, backend)
    g = table.get(key)
    if g is None:
        g = table[key] = GradFunction(cotangent_function(f, n_args, structure), argnums,
                                      backend, with_value=False)
    return g


def _differentiable(value):
    """Floats and float arrays (and Tensors of them) get cotangents; ints and bools do not."""
    if isinstance(value, Tensor):
        value = value.numpy()
    if isinstance(value, (bool, np.bool_, numbers.Integral)):
        return False
    if isinstance(value, (np.ndarray, np.generic)):
        return value.dtype.kind in "fc"
    return isinstance(value, numbers.Real)


# --- the API ------------------------------------------------------------------------------------
def vjp(f, *primals, backend="auto"):
    """``(f(*primals), vjp_fn)``; ``vjp_fn(cotangent)`` is the tuple of the cotangents of the
    primals, ``J^T cotangent`` (cotangent structured like the output: a float, an array, a
    tuple of them). Integer and boolean primals are not differentiated: their entry is None."""
    if not callable(f):
        raise TypeError(f"vjp expects a function, got {type(f).__name__}")
    fname = getattr(f, "__name__", "f")
    value = f(*primals)
    structure = structure_of(value, fname)
    argnums = tuple(i for i, p in enumerate(primals) if _differentiable(p))
    g = seeded_gradient(f, len(primals), structure, argnums, backend) if argnums else None

    def vjp_fn(cotangent):
        cts = flatten_like(structure, cotangent, "the cotangent")
        grads = g(*primals, *cts) if g is not None else ()
        out = [None] * len(primals)
        for i, gi in zip(argnums, grads):
            out[i] = gi
        return tuple(out)
    vjp_fn.gradient = g   # for tf.source / tf.explain
    return value, vjp_fn


def basis(shape):
    """The unit cotangents of an output of ``shape``, in C order."""
    size = int(np.prod(shape))
    eye = np.eye(size)
    return [eye[j].reshape(shape) if shape else 1.0 for j in range(size)]


def jacrev(f, argnums=0, backend="auto", chunk=None):
    """The Jacobian of ``f`` by reverse mode, one row per output element: for an output of
    shape S and an argument of shape A it has shape S + A (as JAX). A tuple output gives a
    tuple of Jacobians; a tuple ``argnums`` a tuple per output.

    Vector mode: the rows are pulled ``chunk`` at a time (default CHUNK) through one primal
    sweep each (replay.py), natively under "auto" and "native"; where that code cannot be
    made or lowered, and on the tape backend, each row is one vjp call."""
    tuple_args = isinstance(argnums, (tuple, list))
    nums = tuple(argnums) if tuple_args else (argnums,)
    fname = getattr(f, "__name__", "f")
    k = chunk or CHUNK

    def jacobian(*args):
        nargs = len(args)
        idx = tuple(i % nargs for i in nums)
        for i in idx:
            if not _differentiable(args[i]) and not isinstance(args[i], numbers.Integral):
                raise TypeError(f"jacrev of {fname}: argument {i} is "
                                f"{type(args[i]).__name__}, which cannot be differentiated")
        value = f(*args)
        structure = structure_of(value, fname)
        g = seeded_gradient(f, nargs, structure, idx, backend)
        out_leaves = leaves(structure)
        shapes_in = [np.shape(np.asarray(args[i].numpy() if isinstance(args[i], Tensor)
                                         else args[i])) for i in idx]
        # Tensors of a recording tape (jacrev inside a traced function): rows stay Tensors,
        # stacked by recorded ops, so the enclosing gradient follows them
        traced = any(not isinstance(a, (np.ndarray, np.generic, numbers.Number)) for a in args)
        rows = rows_runner(g, args, structure, idx, backend) if backend != "tape" and \
            not traced else None
        per_leaf = []
        for n, leaf in enumerate(out_leaves):
            shape = leaf_shape(leaf)
            size = int(np.prod(shape))
            if rows is not None:
                blocks = [[] for _ in idx]
                for lo in range(0, size, k):
                    hi = min(size, lo + k)
                    cts = [np.zeros((hi - lo,) + leaf_shape(other)) for other in out_leaves]
                    cts[n].reshape(hi - lo, size)[:, lo:hi] = np.eye(hi - lo)
                    got = rows(*cts)
                    for b, gi in zip(blocks, got if len(idx) > 1 else (got,)):
                        b.append(np.asarray(gi, dtype=np.float64))
                stacked = [np.concatenate([x.reshape((len(x),) + s) for x in b])
                           for b, s in zip(blocks, shapes_in)]
            else:
                zeros = [np.zeros(leaf_shape(o)) if o[0] == "array" else 0.0
                         for o in out_leaves]
                stacked = [[] for _ in idx]
                for unit in basis(shape):
                    cts = list(zeros)
                    cts[n] = unit
                    for r, gi in zip(stacked, g(*args, *cts)):
                        r.append(gi if traced else np.asarray(gi, dtype=np.float64))
                stacked = [np.stack(r) for r in stacked]
            if traced:
                jacs = tuple(np.reshape(j, shape + s) for j, s in zip(stacked, shapes_in))
            else:
                jacs = tuple(j.reshape(shape + s) for j, s in zip(stacked, shapes_in))
                jacs = tuple(j if j.ndim else float(j) for j in jacs)
            per_leaf.append(jacs if tuple_args else jacs[0])
        return pack(structure, iter(per_leaf))
    jacobian.__name__ = f"jacrev_{fname}"
    return jacobian


def rows_runner(g, args, structure, argnums, backend):
    """``run(*cotangent_rows)``: the gradients of the argnums for k cotangents at once (rows
    of each leaf's cotangent), from the replayed code, native where it compiles ("auto",
    "native") or Python ("python"); None where it cannot be made (the caller then makes one
    vjp call per row, on the backend asked for)."""
    args = tuple(a.numpy() if isinstance(a, Tensor) else
                 float(a) if i in argnums and isinstance(a, numbers.Integral) else a
                 for i, a in enumerate(args))
    cts = [np.zeros(leaf_shape(o)) if o[0] == "array" else 0.0 for o in leaves(structure)]
    kinds = tuple(kind_of_argument(a, i in argnums) for i, a in enumerate(args + tuple(cts)))
    try:
        gen = pipeline.generate(g.fn, argnums, kinds, with_value=False,
                                rows=tuple(range(len(args), len(args) + len(cts))))
    except TransformError:
        return None
    fn = gen.python
    if backend in ("auto", "native"):
        example = tuple(np.zeros((1,) + leaf_shape(o)) for o in leaves(structure))
        try:
            fn = pipeline.compile_gradient(gen, args + example, g.boundscheck)
        except Exception:    # not lowered: one native (or auto) vjp call per row instead
            return None
    return lambda *rows: fn(*args, *rows)


def pack(structure, it):
    if is_leaf(structure):
        return next(it)
    return tuple(pack(s, it) for s in structure)
