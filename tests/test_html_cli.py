"""The page, the quiz and LaTeX from the commands: explain --html/--quiz/--answers and
--format latex, mlp and cnn --html, Trace.to_html and Jupyter's view."""

import json

import pytest
from typer.testing import CliRunner

import gradtrace
from gradtrace.cli import app

NEURON = "1/(1+exp(-(w0*x0+w1*x1+w2)))"
AT = "w0=2,x0=-1,w1=-3,x1=-2,w2=-3"
runner = CliRunner()


def run(*args):
    return runner.invoke(app, list(args), env={"NO_COLOR": "1"})


def test_explain_writes_the_page(tmp_path):
    page = tmp_path / "neuron.html"
    result = run("explain", NEURON, "--at", AT, "--format", "text", "--html", str(page))
    assert result.exit_code == 0, result.output
    text = page.read_text()
    assert text.startswith("<!DOCTYPE html>") and "h7 ← h8" in text
    assert f"wrote {page}" in result.output


def test_explain_writes_a_quiz_page_and_its_key(tmp_path):
    page, key = tmp_path / "quiz.html", tmp_path / "key.json"
    result = run("explain", NEURON, "--at", AT, "--format", "text", "--html", str(page),
                 "--quiz", "grads", "--answers", str(key))
    assert result.exit_code == 0, result.output
    assert page.read_text().count('<input class="blank"') == 12
    blanks = json.loads(key.read_text())["blanks"]
    assert blanks[3]["where"] == "backward step 4, h4 ← h5"
    assert blanks[3]["answer"] == pytest.approx(0.19661193324148185)


def test_a_seed_gives_another_point_to_each_student(tmp_path):
    keys = []
    for seed in (1, 2):
        key = tmp_path / f"key{seed}.json"
        result = run("explain", "tanh(w*x+b)", "--seed", str(seed), "--no-check", "--format",
                     "json", "--html", str(tmp_path / f"q{seed}.html"), "--quiz", "all",
                     "--answers", str(key))
        assert result.exit_code == 0, result.output
        keys.append(json.loads(key.read_text())["point"])
    assert keys[0] != keys[1]


@pytest.mark.parametrize("args, option", [
    (["--html", "page.svg"], "--html"),
    (["--quiz", "grads"], "--quiz"),
    (["--answers", "key.txt"], "--answers"),
    (["--html", "/no/such/folder/page.html"], "--html"),
])
def test_page_options_are_checked_first(args, option):
    result = run("explain", NEURON, "--at", AT, *args)
    assert result.exit_code == 2, result.output
    assert f"error: {option}" in result.output and "Traceback" not in result.output


def test_forward_mode_writes_the_page_of_backprop(tmp_path):
    page = tmp_path / "page.html"
    result = run("explain", "x*y", "--mode", "forward", "--html", str(page))
    assert result.exit_code == 0, result.output
    assert "y ← h1" in page.read_text()


def test_format_latex(tmp_path):
    result = run("explain", NEURON, "--at", AT, "--format", "latex")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("\\documentclass") and "\\begin{align*}" in result.output


@pytest.mark.parametrize("command", [
    ["mlp", "--layers", "4,5,3"],
    ["cnn", "--input", "1x6x6", "--conv", "2x3x3", "--classes", "2"],
])
def test_mlp_and_cnn_write_the_layers_page(tmp_path, command):
    page = tmp_path / "net.html"
    result = run(*command, "--format", "text", "--html", str(page))
    assert result.exit_code == 0, result.output
    text = page.read_text()
    assert '"mode":"layers"' in text and "Backward, layer 1 of" in text
    bad = run(*command, "--html", str(tmp_path / "net.png"))
    assert bad.exit_code == 2 and "--html" in bad.output


def test_trace_to_html_and_the_notebook_view(tmp_path):
    trace = gradtrace.explain("x*y", at={"x": 2, "y": 3})
    page = trace.to_html(tmp_path / "t.html", quiz="grads")
    assert (tmp_path / "t.html").read_text() == page and '<input class="blank"' in page
    view = trace._repr_html_()
    assert view.startswith("<iframe srcdoc=") and "&lt;script&gt;" in view
    assert trace._repr_svg_().lstrip().startswith("<?xml")  # the static picture stays
