"""Renderers: a story (from gradtrace.narrate) laid out as rich or plain text, Markdown or HTML;
every JSON document; the annotated graph as DOT, SVG and PNG; matplotlib pictures of training.

`formats.present` is the one dispatcher every command's output goes through. Importing this
package also installs the renderers behind `Trace.to_text`, `to_markdown`, `to_latex`, `to_json`, `to_dot`,
`to_svg` and Jupyter's display (the engine calls them through gradtrace.core.plugins and never
imports this package). rich, Graphviz and matplotlib are imported only when used.

May import: every other package but the CLI.
"""

from __future__ import annotations

from ..core import plugins


def _views(trace, jacobians: bool):
    if not jacobians:
        return None
    from ..jacobians.local import jacobian_views

    return jacobian_views(trace)


def trace_text(trace, precision: int = 2, jacobians: bool = False) -> str:
    from ..narrate.story import story
    from .plain import render_plain

    return render_plain(story(trace, precision, _views(trace, jacobians)))


def trace_markdown(trace, precision: int = 2, jacobians: bool = False) -> str:
    from ..narrate.story import story
    from .markdown import render_markdown

    return render_markdown(story(trace, precision, _views(trace, jacobians)))


def trace_latex(trace, precision: int = 2, jacobians: bool = False) -> str:
    from ..narrate.story import story
    from .latex import render_latex

    return render_latex(story(trace, precision, _views(trace, jacobians)))


def trace_json(trace, jacobians: bool = False) -> str:
    from .json import render_json

    return render_json(trace, _views(trace, jacobians))


def trace_dot(trace, precision: int = 2) -> str:
    from .dot import render_dot

    return render_dot(trace, precision=precision)


def trace_svg(trace, path=None, precision: int = 2) -> str:
    """The graph as SVG text; written atomically to `path` when one is given."""
    from .image import picture_format, render_image, write_atomic

    if path is not None and picture_format(path) != "svg":
        from ..core.errors import UsageError

        from ..core.i18n import _

        raise UsageError(_("to_svg writes SVG: name the file .svg, not {path!r} (write_graph in "
                           "gradtrace.render.image draws .png and .dot)", path=str(path)), "path")
    svg = render_image(trace_dot(trace, precision), "svg").decode("utf-8")
    if path is not None:
        write_atomic(path, svg.encode("utf-8"))
    return svg


def trace_html(trace) -> str:
    """Jupyter's view: tables first, the narration folded; with arrays, each step's Jacobian."""
    import numpy as np

    from ..narrate.story import story
    from .markdown import render_html

    arrays = any(np.ndim(record.value) for record in trace.nodes)
    return render_html(story(trace, 2, _views(trace, arrays)))


def trace_page(trace, path=None, precision: int = 2, quiz=None) -> str:
    """Trace.to_html: the interactive page (render/html.py), written to `path` if given."""
    from .html import trace_html_file

    return trace_html_file(trace, path, precision, quiz)


def trace_notebook(trace) -> str:
    """Jupyter's view: the interactive page, in an iframe of its own (no extension needed);
    Trace._repr_svg_ keeps the static picture."""
    from .html import notebook_view

    return notebook_view(trace)


def check_text(report, precision: int = 2) -> str:
    from ..narrate.random_points import check_sections
    from .plain import render_plain

    return render_plain(check_sections(report, precision))


plugins.renderers.update(check_text=check_text, text=trace_text, markdown=trace_markdown,
                         latex=trace_latex, json=trace_json,
                         dot=trace_dot, svg=trace_svg, html=trace_notebook, page=trace_page,
                         tables_html=trace_html)
