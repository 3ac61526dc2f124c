"""Weight regularizers (Keras 3's penalties): L1 ``l1 * sum|w|``, L2 ``l2 * sum w^2``, L1L2 both.

A layer's ``losses`` evaluates the penalties of its weights when read, with recorded ops, so
``loss + sum(model.losses)`` inside a GradientTape differentiates them too.
"""
from . import _ops


class Regularizer:
    def get_config(self):
        return {}


class L1L2(Regularizer):
    def __init__(self, l1=0.0, l2=0.0):
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, x):
        total = None
        if self.l1:
            total = self.l1 * _ops.runtime.reduce_sum(_ops.runtime.abs(x))
        if self.l2:
            term = self.l2 * _ops.runtime.reduce_sum(_ops.square(x))
            total = term if total is None else total + term
        return total if total is not None else _ops.runtime.zeros((), dtype=x.dtype)

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    def __init__(self, l1=0.01):
        super().__init__(l1=l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    def __init__(self, l2=0.01):
        super().__init__(l2=l2)

    def get_config(self):
        return {"l2": self.l2}


l1, l2, l1_l2 = L1, L2, L1L2
_BY_NAME = {"l1": L1, "l2": L2, "l1_l2": L1L2, "L1": L1, "L2": L2, "L1L2": L1L2}


def get(identifier):
    if identifier is None or callable(identifier) and not isinstance(identifier, type):
        return identifier
    if isinstance(identifier, type):
        return identifier()
    if identifier in _BY_NAME:
        return _BY_NAME[identifier]()
    raise ValueError(f"Could not interpret regularizer identifier: {identifier!r}")
