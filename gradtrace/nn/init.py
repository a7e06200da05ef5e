"""Weight initialisation, named as in `torch.nn.init`, always from an explicit numpy Generator.

Why it matters (the d2l notes and 《深度学习入门》 §6.2): equal weights (zeros, any constant) make every hidden unit
of a layer compute the same thing and receive the same update, so the symmetry never breaks;
weights too small or too large make gradients vanish or explode with depth. Xavier keeps the
variance of activations and gradients steady for tanh and sigmoid, He for relu.

fan_in / fan_out: a Linear weight (out, in) has fan_in = in, fan_out = out; a Conv2d weight
(F, C, KH, KW) has fan_in = C·KH·KW, fan_out = F·KH·KW. Every function fills the tensor's
array in place (its float type is kept) and returns the tensor. Draws are made in float64 and
rounded, so a float32 layer starts from the same numbers as its float64 twin.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["xavier_normal_", "xavier_uniform_", "kaiming_normal_", "normal_", "zeros_",
           "constant_", "fans", "initialise"]


def fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight shaped (out, in) or (F, C, KH, KW)."""
    if len(shape) < 2:
        raise ValueError(f"fan_in and fan_out need a weight of 2 or more axes, not {shape}")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _fill(tensor, draws: np.ndarray):
    tensor.value[...] = draws
    return tensor


def _generator(rng) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError("random initialisation needs rng=np.random.default_rng(seed) "
                        "(no global random state)")
    return rng


def normal_(tensor, rng: np.random.Generator, mean: float = 0.0, std: float = 1.0):
    """Every weight drawn from N(mean, std²); N(0, 1) is the 'normal' init of the notes,
    too large for deep nets."""
    return _fill(tensor, mean + std * _generator(rng).standard_normal(tensor.shape))


def xavier_normal_(tensor, rng: np.random.Generator, gain: float = 1.0):
    """Xavier (Glorot) normal: N(0, σ²), σ = gain·sqrt(2 / (fan_in + fan_out)), as d2l writes it.
    Seed 003 writes the fan_in-only variant σ = sqrt(1/n)."""
    fan_in, fan_out = fans(tensor.shape)
    return normal_(tensor, rng, std=gain * math.sqrt(2.0 / (fan_in + fan_out)))


def xavier_uniform_(tensor, rng: np.random.Generator, gain: float = 1.0):
    """Xavier (Glorot) uniform: U(−a, a), a = gain·sqrt(6 / (fan_in + fan_out)), the same
    variance as xavier_normal_."""
    fan_in, fan_out = fans(tensor.shape)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return _fill(tensor, _generator(rng).uniform(-bound, bound, tensor.shape))


def kaiming_normal_(tensor, rng: np.random.Generator):
    """He (Kaiming) normal for relu: N(0, σ²), σ = sqrt(2 / fan_in) (《深度学习入门》 §6.2.4); the 2
    makes up for relu zeroing half of its inputs."""
    fan_in, _ = fans(tensor.shape)
    return normal_(tensor, rng, std=math.sqrt(2.0 / fan_in))


def zeros_(tensor):
    """All zeros: fine for biases; for weights the symmetry is never broken."""
    return _fill(tensor, 0.0)


def constant_(tensor, value: float):
    """Every element equal to `value`: the symmetric start the notes warn about."""
    return _fill(tensor, value)


INITS = ("xavier", "he", "normal", "zeros", "constant")


def initialise(tensor, init: str, rng: np.random.Generator | None, value: float = 0.5):
    """Fill a weight by the name a layer or the CLI uses: one of INITS."""
    if init == "xavier":
        return xavier_normal_(tensor, rng)
    if init == "he":
        return kaiming_normal_(tensor, rng)
    if init == "normal":
        return normal_(tensor, rng)
    if init == "zeros":
        return zeros_(tensor)
    if init == "constant":
        return constant_(tensor, value)
    raise ValueError(f"unknown init {init!r}: choose one of {', '.join(INITS)}")
