"""Offline stand-in for sklearn's California-housing data and the two sklearn helpers the seed uses.

tapeflow does not depend on sklearn and must run offline, so seed 001's training example uses:
  * ``fetch_california_housing()``: 20640 rows x 8 features like the real data set (same feature names,
    plausible ranges), with a synthetic target made at run time from a fixed seed: a linear plus a
    nonlinear function of the standardized features plus noise, clipped to the real target's range
    [0.15, 5.0] (units of $100k). Deterministic; nothing is downloaded or stored in the repository.
  * ``train_test_split(*arrays, test_size=0.25, random_state=None)``: shuffle then cut, with the same
    sizes as sklearn's defaults (20640 -> 15480 / 5160 -> 11610 / 3870).
  * ``StandardScaler``: per-column mean / population std of the data it was fitted on.
"""
import math

import numpy as np

FEATURE_NAMES = ["MedInc", "HouseAge", "AveRooms", "AveBedrms",
                 "Population", "AveOccup", "Latitude", "Longitude"]
N_ROWS = 20640

DESCR = """Synthetic California-housing stand-in (tapeflow examples)
--------------------------------------------------------------
:Number of Instances: 20640
:Number of Attributes: 8 numeric features, same names as sklearn's data set:
    MedInc, HouseAge, AveRooms, AveBedrms, Population, AveOccup, Latitude, Longitude
:Target: synthetic median house value in $100k, a fixed function of the features plus noise
         (seeded; NOT the real census data, which needs a download).
"""


class Bunch(dict):
    """A dict whose keys are also attributes, like sklearn's return value."""
    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def _features(rng, n):
    # Marginals loosely shaped like the real columns, so that standardization matters.
    med_inc = rng.lognormal(mean=1.25, sigma=0.45, size=n)
    house_age = rng.integers(1, 53, size=n).astype(np.float64)
    ave_rooms = np.clip(rng.normal(5.4, 1.2, size=n) + 0.3 * (med_inc - 3.9), 1.0, None)
    ave_bedrms = np.clip(rng.normal(1.07, 0.08, size=n) + 0.02 * (ave_rooms - 5.4), 0.5, None)
    population = np.round(rng.lognormal(mean=7.0, sigma=0.75, size=n))
    ave_occup = np.clip(rng.lognormal(mean=1.0, sigma=0.25, size=n), 0.7, None)
    north = rng.random(n) < 0.45                      # two clusters: the Bay Area and Los Angeles
    latitude = np.where(north, rng.normal(37.8, 0.8, n), rng.normal(34.1, 0.5, n))
    longitude = np.where(north, rng.normal(-122.1, 0.6, n), rng.normal(-118.3, 0.6, n))
    return np.stack([med_inc, house_age, ave_rooms, ave_bedrms,
                     population, ave_occup, latitude, longitude], axis=1)


def _target(rng, x):
    z = (x - x.mean(axis=0)) / x.std(axis=0)
    lin = np.array([0.80, 0.12, -0.25, 0.30, -0.03, -0.35, -0.45, -0.40])
    y = 2.07 + z @ lin
    y += 0.25 * np.tanh(z[:, 0]) ** 2 - 0.15 * np.maximum(z[:, 5], 0.0)   # learnable nonlinearity
    y += 0.20 * np.sin(1.5 * z[:, 6]) * np.cos(z[:, 7])
    y += rng.normal(0.0, 0.45, size=len(x))                              # irreducible noise
    return np.clip(y, 0.14999, 5.00001)


def fetch_california_housing(seed=20640):
    """Return a Bunch(data (20640, 8) float64, target (20640,) float64, feature_names, DESCR)."""
    rng = np.random.default_rng(seed)
    data = _features(rng, N_ROWS)
    target = _target(rng, data)
    return Bunch(data=data, target=target, feature_names=list(FEATURE_NAMES), DESCR=DESCR)


def train_test_split(*arrays, test_size=None, random_state=None):
    """Shuffle rows (seeded by random_state) and cut them into train and test parts.

    Returns [a_train, a_test, b_train, b_test, ...] like sklearn. The test part has
    ceil(test_size * n) rows (test_size defaults to 0.25).
    """
    if not arrays:
        raise ValueError("train_test_split needs at least one array")
    n = len(arrays[0])
    if any(len(a) != n for a in arrays):
        raise ValueError("train_test_split: arrays have different numbers of rows")
    n_test = math.ceil((0.25 if test_size is None else test_size) * n)
    perm = np.random.RandomState(random_state).permutation(n)
    test_idx, train_idx = perm[:n_test], perm[n_test:]
    out = []
    for a in arrays:
        a = np.asarray(a)
        out += [a[train_idx], a[test_idx]]
    return out


class StandardScaler:
    """Centre and scale each column with the mean / std of the data given to ``fit``."""

    def fit(self, x):
        x = np.asarray(x, dtype=np.float64)
        self.mean_ = x.mean(axis=0)
        scale = x.std(axis=0)
        self.scale_ = np.where(scale == 0.0, 1.0, scale)   # a constant column is left unscaled
        return self

    def transform(self, x):
        return (np.asarray(x, dtype=np.float64) - self.mean_) / self.scale_

    def fit_transform(self, x):
        return self.fit(x).transform(x)
