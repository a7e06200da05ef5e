"""The graph picture: DOT source (snapshotted), SVG/PNG through the layout engine, and files
written atomically.

Expected numbers come from /work/shared/reference/worked-examples.md (sigmoid neuron: output
0.73, d out / d h6 = -0.53) or hand arithmetic (x*y at x=2, y=3), never from the code under test.
"""

import dataclasses
import os
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from gradtrace.core.errors import GradtraceError, UsageError
from gradtrace.render.dot import render_dot
from gradtrace.render.image import (
    RenderError, WriteError, find_engine, render_image, write_atomic, write_graph,
)
from gradtrace.core.backprop import trace_graph
from gradtrace.expr.to_graph import graph_from_text as from_text

NEURON = "1/(1+exp(-(w0*x0+w1*x1+w2)))"
NEURON_POINT = dict(w0=2, x0=-1, w1=-3, x1=-2, w2=-3)


@pytest.fixture
def neuron():
    return trace_graph(from_text(NEURON), NEURON_POINT)


def dot_line(source: str, starts_with: str) -> str:
    """The one line of `source` that starts with `starts_with` (after the indent)."""
    lines = [line for line in source.splitlines() if line.strip().startswith(starts_with)]
    assert len(lines) == 1, f"expected one line starting {starts_with!r}:\n{source}"
    return lines[0]


# -- DOT source ----------------------------------------------------------------------------

def test_neuron_dot_shows_output_value_and_gradient_and_is_stable(neuron):
    first = render_dot(neuron)
    assert first == render_dot(neuron)
    assert "rankdir=LR" in first
    assert ">0.73<" in dot_line(first, '"h8" [')
    assert ">-0.53<" in dot_line(first, '"h6" [')


X_TIMES_Y = """\
digraph gradtrace {
  graph [rankdir=LR, labelloc=t, nodesep=0.2, ranksep=0.3, fontname="Helvetica", \
label=<<b>x*y</b><br/><font point-size="10">each box: name, <font color="#1a7f37">value</font>, \
<font color="#cf222e">gradient dh1/d(name)</font></font>>];
  node [shape=box, style=rounded, fontname="Helvetica", fontsize=11, margin="0.1,0.04"];
  edge [arrowsize=0.6, color="#57606a"];
  "x" [label=<<b>x</b><br/><font color="#1a7f37">2.00</font><br/><font color="#cf222e">3.00</font>>];
  "y" [label=<<b>y</b><br/><font color="#1a7f37">3.00</font><br/><font color="#cf222e">2.00</font>>];
  "h1 op" [shape=circle, style=solid, ordering=in, fontsize=12, width=0.3, margin=0.02, label=<×>];
  "x" -> "h1 op";
  "y" -> "h1 op";
  "h1 op" -> "h1";
  "h1" [penwidth=2.5, label=<<b>h1</b><br/><font color="#1a7f37">6.00</font><br/><font color="#cf222e">1.00</font>>];
}
"""


def test_dot_snapshot_of_x_times_y():
    assert render_dot(trace_graph(from_text("x*y"), dict(x=2, y=3))) == X_TIMES_Y


def test_precision_reaches_every_number():
    source = render_dot(trace_graph(from_text("x*y"), dict(x=2, y=3)), precision=3)
    assert ">6.000<" in source and ">3.000<" in source and ">2.00<" not in source


def test_each_use_of_a_constant_has_its_own_box_without_a_gradient():
    source = render_dot(trace_graph(from_text("2*x + 2"), dict(x=5)))
    first = dot_line(source, '"h1 a" [')  # the 2 in 2*x
    second = dot_line(source, '"h2 b" [')  # the 2 added
    for line in (first, second):
        assert "<b>2</b>" in line and ">2.00<" in line
        assert "#cf222e" not in line  # no red gradient line for a constant
    assert '"h1 a" -> "h1 op";' in source and '"h2 b" -> "h2 op";' in source
    assert '"2"' not in source


def test_non_finite_value_gets_an_orange_border_and_the_reason():
    source = render_dot(trace_graph(from_text("log(x) + y"), dict(x=-1, y=1)))
    line = dot_line(source, '"h1" [')
    assert 'color="#e8590c"' in line
    assert "log of a negative number" in line
    assert ">nan<" in line
    assert 'color="#e8590c"' not in dot_line(source, '"y" [')


def test_text_in_labels_is_escaped(neuron):
    odd = dataclasses.replace(neuron, graph=dataclasses.replace(neuron.graph, text='a<b & "c"'))
    assert '<b>a&lt;b &amp; "c"</b>' in render_dot(odd)


# -- SVG and PNG ---------------------------------------------------------------------------

def test_neuron_svg_is_xml_with_the_numbers(neuron):
    svg = render_image(render_dot(neuron), "svg")
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    texts = [text.strip() for text in root.itertext()]
    assert "0.73" in texts and "-0.53" in texts


def test_png_has_the_png_signature(neuron):
    png = render_image(render_dot(neuron), "png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_write_graph_picks_the_format_from_the_extension(neuron, tmp_path):
    write_graph(neuron, tmp_path / "graph.svg")
    write_graph(neuron, tmp_path / "graph.PNG")
    write_graph(neuron, tmp_path / "graph.gv")
    assert (tmp_path / "graph.svg").read_text(encoding="utf-8").lstrip().startswith("<?xml")
    assert (tmp_path / "graph.PNG").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "graph.gv").read_text(encoding="utf-8").startswith("digraph gradtrace {")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.PNG", "graph.gv", "graph.svg"]


def test_unknown_extension_is_a_usage_error_naming_the_formats(neuron, tmp_path):
    with pytest.raises(UsageError) as caught:
        write_graph(neuron, tmp_path / "graph.pdf")
    assert ".svg" in str(caught.value) and ".png" in str(caught.value)
    assert list(tmp_path.iterdir()) == []


# -- finding the engine --------------------------------------------------------------------

def test_graphviz_pure_is_found_next_to_python_when_not_on_path(monkeypatch, tmp_path):
    beside_python = Path(sys.executable).parent / "graphviz-pure"
    if not beside_python.exists():
        pytest.skip("graphviz-pure is not installed beside this Python")
    monkeypatch.delenv("GRADTRACE_DOT", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no dot, no graphviz-pure
    assert find_engine() == [str(beside_python)]


def test_gradtrace_dot_overrides_the_search(monkeypatch):
    monkeypatch.setenv("GRADTRACE_DOT", "/opt/my/dot")
    assert find_engine() == ["/opt/my/dot"]
    monkeypatch.setenv("GRADTRACE_DOT", "none")
    assert find_engine() is None


def test_no_engine_names_both_fixes(monkeypatch):
    monkeypatch.setenv("GRADTRACE_DOT", "none")
    with pytest.raises(RenderError) as caught:
        render_image("digraph { a -> b }", "svg")
    message = str(caught.value)
    assert "no Graphviz layout engine was found" in message
    assert "pip install graphviz-pure" in message and "apt-get install graphviz" in message
    assert caught.value.exit_code == 1 and isinstance(caught.value, GradtraceError)


def test_without_an_engine_write_graph_leaves_the_dot_source(neuron, monkeypatch, tmp_path):
    monkeypatch.setenv("GRADTRACE_DOT", "none")
    with pytest.raises(RenderError) as caught:
        write_graph(neuron, tmp_path / "neuron.svg")
    fallback = tmp_path / "neuron.dot"
    assert "graphviz-pure" in str(caught.value) and str(fallback) in str(caught.value)
    assert not (tmp_path / "neuron.svg").exists()
    assert fallback.read_text(encoding="utf-8").startswith("digraph gradtrace {")
    assert ">0.73<" in fallback.read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["neuron.dot"]


@pytest.mark.skipif(os.name != "posix", reason="uses a shell script as the engine")
def test_a_failing_engine_is_reported_with_its_message(monkeypatch, tmp_path):
    engine = tmp_path / "broken-dot"
    engine.write_text("#!/bin/sh\necho 'syntax error in line 1' >&2\nexit 3\n")
    engine.chmod(0o755)
    monkeypatch.setenv("GRADTRACE_DOT", str(engine))
    with pytest.raises(RenderError) as caught:
        render_image("digraph {", "svg")
    assert "syntax error in line 1" in str(caught.value)
    assert "exit code 3" in str(caught.value)


# -- writing files atomically --------------------------------------------------------------

def test_write_atomic_writes_the_bytes_and_nothing_else(tmp_path):
    target = tmp_path / "out.svg"
    write_atomic(target, b"<svg/>")
    write_atomic(target, b"<svg>again</svg>")
    assert target.read_bytes() == b"<svg>again</svg>"
    assert [p.name for p in tmp_path.iterdir()] == ["out.svg"]


def test_failed_write_leaves_the_old_file_and_no_temporary(monkeypatch, tmp_path):
    target = tmp_path / "out.svg"
    target.write_bytes(b"old")

    def refuse(source, destination):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(WriteError) as caught:
        write_atomic(target, b"new picture")
    assert "No space left on device" in str(caught.value)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.svg"]


def test_failed_first_write_leaves_no_partial_file(monkeypatch, tmp_path):
    monkeypatch.setattr(os, "replace", lambda source, destination: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        write_atomic(tmp_path / "new.png", b"\x89PNG...")
    assert list(tmp_path.iterdir()) == []


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(WriteError) as caught:
        write_atomic(tmp_path / "no such folder" / "g.svg", b"x")
    assert "does not exist" in str(caught.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores permissions")
def test_read_only_folder_is_a_clear_error(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(WriteError) as caught:
            write_atomic(folder / "g.svg", b"x")
        assert "ermission denied" in str(caught.value)
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o755)


# -- limits: what every way of drawing shares ----------------------------------------------


def long_sum(terms: int):
    """x0*y0 + x1*y1 + ...: 4 nodes a term, a wide and tall picture."""
    expression = "+".join(f"x{i}*y{i}" for i in range(terms))
    graph = from_text(expression)
    return trace_graph(graph, {name: 1.0 for name in graph.inputs})


def test_a_graph_over_the_node_limit_is_drawn_collapsed_by_every_renderer():
    from gradtrace.render.dot import KEPT_OPS, MAX_DRAWN_NODES

    trace = long_sum(1000)  # 3,999 nodes
    assert len(trace.nodes) > MAX_DRAWN_NODES
    source = render_dot(trace)
    assert source.count(" op\" [shape=circle") == KEPT_OPS
    assert "nodes not drawn" in dot_line(source, '"… collapsed" [')
    assert f"of {len(trace.graph.ops):,}" in source
    assert source == trace.to_dot()  # Trace.to_dot and write_graph read the same source
    svg = trace.to_svg()  # as Jupyter's _repr_svg_ does: collapsed too, so quick and small
    assert svg.startswith("<?xml") or "<svg" in svg[:200]
    assert len(svg) < 1_000_000


def test_a_small_graph_is_drawn_whole(neuron):
    assert "collapsed" not in render_dot(neuron)


def test_png_resolution_drops_to_fit_the_memory_budget():
    from gradtrace.render import image

    assert image._png_dpi((300.0, 200.0)) == image.PNG_DPI  # a small picture keeps its dpi
    lowered = image._png_dpi((12000.0, 5000.0))
    assert image.MIN_PNG_DPI <= lowered < image.PNG_DPI
    inches = 12000.0 * 5000.0 / 72**2
    assert inches * lowered**2 * image.PNG_BYTES_PER_PIXEL <= image.PNG_MEMORY


def test_a_png_too_large_even_at_the_lowest_resolution_is_refused_with_advice():
    from gradtrace.render import image

    with pytest.raises(RenderError) as caught:
        image._png_dpi((400_000.0, 300_000.0))
    assert "GB" in str(caught.value) and ".svg" in str(caught.value)


def test_an_unknown_suffix_is_refused_by_to_svg(neuron, tmp_path):
    with pytest.raises(UsageError) as caught:
        neuron.to_svg(tmp_path / "neuron.pdf")
    assert ".svg" in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_the_dot_fallback_never_overwrites_a_file_nobody_asked_for(neuron, monkeypatch,
                                                                   tmp_path):
    monkeypatch.setenv("GRADTRACE_DOT", "none")
    (tmp_path / "neuron.dot").write_text("my own notes")
    with pytest.raises(RenderError) as caught:
        write_graph(neuron, tmp_path / "neuron.png")
    assert "exists" in str(caught.value)
    assert (tmp_path / "neuron.dot").read_text() == "my own notes"


def test_a_file_name_near_the_system_limit_is_written(tmp_path):
    name = "n" * 250 + ".dot"  # 254 characters: a longer temporary name would not fit
    write_atomic(tmp_path / name, b"digraph {}")
    assert [p.name for p in tmp_path.iterdir()] == [name]
