"""LaTeX for slides and exams: the steps as align*, the tables as booktabs tabulars, symbols
and names as math; and the documents compile with pdfLaTeX where one is installed (the
compiling tests skip without it, saying how to get one)."""

import shutil
import sys
import subprocess

import numpy as np
import pytest

import gradtrace
from gradtrace.narrate.blocks import Picture, Section
from gradtrace.narrate.lines import Line
from gradtrace.narrate.quiz import make_quiz
from gradtrace.narrate.story import story
from gradtrace.render.latex import line_row, math, render_latex, text
from gradtrace.render.quiz import sheet

NEURON = "1/(1+exp(-(w0*x0+w1*x1+w2)))"
NEURON_AT = {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3}
NO_LATEX = ("no pdflatex: `apt-get install texlive-latex-base texlive-latex-recommended` "
            "(Debian) or any TeX Live with booktabs")


@pytest.fixture(scope="module")
def neuron():
    return gradtrace.explain(NEURON, at=NEURON_AT)


@pytest.fixture(scope="module")
def neuron_latex(neuron):
    return render_latex(story(neuron, 2))


def compile_latex(source: str, folder) -> str:
    """Run pdflatex on `source`; the log when it fails."""
    if shutil.which("pdflatex") is None:
        pytest.skip(NO_LATEX)
    (folder / "doc.tex").write_text(source, encoding="utf-8")
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
                         cwd=folder, capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stdout[-3000:]
    assert (folder / "doc.pdf").stat().st_size > 1000
    return run.stdout


def test_the_steps_are_align_environments_and_the_tables_booktabs(neuron_latex):
    assert neuron_latex.startswith("\\documentclass")
    assert neuron_latex.rstrip().endswith("\\end{document}")
    # the point, forward, backward, the chain rule and the symbolic derivatives
    assert neuron_latex.count("\\begin{align*}") == 5
    assert neuron_latex.count("\\begin{tabular}") == 2  # graph and gradients
    assert "\\toprule" in neuron_latex and "\\midrule" in neuron_latex
    assert "\\bottomrule" in neuron_latex and "\\hline" not in neuron_latex
    # forward h6 = exp(h5) = exp(-1.00) = 0.37, aligned at its first =, value in green
    assert ("h_{6}&=\\ \\exp(h_{5})=\\exp(\\textcolor{gtvalue}{-1.00})="
            "\\textcolor{gtvalue}{0.37}") in neuron_latex
    # backward h7 ← h8, gradients in red, aligned at the colon
    assert "h_{7}\\leftarrow h_{8}&:\\ \\textcolor{gtgrad}{1.00}\\times (-1/h_{7}^{2})" \
        in neuron_latex
    assert "\\gtnote{add gate: distributor}" in neuron_latex


def test_the_same_story_gives_the_same_bytes(neuron, neuron_latex):
    assert render_latex(story(neuron, 2)) == neuron_latex


@pytest.mark.parametrize("written, expected", [
    ("h7", "h_{7}"), ("W1", "W_{1}"), ("grad_x", "\\mathit{grad\\_x}"), ("x", "x"),
    ("z⁽¹⁾", "z^{(1)}"), ("δ⁽ˡ⁻¹⁾", "\\delta ^{(l-1)}"), ("a·(1−a)", "a\\cdot (1-a)"),
    ("Σₙ", "\\Sigma _{n}"), ("‖x‖", "\\|x\\|"), ("exp(h5)", "\\exp(h_{5})"),
])
def test_names_and_symbols_become_math(written, expected):
    assert math(written) == expected


def test_text_is_escaped():
    assert text("50% of a_b & {c} #1 ~ ^") == ("50\\% of a\\_b \\& \\{c\\} \\#1 \\~{} \\^{}")
    assert text("权") == "\\gtchar{权}{U+6743}"
    assert text("x → y") == "x \\ensuremath{\\to} y"


def test_a_line_without_an_equals_sign_still_has_its_column():
    row = line_row(Line((("words only here", ""),)))
    assert row.startswith("&")


def test_pictures_are_drawn_with_rules():
    section = Section("Sparsity", (Picture(("█·", "·█")),))
    document = render_latex([section])
    assert document.count("\\rule{0.55em}{0.7em}") == 2


def test_the_neuron_compiles(neuron_latex, tmp_path):
    """Acceptance: the LaTeX of the neuron compiles as it is."""
    compile_latex(neuron_latex, tmp_path)


def test_a_quiz_sheet_compiles(neuron, tmp_path):
    compile_latex(sheet(make_quiz(neuron, "all"), "latex"), tmp_path)


def test_chinese_names_compile(tmp_path):
    """Without CJKutf8 and its font the names are written as code points; never a failure."""
    trace = gradtrace.explain("权重*输入+偏置", check=False)
    compile_latex(render_latex(story(trace, 2)), tmp_path)


def test_a_layer_by_layer_story_compiles(tmp_path):
    from gradtrace.layers import networks
    from gradtrace.layers.step import trace_step
    from gradtrace.narrate.layers import layer_sections

    rng = np.random.default_rng(0)
    specs = networks.mlp_specs([4, 5, 5, 3], "sigmoid", "normal", "ce", rng, 1.0)
    data = networks.batch((2, 4), 3, "ce", rng)
    result = trace_step(specs, data.data, data.target, 0.1, "fc1")
    document = render_latex(layer_sections(result, "MLP 4-5-5-3, sigmoid: one SGD step", 2))
    assert "\\gtchar{深}" in document  # the notes' book, named in the health section
    compile_latex(document, tmp_path)


def test_a_big_table_breaks_across_pages(tmp_path):
    terms = "+".join(f"w{i}*x{i}" for i in range(20))
    trace = gradtrace.explain(terms, check=False)
    document = render_latex(story(trace, 2))
    assert "\\begin{longtable}" in document
    compile_latex(document, tmp_path)


def test_a_trace_writes_the_same_document_as_format_latex(neuron):
    # Trace.to_latex, as the CLI's --format latex writes it (it had been missing)
    cli = subprocess.run([sys.executable, "-c", "from gradtrace.cli import main; main()",
                          "explain", NEURON, "--at", "w0=2,x0=-1,w1=-3,x1=-2,w2=-3",
                          "--format", "latex"], capture_output=True, text=True, timeout=120,
                         check=False)
    assert cli.returncode == 0, cli.stderr
    assert neuron.to_latex() == cli.stdout
    assert neuron.to_latex().startswith("\\documentclass")
    chinese = neuron.to_latex(lang="zh")
    assert chinese != cli.stdout and "{反}" in chinese  # each character wrapped for CJKutf8
