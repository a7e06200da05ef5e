"""One training step of a layered network, traced and summarised layer by layer.

Notation, as in the notes: layer l computes z⁽ˡ⁾ = W⁽ˡ⁾a⁽ˡ⁻¹⁾ + b⁽ˡ⁾ and a⁽ˡ⁾ = f(z⁽ˡ⁾), with a⁽⁰⁾ the
input batch; δ⁽ˡ⁾ = ∂L/∂z⁽ˡ⁾. The engine keeps the batch first (one row per sample), so its
linear computes z = a·Wᵀ + b; the numbers are the notes' matrices transposed.

A network is a list of `LayerSpec`s (op, parameters, attributes); `build_network` turns it into
one Graph whose every fused layer is one op node, or, for the layer named in `expand`, the
primitive ops of its registry composite. `trace_step` runs forward and backward once
(trace_graph), applies one SGD step W ← W − η·∂L/∂W, and summarises each layer: shapes,
the norm of the gradient reaching its input, its parameters' gradient norms.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..core.backprop import evaluate, trace_graph
from ..core.composite import composite_graph
from ..core.errors import UsageError
from ..core.i18n import _
from ..core.graph import Graph, GraphBuilder
from ..core.trace import Trace
from ..ops import REGISTRY

DATA, TARGET = "a0", "y"


class LayerSpec(NamedTuple):
    name: str  # "fc1", "sigmoid1", "conv1", "pool1", "flatten", "loss"
    op: str  # the registry op computing it
    params: tuple[tuple[str, np.ndarray], ...] = ()  # (node name, initial value): W1, b1
    attrs: tuple = ()  # the op's static attributes, as graph nodes store them
    symbol: str = ""  # the output's letter in the notes: z (z⁽¹⁾), a, p, f, L
    level: int = 0  # l, the notes' layer number, written as a superscript (0: none)
    input_shape: tuple = ()  # filled in by with_input_shapes (an expanded layer needs it)


class Layer(NamedTuple):
    """A layer as it sits in the graph."""

    spec: LayerSpec
    input: str  # node holding the layer's input (a⁽ˡ⁻¹⁾)
    output: str  # node holding its output
    nodes: tuple[str, ...]  # its op nodes: one when fused, several when expanded

    @property
    def name(self) -> str:
        return self.spec.name


class LayerSummary(NamedTuple):
    name: str
    op: str
    symbol: str
    level: int
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    grad_norm: float | None  # ‖∂L/∂input‖; None where no gradient reaches the input
    output_grad_norm: float | None  # ‖∂L/∂output‖ (δ⁽ˡ⁾ for a linear or conv layer)
    param_shapes: dict
    param_grad_norms: dict  # parameter name → ‖∂L/∂parameter‖
    parameters: int = 0  # how many numbers the layer learns (every entry of every parameter)


class StepResult(NamedTuple):
    trace: Trace
    layers: tuple[Layer, ...]
    summaries: tuple[LayerSummary, ...]
    loss: float
    loss_after: float  # the loss at the same batch after the update
    lr: float
    updated: dict  # parameter name → value after W ← W − η·∂L/∂W
    expanded: str | None = None


# -- building ------------------------------------------------------------------------------

def build_network(specs: list[LayerSpec], expand: str | None = None):
    """(graph, layers): the specs chained from the data input a0, the last one (the loss) also
    reading the target y. Raises UsageError when `expand` names no layer with a composite."""
    if expand is not None and expand not in {spec.name for spec in specs}:
        known = ", ".join(spec.name for spec in specs)
        raise UsageError(_("{expand}: no such layer (the layers are {known})",
                           expand=expand, known=known), "expand")
    names = [DATA] + [name for spec in specs for name, _ in spec.params] + [TARGET]
    builder = GraphBuilder("", names)
    layers: list[Layer] = []
    current = DATA
    for spec in specs:
        inputs = (current,) + tuple(name for name, _ in spec.params)
        if spec is specs[-1]:
            inputs = inputs + (TARGET,)
        first = builder.op_count
        if spec.name == expand:
            if REGISTRY[spec.op].composite is None:
                raise UsageError(_("{expand}: {op} is already a primitive op",
                                   expand=expand, op=spec.op), "expand")
            output = _splice(builder, inputs, spec)
        else:
            output = builder.op(spec.op, inputs, spec.attrs)
        nodes = tuple(f"{builder.prefix}{n}" for n in range(first + 1, builder.op_count + 1))
        layers.append(Layer(spec, current, output, nodes))
        current = output
    graph = builder.build(current)
    return Graph(graph.nodes, graph.output, "one training step"), tuple(layers)


def _splice(builder: GraphBuilder, inputs: tuple[str, ...], spec: LayerSpec) -> str:
    """Add the primitive ops of the layer's composite to `builder`, reading `inputs`; returns
    its output. The composite runs once on stand-in values of the right shapes to record its
    ops."""
    stand_ins = tuple(np.zeros(shape) for shape in _spec_input_shapes(spec))
    sub, _ = composite_graph(REGISTRY[spec.op], stand_ins, dict(spec.attrs))
    mapping = {f"in{i}": source for i, source in enumerate(inputs)}
    for node in sub.nodes:
        if node.kind == "const":
            mapping[node.id] = builder.const(node.value)
        elif node.kind == "op":
            mapping[node.id] = builder.op(node.op, tuple(mapping[s] for s in node.inputs),
                                          node.attrs)
    return mapping[sub.output]


def _spec_input_shapes(spec: LayerSpec) -> list[tuple[int, ...]]:
    return [spec.input_shape] + [np.shape(value) for _, value in spec.params]


def with_input_shapes(specs: list[LayerSpec], data: np.ndarray) -> list[LayerSpec]:
    """The specs with each layer's input shape recorded (one plain forward pass)."""
    shaped, value = [], np.asarray(data)
    for spec in specs:
        shaped.append(spec._replace(input_shape=value.shape))
        if spec is not specs[-1]:
            params = tuple(v for _, v in spec.params)
            with np.errstate(all="ignore"):  # overflow shows in the trace, not as a warning
                value = REGISTRY[spec.op].evaluate((value,) + params, dict(spec.attrs))
    return shaped


# -- one step ------------------------------------------------------------------------------

def trace_step(specs: list, data: np.ndarray, target: np.ndarray, lr: float,
               expand: str | None = None) -> StepResult:
    """Forward, backward, and one SGD step on every parameter."""
    if expand is not None:  # splicing a composite in needs its input shapes
        specs = with_input_shapes(specs, data)
    graph, layers = build_network(specs, expand)
    at = {DATA: data, TARGET: target}
    at.update({name: value for spec in specs for name, value in spec.params})
    wrt = tuple(name for spec in specs for name, _ in spec.params) + (DATA,)
    trace = trace_graph(graph, at, wrt=wrt)
    records = trace.by_id
    with np.errstate(all="ignore"):
        updated = {name: value - lr * records[name].grad
                   for spec in specs for name, value in spec.params}
    after = evaluate(graph, {**at, **updated})[graph.output]
    summaries = tuple(_summary(layer, records) for layer in layers)
    return StepResult(trace, layers, summaries, float(trace.value), float(after), lr, updated,
                      expand)


def _norm(array) -> float | None:
    if array is None:
        return None
    with np.errstate(all="ignore"):
        return float(np.linalg.norm(np.ravel(np.asarray(array, dtype=np.float64))))


def _summary(layer: Layer, records) -> LayerSummary:
    spec = layer.spec
    return LayerSummary(
        name=spec.name, op=spec.op, symbol=spec.symbol, level=spec.level,
        input_shape=tuple(np.shape(records[layer.input].value)),
        output_shape=tuple(np.shape(records[layer.output].value)),
        grad_norm=_norm(records[layer.input].grad),
        output_grad_norm=_norm(records[layer.output].grad),
        param_shapes={name: tuple(np.shape(value)) for name, value in spec.params},
        param_grad_norms={name: _norm(records[name].grad) for name, _ in spec.params},
        parameters=sum(int(np.size(value)) for _, value in spec.params),
    )


def summarise(trace: Trace) -> tuple[LayerSummary, ...]:
    """Per-layer summaries of any trace, e.g. the one `loss.backward()` returns for a
    gradtrace.nn model: each op node is a layer, reading its first input as data and the
    graph inputs among the others as its parameters (named as the model names them)."""
    records, layers = trace.by_id, []
    inputs = set(trace.graph.inputs)
    for node in trace.graph.ops:
        params = tuple((source, records[source].value) for source in node.inputs[1:]
                       if source in inputs)
        module = params[0][0].rpartition(".")[0] if params else ""
        name = f"{module or node.id} {node.op}" if params else f"{node.id} {node.op}"
        spec = LayerSpec(name, node.op, params, node.attrs, node.id)
        layers.append(Layer(spec, node.inputs[0], node.id, (node.id,)))
    return tuple(_summary(layer, records) for layer in layers)


# -- gradient health -----------------------------------------------------------------------

VANISHING, EXPLODING = 1e-3, 1e3  # first layer's δ norm over the last layer's


class Health(NamedTuple):
    levels: tuple[int, ...]  # l of each linear or conv layer, input side first
    delta_norms: tuple[float, ...]  # ‖δ⁽ˡ⁾‖
    weight_grad_norms: tuple[float, ...]  # ‖∂L/∂W⁽ˡ⁾‖
    ratio: float  # ‖δ⁽¹⁾‖ / ‖δ⁽ᴸ⁾‖; nan when δ⁽ᴸ⁾ is 0 (no gradient to compare with)
    verdict: str  # "vanishing", "exploding", "kept", or "no_gradient" when δ⁽ᴸ⁾ is all 0


def gradient_health(summaries) -> Health | None:
    """The gradient's norms over depth and what their ratio says. A ratio needs a gradient:
    when the last layer's δ is exactly 0 (a loss that is already 0, or flat) nothing flows back
    and the verdict is "no_gradient", never "exploding" from 0/0."""
    weighted = [s for s in summaries if s.param_grad_norms]
    if not weighted:
        return None
    deltas = tuple(s.output_grad_norm or 0.0 for s in weighted)
    weights = tuple(next(iter(s.param_grad_norms.values())) or 0.0 for s in weighted)
    if deltas[-1] == 0:
        return Health(tuple(range(1, len(weighted) + 1)), deltas, weights, float("nan"),
                      "no_gradient")
    with np.errstate(all="ignore"):
        ratio = float(np.float64(deltas[0]) / deltas[-1])
    verdict = "kept"
    if not np.isfinite(ratio) or ratio > EXPLODING:
        verdict = "exploding"
    elif ratio < VANISHING:
        verdict = "vanishing"
    return Health(tuple(range(1, len(weighted) + 1)), deltas, weights, ratio, verdict)


class Symmetry(NamedTuple):
    layer: str
    parameter: str
    units: tuple[tuple[int, ...], ...]  # groups of units (rows of W) identical in every way
    count: int  # units in the layer


def symmetric_units(result: StepResult) -> tuple[Symmetry, ...]:
    """Layers (the output layer aside: its units see different targets) where two or more
    units have the same weights, bias and gradients: started equal, they stay equal forever.
    (Units that merely get the same gradient, such as two dead relus, are not flagged.)"""
    records = result.trace.by_id
    found = []
    weighted = [layer for layer in result.layers if layer.spec.params]
    for layer in weighted[:-1]:
        name = layer.spec.params[0][0]
        units = len(layer.spec.params[0][1])
        parts = [np.asarray(value).reshape(units, -1) for _, value in layer.spec.params]
        parts += [np.asarray(records[p].grad).reshape(units, -1) for p, _ in layer.spec.params]
        rows = np.concatenate(parts, axis=1)
        groups = _identical_rows(rows)
        if groups:
            found.append(Symmetry(layer.name, name, groups, rows.shape[0]))
    return tuple(found)


def _identical_rows(rows: np.ndarray) -> tuple[tuple[int, ...], ...]:
    """Groups of rows equal to within 1e-12 of the largest entry: rows rounded to that grid
    and grouped by np.unique, one sort instead of comparing every pair (a 3,000-unit layer
    has 4.5 million pairs)."""
    if rows.shape[0] < 2:
        return ()
    with np.errstate(all="ignore"):
        scale = max(float(np.max(np.abs(rows))) if rows.size else 0.0, 1e-300)
        keys = np.round(rows / (1e-12 * scale))
    _, group_of = np.unique(keys, axis=0, return_inverse=True)
    group_of = group_of.ravel()
    groups: dict[int, list[int]] = {}
    for row, group in enumerate(group_of.tolist()):
        groups.setdefault(group, []).append(row)
    found = [tuple(members) for members in groups.values() if len(members) > 1]
    return tuple(sorted(found))