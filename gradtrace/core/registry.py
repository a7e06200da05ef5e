"""The op registry: every op gradtrace knows, declared once, as data.

Each `Op` carries what every other part of gradtrace needs to know about it:

- `forward`: numpy function of the input arrays (values are numpy arrays; a scalar is 0-d);
- `partials`: for elementwise ops, the local derivative d out / d input_i, one rule per input,
  each a function of (*inputs, out, **attrs); the VJP and JVP follow from them;
- `vjp_rule` / `jvp_rule`: the vector-Jacobian and Jacobian-vector products, given directly by
  ops that are not elementwise (matmul, sum, softmax...) and by elementwise ops that have a
  faster way than upstream × local;
- `forward_keeping`: optional, the forward that also returns what its `vjp_rule` can reuse
  (`(out, kept)`; cross-entropy keeps its softmax's exponentials): the engine passes `kept=`
  to the VJP of an op recorded that way, and the rule recomputes it when not given;
- `composite`: the op written with other ops, `composite(F, *inputs, **attrs)`, where `F` holds
  the ops by the names users call them (F.exp, F.relu...). An op with a composite and no
  `forward` needs no rules of its own: its forward, VJP, JVP, local derivative and SymPy form
  all come from the composite (as tinygrad writes softplus or gelu). An op with both is *fused*:
  its own rules are faster, and the tests check them against the composite;
- `formulas`: the local derivatives written for people, with {a}, {b}... (the inputs), {out}
  (the op's own output), {g} (the upstream gradient, for VJPs) and its attributes by name;
- `sympy_rule` (per element) or `sympy_array_rule` (whole arrays): the op in SymPy;
- `gate`: the backward-flow pattern the course notes name (add distributes, mul swaps, max
  routes), or None;
- `kink` / `kink_rule`: where the op is not differentiable and which value gradtrace uses there;
- `trouble`: why a finite input gave a non-finite output (overflow, log of a negative...);
- `activation`: set for ops that serve as a layer's activation (the torch.nn class name and the
  initialisation that suits it), so `nn`, `mlp --act` and `train --act` offer them.

Everything else (the parser, `gradtrace.NAME`, `nn.functional`, the narration, the checks,
`gradtrace ops`, the CLI choices, the tests) reads this table: adding an op here brings it
everywhere. The tables themselves are in `gradtrace.ops`.
"""

from __future__ import annotations

import re
from types import MappingProxyType
from typing import Callable, Mapping, NamedTuple

import numpy as np

from . import plugins
from .arrays import float_type
from .workspace import MIN_BYTES, ufunc_result

Array = np.ndarray
# a name in an op's usage that is an input: not a function (followed by "(") nor an attribute
# (followed by "=")
_NAMES_IN_USAGE = re.compile(r"(?<![\w.])([A-Za-z_]\w*)(?!\s*[(=\w])")
NO_ATTRIBUTES: Mapping = MappingProxyType({})


class Activation(NamedTuple):
    """What an activation op needs besides its rules."""

    module: str  # the torch.nn class name: "ReLU", "LeakyReLU"
    init: str  # the weight initialisation that keeps gradients steady with it: "he", "xavier"


class Op(NamedTuple):
    name: str
    arity: int
    usage: str  # how a user writes it, with a, b for the inputs
    pattern: str  # how the narration writes it, with {a}, {b}
    symbol: str  # short label for graph pictures
    description: str
    forward: Callable[..., Array] | None = None  # None: computed from `composite`
    partials: tuple[Callable[..., Array], ...] | None = None  # elementwise local derivatives
    formulas: tuple[str, ...] = ()  # elementwise: local derivatives; otherwise the VJP, with {g}
    sympy_rule: Callable | None = None  # (sympy, *one element of each input) -> expression
    sympy_array_rule: Callable | None = None  # (sympy, *object arrays, **attrs) -> object array
    composite: Callable | None = None  # (F, *inputs, **attrs) -> output, with other ops
    elementwise: bool | None = None  # None: elementwise when it has partials
    gate: str | None = None
    # the pattern where it is another than `gate`: by input (sub's b gets the gradient
    # negated), and when the other input is a constant (2·x scales: the notes' 尺度缩放器)
    input_gates: tuple[str | None, ...] = ()
    constant_gate: str | None = None
    kink: Callable[..., Array] | None = None
    kink_rule: str | None = None
    trouble: Callable[..., str | None] | None = None
    callable_by_name: bool = False  # written as name(...) in expressions
    commutative: bool = False
    vjp_rule: Callable | None = None  # (upstream, inputs, out, needed, **attrs) -> grads
    forward_keeping: Callable | None = None  # (*inputs, **attrs) -> (out, kept for vjp_rule)
    jvp_rule: Callable | None = None  # (tangents, inputs, out, **attrs) -> output tangent
    attrs: Mapping[str, object] = NO_ATTRIBUTES  # static attributes and their defaults
    choices: Mapping[str, tuple] = NO_ATTRIBUTES  # the values a word attribute may take
    call_name: str | None = None  # the function name users type, when it is not `name`
    differentiable: tuple[bool, ...] | None = None  # None: every input
    # multiply-adds of one forward, for ops whose work grows faster than their arrays (the
    # products): (input shapes, output shape) -> count; None: about one per element touched
    work: Callable[[tuple, tuple], int] | None = None
    # inputs that hold class indices: integers stay integers (not promoted to the float type)
    index_inputs: tuple[int, ...] = ()
    activation: Activation | None = None

    @property
    def user_name(self) -> str:
        return self.call_name or self.name

    @property
    def input_names(self) -> tuple[str, ...]:
        """The inputs as the op's usage names them: ("x", "W", "b") for linear(x, W, b),
        ("a", "b") for a + b."""
        names: list[str] = []
        for found in _NAMES_IN_USAGE.finditer(self.usage):
            if found.group(1) not in names:
                names.append(found.group(1))
        return tuple(names[: self.arity]) + tuple("abcde"[len(names):self.arity])

    @property
    def derived(self) -> bool:
        """True when the op has no rules of its own: everything comes from its composite."""
        return self.forward is None

    def takes_gradient(self, index: int) -> bool:
        return self.differentiable is None or self.differentiable[index]

    def evaluate(self, inputs: tuple[Array, ...], attrs: dict) -> Array:
        if self.forward is None:
            from .composite import composite_forward

            return composite_forward(self, inputs, attrs)
        return np.asarray(self.forward(*inputs, **attrs))

    def local(self, index: int, inputs: tuple[Array, ...], out: Array,
              attrs: dict | None = None) -> Array:
        """d out / d inputs[index], elementwise, at this point."""
        if self.partials is None:
            from .composite import composite_local

            return composite_local(self, index, inputs, out, attrs or {})
        rule = self.partials[index]
        value = rule(*inputs, out, **attrs) if attrs else rule(*inputs, out)
        return np.asarray(value, dtype=float_type(out))

    def vjp(self, upstream: Array, inputs: tuple[Array, ...], out: Array, needed,
            attrs: dict | None = None) -> tuple:
        """The gradient for each input that needs one (None for the others): upstream × local
        for elementwise ops. Broadcasting is undone by the engine, not here."""
        if self.vjp_rule is not None:
            if attrs:
                return tuple(self.vjp_rule(upstream, inputs, out, needed, **attrs))
            return tuple(self.vjp_rule(upstream, inputs, out, needed))
        if self.partials is None:
            from .composite import composite_vjp

            return composite_vjp(self, upstream, inputs, needed, attrs or {})
        if type(upstream) is not np.ndarray or upstream.nbytes < MIN_BYTES:
            return tuple(upstream * self.local(i, inputs, out, attrs) if needed[i] else None
                         for i in range(self.arity))
        # large products into pooled memory (a step keeps every gradient until its trace
        # goes), laid out like the local derivative, which is laid out like the input
        return tuple(
            ufunc_result(np.multiply, self.local(i, inputs, out, attrs), upstream)
            if needed[i] else None for i in range(self.arity)
        )

    def jvp(self, tangents: tuple[Array | None, ...], inputs: tuple[Array, ...], out: Array,
            attrs: dict | None = None) -> Array:
        """The tangent of the output: sum over inputs of local × tangent."""
        if self.jvp_rule is not None:
            return np.asarray(self.jvp_rule(tangents, inputs, out, **(attrs or {})),
                              dtype=float_type(out))
        if self.partials is None:
            from .composite import composite_jvp

            return composite_jvp(self, tangents, inputs, attrs or {})
        total = np.zeros_like(out, dtype=float_type(out))
        for i, tangent in enumerate(tangents):
            if tangent is not None:
                total = total + self.local(i, inputs, out, attrs) * tangent
        return total

    def at_kink(self, inputs: tuple[Array, ...], attrs: dict | None = None) -> bool:
        return self.kink is not None and bool(np.any(self.kink(*inputs, **(attrs or {}))))


class _Registry(dict):
    """The ops by name. Looking up a name that is not there yet loads the op tables first
    (gradtrace.ops fills this), so any caller finds every op."""

    def __missing__(self, name: str) -> Op:
        plugins.load("ops")
        if name in self.keys():
            return self[name]
        raise KeyError(f"unknown op {name!r}")


REGISTRY: dict[str, Op] = _Registry()


def register(op: Op) -> Op:
    """Check an entry and add it. Fills in what follows from the rest: whether it is
    elementwise, and for a composite without display formulas, how its derivative is written."""
    if op.name in REGISTRY.keys():
        raise ValueError(f"op {op.name!r} registered twice")
    if op.forward is None and op.composite is None:
        raise ValueError(f"op {op.name!r}: give a forward rule or a composite")
    elementwise = op.partials is not None if op.elementwise is None else op.elementwise
    formulas = op.formulas or _derived_formulas(op, elementwise)
    op = op._replace(elementwise=elementwise, formulas=formulas)
    if len(op.formulas) != op.arity or (op.partials is not None and len(op.partials) != op.arity):
        raise ValueError(f"op {op.name!r}: one partial and one formula per input")
    if op.forward is not None and op.composite is None and op.partials is None and (
            op.vjp_rule is None or op.jvp_rule is None):
        raise ValueError(f"op {op.name!r}: an op with neither partials nor a composite needs "
                         "VJP and JVP rules")
    if op.forward_keeping is not None and (op.forward is None or op.vjp_rule is None):
        raise ValueError(f"op {op.name!r}: forward_keeping goes with a forward and a vjp_rule "
                         "(which takes what it keeps as kept=)")
    REGISTRY[op.name] = op
    return op


def _derived_formulas(op: Op, elementwise: bool) -> tuple[str, ...]:
    """How the derivative of an op with no formulas of its own is written: silu′(h1)."""
    letters = "abcde"[: op.arity]
    if op.arity == 1:
        local = f"{op.user_name}′({{a}})"
        return (local,) if elementwise else (f"{{g}} · ∂{op.user_name}({{a}})/∂{{a}}",)
    if elementwise:
        return tuple(f"∂{op.user_name}/∂{{{letter}}}" for letter in letters)
    return tuple(f"{{g}} · ∂{op.user_name}/∂{{{letter}}}" for letter in letters)


def all_ops() -> list[Op]:
    """Every registered op, in the order the tables declare them."""
    plugins.load("ops")
    return list(REGISTRY.values())


def activations() -> list[Op]:
    """The ops that serve as a layer's activation (relu, sigmoid, tanh...), in table order."""
    return [op for op in all_ops() if op.activation is not None]


def calls() -> dict[str, list[Op]]:
    """The ops written as calls, name(...), by the name users type; one name may stand for
    several ops told apart by their number of arguments (max(a, b) and max(x, axis=0))."""
    found: dict[str, list[Op]] = {}
    for op in all_ops():
        if op.callable_by_name:
            found.setdefault(op.user_name, []).append(op)
    return found


def pick_op(candidates: list[Op], count: int) -> Op | None:
    """Which of the ops called by one name takes `count` arguments: by arity, else the one
    whose trailing arguments are its shape (reshape(x, 2, 3)); None when none fits."""
    by_arity = {op.arity: op for op in candidates}
    if count in by_arity:
        return by_arity[count]
    return next((op for op in candidates if "shape" in op.attrs and count > op.arity), None)


def attribute_texts(attrs) -> dict[str, str]:
    """How an op's attributes are written back into its pattern: {attrs} is ", axis=0" (or
    empty), {shape} is "2, 3" and {key} is "1:3, 0"; each attribute also by its own name."""
    values = dict(attrs)
    keyword = [f"{name}={_attribute(value)}" for name, value in sorted(values.items())
               if name not in ("shape", "key")]
    texts = {name: _attribute(value) for name, value in values.items()}
    texts.update({
        "attrs": "".join(f", {text}" for text in keyword),
        "shape": ", ".join(str(n) for n in values.get("shape", ())),
        "key": ", ".join(_index_part(part) for part in values.get("key", ())),
    })
    return texts


def with_defaults(op: Op, attrs) -> dict:
    """The op's attributes with the defaults filled in for those not given."""
    return {**op.attrs, **dict(attrs)}


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
