"""`gradtrace ops`: every op of the registry, how it is written, its local derivatives, its gate
pattern and what it does where it is not differentiable."""

from __future__ import annotations

from ..core.graph import NAMED_CONSTANTS
from ..core.registry import all_ops
from .blocks import Section, Table
from .lines import Line

LETTERS = "abcde"


def op_rows() -> list[dict]:
    """One plain dict per op, in table order (also the JSON of `gradtrace ops`)."""
    return [_row(op) for op in all_ops()]


def _row(op) -> dict:
    """The op's derivatives written with its own argument names: grad_W = gᵀ · x for
    linear(x, W, b)."""
    inputs = op.input_names
    out = op.usage.split(" or ")[0].split(", ")[0] if op.arity == 1 else f"({op.usage})"
    names = {**dict(zip(LETTERS, inputs)), "out": out, "g": "g", "attrs": "",
             "shape": "shape", "key": "key", **{name: name for name in op.attrs}}
    if op.elementwise:  # a local derivative, multiplied by the upstream gradient
        local = [f"∂/∂{inputs[i]} = {rule.format(**names)}" for i, rule in enumerate(op.formulas)]
    else:  # a Jacobian never built: the vector-Jacobian product itself, g = upstream
        local = [f"grad_{inputs[i]} = {rule.format(**names)}" for i, rule in enumerate(op.formulas)]
    return {"name": op.name, "usage": op.usage, "arity": op.arity, "local": local,
            "gate": op.gate, "kink": op.kink_rule, "description": op.description,
            "elementwise": op.elementwise}


def ops_sections(rows: list[dict]) -> list[Section]:
    table = Table(("op", "written", "local derivatives", "gate"), ("name", "", "", ""),
                  tuple((r["name"], r["usage"], "; ".join(r["local"]), r["gate"] or "")
                        for r in rows))
    kinks = tuple(Line(((f"{r['name']}: {r['kink']}", ""),)) for r in rows if r["kink"])
    constants = tuple(Line(((f"{name} = {value!r}", ""),)) for name, value
                      in NAMED_CONSTANTS.items())
    return [Section("Ops", (table,)),
            Section("At a kink (not differentiable there)", (kinks,)),
            Section("Constants", ("These names are numbers in any expression, unless a value is "
                                  "given for them (--at e=2), which makes them variables:",
                                  constants))]
