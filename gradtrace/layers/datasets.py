"""Small two-dimensional datasets made in code, for `gradtrace train` and the examples.

Each function takes an explicit numpy Generator (never global random state) and returns
(X, y): X of shape (N, 2), float64; y of shape (N,), class indices 0..K-1 (int64).

- xor: the four corners of the unit square, labelled x1 XOR x2. No single line separates
  them (a perceptron can't), a 2-layer MLP can.
- moons: two interleaving half circles (two classes), with Gaussian noise.
- spirals: K arms winding around the origin, one class per arm, with Gaussian noise.
"""

from __future__ import annotations

import numpy as np

from ..core.errors import UsageError
from ..core.i18n import _


def xor(rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The XOR truth table; `rng` is accepted for a uniform signature and not used."""
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([0, 1, 1, 0], dtype=np.int64)
    return X, y


def moons(rng: np.random.Generator, n: int = 200, noise: float = 0.1):
    """Two half circles: class 0 the upper arc around (0, 0), class 1 the lower arc around
    (1, 0.5); n points in all, split evenly."""
    upper, lower = n // 2, n - n // 2
    angle_upper = np.linspace(0.0, np.pi, upper)
    angle_lower = np.linspace(0.0, np.pi, lower)
    X = np.concatenate([
        np.stack([np.cos(angle_upper), np.sin(angle_upper)], axis=1),
        np.stack([1.0 - np.cos(angle_lower), 0.5 - np.sin(angle_lower)], axis=1),
    ])
    X += rng.normal(0.0, noise, size=X.shape)
    y = np.concatenate([np.zeros(upper), np.ones(lower)]).astype(np.int64)
    return X, y


def spirals(rng: np.random.Generator, n: int = 300, classes: int = 3, noise: float = 0.2):
    """`classes` spiral arms of n // classes points each (CS231n's toy data): radius grows
    from 0 to 1 along the arm while the angle turns by 4 radians, plus noise on the angle."""
    per_class = n // classes
    radius = np.linspace(0.0, 1.0, per_class)
    points, labels = [], []
    for k in range(classes):
        angle = np.linspace(4.0 * k, 4.0 * (k + 1), per_class) + rng.normal(0.0, noise, per_class)
        points.append(np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1))
        labels.append(np.full(per_class, k, dtype=np.int64))
    return np.concatenate(points), np.concatenate(labels)


DATASETS = {"xor": xor, "moons": moons, "spirals": spirals}


def load(name: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The dataset called `name`, generated from `seed`."""
    if name not in DATASETS:
        raise UsageError(_("unknown dataset {name!r}; choose one of {listed}",
                           name=name, listed=', '.join(DATASETS)), "data")
    return DATASETS[name](np.random.default_rng(seed))
