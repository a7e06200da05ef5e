"""Each command's work as one call, from text: text → graph → point → trace (→ checks).

`explain` (the trace, checked), `explain_forward` (forward mode, narrated), `explain_jacobian`
(a whole Jacobian, both ways), `check_at_random_points` (the three-way check over many points,
with hand-derived claims), `curve` (a function of one input and its derivative over a range)
and `surface` (a function of two variables for the optimisers).
"""

from __future__ import annotations

import reprlib
from typing import NamedTuple

import numpy as np

from ..core.backprop import ShapeError, evaluate, reaches_output, trace_graph, vjp_pass
from ..core.errors import ParseError, UsageError, clip_runs
from ..core.i18n import _, join_list
from ..core.graph import Graph
from ..ops import REGISTRY
from .point import check_seed, given_value, parse_assignments, parse_wrt, resolve_point
from .to_graph import graph_from_text

# Each command imports what only its own pipeline needs when it runs (checks, Jacobians, forward
# mode), so `explain --no-check` starts without them.


def build_graph(expression: str, fused: bool = False, variables=()) -> Graph:
    """The expression's graph; `variables` are the names given values (e and pi among them
    are then inputs, not the constants)."""
    graph = graph_from_text(expression, variables)
    if fused:
        from .fuse import fuse

        graph = fuse(graph)
    return graph


def _wrt_names(wrt, graph: Graph):
    """`wrt` as names: None (every input), 'w,b', or a list of names."""
    if wrt is None or isinstance(wrt, str):
        return parse_wrt(wrt, graph)
    return parse_wrt(",".join(_names_given(wrt)), graph)


def _names_given(wrt) -> list[str]:
    """A list or tuple of input names, refused when it is anything else (wrt=1)."""
    if not isinstance(wrt, (list, tuple)) or not all(isinstance(name, str) for name in wrt):
        raise UsageError(_("an input's name or a list of names, not {given}", given=repr(wrt)),
                         "wrt")
    return list(wrt)


def given_point(at, seed: int = 0) -> dict:
    """`at` as {name: value}: a dict whose keys are input names, or text as --at takes it
    ("w=2,x=[1,2]"); its values are read by resolve_point."""
    if at is None:
        return {}
    if isinstance(at, str):
        return parse_assignments([at], seed)
    if not isinstance(at, dict):
        raise UsageError(_("a dict of input names and values, or text such as 'w=2,x=-1', not "
                           "{given}", given=clip_runs(reprlib.repr(at))), "at")
    for name in at:
        if not isinstance(name, str):
            raise UsageError(_("an input's name is text, not {given}", given=repr(name)), "at")
    return dict(at)


def check_flag(value, parameter: str) -> bool:
    """A True/False argument, refused when it is anything else (check="no" would be true)."""
    if not isinstance(value, (bool, np.bool_)):
        raise UsageError(_("True or False, not {given}", given=repr(value)), parameter)
    return bool(value)


def check_progress(progress) -> None:
    if progress is not None and not callable(progress):
        raise UsageError(_("a function to call as work is done, or None, not {given}",
                           given=repr(progress)), "progress")


def explain(expression: str, at: dict | None = None, wrt=None, *, seed: int = 0,
            fuse: bool = False, check: bool = True, grad_output=None):
    """Trace `expression` at the point `at` ({name: value}); inputs not in `at` get seeded
    defaults. `wrt` (names, or 'w,b') limits the gradients traced. With `check`, every
    gradient is also computed symbolically and by finite differences (trace.checks).

    `grad_output` is the output's gradient that backprop starts from, as PyTorch's
    `backward(gradient=...)`: needed when the output is not a single number, and then the
    trace holds the gradients of Σ grad_output ⊙ output. An array or a number broadcast to
    the output's shape, or text read as an `at` value ([1,0,0], ones(3), 2)."""
    check_seed(seed)
    fuse, check = check_flag(fuse, "fuse"), check_flag(check, "check")
    at = given_point(at, seed)
    graph = build_graph(expression, fuse, at)
    values, defaults = resolve_point(graph, at, seed)
    wrt = _wrt_names(wrt, graph)
    try:
        computed = evaluate(graph, values)
    except ShapeError as error:
        if not defaults:
            raise
        names = ", ".join(defaults)
        raise UsageError(_("{error}; {names} got a default scalar value: give arrays, e.g. x=[1,2,3] "
                           "or W=randn(3,4)", error=error, names=names), "at") from None
    start = output_gradient(graph, computed[graph.output], grad_output, seed)
    trace = trace_graph(graph, values, wrt=wrt, defaults=defaults, fused=fuse, values=computed,
                        grad_output=start)
    return _checked(trace) if check else trace


def output_gradient(graph: Graph, output, grad_output, seed: int = 0):
    """The gradient backprop starts from, checked against the output: None for a number
    (d output / d output = 1); for an array output, `grad_output` is needed, and must
    broadcast to the output's shape."""
    shape = np.shape(output)
    if grad_output is None:
        if shape:
            raise UsageError(_not_a_number(graph, shape), "grad_output")
        return None
    given = _read_gradient(grad_output, seed)
    try:
        fits = np.broadcast_shapes(given.shape, shape) == shape
    except ValueError:
        fits = False
    if not fits:
        raise UsageError(_("shape {given} does not fit the output, whose shape is {shape}: give an array "
                           "of that shape, or one that broadcasts to it, such as a single number",
                           given=_shape(given.shape), shape=_shape(shape)), "grad_output")
    if not np.all(np.isfinite(given)):
        raise UsageError(_("the output's gradient must be finite numbers (it holds inf or nan)"),
                         "grad_output")
    return np.broadcast_to(given, shape)


def _read_gradient(grad_output, seed: int) -> np.ndarray:
    """An array, a number, or text read as a value of `at` is read ([1,0,0], ones(3))."""
    if isinstance(grad_output, str):
        from .point import parse_value

        try:
            return parse_value(grad_output, seed, "grad_output")
        except UsageError as error:
            why = error.message.removeprefix(f"grad_output={grad_output.strip()}: ")
            raise UsageError(_("cannot read {text!r}: {why}", text=grad_output.strip(), why=why),
                             "grad_output") from None
    try:
        return np.asarray(grad_output, dtype=np.float64)
    except (TypeError, ValueError):
        raise UsageError(_("{grad_output!r} is not an array of numbers",
                           grad_output=grad_output), "grad_output") from None


def _shape(shape: tuple) -> str:
    return "()" if not shape else "(" + ", ".join(map(str, shape)) + ("," * (len(shape) == 1)) + ")"


def _not_a_number(graph: Graph, shape: tuple) -> str:
    """Why backprop cannot start from an array output, and the ways on: an output gradient, a
    number made of the output (its sum, one element), or the whole Jacobian."""
    whole, element = _scalar_forms(graph, shape)
    ones = f"ones({', '.join(map(str, shape))})"
    size = int(np.prod(shape))
    if len(shape) == 1 and 0 < size <= 8:
        seeds = _("{ones} gives the gradients of {whole}, {first} those of {element}", ones=ones,
                  whole=whole, first=f"[{', '.join(['1'] + ['0'] * (size - 1))}]",
                  element=element)
    else:
        seeds = _("{ones} gives the gradients of {whole}", ones=ones, whole=whole)
    made = join_list((whole, element)) if size else whole
    return _("the output has shape {shape}, not a single number, and backprop starts from the "
             "output's gradient. Give one, shaped like the output: {seeds}. Or make the output "
             "a number: {made}. Or see the gradient of every output element with gradtrace "
             "jacobian", shape=_shape(shape), seeds=seeds, made=made)


def _scalar_forms(graph: Graph, shape: tuple) -> tuple[str, str]:
    """The expression summed and indexed (sum(softmax(a)), softmax(a)[0]); for a program of
    several steps, its last step said in words."""
    from .parse import Call, Name, parse

    program = parse(graph.expression)
    index = ", ".join("0" for _ in shape)
    if len(program.statements) > 1 or program.statements[0].name is not None:
        return _("the sum of its last step"), _("its last step's element [{index}]", index=index)
    text = graph.expression
    atom = isinstance(program.statements[0].value, (Call, Name))
    return f"sum({text})", f"{text}[{index}]" if atom else f"({text})[{index}]"


def _checked(trace):
    from ..checks.gradients import check_gradients

    return trace.with_checks(check_gradients(trace))


def explain_forward(expression: str, at: dict | None = None, wrt=None, *, seed: int = 0,
                    fuse: bool = False, progress=None):
    """Forward mode for `expression` at `at`: one recorded pass per input (or per `wrt`
    input) that the output depends on (a ForwardModeReport). `progress(done, total=...)` is
    called after each pass."""
    check_seed(seed)
    from ..core.forward_mode import ForwardModeReport, forward_mode_trace

    fuse = check_flag(fuse, "fuse")
    check_progress(progress)
    at = given_point(at, seed)
    graph = build_graph(expression, fuse, at)
    point, defaults = resolve_point(graph, at, seed)
    names = _wrt_names(wrt, graph)
    reached = reaches_output(graph)
    differentiable = tuple(name for name in graph.inputs if name in reached)
    names = tuple(name for name in differentiable if names is None or name in names)
    values = evaluate(graph, point)
    passes = []
    for name in names:
        passes.append(forward_mode_trace(graph, values, name))
        if progress is not None:
            progress(len(passes), total=len(names))
    passes = tuple(passes)
    return ForwardModeReport(graph.expression, graph, values, defaults, passes, differentiable)


def explain_jacobian(expression: str, at: dict | None = None, wrt: str | None = None, *,
                     seed: int = 0, progress=None):
    """The work of `gradtrace jacobian`: text → graph → point → both Jacobians (a
    JacobianReport). `wrt` may be left out only when the expression has a single input.
    `progress(done, total=...)` is called after each pass."""
    check_seed(seed)
    from ..jacobians.full import JacobianReport, full_jacobian

    check_progress(progress)
    at = given_point(at, seed)
    graph = build_graph(expression, variables=at)
    values, defaults = resolve_point(graph, at, seed)
    wrt = _one_input(graph, wrt)
    values = evaluate(graph, values)
    return JacobianReport(full_jacobian(graph, values, wrt, progress=progress), graph, values,
                          defaults)


def _one_input(graph: Graph, wrt: str | None) -> str:
    inputs = ", ".join(graph.inputs)
    if not graph.inputs:
        raise UsageError(_("the expression has no inputs: there is nothing to differentiate"))
    if wrt is None:
        if len(graph.inputs) > 1:
            raise UsageError(_("needed: the expression has several inputs ({inputs}); name one, for "
                               "example {example}", inputs=inputs, example=graph.inputs[-1]), "wrt")
        return graph.inputs[0]
    if not isinstance(wrt, str):
        raise UsageError(_("one input's name, not {given}", given=repr(wrt)), "wrt")
    wrt = wrt.strip()
    if wrt not in graph.inputs:
        raise UsageError(_("{wrt} is not an input; the expression's inputs are {inputs}",
                           wrt=wrt, inputs=inputs), "wrt")
    return wrt


def parse_claims(texts, graph: Graph) -> list:
    """'w=(y-p)*p*(1-p)*a' → Claim(input name, formula text, formula graph)."""
    from ..checks.random_points import Claim

    claims = []
    for text in texts:
        name, _equals, formula = text.partition("=")
        name, formula = name.strip(), formula.strip()
        if not formula or name not in graph.inputs:
            raise UsageError(_("{text!r}: write NAME=FORMULA with NAME one of the inputs "
                               "({listed}), e.g. x=2*x",
                               text=text, listed=', '.join(graph.inputs)), "claim")
        try:
            claim_graph = graph_from_text(formula)
        except ParseError as error:
            error.parameter = "claim"
            raise
        unknown = [n for n in claim_graph.inputs if n not in graph.inputs]
        if unknown:
            raise UsageError(_("the formula for {name} uses {listed}, which the expression does not"
                               " have", name=name, listed=', '.join(unknown)), "claim")
        claims.append(Claim(name, formula, claim_graph))
    return claims


MAX_SAMPLES = 100_000  # as `gradtrace check --samples`


def check_at_random_points(expression: str, samples: int = 20, seed: int = 0,
                           low: float = -2.0, high: float = 2.0, at: dict | None = None,
                           wrt=None, claims=(), fuse: bool = False, progress=None):
    """Trace and check `expression` at `samples` random points (inputs uniform in [low, high],
    except those given in `at`, which stay fixed), and each claimed gradient formula ("x=2*x",
    or a list of them) at the same points (a SamplingReport)."""
    from ..checks.random_points import check_graph_at_random_points

    check_seed(seed)
    if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) or not (
            1 <= samples <= MAX_SAMPLES):
        raise UsageError(_("a whole number of points from 1 to {most}, not {given}",
                           most=MAX_SAMPLES, given=repr(samples)), "samples")
    for name, bound in (("low", low), ("high", high)):
        if isinstance(bound, bool) or not isinstance(bound, (int, float, np.integer,
                                                             np.floating)):
            raise UsageError(_("a number, not {given}", given=repr(bound)), name)
    claims = (claims,) if isinstance(claims, str) else claims
    if not isinstance(claims, (list, tuple)) or not all(isinstance(c, str) for c in claims):
        raise UsageError(_("a claim NAME=FORMULA (text) or a list of them, not {given}",
                           given=repr(claims)), "claims")
    fuse = check_flag(fuse, "fuse")
    check_progress(progress)
    fixed = given_point(at, seed)
    graph = build_graph(expression, fuse, fixed)
    unknown = [name for name in fixed if name not in graph.inputs]
    if unknown:
        raise UsageError(_("{names} not in the expression (its inputs: {inputs})",
                           names=", ".join(unknown), inputs=", ".join(graph.inputs)), "at")
    fixed = {name: given_value(name, value, seed) for name, value in fixed.items()}
    return check_graph_at_random_points(
        graph, int(samples), seed, low, high, fixed, _wrt_names(wrt, graph),
        parse_claims(claims, graph), progress)


class Curve(NamedTuple):
    """A function of one input over a range of its values, and its derivative there."""

    expression: str
    input: str
    x: np.ndarray
    value: np.ndarray
    derivative: np.ndarray


DEFAULT_RANGE = "linspace(-8, 8, 321)"


def curve(expression: str, at: dict | None = None, wrt: str | None = None, *,
          seed: int = 0) -> Curve:
    """f and df/dx at every value of x (d2l's plots of an activation and its derivative). x
    is the expression's one input (or `wrt`), its values an array (-8 to 8 by default); the
    expression must be elementwise in x, so each value's derivative is one entry of a
    diagonal Jacobian: a single backward pass seeded with ones gives them all."""
    from .point import parse_value

    check_seed(seed)
    at = given_point(at, seed)
    graph = build_graph(expression, variables=at)
    wrt = _one_input(graph, wrt)
    if wrt not in at:
        at[wrt] = parse_value(DEFAULT_RANGE, seed, wrt)
    values, _defaults = resolve_point(graph, at, seed)
    x = np.asarray(values[wrt], dtype=np.float64)
    if x.ndim != 1:
        raise UsageError(_("give {wrt} a list of values, e.g. {wrt}={example}", wrt=wrt,
                           example=DEFAULT_RANGE), "at")
    if not x.size:
        raise UsageError(_("{wrt} has no values to draw (an empty range); give it some, e.g. "
                           "{wrt}={example}", wrt=wrt, example=DEFAULT_RANGE), "at")
    not_elementwise = [node.op for node in graph.ops if not REGISTRY[node.op].elementwise]
    if not_elementwise:
        raise UsageError(_("a curve of f and its derivative needs f elementwise in {wrt}; "
                           "{not_elementwise} mixes the values (use gradtrace jacobian)",
                           wrt=wrt, not_elementwise=not_elementwise[0]),
                         "expression")
    values = evaluate(graph, values)
    output = np.broadcast_to(values[graph.output], x.shape)
    derivative = vjp_pass(graph, values, np.ones(x.shape), (wrt,))[wrt]
    # left to right, as the line is drawn (values given out of order would zig-zag)
    order = np.argsort(x, kind="stable")
    return Curve(graph.expression, wrt, x[order], np.asarray(output, dtype=np.float64)[order],
                 np.asarray(derivative, dtype=np.float64)[order])


def surface(expression: str):
    """The function of two variables `gradtrace optimize` walks down."""
    from ..layers.descent import Surface

    return Surface(graph_from_text(expression), expression)
