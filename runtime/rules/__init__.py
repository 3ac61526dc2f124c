"""The primitive table: one entry per primitive, shared by the tape and the compiler.

``table.py`` defines an entry and the registries; each family file registers its entries
(``arithmetic``, ``math_functions``, ``reductions``, ``shapes``, ``linalg``, ``constants``,
``helpers``, ``composites``). A reverse rule is a small numpy function ``d_<name>(g, ans, *inputs, **params)``:
``g`` is the adjoint of the output, ``ans`` the output itself, ``inputs`` the primal inputs. It
returns the adjoint of each input (a tuple when the primitive has several; a single expression when
it has one; ``None`` for an input that carries no gradient).

Rules are written in the subset the compiler accepts, with ``np`` and the helpers only, because the
same text is used three ways:
  * the tape calls the function with values (with Tensors when an outer tape records, so the
    gradient computation is itself differentiable: numpy dispatches to Tensor's overrides);
  * the compiler inlines the function's source as a template into the generated Python;
  * the native backend lowers that generated code.
"""
# importing a family registers its entries
from . import arithmetic, arrays, composites, constants, decompositions, linalg  # noqa: F401
from . import linalg_composites, math_functions, reductions, shapes, special  # noqa: F401
from .helpers import (einsum_adjoints, extremum_weights, prod_of_others, sort_permutation,
                      sum_to_shape, unbroadcast, unconcat, uncumprod, undiff, unpad, unreduce,
                      unrepeat, unslice, untake, untake_along_axis, untile, untranspose)
from .tangent_helpers import (complete_with_nan, cumprod_tangent, qr_tangents,  # noqa: F401
                              svd_tangents, symmetric_read)
from .table import (ATTRIBUTES, BY_CALLABLE, ENTRIES, METHODS, RULES, Primitive, attribute,
                    define, entry_of, lookup, method, primitive)



def Rule(name, adjoint, callables=(), n_inputs=1):
    """An entry outside the table, for the tape to record once: a custom gradient, a masked rule."""
    return Primitive(name, callables, reverse=adjoint, n_inputs=n_inputs)


# the helpers generated code may call, by name
HELPERS = ("einsum_adjoints", "extremum_weights", "prod_of_others", "unbroadcast", "unreduce",
           "unslice", "untranspose", "sum_to_shape", "unconcat", "untile", "untake",
           "untake_along_axis", "unrepeat", "unpad", "undiff", "uncumprod", "sort_permutation",
           # forward rules' helpers
           "cumprod_tangent", "qr_tangents", "svd_tangents", "complete_with_nan",
           "symmetric_read")

__all__ = ["ATTRIBUTES", "BY_CALLABLE", "ENTRIES", "HELPERS", "METHODS", "RULES", "Primitive",
           "Rule", "attribute", "define", "einsum_adjoints", "entry_of", "extremum_weights",
           "lookup", "method", "primitive", "prod_of_others", "sum_to_shape", "unbroadcast",
           "unconcat", "unreduce", "unslice", "untile", "untranspose", "untake",
           "untake_along_axis", "unrepeat", "unpad", "undiff", "uncumprod", "sort_permutation"]
