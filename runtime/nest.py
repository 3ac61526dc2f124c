"""Flatten and rebuild nested lists/tuples/dicts (targets, sources and results of ``gradient``)."""

__all__ = ["flatten", "pack_like", "pack_sequence_as", "map_structure", "is_nested",
           "assert_same_structure"]


def flatten(x):
    """Leaves of ``x`` in order; dicts by sorted key, as TF's nest does. None is a leaf."""
    out = []
    _flatten(x, out)
    return out


def _flatten(x, out):
    if isinstance(x, (list, tuple)):
        for v in x:
            _flatten(v, out)
    elif isinstance(x, dict):
        for k in sorted(x):
            _flatten(x[k], out)
    else:
        out.append(x)


def pack_like(structure, flat):
    """``flat`` arranged in the shape of ``structure`` (list→list, tuple→tuple, dict→dict)."""
    it = iter(flat)
    return _pack(structure, it)


def _pack(s, it):
    if isinstance(s, dict):
        built = {k: _pack(s[k], it) for k in sorted(s)}
        return type(s)((k, built[k]) for k in s) if type(s) is not dict else {k: built[k] for k in s}
    if isinstance(s, list):
        return [_pack(v, it) for v in s]
    if isinstance(s, tuple):
        vals = [_pack(v, it) for v in s]
        return type(s)(*vals) if hasattr(s, "_fields") else tuple(vals)
    return next(it)


def pack_sequence_as(structure, flat_sequence, expand_composites=False):
    """``tf.nest.pack_sequence_as``: the leaves in ``structure``'s shape."""
    flat_sequence = list(flat_sequence)
    n = len(flatten(structure))
    if n != len(flat_sequence):
        raise ValueError(f"Could not pack sequence. Structure had {n} atoms, but flat_sequence "
                         f"had {len(flat_sequence)} items.")
    return pack_like(structure, flat_sequence)


def is_nested(x):
    return isinstance(x, (list, tuple, dict))


def assert_same_structure(a, b, check_types=True, expand_composites=False):
    def shape(x):
        if isinstance(x, dict):
            return ("dict", tuple((k, shape(x[k])) for k in sorted(x)))
        if isinstance(x, (list, tuple)):
            return (type(x).__name__ if check_types else "seq", tuple(shape(v) for v in x))
        return None
    if shape(a) != shape(b):
        raise ValueError("The two structures don't have the same nested structure.")


def map_structure(func, *structure, **kwargs):
    """``func`` applied leafwise to structures of the same shape."""
    for s in structure[1:]:
        assert_same_structure(structure[0], s, kwargs.get("check_types", True))
    flats = [flatten(s) for s in structure]
    return pack_like(structure[0], [func(*leaves) for leaves in zip(*flats)])
