"""Weight initializers by name ('glorot_uniform', 'zeros', 'he_normal', ...) or by class, with
Keras 3's distributions:

* ``VarianceScaling(scale, mode, distribution)``: n = fan_in, fan_out or their mean (mode);
  'truncated_normal' draws N(0, s) cut at two standard deviations with s = sqrt(scale / n) / .8796
  (the standard deviation of a unit normal truncated at +-2, so the variance is scale / n);
  'untruncated_normal' uses s = sqrt(scale / n); 'uniform' draws U(-l, l), l = sqrt(3 scale / n).
  Glorot = (1, fan_avg), He = (2, fan_in), LeCun = (1, fan_in).
* fans: a kernel (..., in, out) has receptive field prod(shape[:-2]): fan_in = in * receptive,
  fan_out = out * receptive (a vector: both its length; a scalar: both 1).

Seeds follow Keras 3: an initializer called again returns the same values (an integer seed, or
one drawn from the runtime's global stream when constructed unseeded, so ``tf.random.set_seed``
makes a model's initial weights repeatable while each new initializer gets other values).
"""
import math

import numpy as np

from . import _ops

_TRUNCATED_STDDEV = 0.87962566103423978   # std of N(0, 1) truncated to [-2, 2]


def compute_fans(shape):
    shape = tuple(int(d) for d in shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[:-2])   # 1 for a Dense kernel (fan_in, fan_out)
    return shape[-2] * receptive, shape[-1] * receptive


class Initializer:
    """``init(shape, dtype)`` returns a Tensor, as in Keras; subclasses give the numpy values."""

    def __call__(self, shape, dtype=None):
        return _ops.constant(self._values(shape, dtype))

    def _values(self, shape, dtype):
        raise NotImplementedError

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def clone(self):
        return type(self).from_config(self.get_config())


class Zeros(Initializer):
    def _values(self, shape, dtype=None):
        return np.zeros(_shape(shape), dtype=_dtype(dtype))


class Ones(Initializer):
    def _values(self, shape, dtype=None):
        return np.ones(_shape(shape), dtype=_dtype(dtype))


class Constant(Initializer):
    def __init__(self, value=0.0):
        self.value = value

    def _values(self, shape, dtype=None):
        return np.broadcast_to(np.asarray(_ops.to_numpy(self.value), dtype=_dtype(dtype)),
                               _shape(shape)).copy()

    def get_config(self):
        return {"value": self.value}


class Identity(Initializer):
    def __init__(self, gain=1.0):
        self.gain = gain

    def _values(self, shape, dtype=None):
        shape = _shape(shape)
        if len(shape) != 2:
            raise ValueError(f"Identity matrix initializer can only be used for 2D matrices. "
                             f"Received: shape={shape} of rank {len(shape)}.")
        return (self.gain * np.eye(*shape)).astype(_dtype(dtype))

    def get_config(self):
        return {"gain": self.gain}


class _Random(Initializer):
    """Draws from its own generator, seeded once: every call gives the same values (Keras 3)."""

    def __init__(self, seed=None):
        if seed is not None and not isinstance(seed, (int, np.integer)):
            raise ValueError(f"`seed` argument should be an int or None. Received: seed={seed}")
        self.seed = seed
        self._seed = int(seed) if seed is not None else _ops.draw_seed()

    def _rng(self):
        return np.random.default_rng(self._seed)

    def get_config(self):
        return {"seed": self.seed}


class RandomNormal(_Random):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def _values(self, shape, dtype=None):
        v = self._rng().standard_normal(_shape(shape)) * self.stddev + self.mean
        return v.astype(_dtype(dtype))

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class TruncatedNormal(RandomNormal):
    """N(mean, stddev) with values further than two stddev from the mean redrawn."""

    def _values(self, shape, dtype=None):
        v = _truncated(self._rng(), _shape(shape)) * self.stddev + self.mean
        return v.astype(_dtype(dtype))


class RandomUniform(_Random):
    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        self.minval, self.maxval = minval, maxval

    def _values(self, shape, dtype=None):
        v = self._rng().uniform(self.minval, self.maxval, _shape(shape))
        return v.astype(_dtype(dtype))

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class VarianceScaling(_Random):
    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        super().__init__(seed)
        if scale <= 0.0:
            raise ValueError(f"Argument `scale` must be positive float. Received: scale={scale}")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"Invalid `mode` argument: {mode}")
        distribution = distribution.lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in ("uniform", "truncated_normal", "untruncated_normal"):
            raise ValueError(f"Invalid `distribution` argument: {distribution}")
        self.scale, self.mode, self.distribution = scale, mode, distribution

    def _values(self, shape, dtype=None):
        shape = _shape(shape)
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        variance = self.scale / max(1.0, n)
        rng = self._rng()
        if self.distribution == "truncated_normal":
            v = _truncated(rng, shape) * (math.sqrt(variance) / _TRUNCATED_STDDEV)
        elif self.distribution == "untruncated_normal":
            v = rng.standard_normal(shape) * math.sqrt(variance)
        else:
            limit = math.sqrt(3.0 * variance)
            v = rng.uniform(-limit, limit, shape)
        return v.astype(_dtype(dtype))

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                "seed": self.seed}


def _scaling(name, scale, mode, distribution):
    def __init__(self, seed=None):
        VarianceScaling.__init__(self, scale, mode, distribution, seed)

    def get_config(self):
        return {"seed": self.seed}
    return type(name, (VarianceScaling,), {"__init__": __init__, "get_config": get_config,
                                           "__doc__": f"VarianceScaling({scale}, {mode!r}, "
                                                      f"{distribution!r})."})


GlorotUniform = _scaling("GlorotUniform", 1.0, "fan_avg", "uniform")
GlorotNormal = _scaling("GlorotNormal", 1.0, "fan_avg", "truncated_normal")
HeUniform = _scaling("HeUniform", 2.0, "fan_in", "uniform")
HeNormal = _scaling("HeNormal", 2.0, "fan_in", "truncated_normal")
LecunUniform = _scaling("LecunUniform", 1.0, "fan_in", "uniform")
LecunNormal = _scaling("LecunNormal", 1.0, "fan_in", "truncated_normal")


class Orthogonal(_Random):
    """A (scaled) orthogonal matrix from the QR decomposition of a normal draw (sign-fixed)."""

    def __init__(self, gain=1.0, seed=None):
        super().__init__(seed)
        self.gain = gain

    def _values(self, shape, dtype=None):
        shape = _shape(shape)
        if len(shape) < 2:
            raise ValueError(f"Orthogonal initializer requires a shape of rank >= 2 "
                             f"(received shape={shape})")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = self._rng().standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q = q * np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return (self.gain * q.reshape(shape)).astype(_dtype(dtype))

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


def _truncated(rng, shape):
    v = rng.standard_normal(shape)
    bad = np.abs(v) > 2.0
    while bad.any():
        v[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(v) > 2.0
    return v


def _shape(shape):
    return tuple(int(d) for d in (shape if isinstance(shape, (tuple, list)) else
                                  tuple(_ops.to_numpy(shape).tolist()) if hasattr(shape, "numpy")
                                  else (shape,)))


def _dtype(dtype):
    return _ops.np_dtype("float32" if dtype is None else dtype)


_CLASSES = [Zeros, Ones, Constant, Identity, RandomNormal, TruncatedNormal, RandomUniform,
            VarianceScaling, GlorotUniform, GlorotNormal, HeUniform, HeNormal, LecunUniform,
            LecunNormal, Orthogonal]


def _snake(name):
    return "".join("_" + c.lower() if c.isupper() and i else c.lower() for i, c in enumerate(name))


_BY_NAME = {}
for _cls in _CLASSES:
    _BY_NAME[_cls.__name__] = _BY_NAME[_snake(_cls.__name__)] = _cls
    globals()[_snake(_cls.__name__)] = _cls     # keras.initializers.glorot_uniform, he_normal...
_BY_NAME.update(zero=Zeros, one=Ones, constant=Constant, identity=Identity, uniform=RandomUniform,
                normal=RandomNormal)
zero, one, uniform, normal = Zeros, Ones, RandomUniform, RandomNormal


def get(identifier):
    """An initializer from a name, a class, an instance or a callable ``f(shape, dtype)``; a
    config dict ``{"class_name": ..., "config": {...}}`` too, as Keras serializes them."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        cls = _BY_NAME.get(identifier.get("class_name"))
        if cls is None:
            raise ValueError(f"Could not interpret initializer identifier: {identifier}")
        return cls(**identifier.get("config", {}))
    if isinstance(identifier, type):
        return identifier()
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier)
        if cls is None:
            raise ValueError(f"Could not interpret initializer identifier: {identifier!r}")
        return cls()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret initializer identifier: {identifier!r}")


def serialize(initializer):
    return {"class_name": type(initializer).__name__, "config": initializer.get_config()}


deserialize = get
