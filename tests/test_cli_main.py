"""gradtrace.cli's entry point: arguments before the commands see them (expressions that start
with '-', --max-elements), write errors, signals; and the caret under a parse error."""

import os
import signal
import subprocess
import sys
import time

import pytest

from gradtrace.cli import budget_option, expression_last
from gradtrace.core.errors import ParseError

GRADTRACE = [sys.executable, "-m", "gradtrace"]


def run(*args, **kwargs):
    return subprocess.run([*GRADTRACE, *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "NO_COLOR": "1"}, **kwargs)


@pytest.mark.parametrize("args, moved", [
    (["explain", "-p*q", "--at", "p=2,q=3"], ["explain", "--at", "p=2,q=3", "--", "-p*q"]),
    (["explain", "-x*y"], ["explain", "--", "-x*y"]),
    (["explain", "--at", "a=1", "-a", "--no-check"], ["explain", "--at", "a=1", "--no-check",
                                                      "--", "-a"]),
    (["check", "x*y", "--low", "-2"], ["check", "x*y", "--low", "-2"]),  # a value, not moved
    (["explain", "-p", "3", "-sum(x)"], ["explain", "-p", "3", "--", "-sum(x)"]),
    (["explain", "--verbose"], ["explain", "--verbose"]),  # left for the parser to refuse
])
def test_an_expression_starting_with_minus_is_read_as_the_expression(args, moved):
    assert expression_last(args) == moved


@pytest.mark.parametrize("expression, point, value", [
    ("-p*q", "p=2,q=3", -6.0), ("-x", "x=2", -2.0), ("-(p+q)", "p=2,q=3", -5.0),
    ("-a", "a=4", -4.0), ("-2*x", "x=2", -4.0)])
def test_expressions_starting_with_minus_run(expression, point, value):
    result = run("explain", expression, "--at", point, "--format", "json", "--no-check")
    assert result.returncode == 0, result.stderr
    assert f'"value": {value}' in result.stdout


def test_an_unknown_option_is_refused_not_traced_as_a_variable():
    result = run("explain", "--verbose")
    assert result.returncode == 2
    assert "No such option: --verbose" in result.stderr
    assert result.stdout == ""


def test_max_elements_raises_the_budget_for_any_command():
    assert budget_option(["explain", "x", "--max-elements", "2e7"]) == ["explain", "x"]
    assert os.environ.get("GRADTRACE_MAX_ELEMENTS") == "20000000"
    del os.environ["GRADTRACE_MAX_ELEMENTS"]
    refused = run("explain", "sum(x)", "--at", "x=eye(4000)", "--no-check")
    assert refused.returncode == 2 and "16,000,000 elements" in refused.stderr
    allowed = run("explain", "sum(x)", "--at", "x=eye(4000)", "--no-check", "--format", "text",
                  "--max-elements", "2e7")
    assert allowed.returncode == 0, allowed.stderr
    assert "f = h1 = 4000.00" in allowed.stdout


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_failing_write_is_a_clear_message_and_exit_1():
    with open("/dev/full", "w") as full:
        result = subprocess.run([*GRADTRACE, "ops"], stdout=full, stderr=subprocess.PIPE,
                                text=True, timeout=60)
    assert result.returncode == 1
    assert "cannot write the output: No space left on device" in result.stderr
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr


def test_a_closed_pipe_ends_quietly():
    process = subprocess.Popen([*GRADTRACE, "ops", "--format", "text"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    process.stdout.readline()
    process.stdout.close()
    process.wait(timeout=60)
    assert process.stderr.read() == b""


@pytest.mark.skipif(os.name != "posix", reason="signals")
def test_sigterm_during_a_write_leaves_no_temporary_file_and_no_engine(tmp_path):
    engine = tmp_path / "slow-dot"
    engine.write_text("#!/bin/sh\nsleep 30\n")
    engine.chmod(0o755)
    process = subprocess.Popen([*GRADTRACE, "graph", "x*y", "-o", str(tmp_path / "g.svg")],
                               env={**os.environ, "GRADTRACE_DOT": str(engine)},
                               stderr=subprocess.PIPE)
    time.sleep(3)  # the layout engine is running
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 128 + signal.SIGTERM
    assert list(tmp_path.iterdir()) == [engine]
    still = subprocess.run(["pgrep", "-f", str(engine)], capture_output=True)
    assert still.stdout == b""


@pytest.mark.parametrize("text, column", [
    ("权重*\t输入 ^ 2", 11),  # two wide characters before the tab, two after
    ("ｘ + y ^ 2", 7),  # a full-width x takes two columns
    ("x\t\t^ 2", 3),
])
def test_the_caret_stands_under_the_problem_on_screen(text, column):
    caret_line = ParseError("bad", text, text.index("^")).caret().splitlines()[1]
    assert caret_line == " " * column + "^"


def test_version_prints_the_packages_version():
    import gradtrace

    done = subprocess.run([sys.executable, "-m", "gradtrace", "--version"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0
    assert done.stdout == f"gradtrace {gradtrace.__version__}\n"
