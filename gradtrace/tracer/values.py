"""The point an expression is evaluated at: `--at w=2,x=-1` text, and seeded defaults.

Values are read with a regular expression, never evaluated. A variable with no value gets a
default that depends only on its name and the seed, so adding a variable never changes the
others' defaults.
"""

from __future__ import annotations

import re
import zlib

import numpy as np

from ..errors import UsageError
from .graph import Graph

_NAME = r"[^\W\d]\w*"
_NUMBER = r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf|nan)"
_ASSIGNMENT = re.compile(rf"\s*({_NAME})\s*=\s*({_NUMBER})\s*$")


def parse_assignments(texts) -> dict[str, float]:
    """'w=2,x=-1' (and more such strings) to {'w': 2.0, 'x': -1.0}."""
    values: dict[str, float] = {}
    for text in texts:
        for part in text.split(","):
            if not part.strip():
                continue
            match = _ASSIGNMENT.match(part)
            if not match:
                raise UsageError(
                    f"cannot read {part.strip()!r} as name=number "
                    "(for example --at w=2,x=-1,b=-3)")
            name, number = match.groups()
            if name in values:
                raise UsageError(f"{name} is given twice in --at")
            values[name] = float(number)
    return values


def default_value(name: str, seed: int = 0) -> float:
    """A value in ±[0.1, 2] with two decimals, fixed by the name and the seed."""
    rng = np.random.default_rng([seed, zlib.crc32(name.encode("utf-8"))])
    magnitude = rng.uniform(0.1, 2.0)
    sign = -1.0 if rng.random() < 0.5 else 1.0
    return round(sign * magnitude, 2)


def resolve_point(graph: Graph, given: dict, seed: int = 0):
    """Values for every input of `graph`: the given ones, defaults for the rest.
    Returns (values, names that got defaults). A given name the graph lacks is an error."""
    unknown = [name for name in given if name not in graph.inputs]
    if unknown:
        inputs = ", ".join(graph.inputs) or "none"
        raise UsageError(f"{', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} "
                         f"not in the expression (its inputs: {inputs})")
    values, defaults = {}, []
    for name in graph.inputs:
        if name in given:
            values[name] = np.asarray(given[name], dtype=np.float64)
        else:
            values[name] = np.asarray(default_value(name, seed))
            defaults.append(name)
    return values, tuple(defaults)


def parse_wrt(text: str | None, graph: Graph) -> tuple[str, ...] | None:
    """--wrt 'w,b' to ('w', 'b'); each name must be an input of the graph."""
    if text is None:
        return None
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [name for name in names if name not in graph.inputs]
    if unknown or not names:
        inputs = ", ".join(graph.inputs) or "none"
        raise UsageError(f"--wrt {text!r}: the expression's inputs are {inputs}")
    return names
