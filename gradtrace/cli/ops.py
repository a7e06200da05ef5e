"""`gradtrace ops`: every op in the registry with its local-derivative rule."""

from typing import Annotated

import typer

from .common import Format, command_app, error_boundary, print_output

app = command_app()


@app.command(epilog="\b\nExamples:\n  gradtrace ops\n  gradtrace ops --format markdown")
@error_boundary
def ops(
    output_format: Annotated[Format, typer.Option(
        "--format", "-f", metavar="rich|text|markdown|json", help="rich/text (a table), markdown or json. Example: --format json")
    ] = Format.rich,
) -> None:
    """List every op gradtrace knows: how to write it, its local derivative with respect to
    each input (what backprop multiplies the upstream gradient by), its gate pattern and what
    it does where it is not differentiable."""
    from ..tracer.ops import REGISTRY

    rows = [_row(op) for op in REGISTRY.values()]
    if output_format is Format.json:
        import json

        print_output(json.dumps(rows, indent=2, ensure_ascii=False, sort_keys=True) + "\n")
    elif output_format is Format.markdown:
        lines = ["| op | written | local derivatives | gate | at a kink |", "|---|---|---|---|---|"]
        lines += [f"| {r['name']} | `{r['usage']}` | {'; '.join(r['local'])} | "
                  f"{r['gate'] or ''} | {r['kink'] or ''} |" for r in rows]
        print_output("\n".join(lines) + "\n")
    else:
        print_output(_table(rows))


def _row(op) -> dict:
    out = op.usage if op.arity == 1 else f"({op.usage})"
    names = {**{letter: letter for letter in "abcde"}, "out": out, "g": "g", "attrs": "", "shape": "shape",
             "key": "key"}
    if op.elementwise:  # a local derivative, multiplied by the upstream gradient
        local = [f"∂/∂{'abcde'[i]} = {rule.format(**names)}" for i, rule in enumerate(op.formulas)]
    else:  # a Jacobian never built: the vector-Jacobian product itself, g = upstream
        local = [f"grad_{'abcde'[i]} = {rule.format(**names)}" for i, rule in enumerate(op.formulas)]
    return {"name": op.name, "usage": op.usage, "arity": op.arity, "local": local,
            "gate": op.gate, "kink": op.kink_rule, "description": op.description,
            "elementwise": op.elementwise}


def _table(rows) -> str:
    """A plain aligned table: readable in a terminal and pasted anywhere."""
    header = ("op", "written", "local derivatives", "gate")
    body = [(r["name"], r["usage"], "; ".join(r["local"]), r["gate"] or "") for r in rows]
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip()
             for row in [header, *body]]
    lines.insert(1, "  ".join("-" * width for width in widths))
    kinks = [f"  {r['name']}: {r['kink']}" for r in rows if r["kink"]]
    return "\n".join(lines + ["", "At a kink (not differentiable there):", *kinks]) + "\n"
