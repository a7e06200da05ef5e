"""Random numbers: PyTorch's CPU generator, draw for draw.

PyTorch's CPU generator is the Mersenne Twister mt19937, seeded as its reference
`init_genrand` seeds it (numpy's MT19937 holds the same state; only the seeding differs, so it
is done here). Each kind of draw turns its 32-bit outputs into numbers as PyTorch's CPU kernels
do, so after `manual_seed(s)` the calls below give PyTorch's numbers:

- uniform (`rand`, `uniform_`, the layers' default init): float32 takes one output and keeps
  its low 24 bits, u = (x & (2²⁴ − 1))·2⁻²⁴; float64 joins two outputs (the first is the high
  word) and keeps 53 bits; then from + u·(to − from), worked in float64 and rounded;
- normal (`randn`, `normal`, `normal_`): 16 or more numbers are filled with uniforms first,
  then each block of 16 becomes 8 Box-Muller pairs (u₁ = 1 − u[i], u₂ = u[i + 8]); a tail
  that is not a whole block is redone from 16 fresh uniforms over the last 16 places. Fewer
  than 16 numbers are drawn one by one from two float64 uniforms, Box-Muller keeping the second
  value for the next call (until the next manual_seed);
- integers (`randint`, `randperm`): one output modulo the range; randperm is Fisher-Yates
  swapping place i with i + (x mod (n − i));
- Bernoulli (`bernoulli_` with a number p, dropout's mask): a float64 uniform < p; with a
  tensor of probabilities (`bernoulli`), a float32 uniform < p.

Uniform, integer and Bernoulli draws match PyTorch's exactly, and so do float64 standard
normals; float32 normals can differ in the last bit or two (PyTorch's vectorised log, sin and
cos round differently from numpy's), float64 normals with a mean and std in the last bit. The default generator
starts from the seed 0 (PyTorch's starts from a different random seed in every process): every
run of a script gives the same numbers, and `manual_seed` gives PyTorch's.
"""

from __future__ import annotations

import math

import numpy as np

from ..i18n import _

_MASK24 = (1 << 24) - 1
_MASK53 = np.uint64((1 << 53) - 1)
DEFAULT_SEED = 0


class Generator:
    """A random stream: `Generator().manual_seed(3)` as torch.Generator; every function that
    draws takes one as `generator=`, else uses `default_generator`."""

    def __init__(self, device: str = "cpu"):
        if device != "cpu":
            from .errors import DiffersFromPyTorch

            raise DiffersFromPyTorch(_("generators run on the CPU only, not on {device}",
                                       device=repr(device)))
        self._bits = np.random.MT19937(0)
        self.manual_seed(DEFAULT_SEED)

    def manual_seed(self, seed: int) -> "Generator":
        """Restart the stream from `seed` (PyTorch keeps the low 32 bits for the state)."""
        seed = int(seed)
        self._seed = seed
        state = np.empty(624, dtype=np.uint32)
        value = seed & 0xFFFFFFFF
        for index in range(624):  # init_genrand, the reference seeding of mt19937
            state[index] = value
            value = (1812433253 * (value ^ (value >> 30)) + index + 1) & 0xFFFFFFFF
        self._bits.state = {"bit_generator": "MT19937", "state": {"key": state, "pos": 624}}
        self._next_normal = None  # Box-Muller's second value, kept for the next single draw
        return self

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self):
        return (self._bits.state, self._next_normal)

    def set_state(self, state) -> "Generator":
        self._bits.state, self._next_normal = state[0], state[1]
        return self

    # -- raw draws ---------------------------------------------------------------------------
    def _raw32(self, count: int) -> np.ndarray:
        return self._bits.random_raw(count)

    def _uniform(self, count: int, dtype) -> np.ndarray:
        """`count` numbers in [0, 1) in float64, drawn as PyTorch draws `dtype`'s."""
        if np.dtype(dtype) == np.float64:
            raw = self._raw32(2 * count).astype(np.uint64)
            joined = (raw[0::2] << np.uint64(32)) | raw[1::2]
            return (joined & _MASK53).astype(np.float64) * 2.0**-53
        return (self._raw32(count) & _MASK24).astype(np.float64) * 2.0**-24

    def _single_normal(self) -> float:
        if self._next_normal is not None:
            value, self._next_normal = self._next_normal, None
            return value
        u1, u2 = self._uniform(1, np.float64)[0], self._uniform(1, np.float64)[0]
        radius = math.sqrt(-2.0 * math.log1p(-u2))
        theta = 2.0 * math.pi * u1
        self._next_normal = radius * math.sin(theta)
        return radius * math.cos(theta)

    # -- what the factories and in-place fills ask for -----------------------------------------
    def uniform(self, shape, low: float, high: float, dtype) -> np.ndarray:
        """U(low, high) as uniform_(low, high): low and high rounded to `dtype` first."""
        dtype = np.dtype(dtype)
        low, high = float(dtype.type(low)), float(dtype.type(high))
        count = math.prod(shape)
        # u·(high − low) + low rounded once, as the fused multiply-add PyTorch's build uses:
        # float64 is wide enough for float32's, float64's takes numpy's extended precision
        wide = np.longdouble if dtype == np.float64 else np.float64
        draws = self._uniform(count, dtype).astype(wide)
        return (draws * wide(high - low) + wide(low)).astype(dtype).reshape(shape)

    def normal(self, shape, mean: float, std: float, dtype) -> np.ndarray:
        """N(mean, std²) as normal_(mean, std)."""
        dtype = np.dtype(dtype)
        count = math.prod(shape)
        if count < 16:
            values = [self._single_normal() * std + mean for _ in range(count)]
            return np.array(values, dtype=np.float64).astype(dtype).reshape(shape)
        data = self._uniform(count, dtype).astype(dtype)
        _box_muller(data, count - count % 16, mean, std)
        if count % 16:
            data[count - 16:] = self._uniform(16, dtype).astype(dtype)
            tail = data[count - 16:]
            _box_muller(tail, 16, mean, std)
        return data.reshape(shape)

    def integers(self, shape, low: int, high: int) -> np.ndarray:
        """Integers in [low, high) as randint: one 32-bit output modulo the range."""
        span = int(high) - int(low)
        if span <= 0:
            raise ValueError(_("randint: high ({high}) must be larger than low ({low})",
                               high=high, low=low))
        if span >= 1 << 32:
            raise ValueError(_("randint: ranges of 2³² or more are not drawn here"))
        count = math.prod(shape)
        return (self._raw32(count) % np.uint64(span)).astype(np.int64).reshape(shape) + low

    def permutation(self, n: int) -> np.ndarray:
        """randperm(n): Fisher-Yates, place i swapped with i + (x mod (n − i))."""
        order = np.arange(n, dtype=np.int64)
        if n > 1:
            raw = self._raw32(n - 1)
            for i in range(n - 1):
                j = i + int(raw[i]) % (n - i)
                order[i], order[j] = order[j], order[i]
        return order

    def bernoulli(self, shape, p: float) -> np.ndarray:
        """0/1 with P(1) = p, as bernoulli_(p) (dropout's mask keeps with p = 1 − drop)."""
        return (self._uniform(math.prod(shape), np.float64) < p).reshape(shape)

    def bernoulli_each(self, probabilities: np.ndarray) -> np.ndarray:
        """0/1 with P(1) = probabilities[i], as torch.bernoulli(probabilities)."""
        probabilities = np.asarray(probabilities)
        kind = np.float64 if probabilities.dtype == np.float64 else np.float32
        draws = self._uniform(probabilities.size, kind).reshape(probabilities.shape)
        return draws < probabilities


def _box_muller(data: np.ndarray, length: int, mean: float, std: float) -> None:
    """Blocks of 16 uniforms in data[:length] become normals, in place, in data's type."""
    if not length:
        return
    blocks = data[:length].reshape(-1, 16)
    one, two = data.dtype.type(1), data.dtype.type(2 * math.pi)
    u1, u2 = one - blocks[:, :8], blocks[:, 8:]
    radius = np.sqrt(data.dtype.type(-2) * np.log(u1))
    theta = two * u2
    blocks[:, 8:] = radius * np.sin(theta) * data.dtype.type(std) + data.dtype.type(mean)
    blocks[:, :8] = radius * np.cos(theta) * data.dtype.type(std) + data.dtype.type(mean)


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed the default generator, as torch.manual_seed: the draws that follow are PyTorch's."""
    return default_generator.manual_seed(seed)


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(state) -> None:
    default_generator.set_state(state)


def chosen(generator) -> Generator:
    """The generator to draw from: the one given, else the default one."""
    if generator is None:
        return default_generator
    if not isinstance(generator, Generator):
        raise TypeError(_("generator must be a gradtrace.Generator, not {kind} "
                          "(gradtrace.Generator().manual_seed(s))", kind=type(generator).__name__))
    return generator
