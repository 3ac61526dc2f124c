"""The primitive table: one entry per primitive, read by the tape, the analysis, typing and lowering.

An entry says everything the project knows about one operation:

* ``callables``: the Python callables it stands for (``np.sin``, ``math.sin``); ``methods`` and
  ``attributes``: the array spellings (``x.sum(...)``, ``x.T``) that mean the same thing;
* ``kind``: ``"rule"`` (differentiable, with a reverse rule), ``"nondiff"`` (its value carries no
  gradient: shapes, masks, fresh constants), ``"identity"`` (returns its argument's value),
  ``"composite"`` (written in the supported subset in terms of other entries: the compiler inlines
  its source, the tape runs it on Tensors), or ``"helper"`` (a shape helper that rules call);
* ``reverse``: the rule ``d_<name>(g, ans, *inputs, **params)`` returning one adjoint per input;
  ``forward``: room for the tangent rule (``None`` until forward mode is written);
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

__all__ = ["Primitive", "RULES", "BY_CALLABLE", "METHODS", "ATTRIBUTES", "ENTRIES", "primitive",
           "define", "lookup", "entry_of", "method", "attribute"]


class Primitive:
    __slots__ = ("name", "callables", "methods", "attributes", "kind", "reverse", "forward",
                 "n_inputs", "role", "like", "native", "impl", "tensor_op", "grid",
                 "domain")

    def __init__(self, name, callables=(), *, methods=(), attributes=(), kind="rule",
                 reverse=None, forward=None, n_inputs=1, role=None, like=None, native=None,
                 impl=None, tensor_op=None, grid=None, domain="any"):
        self.name = name
        self.callables = tuple(callables)
        self.methods = tuple(methods)
        self.attributes = tuple(attributes)
        self.kind = kind
        self.reverse = reverse
        self.forward = forward
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
METHODS = {}      # "sum" -> the callable x.sum(...) stands for
ATTRIBUTES = {}   # "T" -> the callable x.T stands for; None: a non-differentiable attribute


def define(name, *callables, **fields):
    """Register an entry without a rule (nondiff, identity, composite, or a rule given directly)."""
    p = Primitive(name, callables, **fields)
    ENTRIES.append(p)
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
