"""The whole-story renderers: plain text, rich, Markdown and HTML.

Every expected string below is written by hand from /work/shared/reference/worked-examples.md
(or by hand arithmetic), never produced by the code under test.
"""

import dataclasses
import re
import subprocess
import sys

import numpy as np
import pytest

from trace_views import render_html, render_markdown
from trace_views import render_coloured, render_plain
from gradtrace.core.backprop import trace_graph
from gradtrace.expr.to_graph import graph_from_text as from_text
from gradtrace.core.trace import GradientCheck

NEURON = "1/(1+exp(-(w0*x0+w1*x1+w2)))"
NEURON_POINT = dict(w0=2, x0=-1, w1=-3, x1=-2, w2=-3)
LOGISTIC = "1/(exp(-(w*x+b))+1)"
LOGISTIC_POINT = dict(x=1, w=0, b=0)


def trace_of(expression, point, **options):
    return trace_graph(from_text(expression), point, **options)


@pytest.fixture
def neuron():
    return trace_of(NEURON, NEURON_POINT)


def line_with(text: str, fragment: str) -> str:
    """The one output line holding `fragment` (fails if there is none)."""
    lines = [line for line in text.splitlines() if fragment in line]
    assert lines, f"no line contains {fragment!r}:\n{text}"
    return lines[0]


# -- example 1: the sigmoid neuron -----------------------------------------------------------

NEURON_FORWARD = [
    "h1 = w0 × x0 = 2.00 × -1.00 = -2.00",
    "h2 = w1 × x1 = -3.00 × -2.00 = 6.00",
    "h3 = h1 + h2 = -2.00 + 6.00 = 4.00",
    "h4 = h3 + w2 = 4.00 + -3.00 = 1.00",
    "h6 = exp(h5) = exp(-1.00) = 0.37",
    "h7 = 1 + h6 = 1 + 0.37 = 1.37",
    "h8 = 1 / h7 = 1 / 1.37 = 0.73",
]

# The worked-examples table, one backward step a line (upstream × local = downstream).
NEURON_BACKWARD = [
    "h7 ← h8: 1.00 × (-1/h7²) (at h7 = 1.37) = 1.00 × -0.53 = -0.53",
    "h6 ← h7: -0.53 × 1 = -0.53",
    "h5 ← h6: -0.53 × exp(h5) (at h5 = -1.00) = -0.53 × 0.37 = -0.20",
    "h4 ← h5: -0.20 × (-1) = 0.20",
    "h3 ← h4: 0.20 × 1 = 0.20",
    "w2 ← h4: 0.20 × 1 = 0.20",
    "h1 ← h3: 0.20 × 1 = 0.20",
    "h2 ← h3: 0.20 × 1 = 0.20",
    # 0.20 × -2.00 would be -0.40, not the gradient's -0.39: the line shows the digits that
    # make its arithmetic hold as printed
    "w1 ← h2: 0.197 × x1 (at x1 = -2.000) = -0.39",
    "x1 ← h2: 0.197 × w1 (at w1 = -3.000) = -0.59",
    "w0 ← h1: 0.20 × x0 (at x0 = -1.00) = -0.20",
    "x0 ← h1: 0.197 × w0 (at w0 = 2.000) = 0.39",
]


def test_example_1_the_course_line_shows_upstream_local_and_downstream(neuron):
    line = line_with(render_plain(neuron), "1.00 × (-1/h7²) (at h7 = 1.37)")
    assert "-0.53" in line


@pytest.mark.parametrize("step", NEURON_BACKWARD)
def test_example_1_every_backward_step_is_narrated(neuron, step):
    assert step in render_plain(neuron)


@pytest.mark.parametrize("step", NEURON_FORWARD)
def test_example_1_every_forward_step_is_narrated(neuron, step):
    assert step in render_plain(neuron)


def test_example_1_backward_starts_from_the_seed_and_names_the_gates(neuron):
    text = render_plain(neuron)
    assert "∂h8/∂h8 = 1.00" in text
    assert "add gate: distributor" in line_with(text, "w2 ← h4:")
    assert "mul gate: swapper" in line_with(text, "x1 ← h2:")
    assert "neg: sign flip" in line_with(text, "h4 ← h5:")


def test_a_constant_factor_scales_and_a_subtrahend_gets_the_gradient_negated():
    # the notes: a mul gate with a constant (a·x) is a scaler (尺度缩放器); a sub gate passes
    # the gradient on to a and, negated, to b
    trace = trace_of("2*(w*x - y)", {"w": 1.0, "x": 2.0, "y": 3.0})
    text = render_plain(trace)
    assert "mul gate: scaler" in line_with(text, "h2 ← h3:")
    assert "mul gate: swapper" in line_with(text, "w ← h1:")
    assert line_with(text, "h1 ← h2:").endswith("sub gate: distributor")
    assert "sub gate: distributor, sign flipped" in line_with(text, "y ← h2:")
    assert [step.gate for step in trace.backward] == [
        "scaler", "distributor", "distributor, sign flipped", "swapper", "swapper"]


def test_example_1_sections_come_in_story_order(neuron):
    text = render_plain(neuron)
    titles = ["f = " + NEURON, "Graph", "Forward pass", "Backward pass",
              "Chain rule, path by path", "Gradients"]
    positions = [text.index(title) for title in titles]
    assert positions == sorted(positions)
    assert "Problems" not in text


def test_example_1_graph_and_gradient_tables(neuron):
    text = render_plain(neuron)
    graph = text[text.index("\nGraph"):text.index("\nForward pass")]
    assert line_with(graph, "h1 ").split() == ["h1", "w0", "×", "x0", "w0,", "x0", "-2.00", "0.20"]
    assert line_with(graph, "h8 ").split() == ["h8", "1", "/", "h7", "h7", "0.73", "1.00"]
    assert line_with(graph, "constant").split() == ["1", "constant", "1.00"]
    gradients = text[text.index("\nGradients"):]
    # input, value, gradient: df/dx1 = -0.5898... from the worked examples
    assert line_with(gradients, "x1").split() == ["x1", "-2.00", "-0.59"]
    # a trace made without checks says so, naming no CLI flag (the Python API has none)
    assert "Not checked: the checks against SymPy and finite differences were turned off." \
        in gradients
    assert "--no-check" not in gradients


def test_defaults_are_marked_with_a_hint():
    trace = trace_of(NEURON, NEURON_POINT, defaults=("w2",))
    line = line_with(render_plain(trace), "w2 = -3.00")
    assert "default; set it with --at w2=-3.00" in line
    assert "default" not in line_with(render_plain(trace), "w0 = 2.00")


def test_fused_traces_say_composites_are_single_gates():
    trace = trace_of("sigmoid(w*x)", dict(w=1, x=2), fused=True)
    assert "single gates" in render_plain(trace)
    assert "single gates" not in render_plain(trace_of("sigmoid(w*x)", dict(w=1, x=2)))


# -- example 2: the chain rule along a path --------------------------------------------------

def test_example_2_markdown_writes_the_notes_chain_product():
    markdown = render_markdown(trace_of(LOGISTIC, LOGISTIC_POINT))
    assert "1 × -0.25 × 1 × 1 × -1 × 1 × 1 = 0.25" in line_with(markdown, "∂f/∂w =")
    # b's path skips the mul gate: one factor fewer, same 0.25 (df/db = 0.25 in the notes)
    assert "1 × -0.25 × 1 × 1 × -1 × 1 = 0.25" in line_with(markdown, "∂f/∂b =")
    assert "h6 → h5 → h4 → h3 → h2 → h1 → w" in line_with(markdown, "∂f/∂w =")


def test_example_2_plain_text_has_the_same_chain():
    text = render_plain(trace_of(LOGISTIC, LOGISTIC_POINT))
    assert "∂f/∂w = 1 × -0.25 × 1 × 1 × -1 × 1 × 1 = 0.25" in text


def test_markdown_is_github_markdown():
    markdown = render_markdown(trace_of(LOGISTIC, LOGISTIC_POINT))
    assert markdown.startswith("## `f = 1/(exp(-(w*x+b))+1)`")
    assert "### Backward pass" in markdown
    assert "| node | op | inputs | value | gradient |" in markdown
    assert "| h6 | 1 / h5 | h5 | 0.50 | 1.00 |" in markdown
    assert "- `h5 ← h6: 1.00 × (-1/h5²) (at h5 = 2.00) = 1.00 × -0.25 = -0.25`" in markdown


def test_markdown_escapes_pipes_in_table_cells():
    markdown = render_markdown(trace_of("abs(x)", dict(x=-2)))
    assert "| h1 | \\|x\\| | x | 2.00 | 1.00 |" in markdown


def test_markdown_does_not_import_rich():
    code = ("import sys, gradtrace.render.markdown; "
            "assert not any(m == 'rich' or m.startswith('rich.') for m in sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True)


# -- fan-out ----------------------------------------------------------------------------------

def test_fan_out_gradients_accumulate():
    text = render_plain(trace_of("x*x", dict(x=3)))
    assert "gradients from 2 paths add" in line_with(text, "x: 3.00 + 3.00 = 6.00")
    assert "∂f/∂x = 3.00 + 3.00 = 6.00" in text
    assert "∂f/∂x (path 1) = 1 × 3 = 3.00" in text
    assert "∂f/∂x (path 2) = 1 × 3 = 3.00" in text


def test_many_paths_are_counted_not_all_listed():
    # x to the 14th as 14 factors: 14 paths of local derivative 1 at x = 1, d/dx x^14 = 14
    text = render_plain(trace_of("*".join(["x"] * 14), dict(x=1)))
    assert "… and 2 more paths" in text
    assert "∂f/∂x = the sum over all 14 paths = 14.00" in text


def test_a_long_path_shows_its_ends_and_the_whole_product():
    # x·2·3·…·30: one path of 29 local derivatives 30, 29, ..., 2; d/dx = 30! at x = 1
    text = render_plain(trace_of("*".join(["x"] + [str(k) for k in range(2, 31)]), dict(x=1)))
    line = line_with(text, "∂f/∂x = 1 × 30 × 29 × 28")
    assert "× … 13 more … ×" in line and line.count(" × ") == 17  # 1, 8 factors, …, 8 factors
    assert "= 2.65e+32" in line  # 30! = 2.6525e32: every factor multiplied, shown or not
    assert "h28 → h27" in line and "… 14 more … →" in line and line.rstrip().endswith("h1 → x")


def test_a_large_graph_summarises_its_paths():
    from gradtrace.narrate.story import CHAIN_OP_LIMIT

    terms = CHAIN_OP_LIMIT // 2 + 1  # x0*y0 + x1*y1 + ...: 2·terms − 1 ops
    expression = " + ".join(f"x{i}*y{i}" for i in range(terms))
    text = render_plain(trace_of(expression, {f"{v}{i}": 1.0 for i in range(terms) for v in "xy"}))
    assert f"up to {CHAIN_OP_LIMIT} ops; this one has {2 * terms - 1}" in text
    assert "(path 1)" not in text and "∂f/∂x0 = 1 ×" not in text


# -- problems ---------------------------------------------------------------------------------

def test_division_by_zero_marks_the_node():
    trace = trace_of("1/(x-1)", dict(x=1))
    text = render_plain(trace)
    assert "⚠ not finite: division by zero" in line_with(text, "h2 = 1 / h1 = 1 / 0.00 = inf")
    problems = text[text.index("\nProblems"):]
    assert "The first non-finite value appeared at h2 — division by zero." in problems
    markdown = render_markdown(trace)
    assert "**⚠ not finite: division by zero**" in line_with(markdown, "`h2 = 1 / h1")
    assert "### Problems" in markdown


def test_overflow_is_explained():
    text = render_plain(trace_of("exp(x)", dict(x=1000)))
    assert "overflow" in line_with(text, "h1 = exp(x) = exp(1000.00) = inf")


def test_kink_convention_is_noted():
    text = render_plain(trace_of("relu(x)", dict(x=0)))
    assert "kink: relu'(0) = 0" in line_with(text, "h1 = relu(x) = relu(0.00) = 0.00")


# -- checks -----------------------------------------------------------------------------------

def with_hand_made_checks(trace):
    checks = (
        GradientCheck("w", np.array(0.25), "x*exp(-b - w*x)/(exp(-b - w*x) + 1)**2",
                      np.array(0.25), np.array(0.2500001), "agree", rtol=1e-6, atol=1e-8),
        GradientCheck("x", np.array(0.0), "w*exp(-b - w*x)/(exp(-b - w*x) + 1)**2",
                      np.array(0.0), np.array(0.0), "agree", rtol=1e-6, atol=1e-8),
        GradientCheck("b", np.array(0.25), None, None, np.array(-0.25), "disagree",
                      note="symbolic skipped", rtol=1e-6, atol=1e-8),
    )
    return trace.with_checks(checks)


def test_checks_add_columns_expressions_and_tolerances():
    text = render_plain(with_hand_made_checks(trace_of(LOGISTIC, LOGISTIC_POINT)))
    gradients = text[text.index("\nGradients"):]
    header = line_with(gradients, "input")
    assert header.split() == ["input", "value", "gradient", "symbolic", "numeric", "check"]
    assert line_with(gradients, "disagree").split()[:5] == ["b", "0.00", "0.25", "—", "-0.25"]
    assert "disagree (symbolic skipped)" in gradients
    assert "∂f/∂w = x*exp(-b - w*x)/(exp(-b - w*x) + 1)**2" in gradients
    assert "rtol = 1.00e-06, atol = 1.00e-08" in gradients
    assert "Not checked" not in text


def test_checks_in_markdown_and_html():
    trace = with_hand_made_checks(trace_of(LOGISTIC, LOGISTIC_POINT))
    assert "| w | 0.00 | 0.25 | 0.25 | 0.25 | agree |" in render_markdown(trace)
    assert "<th>numeric</th>" in render_html(trace)


# -- determinism, precision, colour ---------------------------------------------------------

def test_rendering_twice_gives_identical_strings(neuron):
    again = trace_of(NEURON, NEURON_POINT)
    assert render_plain(neuron) == render_plain(neuron) == render_plain(again)
    assert render_markdown(neuron) == render_markdown(again)
    assert render_html(neuron) == render_html(again)


def test_plain_output_ignores_the_terminal_width(neuron, monkeypatch):
    before = render_plain(neuron)
    monkeypatch.setenv("COLUMNS", "30")
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert render_plain(neuron) == before


def test_precision_4_gives_4_decimals(neuron):
    text = render_plain(neuron, precision=4)
    assert "h1 = w0 × x0 = 2.0000 × -1.0000 = -2.0000" in text
    assert "h7 ← h8: 1.0000 × (-1/h7²) (at h7 = 1.3679) = 1.0000 × -0.5344 = -0.5344" in text
    assert "x1 ← h2: 0.1966 × w1 (at w1 = -3.0000) = -0.5898" in text
    markdown = render_markdown(trace_of(LOGISTIC, LOGISTIC_POINT), precision=4)
    # whole numbers stay compact in the product; fractions get the 4 decimals
    assert "1 × -0.2500 × 1 × 1 × -1 × 1 × 1 = 0.2500" in markdown


def test_plain_has_no_colour_codes_and_the_terminal_form_has_them(neuron):
    assert "\x1b[" not in render_plain(neuron)
    coloured = render_coloured(neuron)
    assert "\x1b[32m-2.00\x1b[0m" in coloured  # values in green
    assert "\x1b[31m-0.53\x1b[0m" in coloured  # gradients in red
    without_codes = re.sub(r"\x1b\[[\d;]*m", "", coloured)
    assert without_codes == render_plain(neuron)  # the same layout, colour aside


def test_a_table_wider_than_the_terminal_is_wrapped_by_rich():
    from gradtrace.narrate.blocks import Section, Table
    from gradtrace.render.plain import render_plain as plain

    wide = Table(("name", "value"), ("name", "value"), (("w", ", ".join(["1.00"] * 40)),))
    text = plain([Section("Wide", (wide,))], width=60)
    assert max(len(line) for line in text.splitlines()) <= 60
    assert text.count("1.00") == 40


def test_html_escapes_everything(neuron):
    tricky = dataclasses.replace(neuron, graph=dataclasses.replace(neuron.graph, text="a<b & c"))
    fragment = render_html(tricky)
    assert "a&lt;b &amp; c" in fragment
    assert "a<b" not in fragment
    assert fragment.startswith('<div class="gradtrace">')
    assert "<script" not in fragment


# -- shapes the story must survive ----------------------------------------------------------

def test_output_that_is_an_input():
    text = render_plain(trace_of("x", dict(x=2)))
    assert "Nothing to compute" in text
    assert "∂f/∂x = 1" in text


def test_vector_values_skip_the_chain_paths():
    text = render_plain(trace_of("x*y", dict(x=np.array([1.0, 2.0]), y=3.0)))
    assert "h1 = x × y = [1.00, 2.00] × 3.00 = [3.00, 6.00]" in text
    assert "scalar graphs only" in text
    # y was broadcast over x: its gradient is summed back, 1 × 1 + 1 × 2 = 3
    assert "summed back to shape ()" in line_with(text, "y ← h1:")


# -- numbers as printed --------------------------------------------------------------------

SMALL_GRADIENTS = ("1/(1+exp(-(w*x+b)))", dict(w=2, x=-1, b=-3))  # ∂f/∂w = -0.006648...


def test_a_small_gradient_keeps_two_significant_digits():
    text = render_plain(trace_of(*SMALL_GRADIENTS))
    gradients = {line.split()[0]: line.split()[2] for line in
                 text.split("Gradients\n")[1].splitlines()[2:5]}
    assert gradients == {"w": "-0.0066", "x": "0.013", "b": "0.0066"}
    assert "0.00 " not in text and "-0.01 " not in text and " 0.01 " not in text


@pytest.mark.parametrize("value, shown", [
    (0.7310585786300049, "0.73"), (-0.0066928509242848554, "-0.0067"), (0.0133857, "0.013"),
    (0.05, "0.050"), (1.2345e-5, "1.23e-05"), (-4.4796e-05, "-4.48e-05"), (0.0, "0.00"),
    (3_000_000.0, "3.00e+06"), (12.5, "12.50"), (0.0996, "0.100")])
def test_no_nonzero_number_is_shown_with_fewer_than_two_significant_digits(value, shown):
    from gradtrace.narrate.numbers import fmt

    assert fmt(value) == shown


PRODUCT_LINE = re.compile(r"= (-?[\d.e+-]+) × (-?[\d.e+-]+) = (-?[\d.e+-]+)$")
GATE_LINE = re.compile(r": (-?[\d.e+-]+) × \w+ \(at \w+ = (-?[\d.e+-]+)\) = (-?[\d.e+-]+)$")


def _holds(upstream: str, local: str, result: str) -> bool:
    product = float(upstream) * float(local)
    if "e" in result:
        decimals = len(result.split("e")[0].split(".")[1]) if "." in result else 0
        return f"{product:.{decimals}e}" == result
    decimals = len(result.split(".")[1]) if "." in result else 0
    return f"{product:.{decimals}f}" == result


FORWARD_PRODUCT = re.compile(r"h1 = x × y = (-?[\d.e+-]+) × (-?[\d.e+-]+) = (-?[\d.e+-]+)$")


@pytest.mark.parametrize("precision", [0, 2, 4])
def test_a_product_of_a_million_or_more_holds_as_printed(precision):
    # 1234567.8 prints in scientific notation, three digits at precision 2: the operands get
    # the digits that make 1.2345678e+06 × -0.5 print as -617283.90
    text = render_plain(trace_of("x*y", dict(x=1234567.8, y=-0.5)), precision=precision)
    found = FORWARD_PRODUCT.search(line_with(text, "h1 = x × y ="))
    assert found and _holds(*found.groups()), line_with(text, "h1 = x × y =")
    gate = GATE_LINE.search(line_with(text, "y ← h1:").split("   ")[0].strip())
    assert gate and _holds(*gate.groups())


@pytest.mark.parametrize("expression, point", [
    ("1/(1+exp(-(w0*x0+w1*x1+w2)))", dict(w0=2, x0=-1, w1=-3, x1=-2, w2=-3)),
    SMALL_GRADIENTS, ("(w*x+b-y)**2/2", dict(x=1.5, w=0.8, b=0.2, y=0.8)),
    ("tanh(a*b) * log(c) + a*c", dict(a=0.37, b=-1.9, c=2.3)),
    ("sigmoid(u*v - w) * u", dict(u=1.234, v=-0.77, w=0.3))])
def test_every_product_line_holds_as_printed(expression, point):
    """Multiplying the printed numbers by hand gives the printed result."""
    checked = gates = 0
    for line in render_plain(trace_of(expression, point)).splitlines():
        text = line.split("   ")[0].strip()  # the notes column aside
        found = PRODUCT_LINE.search(text) or GATE_LINE.search(text)
        if found:
            assert _holds(*found.groups()), line
            checked += 1
            gates += GATE_LINE.search(text) is not None
    assert checked >= 2 and gates >= 1  # mul gates' lines are among those checked
