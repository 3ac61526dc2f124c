"""The tape backend: differentiate an unmodified Python function by running it on Tensors.

The function runs as a copy of itself whose globals see traced stand-ins: ``math`` becomes a
module whose functions accept Tensors (numpy needs nothing: Tensor implements
``__array_ufunc__``/``__array_function__``), and every user function it calls is copied the same
way, recursion included. A traced value that leaves the trace (``float(t)``, storing it into a
numpy array, ``t.item()``) would silently lose its gradient, so under this backend it raises
``TraceEscape`` naming the line instead.
"""
import ast
import builtins
import contextlib
import inspect
import math
import sys
import textwrap
import threading
import types

import numpy as np

from .tape import GradientTape, state as tape_state
from .tensor import Tensor, constant

_state = threading.local()


class TraceEscape(RuntimeError):
    """A differentiable value left the trace, so its gradient would be lost."""


def _where_in_user_code():
    for frame in inspect.stack()[2:]:
        if getattr(_state, "files", None) and frame.filename in _state.files:
            return f"{frame.filename}, line {frame.lineno}: "
    return ""


def _escape(what):
    raise TraceEscape(f"{_where_in_user_code()}{what} turns a traced value into a plain number, "
                      f"so its gradient would be lost; keep it an array/tensor operation")


def _check_aliasing(fn):
    """``b = a`` then ``b += 1``: numpy changes the array both names see; on the tape ``+=``
    makes a new value, so ``a`` would keep the old one. Such functions are refused, by line."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return
    copies = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Name):
            copies |= {node.value.id} | {t.id for t in node.targets if isinstance(t, ast.Name)}
    for node in ast.walk(tree):
        if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) and \
                node.target.id in copies:
            line = fn.__code__.co_firstlineno + node.lineno - 1
            raise TraceEscape(
                f"{fn.__code__.co_filename}, line {line}: '{node.target.id} "
                f"{type(node.op).__name__.lower()}=' on a name bound to the same array as another "
                f"name: numpy changes both, the tape cannot (the python backend handles this)")


def _mutation():
    raise TraceEscape(f"{_where_in_user_code()}writing into an element of an array computed from "
                      f"the inputs: the tape's values are immutable (arrays made with np.zeros & "
                      f"co. can be written; the python backend handles this function)")


@contextlib.contextmanager
def _strict(files):
    """While tracing, conversions of Tensors to Python numbers raise instead of dropping."""
    saved = {k: Tensor.__dict__.get(k) for k in ("__float__", "item", "__setitem__")}
    _state.files = files
    Tensor.__float__ = lambda self: _escape("float() (or storing into a numpy array)")
    Tensor.item = lambda self: _escape(".item()")
    Tensor.__setitem__ = lambda self, i, v: _mutation()
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                delattr(Tensor, k)
            else:
                setattr(Tensor, k, v)
        _state.files = None


def _traced_math():
    m = types.ModuleType("math", "math for traced values")
    m.__dict__.update({k: v for k, v in vars(math).items() if not k.startswith("__")})
    table = {"sin": np.sin, "cos": np.cos, "tan": np.tan, "exp": np.exp, "log": np.log,
             "sqrt": np.sqrt, "tanh": np.tanh, "sinh": np.sinh, "cosh": np.cosh,
             "asin": np.arcsin, "acos": np.arccos, "atan": np.arctan, "fabs": np.abs,
             "log1p": np.log1p, "expm1": np.expm1, "pow": np.power, "log10": np.log10,
             "log2": np.log2, "atan2": np.arctan2}

    def lift(name, np_fn, scalar_fn):
        def fn(*args):
            if any(isinstance(a, Tensor) or hasattr(a, "read_value") for a in args):
                return np_fn(*args)
            return scalar_fn(*args)
        fn.__name__ = name
        return fn

    for name, np_fn in table.items():
        setattr(m, name, lift(name, np_fn, getattr(math, name)))
    # the other math functions of the primitive table (asinh, hypot, erf...): the entry's numpy
    # twin when it has one, else the math function itself, recorded from its entry
    from . import rules
    for entry in rules.ENTRIES:
        if entry.reverse is None:
            continue
        twins = [c for c in entry.callables if isinstance(c, np.ufunc)]
        for c in entry.callables:
            name = getattr(c, "__name__", None)
            if getattr(math, name or "", None) is c and name not in table:
                setattr(m, name, lift(name, twins[0] if twins else _from_entry(entry, c), c))
    return m


def _from_entry(entry, fn):
    def run(*args):
        from .numpy_dispatch import from_entry
        return from_entry(entry, fn, args, {})
    return run


TRACED_MATH = _traced_math()


class Buffer:
    """A numpy array created inside a traced function, written element by element.

    Each write replaces the held Tensor by ``where(mask, value, old)``, a differentiable update,
    so reads and later array operations see the new values and gradients reach what was written.
    """
    __array_priority__ = 200

    def __init__(self, value):
        self.t = value if isinstance(value, Tensor) else constant(np.asarray(value))

    def __setitem__(self, index, value):
        mask = np.zeros(self.t.shape, dtype=bool)
        mask[_plain(index)] = True
        value = _plain(value)
        if not isinstance(value, Tensor):
            value = np.asarray(value, dtype=self.t.numpy().dtype)
        if np.ndim(value) and mask[_plain(index)].ndim:
            full = np.zeros(self.t.shape, dtype=self.t.numpy().dtype)
            value = np.where(mask, _place(value, mask, index, self.t.shape), full)
        self.t = np.where(mask, value, self.t)

    def __getitem__(self, index):
        return self.t[_plain(index)]

    def __getattr__(self, name):
        return getattr(self.t, name)

    def __len__(self):
        return len(self.t)

    def __iter__(self):
        return iter(self.t)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return getattr(ufunc, method)(*[_plain(a) for a in inputs], **kwargs)

    def __array_function__(self, func, types_, args, kwargs):
        return func(*[_plain(a) for a in args], **{k: _plain(v) for k, v in kwargs.items()})

    def __array__(self, dtype=None, copy=None):
        # Tensor arithmetic converts its other operand with np.asarray: fine for a buffer whose
        # values are constants; one holding traced values would lose its gradient that way.
        if any(id(self.t) in tape._known for tape in tape_state.tapes):
            _escape("an operation with a traced numpy buffer on its right")
        value = np.asarray(self.t.numpy())
        return value if dtype is None else value.astype(dtype)

    def __repr__(self):
        return f"Buffer({self.t!r})"


def _plain(value):
    if isinstance(value, Buffer):
        return value.t
    if isinstance(value, (tuple, list)):
        return type(value)(_plain(v) for v in value)
    return value


def _place(value, mask, index, shape):
    """Scatter a traced block into a full-size traced array (zeros elsewhere)."""
    order = np.zeros(shape, dtype=np.int64)
    order[_plain(index)] = np.arange(int(np.sum(mask))).reshape(np.shape(order[_plain(index)]))
    flat = np.reshape(value, (-1,))
    picked = flat[np.reshape(order, (-1,))]
    return np.reshape(picked, shape)


def _binary(name):
    def op(self, other):
        return getattr(self.t, name)(_plain(other))
    return op


for _name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__",
              "__truediv__", "__rtruediv__", "__pow__", "__rpow__", "__matmul__", "__rmatmul__",
              "__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__", "__neg__", "__abs__"):
    setattr(Buffer, _name, (lambda n: (lambda self, *o: getattr(self.t, n)(*map(_plain, o))))(
        _name))


def _traced_numpy():
    m = types.ModuleType("numpy", "numpy for traced values")
    m.__dict__.update({k: getattr(np, k) for k in dir(np) if not k.startswith("__")})

    def creator(fn):
        def make(*args, **kwargs):
            return Buffer(fn(*[_plain(a).numpy() if isinstance(_plain(a), Tensor) else a
                               for a in args], **kwargs))
        return make

    for name in ("zeros", "ones", "empty", "full", "zeros_like", "ones_like", "empty_like",
                 "eye", "identity"):
        setattr(m, name, creator(getattr(np, name)))

    def array(obj, dtype=None, copy=True):
        obj = _plain(obj)
        if isinstance(obj, (list, tuple)) and any(isinstance(_plain(o), Tensor) for o in obj):
            return np.stack([_plain(o) for o in obj])
        if isinstance(obj, Tensor):
            return obj
        return np.array(obj, dtype=dtype)
    m.array = array
    m.copy = lambda a: _plain(a) if isinstance(_plain(a), Tensor) else np.copy(a)
    return m


TRACED_NUMPY = _traced_numpy()


def _is_user_function(value):
    if not inspect.isfunction(value):
        return False
    module = (getattr(value, "__module__", "") or "").split(".")[0]
    return module not in ("numpy", "tapeflow", "math", "builtins")


class _Tracer:
    """Copies of user functions whose globals see the traced stand-ins."""

    def __init__(self):
        self.copies = {}
        self.files = set()

    def copy(self, fn):
        if fn in self.copies:
            return self.copies[fn]
        _check_aliasing(fn)
        patched = _PatchedGlobals(fn.__globals__, self)
        new = types.FunctionType(fn.__code__, patched, fn.__name__, fn.__defaults__,
                                 self.closure(fn))
        new.__kwdefaults__ = fn.__kwdefaults__
        self.copies[fn] = new
        self.files.add(fn.__code__.co_filename)
        return new

    def closure(self, fn):
        if not fn.__closure__:
            return fn.__closure__
        cells = []
        for cell in fn.__closure__:
            try:
                value = cell.cell_contents
            except ValueError:
                cells.append(cell)
                continue
            cells.append(types.CellType(self.copy(value) if _is_user_function(value) else
                                        TRACED_MATH if value is math else
                                        TRACED_NUMPY if value is np else value))
        return tuple(cells)


class _PatchedGlobals(dict):
    """A function's globals, with math traced and user functions replaced by traced copies."""

    def __init__(self, original, tracer):
        super().__init__(original)
        self.tracer = tracer
        for k, v in original.items():
            if v is math:
                self[k] = TRACED_MATH
            elif v is np:
                self[k] = TRACED_NUMPY
        self.setdefault("__builtins__", builtins)

    def __missing__(self, key):
        raise KeyError(key)

    def __getitem__(self, key):
        value = dict.__getitem__(self, key)
        if _is_user_function(value):
            value = self.tracer.copy(value)
            self[key] = value
        return value


def _traced_callable(fn, tracer):
    return tracer.copy(fn) if inspect.isfunction(fn) else fn


def traced_value_and_grad(fn, argnums, args):
    """(value, [gradients]) as Tensors, for arguments that may be Tensors an outer tape records:
    the gradient computation is then itself recorded (higher order through nested tapes)."""
    tracer = _Tracer()
    traced = _traced_callable(fn, tracer)
    args = list(args)
    sources = [args[i] for i in argnums]
    with GradientTape() as tape:
        for t in sources:
            tape.watch(t)
        result = _plain(traced(*args))
    if not isinstance(result, Tensor):
        return result, [np.zeros_like(s) * 0.0 for s in sources]
    grads = tape.gradient(result, sources, unconnected_gradients="zero")
    return result, grads


def value_and_grad_runner(fn, argnums):
    """A function of fn's arguments returning (value, gradient(s)) through the tape."""
    def run(*args):
        tracer = _Tracer()
        traced = _traced_callable(fn, tracer)
        args = list(args)
        sources = []
        for i in argnums:
            t = constant(np.asarray(args[i], dtype=np.float64))
            args[i] = t
            sources.append(t)
        with _strict(tracer.files):
            with GradientTape() as tape:
                for t in sources:
                    tape.watch(t)
                result = traced(*args)
        result = _plain(result)
        if not isinstance(result, Tensor):   # does not depend on the inputs at all
            value = result
            grads = [np.zeros_like(np.asarray(s.numpy(), dtype=np.float64)) for s in sources]
        else:
            value = result.numpy()
            grads = tape.gradient(result, sources, unconnected_gradients="zero")
            grads = [g.numpy() for g in grads]
        value = value.item() if isinstance(value, np.ndarray) and value.ndim == 0 else value
        grads = [g.item() if np.ndim(g) == 0 else g for g in grads]
        return value, (grads[0] if len(grads) == 1 else tuple(grads))
    return run


__all__ = ["value_and_grad_runner", "TraceEscape", "TRACED_MATH"]
del sys
