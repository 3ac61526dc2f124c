"""``tf.random``: seeded sampling. ``set_seed`` makes a program's draws repeatable (the numbers are
numpy's, not TensorFlow's: TF's Philox streams are not reproduced)."""
import numpy as np

from . import dtypes as _dt
from .opdef import as_tensor, wrap

__all__ = ["set_seed", "normal", "uniform", "truncated_normal", "shuffle", "categorical",
           "Generator"]

_global = {"seed": None, "rng": np.random.default_rng(), "count": 0}


def set_seed(seed):
    """Reset the global seed: the sequence of draws after this call is repeatable."""
    _global["seed"] = seed
    _global["count"] = 0
    _global["rng"] = np.random.default_rng(seed)


def _rng(seed):
    # An op seed gives the same numbers on every call with the same global seed and op seed
    # sequence position, as TF's (global, op) pair does.
    if seed is None:
        return _global["rng"]
    _global["count"] += 1
    return np.random.default_rng([_global["seed"] or 0, int(seed), _global["count"]])


def _shape(shape):
    if hasattr(shape, "_v"):
        shape = shape._v.tolist()
    return tuple(int(s) for s in shape) if not isinstance(shape, int) else (shape,)


def normal(shape, mean=0.0, stddev=1.0, dtype=_dt.float32, seed=None, name=None):
    v = _rng(seed).standard_normal(_shape(shape)) * stddev + mean
    return wrap(np.asarray(v, dtype=_dt.np_dtype(dtype)))


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=_dt.float32, seed=None, name=None):
    rng = _rng(seed)
    shp = _shape(shape)
    v = rng.standard_normal(shp)
    bad = np.abs(v) > 2
    while bad.any():
        v[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(v) > 2
    return wrap(np.asarray(v * stddev + mean, dtype=_dt.np_dtype(dtype)))


def uniform(shape, minval=0, maxval=None, dtype=_dt.float32, seed=None, name=None):
    npd = _dt.np_dtype(dtype)
    rng = _rng(seed)
    if np.dtype(npd).kind in "iu":
        if maxval is None:
            raise ValueError("Must specify maxval for integer dtype")
        return wrap(rng.integers(minval, maxval, _shape(shape)).astype(npd))
    maxval = 1.0 if maxval is None else maxval
    v = rng.random(_shape(shape)) * (float(maxval) - float(minval)) + float(minval)
    return wrap(np.asarray(v, dtype=npd))


def shuffle(value, seed=None, name=None):
    v = np.array(as_tensor(value)._v)
    _rng(seed).shuffle(v)
    return wrap(v)


def categorical(logits, num_samples, dtype=None, seed=None, name=None):
    lv = np.asarray(as_tensor(logits)._v, dtype=np.float64)
    p = np.exp(lv - lv.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    rng = _rng(seed)
    out = np.stack([rng.choice(p.shape[-1], size=int(num_samples), p=row) for row in p])
    return wrap(out.astype(_dt.np_dtype(dtype or _dt.int64)))


class Generator:
    """A stateful generator (``tf.random.Generator.from_seed``)."""

    def __init__(self, seed=None):
        self._rng = np.random.default_rng(seed)

    @classmethod
    def from_seed(cls, seed, alg=None):
        return cls(seed)

    def normal(self, shape, mean=0.0, stddev=1.0, dtype=_dt.float32, name=None):
        return wrap(np.asarray(self._rng.standard_normal(_shape(shape)) * stddev + mean,
                               dtype=_dt.np_dtype(dtype)))

    def uniform(self, shape, minval=0, maxval=1.0, dtype=_dt.float32, name=None):
        v = self._rng.random(_shape(shape)) * (maxval - minval) + minval
        return wrap(np.asarray(v, dtype=_dt.np_dtype(dtype)))
