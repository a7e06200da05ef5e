"""`gradtrace ops`: every op of the registry, how it is written, its local derivatives, its gate
pattern and what it does where it is not differentiable."""

from __future__ import annotations

from ..core.graph import NAMED_CONSTANTS
from ..core.i18n import _, data, join_list
from ..core.registry import REGISTRY, all_ops
from .blocks import Section, Table
from .lines import Line

LETTERS = "abcde"


def op_rows() -> list[dict]:
    """One plain dict per op, in table order (also the JSON of `gradtrace ops`)."""
    return [_row(op) for op in all_ops()]


def _row(op) -> dict:
    return {"name": op.name, "usage": op.usage, "arity": op.arity, "local": local_rules(op),
            "gate": op.gate, "kink": op.kink_rule, "description": op.description,
            "elementwise": op.elementwise}


def local_rules(op, say=lambda rule: rule) -> list[str]:
    """The op's derivatives written with its own argument names: grad_W = gᵀ · x for
    linear(x, W, b); `say` gives each rule in the reader's language (i18n.data: a rule with
    words in it, such as max's "g to the largest element")."""
    inputs = op.input_names
    out = op.usage.split(" or ")[0].split(", ")[0] if op.arity == 1 else f"({op.usage})"
    out += ")" * (out.count("(") - out.count(")"))  # softmax(a, axis=-1) is softmax(a)
    names = {**dict(zip(LETTERS, inputs)), "out": out, "g": "g", "attrs": "",
             "shape": "shape", "key": "key", **{name: name for name in op.attrs}}
    rules = [say(rule).format(**names) for rule in op.formulas]
    if op.elementwise:  # a local derivative, multiplied by the upstream gradient
        return [f"∂/∂{inputs[i]} = {rule}" for i, rule in enumerate(rules)]
    # a Jacobian never built: the vector-Jacobian product itself, g = upstream
    return [f"grad_{inputs[i]} = {rule}" for i, rule in enumerate(rules)]


def ops_sections(rows: list[dict]) -> list[Section]:
    table = Table((_("op"), _("written"), _("local derivatives"), _("gate")),
                  ("name", "", "", ""),
                  tuple((r["name"], join_list(r["usage"].split(" or ")), "; ".join(local_rules(REGISTRY[r["name"]], data)),
                         data(r["gate"]) or "") for r in rows))
    kinks = tuple(Line(((f"{r['name']}: {data(r['kink'])}", ""),)) for r in rows if r["kink"])
    constants = tuple(Line(((f"{name} = {value!r}", ""),)) for name, value
                      in NAMED_CONSTANTS.items())
    return [Section(_("Ops"), (table,), "ops"),
            Section(_("At a kink (not differentiable there)"), (kinks,), "kinks"),
            Section(_("Constants"), (_("These names are numbers in any expression, unless a "
                                       "value is given for them (--at e=2), which makes them "
                                       "variables:"), constants), "constants")]

