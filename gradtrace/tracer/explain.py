"""The whole pipeline as one call: text → graph → point → trace (→ checks)."""

from __future__ import annotations

from ..errors import UsageError
from .backprop import ShapeError, trace_graph
from .graph import Graph, from_text
from .values import parse_wrt, resolve_point


def build_graph(expression: str, fused: bool = False) -> Graph:
    graph = from_text(expression)
    if fused:
        from .fuse import fuse

        graph = fuse(graph)
    return graph


def explain(expression: str, at: dict | None = None, wrt=None, *, seed: int = 0,
            fuse: bool = False, check: bool = True):
    """Trace `expression` at the point `at` ({name: value}); inputs not in `at` get seeded
    defaults. `wrt` (names, or 'w,b') limits the gradients traced. With `check`, every
    gradient is also computed symbolically and by finite differences (trace.checks)."""
    graph = build_graph(expression, fuse)
    values, defaults = resolve_point(graph, dict(at or {}), seed)
    if isinstance(wrt, str):
        wrt = parse_wrt(wrt, graph)
    elif wrt is not None:
        wrt = parse_wrt(",".join(wrt), graph)
    try:
        trace = trace_graph(graph, values, wrt=wrt, defaults=defaults, fused=fuse)
    except ShapeError as error:
        if not defaults:
            raise
        names = ", ".join(defaults)
        raise UsageError(f"{error}; {names} got a default scalar value: give arrays with "
                         "--at, e.g. --at \"x=[1,2,3]\" or --at W=randn(3,4)") from None
    return _checked(trace) if check else trace


def _checked(trace):
    from .checks import check_gradients

    return trace.with_checks(check_gradients(trace))
