"""Each command's work as one call, from text: text → graph → point → trace (→ checks).

`explain` (the trace, checked), `explain_forward` (forward mode, narrated), `explain_jacobian`
(a whole Jacobian, both ways), `check_at_random_points` (the three-way check over many points,
with hand-derived claims), `curve` (a function of one input and its derivative over a range)
and `surface` (a function of two variables for the optimisers).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..core.backprop import ShapeError, evaluate, reaches_output, trace_graph, vjp_pass
from ..core.errors import UsageError
from ..core.graph import Graph
from ..ops import REGISTRY
from .point import check_seed, parse_wrt, resolve_point
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
    return parse_wrt(",".join(wrt), graph)


def explain(expression: str, at: dict | None = None, wrt=None, *, seed: int = 0,
            fuse: bool = False, check: bool = True):
    """Trace `expression` at the point `at` ({name: value}); inputs not in `at` get seeded
    defaults. `wrt` (names, or 'w,b') limits the gradients traced. With `check`, every
    gradient is also computed symbolically and by finite differences (trace.checks)."""
    check_seed(seed)
    at = dict(at or {})
    graph = build_graph(expression, fuse, at)
    values, defaults = resolve_point(graph, at, seed)
    wrt = _wrt_names(wrt, graph)
    try:
        trace = trace_graph(graph, values, wrt=wrt, defaults=defaults, fused=fuse)
    except ShapeError as error:
        if not defaults:
            raise
        names = ", ".join(defaults)
        raise UsageError(f"{error}; {names} got a default scalar value: give arrays, e.g. "
                         "x=[1,2,3] or W=randn(3,4)", "at") from None
    return _checked(trace) if check else trace


def _checked(trace):
    from ..checks.gradients import check_gradients

    return trace.with_checks(check_gradients(trace))


def explain_forward(expression: str, at: dict | None = None, wrt=None, *, seed: int = 0,
                    fuse: bool = False):
    """Forward mode for `expression` at `at`: one recorded pass per input (or per `wrt`
    input) that the output depends on (a ForwardModeReport)."""
    check_seed(seed)
    from ..core.forward_mode import ForwardModeReport, forward_mode_trace

    at = dict(at or {})
    graph = build_graph(expression, fuse, at)
    point, defaults = resolve_point(graph, at, seed)
    names = _wrt_names(wrt, graph)
    reached = reaches_output(graph)
    differentiable = tuple(name for name in graph.inputs if name in reached)
    names = tuple(name for name in differentiable if names is None or name in names)
    values = evaluate(graph, point)
    passes = tuple(forward_mode_trace(graph, values, name) for name in names)
    return ForwardModeReport(graph.expression, graph, values, defaults, passes, differentiable)


def explain_jacobian(expression: str, at: dict | None = None, wrt: str | None = None, *,
                     seed: int = 0):
    """The work of `gradtrace jacobian`: text → graph → point → both Jacobians (a
    JacobianReport). `wrt` may be left out only when the expression has a single input."""
    check_seed(seed)
    from ..jacobians.full import JacobianReport, full_jacobian

    at = dict(at or {})
    graph = build_graph(expression, variables=at)
    values, defaults = resolve_point(graph, at, seed)
    wrt = _one_input(graph, wrt)
    values = evaluate(graph, values)
    return JacobianReport(full_jacobian(graph, values, wrt), graph, values, defaults)


def _one_input(graph: Graph, wrt: str | None) -> str:
    inputs = ", ".join(graph.inputs)
    if not graph.inputs:
        raise UsageError("the expression has no inputs: there is nothing to differentiate")
    if wrt is None:
        if len(graph.inputs) > 1:
            raise UsageError(f"needed: the expression has several inputs ({inputs}); name one, "
                             f"for example {graph.inputs[-1]}", "wrt")
        return graph.inputs[0]
    wrt = wrt.strip()
    if wrt not in graph.inputs:
        raise UsageError(f"{wrt} is not an input; the expression's inputs are {inputs}", "wrt")
    return wrt


def parse_claims(texts, graph: Graph) -> list:
    """'w=(y-p)*p*(1-p)*a' → Claim(input name, formula text, formula graph)."""
    from ..checks.random_points import Claim

    claims = []
    for text in texts:
        name, _, formula = text.partition("=")
        name, formula = name.strip(), formula.strip()
        if not formula or name not in graph.inputs:
            raise UsageError(f"{text!r}: write NAME=FORMULA with NAME one of the inputs "
                             f"({', '.join(graph.inputs)}), e.g. x=2*x", "claim")
        claim_graph = graph_from_text(formula)
        unknown = [n for n in claim_graph.inputs if n not in graph.inputs]
        if unknown:
            raise UsageError(f"the formula for {name} uses {', '.join(unknown)}, which the "
                             "expression does not have", "claim")
        claims.append(Claim(name, formula, claim_graph))
    return claims


def check_at_random_points(expression: str, samples: int, seed: int = 0, low: float = -2.0,
                           high: float = 2.0, fixed: dict | None = None, wrt=None, claims=(),
                           fuse: bool = False, progress=None):
    """Trace and check `expression` at `samples` random points (inputs uniform in [low, high],
    except those in `fixed`), and each claimed gradient formula at the same points (a
    SamplingReport)."""
    from ..checks.random_points import check_graph_at_random_points

    check_seed(seed)
    fixed = dict(fixed or {})
    graph = build_graph(expression, fuse, fixed)
    unknown = [name for name in fixed if name not in graph.inputs]
    if unknown:
        raise UsageError(f"{', '.join(unknown)} not in the expression "
                         f"(its inputs: {', '.join(graph.inputs)})", "at")
    return check_graph_at_random_points(
        graph, samples, seed, low, high, {k: np.asarray(v) for k, v in fixed.items()},
        _wrt_names(wrt, graph), parse_claims(claims, graph), progress)


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
    at = dict(at or {})
    graph = build_graph(expression, variables=at)
    wrt = _one_input(graph, wrt)
    if wrt not in at:
        at[wrt] = parse_value(DEFAULT_RANGE, seed, wrt)
    values, _ = resolve_point(graph, at, seed)
    x = np.asarray(values[wrt], dtype=np.float64)
    if x.ndim != 1:
        raise UsageError(f"give {wrt} a list of values, e.g. {wrt}={DEFAULT_RANGE}", "at")
    not_elementwise = [node.op for node in graph.ops if not REGISTRY[node.op].elementwise]
    if not_elementwise:
        raise UsageError(f"a curve of f and its derivative needs f elementwise in {wrt}; "
                         f"{not_elementwise[0]} mixes the values (use gradtrace jacobian)",
                         "expression")
    values = evaluate(graph, values)
    output = np.broadcast_to(values[graph.output], x.shape)
    derivative = vjp_pass(graph, values, np.ones(x.shape), (wrt,))[wrt]
    return Curve(graph.expression, wrt, x, np.asarray(output, dtype=np.float64),
                 np.asarray(derivative, dtype=np.float64))


def surface(expression: str):
    """The function of two variables `gradtrace optimize` walks down."""
    from ..layers.descent import Surface

    return Surface(graph_from_text(expression), expression)
