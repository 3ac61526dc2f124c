"""The primitive table: one entry per primitive, read by the tape, the analysis, typing and lowering.

An entry says everything the project knows about one operation:

* ``callables``: the Python callables it stands for (``np.sin``, ``math.sin``); ``methods`` and
  ``attributes``: the array spellings (``x.sum(...)``, ``x.T``) that mean the same thing;
* ``kind``: ``"rule"`` (differentiable, with a reverse rule), ``"nondiff"`` (its value carries no
  gradient: shapes, masks, fresh constants), ``"identity"`` (returns its argument's value),
  ``"composite"`` (written in the supported subset in terms of other entries: the compiler inlines
  its source, the tape runs it on Tensors), or ``"helper"`` (a shape helper that rules call);
* ``reverse``: the rule ``d_<name>(g, ans, *inputs, **params)`` returning one adjoint per input;
* ``forward``: the tangent rule ``f_<name>(*tangents, ans, *inputs, **params)`` (registered with
  ``@tangent("<Name>")`` right after the reverse rule). It takes one tangent per input, named
  ``<input>_dot`` (``x_dot``), then the primal output ``ans``, the inputs, and the parameters as
  the reverse rule takes them (keywords with defaults; extra positional arguments at the call site
  bind to them in order). It returns one *term* per input (a tuple when ``n_inputs > 1``), each
  linear in its own input's tangent and reading no other tangent; the output's tangent is the sum
  of the terms of the inputs that have a tangent. An input without one (a constant, an integer)
  contributes nothing: its term is never built, so a rule never sees a zero or None tangent. A
  term ``None`` says the input carries no derivative (``where``'s condition). A term may be
  smaller than ``ans`` (``x_dot`` of a scalar added to an array): the transform broadcasts it.
  Example: ``def f_mul(x_dot, y_dot, ans, x, y): return x_dot * y, x * y_dot``. Tangents may
  carry a leading batch dimension (vector mode: k directions at once), so elementwise rules are
  written with numpy broadcasting and never reduce or reshape a tangent themselves;
* ``linear``: the primitive is linear in its first input (reshape, transpose, getitem, sum, ...;
  any further inputs are read for their shape only, as ``unbroadcast``'s ``like``), or, for a
  variadic entry (``n_inputs == -1``: concatenate, stack), jointly in all of them: its tangent is
  the primitive applied to the tangent(s) in place of the input(s), with the same parameters
  (``linear("<Name>", ...)`` next to the entry); it needs no forward function. ``"each"``
  (``multilinear(...)``: matmul, dot, outer, ...): linear in each input separately, so the term
  of input k is the primitive applied with input k replaced by its tangent. An entry with ``kind == "rule"`` and
  neither is refused by forward mode with the construct and its line, never taken as zero;
* ``role``: what the analysis needs to know of the result (``"reduction"``, ``"shape"``: a new
  array whose ndim the call decides, ``"int"``, ``"like"``: shaped like argument ``like``);
* ``native``: the family under which the native backend's typing and lowering registries know it
  (``"unary_float"``, ``"reduction"``, ...), or ``None``: native code gets it only through the
  generated code of its rule (composites) or refuses it with that reason;
* ``impl``: a composite's definition; ``tensor_op``: for a helper that mutates, the name of the
  recorded op (in ``array_ops``) the tape runs instead when a rule runs on Tensors;
* ``grid`` and ``domain``: how the grid test (tests/test_primitive_grid.py) calls it: a tuple of
  variants, each a tuple of argument codes (``"s"`` scalar, ``"v"`` (4,), ``"m"`` (3, 4), ``"r"``
  (1, 4), ``"c"`` (3, 1), ``"q"`` (3, 3), ``"t"`` (2, 3, 4), or any other Python value, passed as
  is) optionally ending in a dict of keywords; ``None`` takes the default grid of its arity.
  ``domain`` is where inputs are drawn: ``"any"`` (-2..2), ``"pos"`` (0.2..2), ``"unit"``
  (-0.9..0.9), ``"gt1"`` (1.2..3), ``"spd"`` (square inputs made symmetric positive definite).
"""

__all__ = ["Primitive", "RULES", "BY_CALLABLE", "BY_NAME", "METHODS", "ATTRIBUTES", "ENTRIES",
           "primitive", "define", "lookup", "entry_of", "method", "attribute", "tangent", "linear",
           "multilinear"]


class Primitive:
    __slots__ = ("name", "callables", "methods", "attributes", "kind", "reverse", "forward",
                 "linear", "n_inputs", "role", "like", "native", "impl", "tensor_op", "grid",
                 "domain")

    def __init__(self, name, callables=(), *, methods=(), attributes=(), kind="rule",
                 reverse=None, forward=None, linear=False, n_inputs=1, role=None, like=None, native=None,
                 impl=None, tensor_op=None, grid=None, domain="any"):
        self.name = name
        self.callables = tuple(callables)
        self.methods = tuple(methods)
        self.attributes = tuple(attributes)
        self.kind = kind
        self.reverse = reverse
        self.forward = forward
        self.linear = linear
        self.n_inputs = n_inputs
        self.role = role
        self.like = like
        self.native = native
        self.impl = impl
        self.tensor_op = tensor_op
        self.grid = grid
        self.domain = domain

    # the tape and the templates call a rule's adjoint by this name
    @property
    def adjoint(self):
        return self.reverse

    def __repr__(self):
        return f"Primitive({self.name!r}, kind={self.kind!r})"


ENTRIES = []      # every entry, in registration order
RULES = {}        # name -> entry with a reverse rule (the tape records ops under these names)
BY_CALLABLE = {}  # id(callable) -> entry
BY_NAME = {}      # name -> entry
_PENDING = {}     # name -> (field, value) given before the entry was defined
METHODS = {}      # "sum" -> the callable x.sum(...) stands for
ATTRIBUTES = {}   # "T" -> the callable x.T stands for; None: a non-differentiable attribute


def define(name, *callables, **fields):
    """Register an entry without a rule (nondiff, identity, composite, or a rule given directly)."""
    p = Primitive(name, callables, **fields)
    ENTRIES.append(p)
    BY_NAME.setdefault(name, p)
    if name in _PENDING:
        field, value = _PENDING.pop(name)
        setattr(p, field, value)
    if p.reverse is not None:
        RULES[name] = p
    for c in p.callables:
        BY_CALLABLE[id(c)] = p
    target = p.callables[0] if p.callables else None
    for m in p.methods:
        METHODS[m] = target
    for a in p.attributes:
        ATTRIBUTES[a] = target if p.kind != "nondiff" else None
    return p


def primitive(name, *callables, **fields):
    """Decorator: register the decorated function as the reverse rule of a new entry."""
    def register(adjoint):
        define(name, *callables, reverse=adjoint, **fields)
        return adjoint
    return register


def tangent(*names):
    """Decorator: the decorated function is the forward (tangent) rule of the named entries."""
    def register(rule):
        for n in names:
            if n in BY_NAME:
                BY_NAME[n].forward = rule
            else:   # an entry defined further down its family file
                _PENDING[n] = ("forward", rule)
        return rule
    return register


def linear(*names):
    """Mark the named entries linear: forward mode applies the primitive itself to the tangent."""
    for n in names:
        if n in BY_NAME:
            BY_NAME[n].linear = True
        else:
            _PENDING[n] = ("linear", True)


def multilinear(*names):
    """Mark the named entries linear in each input separately (products: matmul, outer...)."""
    for n in names:
        if n in BY_NAME:
            BY_NAME[n].linear = "each"
        else:
            _PENDING[n] = ("linear", "each")


def lookup(fn):
    """The entry of a differentiable primitive with a rule (``np.sin``, ``operator.add``), or None."""
    p = BY_CALLABLE.get(id(fn))
    return p if p is not None and p.reverse is not None else None


def entry_of(fn):
    """The entry of any callable the table knows, or None."""
    return BY_CALLABLE.get(id(fn))


def method(name):
    """The callable that the array method ``x.<name>(...)`` stands for, or None."""
    return METHODS.get(name)


def attribute(name):
    """(known, callable) for the array attribute ``x.<name>``: callable None if non-differentiable."""
    return name in ATTRIBUTES, ATTRIBUTES.get(name)
