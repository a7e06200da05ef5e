"""The op registry: every primitive gradtrace knows, declared once.

Each `Op` carries what every other part of gradtrace needs to know about it:

- `forward`: numpy function of the input arrays (values are numpy arrays; a scalar is 0-d);
- `partials`: the local derivative d out / d input_i, one rule per input, each a function of
  (*inputs, out), elementwise; the VJP and JVP below are built from them;
- `formulas`: the same local derivatives written for people, with {a}, {b} (the inputs) and
  {out} (the op's own output) as placeholders: the narration fills them with node names;
- `lower`: the op in SymPy, given the sympy module (imported lazily by the checker);
- `gate`: the backward-flow pattern the course notes name (add distributes, mul swaps, max
  routes), or None;
- `kink` / `kink_rule`: where the op is not differentiable and which value gradtrace uses there;
- `trouble`: why a finite input gave a non-finite output (overflow, log of a negative...).

Everything else (parser function names, narration, checks, `gradtrace ops`, the tests) reads
this table, so adding an op here brings it everywhere.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

Array = np.ndarray


class Op(NamedTuple):
    name: str
    arity: int
    usage: str  # how a user writes it, with a, b for the inputs
    pattern: str  # how the narration writes it, with {a}, {b}
    symbol: str  # short label for graph pictures
    forward: Callable[..., Array]
    partials: tuple[Callable[..., Array], ...] | None  # None: not elementwise, see vjp_rule
    formulas: tuple[str, ...]  # elementwise: local derivatives; otherwise the VJP, with {g}
    lower: Callable
    description: str
    gate: str | None = None
    kink: Callable[..., Array] | None = None
    kink_rule: str | None = None
    trouble: Callable[..., str | None] | None = None
    callable_by_name: bool = False  # written as name(...) in expressions
    commutative: bool = False
    # Ops that are not elementwise (matmul, sum, softmax...) give their rules directly; an
    # elementwise op may too, as a faster upstream × local (mul, relu: no array of ones):
    vjp_rule: Callable | None = None  # (upstream, inputs, out, needed, **attrs) -> grads
    jvp_rule: Callable | None = None  # (tangents, inputs, out, **attrs) -> output tangent
    attrs: tuple[str, ...] = ()  # static attributes (axis, shape, index), from the expression
    call_name: str | None = None  # the function name users type, when it is not `name`
    differentiable: tuple[bool, ...] | None = None  # None: every input
    lower_array: Callable | None = None  # (sympy, *object arrays, **attrs) -> object array

    @property
    def elementwise(self) -> bool:
        return self.partials is not None

    @property
    def user_name(self) -> str:
        return self.call_name or self.name

    def takes_gradient(self, index: int) -> bool:
        return self.differentiable is None or self.differentiable[index]

    def evaluate(self, inputs: tuple[Array, ...], attrs: dict) -> Array:
        return np.asarray(self.forward(*inputs, **attrs))

    def local(self, index: int, inputs: tuple[Array, ...], out: Array) -> Array:
        """d out / d inputs[index], elementwise, at this point."""
        return np.asarray(self.partials[index](*inputs, out), dtype=float_type(out))

    def vjp(self, upstream: Array, inputs: tuple[Array, ...], out: Array, needed,
            attrs: dict | None = None) -> tuple:
        """The gradient for each input that needs one (None for the others): upstream × local
        for elementwise ops. Broadcasting is undone by the engine, not here."""
        if self.vjp_rule is not None:
            if attrs:
                return tuple(self.vjp_rule(upstream, inputs, out, needed, **attrs))
            return tuple(self.vjp_rule(upstream, inputs, out, needed))
        return tuple(
            upstream * self.local(i, inputs, out) if needed[i] else None
            for i in range(self.arity)
        )

    def jvp(self, tangents: tuple[Array | None, ...], inputs: tuple[Array, ...], out: Array,
            attrs: dict | None = None) -> Array:
        """The tangent of the output: sum over inputs of local × tangent."""
        if self.jvp_rule is not None:
            return np.asarray(self.jvp_rule(tangents, inputs, out, **(attrs or {})),
                              dtype=float_type(out))
        total = np.zeros_like(out, dtype=float_type(out))
        for i, tangent in enumerate(tangents):
            if tangent is not None:
                total = total + self.local(i, inputs, out) * tangent
        return total

    def at_kink(self, inputs: tuple[Array, ...], attrs: dict | None = None) -> bool:
        return self.kink is not None and bool(np.any(self.kink(*inputs, **(attrs or {}))))


REGISTRY: dict[str, Op] = {}


def register(op: Op) -> Op:
    if op.name in REGISTRY:
        raise ValueError(f"op {op.name!r} registered twice")
    if len(op.formulas) != op.arity or (op.elementwise and len(op.partials) != op.arity):
        raise ValueError(f"op {op.name!r}: one partial and one formula per input")
    if not op.elementwise and (op.vjp_rule is None or op.jvp_rule is None):
        raise ValueError(f"op {op.name!r}: an op that is not elementwise needs VJP and JVP rules")
    REGISTRY[op.name] = op
    return op


def functions() -> dict[str, list[Op]]:
    """The ops written as calls, name(...), by the name users type; one name may stand for
    several ops told apart by their number of arguments (max(a, b) and max(x, axis=0))."""
    found: dict[str, list[Op]] = {}
    for op in REGISTRY.values():
        if op.callable_by_name:
            found.setdefault(op.user_name, []).append(op)
    return found


def attribute_texts(attrs) -> dict[str, str]:
    """How an op's attributes are written back into its pattern: {attrs} is ", axis=0" (or
    empty), {shape} is "2, 3" and {key} is "1:3, 0"."""
    values = dict(attrs)
    keyword = [f"{name}={_attribute(value)}" for name, value in sorted(values.items())
               if name not in ("shape", "key")]
    return {
        "attrs": "".join(f", {text}" for text in keyword),
        "shape": ", ".join(str(n) for n in values.get("shape", ())),
        "key": ", ".join(_index_part(part) for part in values.get("key", ())),
    }


def _attribute(value) -> str:
    if isinstance(value, tuple):
        return "(" + ", ".join(str(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    return str(value)


def _index_part(part) -> str:
    if not isinstance(part, tuple):
        return str(part)
    start, stop, step = (("" if bound is None else str(bound)) for bound in part)
    return f"{start}:{stop}" + (f":{step}" if step else "")


def fill(pattern: str, names: dict[str, str], attrs=()) -> str:
    """An op's pattern with its inputs' names (or values) and its attributes written in."""
    return pattern.format(**names, **attribute_texts(attrs))


def float_type(array) -> np.dtype:
    """The float type a result keeps: float32 stays float32 end to end; integers and booleans
    compute in float64."""
    dtype = np.asarray(array).dtype
    return dtype if dtype.kind == "f" else np.dtype(np.float64)


def as_float(value) -> np.ndarray:
    value = np.asarray(value)
    return value if value.dtype.kind == "f" else value.astype(np.float64)


def same_width(inputs: tuple) -> tuple:
    """A number written in an expression (a 0-d float64 constant) takes the float type of
    the arrays it meets, so float32 stays float32 (numpy would widen it to float64)."""
    if len(inputs) < 2:
        return inputs
    first = inputs[0].dtype
    for x in inputs:  # a loop, not all(...): this runs for every op of a scalar network
        if x.dtype != first:
            break
    else:
        return inputs  # one type throughout: nothing to match
    widths = [x.dtype for x in inputs if x.ndim > 0] or [
        x.dtype for x in inputs if x.dtype != np.float64]  # all 0-d: the narrower one wins
    target = np.result_type(*widths)
    return tuple(x.astype(target) if x.ndim == 0 and x.dtype != target else x for x in inputs)


def _ones(*args):
    return np.ones_like(args[-1], dtype=float_type(args[-1]))


def _minus_ones(*args):
    return -np.ones_like(args[-1], dtype=float_type(args[-1]))


def _why_division(a, b):
    return "division by zero" if np.any(b == 0) else None


def _why_overflow(*inputs):
    return "overflow: the result is larger than the largest float (1.8e308)"


def _why_log(a):
    if np.any(a < 0):
        return "log of a negative number"
    if np.any(a == 0):
        return "log(0) is -inf"
    return None


def _why_sqrt(a):
    return "square root of a negative number" if np.any(a < 0) else None


def _why_pow(a, b):
    if np.any((a == 0) & (b < 0)):
        return "zero to a negative power (division by zero)"
    if np.any((a < 0) & (np.floor(b) != b)):
        return "a negative number to a fractional power"
    return _why_overflow()


def _sigmoid(a):
    # exp(-|a|) never overflows; the two branches are the same function written two ways.
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _elementwise(fn):
    """Wrap a numpy function so 0-d inputs give 0-d arrays, not numpy scalars. (Inputs are
    float arrays already: the engine makes every value one with as_float.)"""
    return lambda *args: np.asarray(fn(*args))


register(Op(
    name="add", arity=2, usage="a + b", pattern="{a} + {b}", symbol="+",
    forward=_elementwise(np.add), partials=(_ones, _ones), formulas=("1", "1"),
    lower=lambda sp, a, b: a + b, gate="distributor", commutative=True,
    vjp_rule=lambda g, inputs, out, needed: (g if needed[0] else None, g if needed[1] else None),
    description="addition: every input receives the upstream gradient unchanged",
))
register(Op(
    name="sub", arity=2, usage="a - b", pattern="{a} - {b}", symbol="−",
    forward=_elementwise(np.subtract), partials=(_ones, _minus_ones), formulas=("1", "-1"),
    lower=lambda sp, a, b: a - b, gate="distributor",
    vjp_rule=lambda g, inputs, out, needed: (g if needed[0] else None,
                                             -g if needed[1] else None),
    description="subtraction: a gets the upstream gradient, b gets it negated",
))
register(Op(
    name="mul", arity=2, usage="a * b", pattern="{a} × {b}", symbol="×",
    forward=_elementwise(np.multiply),
    partials=(lambda a, b, out: b * np.ones_like(a), lambda a, b, out: a * np.ones_like(b)),
    formulas=("{b}", "{a}"), lower=lambda sp, a, b: a * b, gate="swapper",
    commutative=True,
    vjp_rule=lambda g, inputs, out, needed: (g * inputs[1] if needed[0] else None,
                                             g * inputs[0] if needed[1] else None),
    description="multiplication: each input gets the upstream gradient times the other input",
))
register(Op(
    name="div", arity=2, usage="a / b", pattern="{a} / {b}", symbol="÷",
    forward=_elementwise(np.divide),
    partials=(lambda a, b, out: 1.0 / b * np.ones_like(a), lambda a, b, out: -a / b**2),
    formulas=("1/{b}", "-{a}/{b}²"), lower=lambda sp, a, b: a / b, trouble=_why_division,
    description="division",
))
register(Op(
    name="reciprocal", arity=1, usage="1 / a", pattern="1 / {a}", symbol="1/x",
    forward=_elementwise(np.reciprocal), partials=(lambda a, out: -1.0 / a**2,),
    formulas=("-1/{a}²",), lower=lambda sp, a: 1 / a,
    trouble=lambda a: "division by zero" if np.any(a == 0) else None,
    description="reciprocal, written 1/a",
))
register(Op(
    name="pow", arity=2, usage="a ** b", pattern="{a} ** {b}", symbol="**",
    forward=_elementwise(np.power),
    partials=(
        lambda a, b, out: b * np.power(a, b - 1),
        lambda a, b, out: out * np.log(a),
    ),
    formulas=("{b}·{a}^({b}−1)", "{out}·log({a})"), lower=lambda sp, a, b: a**b,
    trouble=_why_pow,
    description="power; the exponent may be a number or an expression",
))
register(Op(
    name="neg", arity=1, usage="-a", pattern="-{a}", symbol="−x",
    forward=_elementwise(np.negative), partials=(_minus_ones,), formulas=("-1",),
    lower=lambda sp, a: -a, gate="sign flip",
    vjp_rule=lambda g, inputs, out, needed: (-g if needed[0] else None,),
    description="negation: the upstream gradient comes back with its sign flipped",
))
register(Op(
    name="exp", arity=1, usage="exp(a)", pattern="exp({a})", symbol="exp",
    forward=_elementwise(np.exp), partials=(lambda a, out: out,), formulas=("exp({a})",),
    lower=lambda sp, a: sp.exp(a), trouble=_why_overflow, callable_by_name=True,
    description="exponential; its derivative is itself",
))
register(Op(
    name="log", arity=1, usage="log(a)", pattern="log({a})", symbol="log",
    forward=_elementwise(np.log), partials=(lambda a, out: 1.0 / a,), formulas=("1/{a}",),
    lower=lambda sp, a: sp.log(a), trouble=_why_log, callable_by_name=True,
    description="natural logarithm",
))
register(Op(
    name="sqrt", arity=1, usage="sqrt(a)", pattern="sqrt({a})", symbol="√",
    forward=_elementwise(np.sqrt), partials=(lambda a, out: 0.5 / out,),
    formulas=("1/(2·sqrt({a}))",), lower=lambda sp, a: sp.sqrt(a), trouble=_why_sqrt,
    callable_by_name=True, description="square root",
))
register(Op(
    name="sin", arity=1, usage="sin(a)", pattern="sin({a})", symbol="sin",
    forward=_elementwise(np.sin), partials=(lambda a, out: np.cos(a),),
    formulas=("cos({a})",), lower=lambda sp, a: sp.sin(a), callable_by_name=True,
    description="sine",
))
register(Op(
    name="cos", arity=1, usage="cos(a)", pattern="cos({a})", symbol="cos",
    forward=_elementwise(np.cos), partials=(lambda a, out: -np.sin(a),),
    formulas=("-sin({a})",), lower=lambda sp, a: sp.cos(a), callable_by_name=True,
    description="cosine",
))
register(Op(
    name="tanh", arity=1, usage="tanh(a)", pattern="tanh({a})", symbol="tanh",
    forward=_elementwise(np.tanh), partials=(lambda a, out: 1.0 - out**2,),
    formulas=("1−{out}²",), lower=lambda sp, a: sp.tanh(a), callable_by_name=True,
    description="hyperbolic tangent; local gradient 1 − tanh²",
))
register(Op(
    name="sigmoid", arity=1, usage="sigmoid(a)", pattern="σ({a})", symbol="σ",
    forward=_elementwise(_sigmoid), partials=(lambda a, out: out * (1.0 - out),),
    formulas=("{out}·(1−{out})",), lower=lambda sp, a: 1 / (1 + sp.exp(-a)),
    callable_by_name=True,
    description="logistic sigmoid 1/(1+exp(-a)); local gradient σ(1−σ)",
))
register(Op(
    name="relu", arity=1, usage="relu(a)", pattern="relu({a})", symbol="relu",
    forward=_elementwise(lambda a: np.maximum(a, 0.0)),
    partials=(lambda a, out: (a > 0),), formulas=("[{a} > 0]",),
    vjp_rule=lambda g, inputs, out, needed: (g * (inputs[0] > 0) if needed[0] else None,),
    lower=lambda sp, a: sp.Max(0, a), kink=lambda a: a == 0, kink_rule="relu'(0) = 0",
    gate="switch", callable_by_name=True,
    description="rectified linear unit max(0, a): passes the gradient where a > 0, blocks it elsewhere",
))
register(Op(
    name="abs", arity=1, usage="abs(a)", pattern="|{a}|", symbol="|x|",
    forward=_elementwise(np.abs), partials=(lambda a, out: np.sign(a),),
    formulas=("sign({a})",), lower=lambda sp, a: sp.Abs(a), kink=lambda a: a == 0,
    kink_rule="abs'(0) = 0", callable_by_name=True, description="absolute value",
))
register(Op(
    name="max", arity=2, usage="max(a, b)", pattern="max({a}, {b})", symbol="max",
    forward=_elementwise(np.maximum),
    partials=(
        lambda a, b, out: (a >= b),
        lambda a, b, out: (a < b),
    ),
    formulas=("[{a} ≥ {b}]", "[{b} > {a}]"), lower=lambda sp, a, b: sp.Max(a, b),
    gate="router", kink=lambda a, b: a == b, kink_rule="at a tie the first argument gets it all",
    callable_by_name=True, commutative=True,
    description="maximum: the larger input gets the whole upstream gradient, the other 0",
))
register(Op(
    name="min", arity=2, usage="min(a, b)", pattern="min({a}, {b})", symbol="min",
    forward=_elementwise(np.minimum),
    partials=(
        lambda a, b, out: (a <= b),
        lambda a, b, out: (a > b),
    ),
    formulas=("[{a} ≤ {b}]", "[{b} < {a}]"), lower=lambda sp, a, b: sp.Min(a, b),
    gate="router", kink=lambda a, b: a == b, kink_rule="at a tie the first argument gets it all",
    callable_by_name=True, commutative=True,
    description="minimum: the smaller input gets the whole upstream gradient, the other 0",
))


from . import tensor_ops  # noqa: E402,F401  (registers matmul, sum, softmax...)
from . import layer_ops  # noqa: E402,F401  (registers linear, conv2d, pooling, batch norm...)
