"""Forward values and the backward pass over a Graph, kept in a Trace.

Shared work lives here, once, for every op: undoing numpy broadcasting on the way back
(`sum_to`), adding up gradients that reach a node along several paths (fan-out), checking that a
rule gave one gradient per input. `backward_pass` is the one reverse-mode loop: `trace_graph`
keeps what flowed along each edge for the narration (written from it by steps.py when first
read); `vjp_pass` keeps only the gradients asked for, from any seed (`gradtrace jacobian` runs
it once per output element).
"""

from __future__ import annotations

import math
import re

import numpy as np

from .arrays import as_float, float_type, same_width, sum_to
from .budget import WHOLE_FACTOR, max_elements, over_budget, over_whole_budget
from .errors import UsageError
from .i18n import N_, _, data
from .graph import Graph, Node
from .registry import REGISTRY, fill
from .workspace import MIN_BYTES, ufunc_result
from .trace import Trace, new_flow


def evaluate(graph: Graph, at: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every node's forward value. Overflow and domain errors give inf/nan, never an exception;
    shapes that do not fit raise ShapeError naming the node."""
    values: dict[str, np.ndarray] = {}
    limit = max_elements()  # read once: finite differences evaluate a graph thousands of times
    held, whole = 0, WHOLE_FACTOR * limit
    with np.errstate(all="ignore"):
        for node in graph.nodes:
            # the trace keeps every value (and as many gradients): refused before the value
            # that would pass the budget is made (an op's result is taken to be as large as
            # its largest input; broadcasting and products are sized exactly below)
            if node.kind == "op":
                coming = max((values[source].size for source in node.inputs), default=1)
                if held + coming > whole:
                    raise UsageError(_("the values of the graph up to {node} would make {why}",
                                       node=node.id, why=over_whole_budget(held + coming)))
            values[node.id] = value = _forward_value(node, values, at, limit)
            held += value.size
    return values


def _forward_value(node: Node, values, at, limit: int | None = None) -> np.ndarray:
    if node.kind == "input":
        return as_float(at[node.id])
    if node.kind == "const":
        return as_float(node.value)
    inputs = same_width(tuple(values[source] for source in node.inputs))
    op = REGISTRY[node.op]
    try:
        shape = result_shape(op, inputs)
    except ValueError as error:  # shapes that do not broadcast
        raise ShapeError(node, inputs, error) from None
    if shape is not None and math.prod(shape) > (max_elements() if limit is None else limit):
        written = fill(op.pattern, dict(zip("abcde", node.inputs)), node.attrs)
        raise UsageError(_("{node} = {written} would make {why}", node=node.id, written=written,
                           why=over_budget(math.prod(shape))))
    try:
        return op.evaluate(inputs, dict(node.attrs))
    except (ValueError, IndexError, TypeError) as error:
        raise ShapeError(node, inputs, error) from None
    except MemoryError:
        raise UsageError(_("{node} = {written} needs more memory than this machine has",
                           node=node.id,
                           written=fill(op.pattern, dict(zip("abcde", node.inputs)), node.attrs))
                         ) from None


def result_shape(op, inputs) -> tuple[int, ...] | None:
    """The shape an op's result will have, known before computing it for the ops that can
    make a result much larger than their inputs (elementwise broadcasting, matrix products);
    None for the others."""
    shapes = [np.shape(x) for x in inputs]
    if op.elementwise:
        first = shapes[0]
        if all(shape == first for shape in shapes):  # the common case, without numpy's call
            return first
        return np.broadcast_shapes(*shapes)
    if op.name == "matmul" and all(len(s) >= 1 for s in shapes):
        a, b = shapes
        rows = a[-2:-1] if len(a) > 1 else ()
        columns = b[-1:] if len(b) > 1 else ()
        return np.broadcast_shapes(a[:-2], b[:-2]) + rows + columns
    if op.name == "linear" and len(shapes[0]) >= 1 and len(shapes[1]) == 2:
        return shapes[0][:-1] + shapes[1][:1]
    return None


class ShapeError(UsageError):
    """An op got arrays whose shapes it cannot combine (or an index out of range)."""

    def __init__(self, node: Node, inputs, error: Exception):
        shapes = ", ".join(f"{source}: {_shape_text(value)}"
                           for source, value in zip(node.inputs, inputs))
        written = fill(REGISTRY[node.op].pattern, dict(zip("abcde", node.inputs)), node.attrs)
        super().__init__(_("{node} = {written} cannot be computed for shapes {shapes}: {error}",
                           node=node.id, written=written, shapes=shapes, error=numpy_reason(error)))


# numpy's reasons for refusing shapes or indices, said in the reader's language: (its sentence,
# ours). A reason not known here (another numpy) is shown as numpy wrote it.
NUMPY_REASONS = tuple((re.compile(pattern, re.DOTALL), template) for pattern, template in (
    (r"index (?P<index>-?\d+) is out of bounds for axis (?P<axis>\d+) with size (?P<size>\d+)",
     N_("index {index} is out of range for axis {axis}, whose size is {size}")),
    (r"too many indices for array: array is (?P<dimensions>\d+)-dimensional, but (?P<count>\d+)"
     r" were indexed",
     N_("too many indices: {count} for a {dimensions}-d array")),
    (r"matmul: Input operand \d has a mismatch in its core dimension \d.*\(size (?P<got>\d+) is "
     r"different from (?P<wanted>\d+)\)",
     N_("the sizes a matrix product multiplies together differ: {wanted} and {got}")),
    (r"(?:shape mismatch: objects cannot be broadcast to a single shape|operands could not be "
     r"broadcast together).*",
     N_("the shapes do not broadcast to one shape")),
    (r"cannot reshape array of size (?P<size>\d+) into shape (?P<shape>\(.*\))",
     N_("an array of {size} elements cannot be reshaped to {shape}")),
))


def numpy_reason(error: Exception) -> str:
    """numpy's message for `error` in the current language, when it is one known here."""
    text = str(error)
    for pattern, template in NUMPY_REASONS:
        found = pattern.fullmatch(text)
        if found:
            return data(template).format(**found.groupdict())
    return text


def _shape_text(value) -> str:
    shape = np.shape(value)
    return _("scalar") if not shape else "(" + ", ".join(map(str, shape)) + ("," * (len(shape) == 1)) + ")"


def needs_gradient(graph: Graph, wrt: tuple[str, ...]) -> set[str]:
    """The nodes through which a gradient reaches one of `wrt` (not through inputs an op does
    not differentiate, such as cross_entropy's class indices)."""
    return needing(graph.steps, wrt)


def reaches_output(graph: Graph) -> set[str]:
    """The inputs from which a differentiable path leads to the output."""
    return reaching(graph.steps, graph.output)


# The walks below take a graph's steps, (key, op, input keys, attrs) in forward order, where a
# key is a node id, or a recorded tensor (the Python API walks its tensors without naming them).

def needing(steps, wrt) -> set:
    """The keys through which a gradient reaches one of `wrt`."""
    needed = set(wrt)
    for key, op_name, sources, _attrs in steps:
        flags = REGISTRY[op_name].differentiable
        if flags is None:
            if not needed.isdisjoint(sources):
                needed.add(key)
            continue
        for source, flag in zip(sources, flags):
            if flag and source in needed:
                needed.add(key)
                break
    return needed


def reaching(steps, output) -> set:
    """The keys from which a differentiable path leads to `output`."""
    reached = {output}
    for key, op_name, sources, _attrs in reversed(steps):
        if key in reached:
            flags = REGISTRY[op_name].differentiable
            if flags is None:
                reached.update(sources)
                continue
            for source, flag in zip(sources, flags):
                if flag:
                    reached.add(source)
    return reached


def trace_graph(graph: Graph, at: dict, wrt=None, defaults=(), fused=False,
                values: dict | None = None, grad_output=None) -> Trace:
    """Run forward and backward over `graph` at the point `at`, keeping every value, every
    gradient sent along an edge and the running totals. The narration of each step is built from
    them when first read (steps.py).

    `wrt` limits the inputs whose gradients are traced (all by default). `values` may carry
    forward values already computed (the Python API computes them eagerly). `grad_output` is
    the output's gradient backprop starts from (ones when None).
    """
    reached = reaches_output(graph)
    wrt = tuple(name for name in graph.inputs
                if (wrt is None or name in wrt) and name in reached)
    if values is None:
        values = evaluate(graph, at)
    with np.errstate(all="ignore"):
        grads, flows = backward_pass(graph.steps, graph.output, values,
                                     needs_gradient(graph, wrt), grad_output)
    flows = tuple([new_flow(flow) for flow in flows])
    if grad_output is not None:
        grad_output = np.broadcast_to(np.asarray(grad_output, dtype=np.float64),
                                      np.shape(values[graph.output]))
    return Trace(graph, values, grads, flows, wrt, tuple(defaults), fused,
                 grad_output=grad_output)


def vjp_pass(graph: Graph, values: dict, seed, wrt) -> dict[str, np.ndarray]:
    """Reverse mode with nothing recorded: the gradient of (seed · output) with respect to each
    name in `wrt` (one name or several), from forward `values` of every node. Inputs the output
    does not depend on get zeros."""
    wrt = (wrt,) if isinstance(wrt, str) else tuple(wrt)
    with np.errstate(all="ignore"):
        grads, _ = backward_pass(graph.steps, graph.output, values,
                                 needs_gradient(graph, wrt), seed, keep_flows=False)
    return {name: np.asarray(grads[name]) if name in grads
            else np.zeros(np.shape(values[name])) for name in wrt}


def backward_pass(steps, output_key, values, needed: set, seed=None, keep_flows: bool = True,
                  kept: dict | None = None):
    """Reverse mode over a graph's `steps` (see `needing`) from `output_key`: each op's VJP,
    summed back over broadcast axes, added up where a node feeds several ops. `seed` is the
    output's gradient (ones by default). Returns every needed key's gradient and, with
    `keep_flows`, the flow along each edge in the order sent, as the plain tuples a
    GradientFlow is made from. `kept` holds, by key, what an op's forward kept for its VJP
    (Op.forward_keeping), given to the rule as kept=.

    This loop runs once per op of a network written op by op on scalars, hence its plainness,
    and 0-d values are worked on as numpy scalars: their arithmetic is several times faster
    than on 0-d arrays. So a 0-d gradient here is a numpy scalar; the records made from these
    (NodeRecord, BackwardStep, `.grad`) turn them back into 0-d arrays."""
    grads: dict = {}
    flows: list[tuple] = []
    scalars = {key: value[()] for key, value in values.items() if value.ndim == 0}
    if scalars:
        values = {**values, **scalars}
    output = values[output_key]
    if output_key in needed:
        if seed is None:
            kind = float_type(output)
            grads[output_key] = (kind.type(1) if output.ndim == 0
                                 else np.ones_like(output, dtype=kind))
        else:
            start = np.broadcast_to(np.asarray(seed, dtype=float_type(output)), np.shape(output))
            grads[output_key] = start[()] if start.ndim == 0 else start
    for key, op_name, sources, attrs in reversed(steps):
        upstream = grads.get(key)
        if upstream is None:
            continue
        op = REGISTRY[op_name]
        arity = len(sources)
        if arity == 1:  # written out for one and two inputs: most ops, and no comprehension
            inputs = (values[sources[0]],)
        elif arity == 2:
            inputs = (values[sources[0]], values[sources[1]])
        else:
            inputs = tuple([values[source] for source in sources])
        if arity > 1:
            first = inputs[0].dtype
            for x in inputs:  # one float type throughout is the common case: nothing to match
                if x.dtype is not first:
                    # only a 0-d input changes type (class indices beside logits do not)
                    for y in inputs:
                        if y.ndim == 0:
                            inputs = same_width(inputs)
                            break
                    break
        flags = op.differentiable
        if flags is None:
            if arity == 1:
                wanted = (sources[0] in needed,)
            elif arity == 2:
                wanted = (sources[0] in needed, sources[1] in needed)
            else:
                wanted = tuple([source in needed for source in sources])
        else:
            wanted = tuple([source in needed and flag for source, flag in zip(sources, flags)])
        rule = op.vjp_rule
        if rule is None:
            vjps = op.vjp(upstream, inputs, values[key], wanted, dict(attrs) if attrs else None)
        elif kept and key in kept:
            vjps = rule(upstream, inputs, values[key], wanted, kept=kept[key], **dict(attrs))
        elif attrs:
            vjps = rule(upstream, inputs, values[key], wanted, **dict(attrs))
        else:
            vjps = rule(upstream, inputs, values[key], wanted)
        if type(vjps) is not tuple:
            vjps = tuple(vjps)
        if len(vjps) != len(sources):
            raise RuntimeError(f"{op_name}: the VJP rule gave {len(vjps)} gradients "
                               f"for {len(sources)} inputs")
        for index, gradient in enumerate(vjps):
            if gradient is None or not wanted[index]:
                continue
            source = sources[index]
            if type(gradient) is not np.ndarray and not isinstance(gradient, np.generic):
                gradient = np.asarray(gradient)  # a Python number (or an array subclass)
            shape = values[source].shape
            if gradient.shape != shape:
                gradient = sum_to(gradient, shape)
                if not shape:
                    gradient = gradient[()]
            previous = grads.get(source)
            if previous is None:
                grads[source] = total = gradient
            elif type(previous) is np.ndarray and previous.nbytes >= MIN_BYTES:
                grads[source] = total = ufunc_result(np.add, previous, gradient)  # pooled
            else:
                grads[source] = total = previous + gradient
            if keep_flows:
                flows.append((key, source, index, gradient, total))
    return grads, flows
