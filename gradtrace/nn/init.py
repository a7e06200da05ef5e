"""Weight initialisation, named and called as in `torch.nn.init`.

Why it matters (the d2l notes and 《深度学习入门》 §6.2): equal weights (zeros, any constant) make every hidden unit
of a layer compute the same thing and receive the same update, so the symmetry never breaks;
weights too small or too large make gradients vanish or explode with depth. Xavier keeps the
variance of activations and gradients steady for tanh and sigmoid, He for relu.

fan_in / fan_out: a Linear weight (out, in) has fan_in = in, fan_out = out; a Conv2d weight
(F, C, KH, KW) has fan_in = C·KH·KW, fan_out = F·KH·KW. Every function fills the tensor's
array in place (its float type is kept, gradients are not recorded) and returns the tensor.

Two ways to draw, never global numpy state:
- PyTorch's: `generator=` a gradtrace.Generator, else gradtrace's default generator, which
  draws PyTorch's numbers (after `gradtrace.manual_seed(s)`, `xavier_uniform_(w)` fills w as
  PyTorch's does after `torch.manual_seed(s)`);
- gradtrace's: a numpy Generator passed as the second argument (`xavier_normal_(w, rng)`), as
  the CLI and gradtrace's own examples do; draws are made in float64 and rounded, so a float32
  layer starts from the same numbers as its float64 twin.
"""

from __future__ import annotations

import math

import numpy as np

from ..core.i18n import _
from ..core.tensor.errors import missing_names
from ..core.tensor import no_grad
from ..core.tensor.random import chosen

__all__ = ["calculate_gain", "uniform_", "normal_", "constant_", "ones_", "zeros_", "eye_",
           "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "fans",
           "initialise"]


def fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight shaped (out, in) or (F, C, KH, KW)."""
    if len(shape) < 2:
        raise ValueError(_("{pytorch} (shape {shape})", shape=tuple(shape),
                           pytorch="Fan in and fan out can not be computed for tensor with "
                                   "fewer than 2 dimensions"))
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


_calculate_fan_in_and_fan_out = fans


def calculate_gain(nonlinearity: str, param=None) -> float:
    """The gain PyTorch recommends for each activation (tanh 5/3, relu √2...); the int 1
    where PyTorch's is 1 (linear, conv, sigmoid), as it prints."""
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "sigmoid", "conv_transpose1d",
                        "conv_transpose2d", "conv_transpose3d"):
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _fill(tensor, values):
    with no_grad():
        tensor._fill_with(np.asarray(values))
    return tensor


def _numpy(rng) -> bool:
    return isinstance(rng, np.random.Generator)


def uniform_(tensor, a: float = 0.0, b: float = 1.0, generator=None):
    """U(a, b)."""
    if _numpy(a):  # gradtrace's form: uniform_(tensor, rng, low, high)
        return _fill(tensor, a.uniform(b, generator if generator is not None else 1.0,
                                       tensor.shape))
    return _fill(tensor, chosen(generator).uniform(tensor.shape, a, b, tensor.dtype))


def normal_(tensor, mean: float = 0.0, std: float = 1.0, generator=None):
    """N(mean, std²); N(0, 1) is the 'normal' init of the notes, too large for deep nets.
    gradtrace's form: normal_(tensor, rng, mean=0, std=1)."""
    if _numpy(mean):
        rng = mean
        mean, std = (0.0, std) if generator is None else (std, generator)
        return _fill(tensor, mean + std * rng.standard_normal(tensor.shape))
    return _fill(tensor, chosen(generator).normal(tensor.shape, mean, std, tensor.dtype))


def constant_(tensor, val: float):
    """Every element equal to `val`: the symmetric start the notes warn about."""
    return _fill(tensor, np.full(tensor.shape, val))


def ones_(tensor):
    return constant_(tensor, 1.0)


def zeros_(tensor):
    """All zeros: fine for biases; for weights the symmetry is never broken."""
    return constant_(tensor, 0.0)


def eye_(tensor):
    return _fill(tensor, np.eye(*tensor.shape))


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """Xavier (Glorot) uniform: U(−a, a), a = gain·sqrt(6 / (fan_in + fan_out)).
    gradtrace's form: xavier_uniform_(tensor, rng, gain=1)."""
    rng, gain = (gain, generator if generator is not None else 1.0) if _numpy(gain) else (
        None, gain)
    fan_in, fan_out = fans(tensor.shape)
    bound = gain * math.sqrt(6.0 / float(fan_in + fan_out))
    if rng is not None:
        return _fill(tensor, rng.uniform(-bound, bound, tensor.shape))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """Xavier (Glorot) normal: N(0, σ²), σ = gain·sqrt(2 / (fan_in + fan_out)), as d2l writes it.
    Seed 003 writes the fan_in-only variant σ = sqrt(1/n). gradtrace's form:
    xavier_normal_(tensor, rng, gain=1)."""
    rng, gain = (gain, generator if generator is not None else 1.0) if _numpy(gain) else (
        None, gain)
    fan_in, fan_out = fans(tensor.shape)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    if rng is not None:
        return _fill(tensor, std * rng.standard_normal(tensor.shape))
    return normal_(tensor, 0.0, std, generator)


def _kaiming_std(tensor, a, mode, nonlinearity) -> float:
    fan_in, fan_out = fans(tensor.shape)
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor, a=0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                     generator=None):
    """He (Kaiming) uniform: U(−b, b), b = √3·gain/√fan; nn.Linear and nn.Conv2d start from it
    with a = √5 (PyTorch's default)."""
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                    generator=None):
    """He (Kaiming) normal for relu: N(0, σ²), σ = sqrt(2 / fan_in) (《深度学习入门》 §6.2.4); the 2
    makes up for relu zeroing half of its inputs. gradtrace's form: kaiming_normal_(tensor,
    rng)."""
    if _numpy(a):
        fan_in, _ = fans(tensor.shape)
        return _fill(tensor, math.sqrt(2.0 / fan_in) * a.standard_normal(tensor.shape))
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity), generator)


INITS = ("xavier", "he", "normal", "zeros", "constant")


def initialise(tensor, init: str, rng: np.random.Generator | None, value: float = 0.5):
    """Fill a weight by the name a layer or the CLI uses: one of INITS; random ones draw from
    `rng` (a numpy Generator) or, when it is None, from gradtrace's default generator."""
    if init == "xavier":
        return xavier_normal_(tensor, rng) if rng is not None else xavier_normal_(tensor)
    if init == "he":
        return kaiming_normal_(tensor, rng) if rng is not None else kaiming_normal_(
            tensor, nonlinearity="relu")
    if init == "normal":
        return normal_(tensor, rng) if rng is not None else normal_(tensor)
    if init == "zeros":
        return zeros_(tensor)
    if init == "constant":
        return constant_(tensor, value)
    choices = _(", ").join(INITS)
    raise ValueError(_("unknown init {init}: choose one of {choices}", init=repr(init),
                       choices=choices))


# names of torch.nn.init gradtrace lacks: NotInGradtrace, naming what it has
__getattr__ = missing_names("gradtrace.nn.init", __all__)
