"""The interactive page as a file (no browser here: tests/test_html_browser.py drives one):
self-contained and byte-stable, its steps the text output's lines, every element it lights
present in its picture, a quiz page without its answers in sight, the notebook view."""

import html.parser
import json
import re

import numpy as np
import pytest
from typer.testing import CliRunner

import gradtrace
from gradtrace.cli import app
from gradtrace.core.errors import UsageError
from gradtrace.narrate.quiz import make_quiz
from gradtrace.render.html import notebook_view, page_steps, trace_page, write_page

NEURON = "1/(1+exp(-(w0*x0+w1*x1+w2)))"
NEURON_AT = {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3}
runner = CliRunner()


@pytest.fixture(scope="module")
def neuron():
    return gradtrace.explain(NEURON, at=NEURON_AT)


@pytest.fixture(scope="module")
def page(neuron):
    return trace_page(neuron)


class Reader(html.parser.HTMLParser):
    """The texts of the step list items (li[data-stop]), the page's data and its SVG keys."""

    def __init__(self):
        super().__init__()
        self.stops: dict[int, str] = {}
        self.keys: list[str] = []
        self.data = ""
        self._stop = None
        self._in_data = False
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "li" and attrs.get("id", "").startswith("s"):
            self._stop = int(attrs["id"][1:])
            self.stops[self._stop] = ""
        if "data-k" in attrs:
            self.keys.append(attrs["data-k"])
        if tag == "script" and attrs.get("id") == "gt-data":
            self._in_data = True
        if tag == "br" and self._stop is not None:
            self.stops[self._stop] += "\n"

    def handle_endtag(self, tag):
        if tag == "li":
            self._stop = None
        if tag == "script":
            self._in_data = False

    def handle_data(self, data):
        if self._in_data:
            self.data += data
        elif self._stop is not None:
            self.stops[self._stop] += data


def read(page: str) -> Reader:
    reader = Reader()
    reader.feed(page)
    return reader


def squeeze(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def text_lines(output: str, title: str) -> list[str]:
    """The narrated lines of one section of `--format text` (indented by two spaces)."""
    lines = output.split("\n")
    start = lines.index(title) + 1
    found = []
    for line in lines[start:]:
        if not line.strip():
            break
        if line.startswith("  "):
            found.append(squeeze(line))
    return found


def test_the_steps_are_the_text_outputs_lines_in_order():
    """Acceptance: every forward line and backward step of the text output, same order,
    same numbers."""
    output = runner.invoke(app, ["explain", NEURON, "--at", "w0=2,x0=-1,w1=-3,x1=-2,w2=-3",
                                 "--format", "text"]).output
    expected = text_lines(output, "Forward pass") + text_lines(output, "Backward pass")
    reader = read(trace_page(gradtrace.explain(NEURON, at=NEURON_AT)))
    shown = [squeeze(reader.stops[stop]) for stop in sorted(reader.stops)]
    assert shown == expected
    assert len(shown) == 8 + 13


def test_a_fork_adds_a_stop_for_each_sum_and_shows_the_growing_sum():
    trace = gradtrace.explain("x*y + x*sigmoid(x) + 1/x", at={"x": 1.5, "y": -2}, check=False)
    data = json.loads(read(trace_page(trace)).data)
    phases = [step[0] for step in data["steps"]]
    assert phases.count("a") == 3 and phases.count("b") == len(trace.backward)
    sums = data["totals"]["x"]
    assert [text for _, text in sums] == ["-0.44", "0.37", "0.60", "-1.40"]
    assert [stop for stop, _ in sums] == sorted(stop for stop, _ in sums)
    for stop, _ in sums[1:]:
        assert data["steps"][stop][0] == "a"


def test_every_element_a_step_lights_is_in_the_picture(page):
    reader = read(page)
    data = json.loads(reader.data)
    keys = set(reader.keys)
    for phase, label, lit in data["steps"]:
        for name in lit:
            assert name in keys, (label, name)
    for name, shown, grad in data["elements"]:
        assert name in keys, name


def test_what_each_step_lights(page):
    steps = json.loads(read(page).data)["steps"]
    assert steps[0][0] == "start" and steps[0][2] == []
    assert steps[3][:2] == ["f", "Forward step 3 of 8: h3"]
    assert set(steps[3][2]) == {"h3 op", "h1->h3 op", "h2->h3 op", "h3 op->h3", "h3"}
    assert steps[9][0] == "s" and steps[9][2] == ["h8"]
    assert steps[13][1] == "Backward step 4 of 12: h4 ← h5"
    assert set(steps[13][2]) == {"h5 op->h5", "h5 op", "h4->h5 op", "h4"}


def test_values_and_gradients_show_when_the_stepping_reaches_them(page):
    elements = {name: (shown, grad) for name, shown, grad in
                json.loads(read(page).data)["elements"]}
    assert elements["w0"] == (0, 20)  # an input: its value from the start
    assert elements["h3"] == (3, 14)
    assert elements["h8"] == (8, 9)  # the seed
    assert elements["h7 a"][0] == 7  # the constant 1 of h7 = 1 + h6


def test_the_page_is_self_contained(page):
    assert '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'' in page
    without_namespaces = page.replace('xmlns="http://www.w3.org/2000/svg"', "").replace(
        'xmlns:xlink="http://www.w3.org/1999/xlink"', "")
    assert "http://" not in without_namespaces and "https://" not in without_namespaces
    assert not re.search(r"<(link|img|iframe|object|embed)\b", page)
    assert not re.search(r"\b(src|href)=", page)
    assert "@import" not in page and "url(" not in page
    assert "fetch(" not in page and "XMLHttpRequest" not in page


def test_the_same_trace_gives_the_same_bytes(neuron, page):
    again = gradtrace.explain(NEURON, at=NEURON_AT)
    assert trace_page(again) == page


def test_user_text_is_escaped():
    trace = gradtrace.explain("x_script*y", at={"x_script": 1, "y": 2}, check=False)
    page = trace_page(trace)
    data = read(page).data
    assert "</script" not in data.lower()
    assert json.loads(data)["nodes"]["x_script"]["id"] == "x_script"


def test_a_quiz_page_keeps_its_blanks_out_of_the_picture(neuron):
    quiz = make_quiz(neuron, "grads")
    page = trace_page(neuron, 2, quiz)
    svg = page[page.index('<figure id="graph"'):page.index("</figure>")]
    gradients = re.findall(r'<text class="g"[^>]*>([^<]*)</text>', svg)
    assert gradients and set(gradients[1:]) <= {"?", "1.00"}  # [0]: the legend; h8's seed 1
    assert page.count('<input class="blank"') == 12
    data = json.loads(read(page).data)
    assert [blank["n"] for blank in data["quiz"]["blanks"]] == list(range(1, 13))
    fourth = data["quiz"]["blanks"][3]
    assert fourth["stop"] == 13 and fourth["where"] == "backward step 4, h4 ← h5"
    assert "Chain rule" not in page and "Gradients</summary>" not in page


def test_a_quiz_of_values_hides_the_output_value(neuron):
    page = trace_page(neuron, 2, make_quiz(neuron, "values"))
    header = page[page.index("<header>"):page.index("</header>")]
    assert "0.73" not in header and "h8" not in header


def test_arrays_get_tables_heat_maps_and_jacobians():
    rng = np.random.default_rng(0)
    trace = gradtrace.explain("sum(tanh(W @ x))", at={"W": rng.normal(size=(3, 4)),
                                                      "x": rng.normal(size=4)}, check=False)
    nodes = json.loads(read(trace_page(trace)).data)["nodes"]
    assert '<table class="array">' in nodes["W"]["extra"]
    assert "Jacobian ∂h2/∂h1" in nodes["h2"]["extra"] and "diagonal" in nodes["h2"]["extra"]
    big = gradtrace.explain("sum(x*x)", at={"x": rng.normal(size=(10, 10))}, check=False)
    assert '<svg class="heat"' in json.loads(read(trace_page(big)).data)["nodes"]["x"]["extra"]


def test_the_steps_must_pair_with_the_trace(neuron):
    with pytest.raises(ValueError):
        page_steps(neuron, 7, 13)


def test_writing_a_page_needs_an_html_name(tmp_path, neuron):
    with pytest.raises(UsageError, match=r"\.html"):
        write_page("x", tmp_path / "page.svg")
    written = neuron.to_html(tmp_path / "page.html") if hasattr(neuron, "to_html") else None
    if written is None:
        from gradtrace.render.html import trace_html_file

        written = trace_html_file(neuron, tmp_path / "page.html")
    assert (tmp_path / "page.html").read_text() == written


def test_the_notebook_view_is_the_page_in_an_iframe(neuron):
    view = notebook_view(neuron)
    assert view.startswith("<iframe srcdoc=\"&lt;!DOCTYPE html&gt;")
    assert "<script" not in view  # all of it inside the (escaped) srcdoc
    assert "&lt;script&gt;" in view


# -- mlp and cnn --------------------------------------------------------------------------

def layer_result(kind="mlp", expand=None):
    from gradtrace.layers import networks
    from gradtrace.layers.step import trace_step

    rng = np.random.default_rng(0)
    if kind == "mlp":
        specs = networks.mlp_specs([4, 5, 5, 3], "sigmoid", "xavier", "ce", rng, 1.0)
        data = networks.batch((2, 4), 3, "ce", rng)
    else:
        conv = networks.ConvSpec(2, (3, 3), 1, 0)
        specs = networks.cnn_specs((1, 6, 6), [conv], ("max", 2), 3, "relu", "he", "ce", rng, 1.0)
        data = networks.batch((2, 1, 6, 6), 3, "ce", rng)
    return trace_step(specs, data.data, data.target, 0.1, expand)


@pytest.mark.parametrize("kind, expand", [("mlp", None), ("mlp", "fc1"), ("cnn", None)])
def test_the_layers_page_steps_layer_by_layer(kind, expand):
    from gradtrace.narrate.layers import layer_sections
    from gradtrace.render.page_layers import layers_page
    from gradtrace.render.plain import render_plain

    result = layer_result(kind, expand)
    page = layers_page(result, "a step", 2)
    reader = read(page)
    data = json.loads(reader.data)
    layers = len(result.layers)
    assert len(data["steps"]) == 1 + 2 * layers
    keys = set(reader.keys)
    for _, label, lit in data["steps"]:
        assert all(name in keys for name in lit), label
    text = render_plain(layer_sections(result, "a step", 2))
    shown = [squeeze(reader.stops[stop]) for stop in sorted(reader.stops)]
    for stop in shown:
        for line in stop.split(" = ")[:1]:
            assert squeeze(line) in squeeze(text)
    assert page == layers_page(layer_result(kind, expand), "a step", 2)
    assert set(data["details"]) >= {layer.output for layer in result.layers}


def test_without_a_layout_engine_the_page_still_steps(neuron, monkeypatch):
    monkeypatch.setenv("GRADTRACE_DOT", "none")
    page = trace_page(neuron)
    assert '<p class="no-graph">The graph is not drawn: no Graphviz layout engine' in page
    assert len(read(page).stops) == 21
