"""Flatten and rebuild nested lists/tuples/dicts (targets, sources and results of ``gradient``)."""

__all__ = ["flatten", "pack_like"]


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
