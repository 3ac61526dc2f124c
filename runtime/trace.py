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
import numbers
import sys
import textwrap
import types

import numpy as np

from . import rules as _rules
from . import tensor as _tensor
from .tape import GradientTape, state as tape_state
from .tensor import Tensor, constant


class TraceEscape(RuntimeError):
    """A differentiable value left the trace, so its gradient would be lost."""


def _where_in_user_code():
    guard = _tensor.strict.guard
    if guard is None:
        return ""
    for frame in inspect.stack()[2:]:
        if guard.knows(frame.filename):
            return f"{frame.filename}, line {frame.lineno}: "
    return ""


def _escape(what):
    raise TraceEscape(f"{_where_in_user_code()}{what} turns a traced value into a plain number, "
                      f"so its gradient would be lost; keep it an array/tensor operation")


def is_traced(value):
    """Whether ``value`` (or a Tensor/Variable inside a list, tuple or dict) is known to a tape
    recording on this thread: a value the gradient is being taken through."""
    value = _plain(value)
    if isinstance(value, (list, tuple)):
        return any(is_traced(v) for v in value)
    if isinstance(value, dict):
        return any(is_traced(v) for v in value.values())
    handle = getattr(value, "_handle", None)
    if not isinstance(value, Tensor) and handle is None:
        return False
    key = id(handle) if handle is not None else id(value)
    return any(key in tape._known for tape in tape_state.tapes)


# numpy callables without a derivative that are right to compute on values, giving constants:
# their derivative is zero wherever it exists (the numpy entries of compiler/resolve.py's NONDIFF,
# except np.mod: d(x mod y)/dx = 1, so it is not a constant and is refused until it has a rule).
# Functions whose results are all integers or booleans (argsort, nonzero, isclose, shape
# queries) need no entry: no result of theirs can carry a gradient.
NONDIFF_NUMPY = frozenset(id(f) for f in (
    np.sign, np.floor, np.ceil, np.trunc, np.fix, np.rint, np.round, np.around,
    np.floor_divide, np.heaviside,
    np.zeros_like, np.ones_like, np.empty_like, np.full_like,
    np.zeros, np.ones, np.empty, np.full, np.eye, np.identity,
    np.shape, np.size, np.ndim, np.argmax, np.argmin, np.isnan, np.isfinite, np.isinf,
    np.all, np.any, np.count_nonzero,
))


def _carries_gradient(result):
    """Whether a result has a float or complex part (integers and booleans carry no gradient)."""
    if isinstance(result, (list, tuple)):
        return any(_carries_gradient(r) for r in result)
    if isinstance(result, Tensor):
        result = result._v
    if isinstance(result, (np.ndarray, np.generic)):
        return result.dtype.kind in "fc"
    return isinstance(result, (float, complex))


def _numpy_name(func, method="__call__"):
    module = getattr(func, "__module__", None) or "numpy"
    module = "np" + module[len("numpy"):] if module.startswith("numpy") else module
    name = f"{module}.{getattr(func, '__name__', repr(func))}"
    return name if method == "__call__" else f"{name}.{method}"


class Guard:
    """Strict tracing on one thread: what a traced value leaving the trace does (it raises,
    naming the line in the user's code). Installed in ``tensor.strict.guard`` by ``_strict``;
    Tensor's conversions and numpy's fallthrough for callables without a rule ask it."""

    def __init__(self, files, outer=None):
        # the traced functions' files, by reference: the tracer adds a file when it first copies
        # a function, which happens while the trace runs; an outer trace's files count too
        self._files = (files,) + (outer._files if outer is not None else ())

    def knows(self, filename):
        return any(filename in files for files in self._files)

    def converting(self, t, what):
        if is_traced(t):
            _escape(what)

    def writing(self, t):
        _mutation()

    def no_rule(self, func, method, args, kwargs, on_values):
        """numpy has no rule for ``func``: ``on_values()`` computes it on plain values, fine for
        a constant, an error for a traced input whose result would pretend to be one."""
        out = kwargs.get("out")
        if isinstance(func, np.ufunc) and out is not None and \
                any(isinstance(o, Buffer) for o in out):
            # np.sin(x, out=buffer): the op (with its rule, if it has one) then a write into the
            # buffer, which the tape follows
            rest = {k: v for k, v in kwargs.items() if k != "out"}
            return _write_outputs(out, getattr(func, method)(*args, **rest))
        result = on_values()
        name = _numpy_name(func, method)
        if (method == "at" or result is None) and (is_traced(args) or is_traced(kwargs)):
            # np.add.at(a, i, t), np.copyto(a, t), np.put...: numpy wrote the values in place
            raise TraceEscape(f"{_where_in_user_code()}{name} writes a traced value into a "
                              f"numpy array made outside the function, so its gradient would "
                              f"be lost; build the array from the result instead")
        if id(func) in NONDIFF_NUMPY or not _carries_gradient(result):
            return result
        if not (is_traced(args) or is_traced(kwargs)):
            return result
        if out is not None:
            raise TraceEscape(f"{_where_in_user_code()}{name}(..., out=...) writes a traced value "
                              f"into a numpy array, so its gradient would be lost; use the "
                              f"result instead of out=")
        raise TraceEscape(f"{_where_in_user_code()}{name} has no derivative rule in tapeflow: "
                          f"its result would be a constant and the gradient through it silently "
                          f"zero; write it with operations that have rules")


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
    """While tracing on this thread, traced values that would leave the trace raise (float(t),
    t.item(), np.asarray(t), t[i] = v, numpy functions without a rule). Only this thread's flag
    changes, so other threads are unaffected; a nested trace adds its files and restores the
    outer guard when it ends."""
    outer = _tensor.strict.guard
    _tensor.strict.guard = Guard(files, outer)
    try:
        yield
    finally:
        _tensor.strict.guard = outer


# math functions that are right to compute on a traced value's number: their derivative is zero
# wherever it exists, or their result is not a float (the math entries of resolve.py's NONDIFF).
_MATH_NONDIFF = {"floor", "ceil", "trunc", "isnan", "isfinite", "isinf", "isclose"}
# math functions that work on Tensors through Python's operators (math.prod multiplies its items).
_MATH_BY_OPERATORS = {"prod"}


def _number(value):
    value = _plain(value)
    return value._v if isinstance(value, Tensor) else value


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

    def on_numbers(name, scalar_fn):
        def fn(*args, **kwargs):
            return scalar_fn(*[_number(a) for a in args], **kwargs)
        fn.__name__ = name
        return fn

    def refusing(name, scalar_fn):
        # Python's math converts a Tensor with float(): the result would be a plain number, the
        # gradient through it lost. Under strict tracing that is an error naming the function.
        def fn(*args, **kwargs):
            if _tensor.strict.guard is not None and (is_traced(args) or is_traced(kwargs)):
                raise TraceEscape(f"{_where_in_user_code()}math.{name} has no derivative rule in "
                                  f"tapeflow: its result would be a plain number and the gradient "
                                  f"through it lost; write it with operations that have rules")
            return scalar_fn(*args, **kwargs)
        fn.__name__ = name
        return fn

    for name, value in vars(math).items():
        if name.startswith("_") or not callable(value) or name in _MATH_BY_OPERATORS:
            continue
        if name in table:
            setattr(m, name, lift(name, table[name], value))
        elif name in _MATH_NONDIFF:
            setattr(m, name, on_numbers(name, value))
        else:
            setattr(m, name, refusing(name, value))
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
        self.viewed = None   # how a view of it was taken that would not see later writes

    def __setitem__(self, index, value):
        if self.viewed is not None:
            raise TraceEscape(f"{_where_in_user_code()}writing into an array after taking a "
                              f"view of it ({self.viewed}): numpy's view sees the write, the tape's "
                              f"copy would not (the python backend handles this function)")
        mask = np.zeros(self.t.shape, dtype=bool)
        mask[_plain(index)] = True
        value = _plain(value)
        if not isinstance(value, Tensor):
            value = np.asarray(value, dtype=self.t.numpy().dtype)
        if np.ndim(value) and mask[_plain(index)].ndim:
            full = np.zeros(self.t.shape, dtype=self.t.numpy().dtype)
            value = np.where(mask, _place(value, mask, index, self.t.shape), full)
        self.t = np.where(mask, value, self.t)

    @property
    def __tapeflow_tensor__(self):   # Tensor arithmetic with a buffer operand reads its Tensor
        return self.t

    def __getitem__(self, index):
        index = _plain(index)
        if _is_view_index(index, self.t.ndim):
            return BufferView(self, index)   # numpy's view: it sees later writes
        return self.t[index]

    def __getattr__(self, name):
        if name in _VIEW_ATTRIBUTES:
            self.viewed = f".{name}"
        return getattr(self.t, name)

    def __len__(self):
        return len(self.t)

    def __iter__(self):
        return iter(self.t)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        out = kwargs.pop("out", None)
        result = getattr(ufunc, method)(*[_plain(a) for a in inputs], **kwargs)
        if out is None:
            return result
        # np.sin(x, out=buffer): the result written into the buffer, as a differentiable update
        # (passing the buffer on to numpy as out= would come back here without end)
        return _write_outputs(out, result)

    def __array_function__(self, func, types_, args, kwargs):
        if func.__name__ in _VIEW_FUNCTIONS and args and args[0] is self:
            self.viewed = f"np.{func.__name__}"
        if func is np.copyto and args and args[0] is self and len(args) == 2 and not kwargs:
            self[...] = args[1]    # a recorded write, as b[...] = src
            return None
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


class BufferView(Buffer):
    """``b[1:]``, ``b[i]`` of a buffer: reads its current values (numpy's view sees later
    writes into b) and writes through into it."""

    def __init__(self, base, index):
        self.base, self.index, self.viewed = base, index, None

    @property
    def t(self):
        return self.base.t[self.index]

    def __setitem__(self, index, value):
        # the view's elements as positions in its base, then one write into the base
        positions = np.arange(int(np.prod(self.base.t.shape))).reshape(self.base.t.shape)
        chosen = np.asarray(positions[self.index][_plain(index)])
        self.base[np.unravel_index(chosen, self.base.t.shape)] = value


# spellings that return a view of an array (which a later write would change)
_VIEW_ATTRIBUTES = {"T", "mT", "real", "imag", "flat", "reshape", "ravel", "transpose",
                    "swapaxes", "squeeze", "diagonal", "view", "__array_interface__"}
_VIEW_FUNCTIONS = {"reshape", "ravel", "transpose", "swapaxes", "moveaxis", "rollaxis", "squeeze",
                   "expand_dims", "atleast_1d", "atleast_2d", "atleast_3d", "broadcast_to",
                   "diagonal", "flip", "fliplr", "flipud", "rot90", "real", "imag", "asarray",
                   "asanyarray", "split", "array_split", "hsplit", "vsplit", "dsplit"}


def _is_view_index(index, ndim):
    """Whether numpy's basic indexing by ``index`` gives a view (not a scalar, not a copy)."""
    parts = index if isinstance(index, tuple) else (index,)
    ints = 0
    for p in parts:
        if isinstance(p, (slice, type(Ellipsis))) or p is None:
            return True
        if isinstance(p, (int, np.integer)) and not isinstance(p, bool):
            ints += 1
        else:
            return False    # fancy or boolean indexing copies
    return ints < ndim


def _write_outputs(out, result):
    """A ufunc's results written into its ``out`` arrays (Buffers: recorded writes); returns
    what numpy returns, the out arrays."""
    results = result if isinstance(result, tuple) else (result,)
    for target, value in zip(out, results):
        target[...] = value
    return out[0] if len(out) == 1 else out


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

    def filled(fn, shape_of):
        # a traced fill value is differentiable (the table's rule): filled by broadcasting it
        plain = creator(fn)

        def make(a, fill_value, *args, **kwargs):
            fill = _plain(fill_value)
            if isinstance(fill, Tensor) and not args and set(kwargs) <= {"dtype"}:
                return np.broadcast_to(fill, shape_of(a)) + np.zeros(shape_of(a))
            return plain(a, fill_value, *args, **kwargs)
        return make
    m.full = filled(np.full, lambda shape: shape)
    m.full_like = filled(np.full_like, lambda like: np.shape(_plain(like)))

    def array(obj, dtype=None, copy=True):
        obj = _join_traced(_plain(obj))
        if isinstance(obj, Tensor):
            return obj
        return np.array(obj, dtype=dtype)
    m.array = array

    def asarray(a, dtype=None, **kwargs):
        # np.asarray(x) at the top of a function is common; on a Tensor it is the Tensor itself
        # (as the compiler reads it, an identity), where numpy would convert it to plain numbers
        if isinstance(a, Buffer) and (dtype is None or np.dtype(dtype) == a.t.numpy().dtype):
            return a      # the same array, as numpy gives
        a = _join_traced(_plain(a))
        if isinstance(a, Tensor):
            if dtype is None or np.dtype(dtype) == a._v.dtype:
                return a
            from .math_ops import cast
            return cast(a, np.dtype(dtype))
        return np.asarray(a, dtype=dtype, **kwargs)
    m.asarray = m.asanyarray = m.ascontiguousarray = asarray
    m.copy = lambda a: _plain(a) if isinstance(_plain(a), Tensor) else np.copy(a)
    m.r_, m.c_ = _Joiner(np.r_, 0), _Joiner(np.c_, -1)

    def arange(*args, **kwargs):
        # numpy's values are start + i * step: a traced start or step is recorded that way
        plain = [_plain(a) for a in args]
        if not any(isinstance(a, Tensor) for a in plain):
            return np.arange(*args, **kwargs)
        values = [a.numpy() if isinstance(a, Tensor) else a for a in plain]
        i = np.arange(np.size(np.arange(*values, **kwargs))).astype(np.float64)
        if len(plain) == 1:
            return np.arange(*values, **kwargs)     # the stop only decides how many
        step = plain[2] if len(plain) > 2 else 1.0
        return plain[0] + i * step
    m.arange = arange
    # the table's functions given a list of traced values where an array goes (np.mean([x, y]),
    # np.sum([1, x * x])): the list made one array first, as numpy would
    for name in dir(np):
        fn = getattr(np, name)
        if m.__dict__.get(name) is fn and callable(fn) and not isinstance(fn, type) and \
                _rules.entry_of(fn) is not None and id(fn) not in _SEQUENCE_FIRST:
            # (not the scalar types: np.float64 is also a dtype)
            setattr(m, name, _joining_first(fn))
    return m


# functions whose first argument is a sequence of arrays, not an array
_SEQUENCE_FIRST = frozenset(id(f) for f in (
    np.concatenate, np.stack, np.vstack, np.hstack, np.dstack, np.column_stack, np.block,
    np.einsum, np.select, np.broadcast_arrays, np.meshgrid))


class _joining_first:
    """``fn`` with a first argument that is a list of traced values stacked first. Anything else
    (a ufunc's .reduce, .outer, ...) is fn's own; the source transform reads it as fn."""

    def __init__(self, fn):
        self.__name__, self.__wrapped__, self.__tapeflow_primitive__ = fn.__name__, fn, fn

    def __call__(self, a, *args, **kwargs):
        if isinstance(a, (list, tuple)):
            a = _join_traced(a)
        return self.__wrapped__(a, *args, **kwargs)

    def __getattr__(self, attr):
        return getattr(self.__wrapped__, attr)


def _join_traced(obj):
    """A (nested) list or tuple holding traced values as one Tensor (np.stack of its items,
    numbers taken in the traced values' dtype); anything else unchanged."""
    if not isinstance(obj, (list, tuple)):
        return obj
    items = [_join_traced(_plain(o)) for o in obj]
    traced = [i for i in items if isinstance(i, Tensor)]
    if not traced:
        return obj
    dtype = traced[0]._v.dtype
    return np.stack([i if isinstance(i, Tensor) else np.asarray(i, dtype=dtype) for i in items])


class _Joiner:
    """np.r_ / np.c_ on traced items: each item made an array (a slice: its arange; a scalar: one
    element; for c_, 1-d items become columns), joined by np.concatenate, which records. A
    string directive ('0,2', 'r') or no traced item: numpy's own object."""

    def __init__(self, plain, axis):
        self.plain, self.axis = plain, axis

    def __getitem__(self, key):
        items = key if isinstance(key, tuple) else (key,)
        items = tuple(_plain(i) for i in items)
        if not any(isinstance(i, Tensor) for i in items) or any(isinstance(i, str) for i in items):
            return self.plain[key]
        parts = []
        for i in items:
            if isinstance(i, slice):
                i = self.plain[i]
            if np.ndim(i) == 0:
                i = np.reshape(i, (1,))
            if self.axis == -1 and np.ndim(i) == 1:
                i = np.reshape(i, (-1, 1))
            parts.append(i)
        return np.concatenate(parts, axis=self.axis)


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


def _check_result(result, fn):
    """A gradient needs a real scalar result: None, a string, a generator, a tuple, a complex
    number or an array is a TypeError naming the function, never a zero gradient."""
    value = result.numpy() if isinstance(result, Tensor) else result
    if type(value) is float or isinstance(value, numbers.Real) and not isinstance(value, complex):
        return
    fname = getattr(fn, "__name__", "f")
    if isinstance(value, (np.ndarray, np.generic)) and value.dtype.kind in "biuf":
        if np.ndim(value) == 0:
            return
        raise TypeError(f"grad requires {fname} to return a scalar, "
                        f"got an array of shape {np.shape(value)}")
    kind = type(value.item()).__name__ if isinstance(value, (np.ndarray, np.generic)) and \
        np.ndim(value) == 0 else f"{value.dtype} array" if isinstance(value, np.ndarray) else \
        type(value).__name__
    raise TypeError(f"grad requires {fname} to return a real scalar, got {kind}")


def _function_name(fn):
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)
    code = getattr(fn, "__code__", None)
    return f"{name} ({code.co_filename}, line {code.co_firstlineno})" if code else name


def _checked_result(fn, result):
    """The traced function's result, which must be a real number or an array of real numbers.

    None, a string, a tuple, a generator or a complex number is a TypeError naming the function:
    silently giving zero gradients for those would hide the mistake. A number that does not
    depend on the inputs is fine (its gradient is zero)."""
    result = _plain(result)
    if hasattr(result, "_read"):   # a Variable the function returns: its value, read on the tape
        result = result._read()
    if isinstance(result, (Tensor, np.ndarray, np.generic)):
        dtype = result._v.dtype if isinstance(result, Tensor) else result.dtype
        if dtype.kind in "fiub":
            return result
        got = f"a {type(result).__name__} of dtype {dtype.name}"
    elif isinstance(result, (int, float)):   # bool is an int
        return result
    else:
        got = f"{type(result).__name__}"
    raise TypeError(f"grad requires {_function_name(fn)} to return a real number (or an array "
                    f"of them), but it returned {got}")


def traced_value_and_grad(fn, argnums, args):
    """(value, [gradients]) as Tensors, for arguments that may be Tensors an outer tape records:
    the gradient computation is then itself recorded (higher order through nested tapes)."""
    from .math_ops import identity
    tracer = _Tracer()
    traced = _traced_callable(fn, tracer)
    args = list(args)
    # Each differentiated argument is traced as a fresh Tensor, the identity of the one given
    # (recorded on the outer tapes, which so still reach the given one). Watching the given Tensor
    # itself would mix it up with the same Tensor reached another way: in
    #     def f(x): return x * tf.grad(lambda y: x * y)(x)
    # the inner tape would also differentiate through the x the lambda closes over, d(x*x)/dx = 2x
    # instead of d(x*y)/dy = x, and f's derivative would come out 4x instead of 2x.
    sources = []
    for i in argnums:
        args[i] = identity(args[i])
        sources.append(args[i])
    # strict for the backward sweep too: there the rules run on Tensors (an outer tape records),
    # and a numpy call inside a rule with no rule of its own would silently drop an order
    with _strict(tracer.files):
        with GradientTape() as tape:
            for t in sources:
                tape.watch(t)
            result = _checked_result(fn, traced(*args))
        _check_result(result, fn)
        if not isinstance(result, Tensor):   # a number that does not depend on the inputs
            return result, [np.zeros_like(s) * 0.0 for s in sources]
        from .backward import real_only
        before, real_only.on = getattr(real_only, "on", False), True
        try:
            grads = tape.gradient(result, sources, unconnected_gradients="zero")
        finally:
            real_only.on = before
    return result, grads


def reads_traced_values(fn):
    """Whether ``fn`` reaches a traced value (a Tensor or Variable a tape on this thread records)
    through its closure or the globals it names: ``lambda y: x * y`` inside a traced function
    whose x is traced. Differentiating such a function needs ``traced_value_and_grad`` even when
    its arguments are plain numbers, or the outer gradient would miss the path through x."""
    if not tape_state.tapes:
        return False
    code = getattr(fn, "__code__", None)
    if code is None:
        return False
    for cell in fn.__closure__ or ():
        try:
            value = cell.cell_contents
        except ValueError:   # a cell not yet bound
            continue
        if is_traced(value) or _will_be_watched(value) or (
                inspect.isfunction(value) and value is not fn and reads_traced_values(value)):
            return True
    names = set(code.co_names)
    for const in code.co_consts:   # names used by nested functions and lambdas
        if isinstance(const, types.CodeType):
            names |= set(const.co_names)
    globals_ = getattr(fn, "__globals__", {})
    return any(is_traced(globals_[n]) or _will_be_watched(globals_[n])
               for n in names if n in globals_)


def _will_be_watched(value):
    """A trainable Variable that a recording tape watches as soon as it is read (TensorFlow's
    watch_accessed_variables): traced, though not read yet."""
    return getattr(value, "_trainable", False) and hasattr(value, "_handle") and any(
        tape._watch_accessed_variables for tape in tape_state.tapes)


def run_traced(fn, args):
    """``fn(*args)`` with numpy and math bound to their traced stand-ins (strict: a call with
    no rule on a traced value raises), so an enclosing tape records through it: generated
    code (a tangent function) run on Tensors."""
    tracer = _Tracer()
    traced = _traced_callable(fn, tracer)
    with _strict(tracer.files):
        return traced(*args)


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
                result = _checked_result(fn, traced(*args))
        _check_result(result, fn)
        if not isinstance(result, Tensor):   # does not depend on the inputs at all
            value = result
            grads = [np.zeros_like(np.asarray(s.numpy(), dtype=np.float64)) for s in sources]
        else:
            from .backward import real_only
            before, real_only.on = getattr(real_only, "on", False), True
            try:
                grads = tape.gradient(result, sources, unconnected_gradients="zero")
            finally:
                real_only.on = before
            if is_traced(result) or is_traced(grads):
                # An enclosing trace records through a value fn reads from outside its arguments
                # (a closure over a traced x): returned as numbers, the enclosing gradient would
                # lose the path through that value.
                raise TraceEscape(
                    f"{_where_in_user_code()}the gradient of {_function_name(fn)} depends on a "
                    f"traced value it reads from outside its arguments; returned as plain "
                    f"numbers, the enclosing gradient would lose that dependence. Pass the traced "
                    f"value to it as an argument")
            value = result.numpy()
            grads = [g.numpy() for g in grads]
        value = value.item() if isinstance(value, np.ndarray) and value.ndim == 0 else value
        grads = [g.item() if np.ndim(g) == 0 else g for g in grads]
        return value, (grads[0] if len(grads) == 1 else tuple(grads))
    return run


__all__ = ["value_and_grad_runner", "traced_value_and_grad", "run_traced", "reads_traced_values", "TraceEscape",
           "TRACED_MATH", "Guard", "is_traced"]
del sys
