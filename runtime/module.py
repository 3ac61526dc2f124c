"""``tf.Module``: a container that finds the Variables held in its attributes (for optimizers)."""
from .variable import Variable

__all__ = ["Module"]


class Module:
    """Base class for models: ``variables``/``trainable_variables`` are collected from attributes
    (also inside lists, tuples, dicts and nested Modules), in attribute order."""

    def __init__(self, name=None):
        self._name = name or type(self).__name__.lower()

    @property
    def name(self):
        return self._name

    def _walk(self, want, seen):
        out = []
        for value in vars(self).values():
            out.extend(_collect(value, want, seen))
        return out

    @property
    def variables(self):
        return tuple(self._walk(lambda v: isinstance(v, Variable), set()))

    @property
    def trainable_variables(self):
        return tuple(self._walk(lambda v: isinstance(v, Variable) and v.trainable, set()))

    @property
    def submodules(self):
        return tuple(self._walk(lambda v: isinstance(v, Module), set()))


def _collect(value, want, seen):
    if id(value) in seen:
        return []
    seen.add(id(value))
    found = [value] if want(value) else []
    if isinstance(value, Module):
        found.extend(value._walk(want, seen))
    elif isinstance(value, (list, tuple)):
        for v in value:
            found.extend(_collect(v, want, seen))
    elif isinstance(value, dict):
        for k in value:
            found.extend(_collect(value[k], want, seen))
    return found
