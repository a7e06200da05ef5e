"""`gradtrace ops`: every op in the registry with its local-derivative rule."""

from .common import Format, command_app, error_boundary, show
from .options import format_option

app = command_app()


@app.command(epilog="\b\nExamples:\n  gradtrace ops\n  gradtrace ops --format markdown")
@error_boundary
def ops(
    output_format: format_option("one object per op: name, usage, local derivatives, gate, "
                                 "kink rule, description.") = Format.rich,
) -> None:
    """List every op gradtrace knows: how to write it, its local derivative with respect to
    each input (what backprop multiplies the upstream gradient by), its gate pattern and what
    it does where it is not differentiable."""
    from ..narrate.ops_listing import op_rows, ops_sections
    from ..render.json_reports import ops_json

    rows = op_rows()
    show(output_format, lambda: ops_sections(rows), lambda: ops_json(rows))
