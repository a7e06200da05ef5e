"""`gradtrace glossary`: the course notes' terms, English and Chinese, searched both ways."""

from typing import Annotated, Optional

import typer

from ..core.i18n import _
from .common import EXIT_PROBLEM, Format, command_app, error_boundary, show
from .options import format_option

app = command_app()

EXAMPLES = """
\b
Examples:
  gradtrace glossary                     # every term
  gradtrace glossary 梯度                # the terms whose Chinese holds 梯度
  gradtrace glossary gradient            # the terms whose English holds gradient
  gradtrace glossary --format markdown   # the table to paste into notes
"""


@app.command(epilog=EXAMPLES)
@error_boundary
def glossary(
    term: Annotated[Optional[str], typer.Argument(
        metavar="TERM", show_default=False,
        help="Part of an English or a Chinese term; every term when left out. "
             "Example: 梯度")] = None,
    output_format: format_option("{query, terms: [{english, chinese, sources}]} (schema "
                                 "gradtrace.glossary/1).") = Format.rich,
) -> None:
    """The glossary of --lang zh: each Chinese term of the course notes (d2l, CS231n, nndl,
    《深度学习入门》) with its English counterpart and the notes that use it. The Chinese
    output uses exactly these terms. Exit code 1 when no term matches."""
    from ..core.glossary import lookup
    from ..narrate.glossary import glossary_sections
    from ..render.json_glossary import glossary_json

    query = (term or "").strip()
    found = lookup(query)
    if not found:
        from ..core.errors import clip_runs

        typer.echo(clip_runs(_("no term of the glossary holds {query!r}", query=query)),
                   err=True)
        raise typer.Exit(EXIT_PROBLEM)
    show(output_format, lambda: glossary_sections(found, query),
         lambda: glossary_json(found, query))
