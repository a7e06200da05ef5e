"""The command line as a new user meets it: exit codes, formats, errors, help."""

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from gradtrace.cli import app

runner = CliRunner()

SIGMOID = "1/(1+exp(-(w0*x0+w1*x1+w2)))"
SIGMOID_AT = "w0=2,x0=-1,w1=-3,x1=-2,w2=-3"


def run(*args):
    return runner.invoke(app, list(args), env={"NO_COLOR": "1"})


# -- the worked examples of the notes, through the JSON contract ---------------------------

WORKED = [
    (SIGMOID, SIGMOID_AT, 0.7310585786300049,
     {"w0": -0.19661193324148185, "x0": 0.3932238664829637, "w1": -0.3932238664829637,
      "x1": -0.5898357997244456, "w2": 0.19661193324148185}),
    ("1/(exp(-(w*x+b))+1)", "x=1,w=0,b=0", 0.5, {"x": 0.0, "w": 0.25, "b": 0.25}),
    ("(w*x+b-y)**2/2", "x=1.5,w=0.8,b=0.2,y=0.8", 0.18,
     {"x": 0.48, "w": 0.9, "b": 0.6, "y": -0.6}),
]


@pytest.mark.parametrize("expression, at, value, gradients", WORKED)
def test_worked_examples_in_json(expression, at, value, gradients):
    result = run("explain", expression, "--at", at, "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["schema"] == "gradtrace.trace/1"
    assert document["value"] == pytest.approx(value, rel=1e-9)
    assert document["gradients"] == pytest.approx(gradients, rel=1e-9, abs=1e-12)
    assert all(check["agree"] for check in document["checks"].values())


def test_json_schema_keys_and_bytes_stable():
    first = run("explain", SIGMOID, "--at", SIGMOID_AT, "--format", "json")
    second = run("explain", SIGMOID, "--at", SIGMOID_AT, "--format", "json")
    assert first.output == second.output
    document = json.loads(first.output)
    for key in ("schema", "expression", "value", "gradients", "nodes", "steps", "checks"):
        assert key in document
    h8 = next(node for node in document["nodes"] if node["id"] == "h8")
    assert h8["op"] == "reciprocal" and h8["inputs"] == ["h7"]
    w0 = next(node for node in document["nodes"] if node["id"] == "w0")
    assert w0["op"] is None and w0["value"] == 2.0
    phases = [step["phase"] for step in document["steps"]]
    assert phases.count("forward") == 8 and phases.count("backward") == 12
    w0_check = document["checks"]["w0"]
    assert w0_check["symbolic"]["value"] == pytest.approx(-0.19661193324148185, rel=1e-12)
    assert "exp" in w0_check["symbolic"]["expr"]


def test_non_finite_values_are_strings_in_json_and_exit_1():
    result = run("explain", "log(x) + exp(y)", "--at", "x=-1,y=1000", "--format", "json")
    assert result.exit_code == 1, result.output
    document = json.loads(result.output)
    assert document["value"] == "nan"
    problems = {problem["node"]: problem["why"] for problem in document["problems"]}
    assert "negative" in problems["h1"] and "overflow" in problems["h2"]


# -- the text story ------------------------------------------------------------------------

def test_text_story_of_example_1_has_every_backward_step():
    result = run("explain", SIGMOID, "--at", SIGMOID_AT)
    assert result.exit_code == 0, result.output
    text = result.output
    assert "h7 ← h8: 1.00 × (-1/h7²) (at h7 = 1.37)" in text
    backward_line = next(line for line in text.splitlines() if "h7 ← h8" in line)
    assert backward_line.rstrip().endswith("-0.53")
    assert "h1 = w0 × x0 = 2.00 × -1.00 = -2.00" in text
    for fragment in ("h6 ← h7: -0.53 × 1 = -0.53", "= -0.20", "w1 ← h2: 0.197 × x1",
                     "x1 ← h2: 0.197 × w1", "-0.39", "-0.59", "0.39", "distributor",
                     "swapper", "agree"):
        assert fragment in text, fragment
    assert "\x1b[" not in text  # no colour codes when not a terminal


def test_fuse_shows_one_sigmoid_gate_with_local_gradient_020():
    result = run("explain", SIGMOID, "--at", SIGMOID_AT, "--fuse", "--no-check")
    assert result.exit_code == 0, result.output
    assert "σ(h4)" in result.output
    line = next(line for line in result.output.splitlines() if "h4 ← h5" in line)
    assert "0.20" in line
    assert "h6" not in result.output  # the five primitive gates became one


def test_markdown_of_example_2_shows_the_notes_path_product():
    result = run("explain", "1/(exp(-(w*x+b))+1)", "--at", "x=1,w=0,b=0", "--format",
                 "markdown")
    assert result.exit_code == 0, result.output
    assert "1 × -0.25 × 1 × 1 × -1 × 1 × 1 = 0.25" in result.output
    assert "|" in result.output  # tables


def test_precision_option():
    result = run("explain", "x*y", "--at", "x=1.23456,y=2", "--precision", "4", "--no-check")
    assert "1.2346" in result.output


def test_defaults_are_shown_with_a_hint_and_stable():
    first = run("explain", "1/(1+exp(-(w*x+b)))", "--no-check")
    second = run("explain", "1/(1+exp(-(w*x+b)))", "--no-check")
    assert first.exit_code == 0, first.output
    assert first.output == second.output
    assert "--at" in first.output and "default" in first.output


def test_wrt_limits_gradients():
    result = run("explain", "x*y+z", "--at", "x=1,y=2,z=3", "--wrt", "x", "--format", "json")
    assert result.exit_code == 0, result.output
    assert list(json.loads(result.output)["gradients"]) == ["x"]


def test_kink_is_reported_not_failed():
    result = run("explain", "relu(x)", "--at", "x=0", "--format", "json")
    assert result.exit_code == 0, result.output
    check = json.loads(result.output)["checks"]["x"]
    assert check["status"] in ("kink", "agree")
    assert "relu'(0) = 0" in check["note"]


def test_svg_of_the_quick_start_shows_073_and_minus_053(tmp_path):
    from xml.etree import ElementTree

    target = tmp_path / "sigmoid.svg"
    result = run("explain", SIGMOID, "--at", SIGMOID_AT, "--svg", str(target))
    assert result.exit_code == 0, result.output
    texts = [element.text for element in ElementTree.parse(target).iter()
             if element.tag.endswith("text")]
    assert "0.73" in texts and "-0.53" in texts
    assert ">-0.53<" in target.read_text()  # a plain minus sign: greppable, pasteable
    assert list(tmp_path.iterdir()) == [target]  # no temp file left behind


# -- errors: exit 2 with a caret, nothing executed -----------------------------------------

HOSTILE = [
    "__import__('os').system('echo x')",
    "().__class__.__bases__",
    "lambda: 1",
    "x.real",
    "[x for x in y]",
    "x if y else z",
    "",
    "(" * 200 + "x" + ")" * 200,
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_input_is_refused_with_a_caret(text):
    result = run("explain", text)
    assert result.exit_code == 2, result.output
    assert "^" in result.output and "error" in result.output
    assert "Traceback" not in result.output
    assert "x\n" not in result.stdout.split("error")[0]  # nothing was echoed by a shell


def test_100kb_expression_is_refused_cleanly():
    text = "+".join(["x"] * 50_000)
    result = run("explain", text, "--no-check")
    assert result.exit_code == 2
    assert "too large" in result.output


def test_unknown_function_gets_did_you_mean():
    result = run("explain", "expp(x)")
    assert result.exit_code == 2
    assert "did you mean 'exp'" in result.output


def test_unknown_name_in_at_is_a_usage_error():
    result = run("explain", "x*y", "--at", "x=1,q=2")
    assert result.exit_code == 2
    assert "q" in result.output and "not in the expression" in result.output


def test_unreadable_at_value_is_a_usage_error():
    result = run("explain", "x*y", "--at", "x=abc")
    assert result.exit_code == 2 and "is not a number" in result.output


def test_svg_to_missing_directory_is_an_error_not_a_traceback(tmp_path):
    result = run("explain", "x*y", "--no-check", "--svg", str(tmp_path / "nope" / "g.svg"))
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert not (tmp_path / "nope").exists()


# -- help teaches --------------------------------------------------------------------------

@pytest.mark.parametrize("command", [[], ["explain"], ["graph"], ["check"], ["ops"]])
def test_help_explains_with_examples(command):
    result = run(*command, "--help")
    assert result.exit_code == 0, result.output
    assert "Example" in result.output or "gradtrace explain" in result.output
    if command in (["explain"], ["check"]):
        for option in ("--at", "--format", "--precision"):
            assert option in result.output


def test_help_lists_every_command_module_with_its_line():
    import pkgutil

    import gradtrace.cli
    from gradtrace.cli import COMMANDS

    modules = {info.name for info in pkgutil.iter_modules(gradtrace.cli.__path__)}
    with_app = {name for name in modules
                if hasattr(__import__(f"gradtrace.cli.{name}", fromlist=["app"]), "app")}
    assert {module for module, _ in COMMANDS.values()} == with_app
    listed = run("--help").output
    for name, (_, line) in COMMANDS.items():
        assert f"  {name}" in listed and line in listed
        assert run(name, "--help").exit_code == 0


def test_top_level_help_imports_no_command_module():
    code = ("import sys\nfrom gradtrace.cli import app\n"
            "try:\n    app(['--help'], prog_name='gradtrace')\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.startswith('gradtrace.cli.')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    # the help pages' translator only: no command's module
    assert result.stdout.strip().splitlines()[-1] == "['gradtrace.cli.help_text']"


def test_ops_lists_every_registry_op():
    from gradtrace.ops import REGISTRY

    result = run("ops", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [row["name"] for row in rows] == list(REGISTRY)
    reciprocal = next(row for row in rows if row["name"] == "reciprocal")
    assert reciprocal["local"] == ["∂/∂a = -1/a²"]


# -- check at many points, and a wrong hand formula ----------------------------------------

def test_check_samples_agree_and_summarise():
    result = run("check", "1/(1+exp(-(w*x+b)))", "--samples", "10", "--seed", "1",
                 "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert [row["counts"]["agree"] for row in report["inputs"]] == [10, 10, 10]


def test_check_catches_the_sign_slip_of_the_notes():
    wrong = "w=(y-sigmoid(w*a))*sigmoid(w*a)*(1-sigmoid(w*a))*a"
    result = run("check", "(y-sigmoid(w*a))**2/2", "--claim", wrong, "--samples", "5")
    assert result.exit_code == 1
    assert "WRONG" in result.output


# -- the real process ----------------------------------------------------------------------

def test_python_dash_m_runs_the_same_command():
    completed = subprocess.run(
        [sys.executable, "-m", "gradtrace", "explain", "x*y", "--at", "x=2,y=3", "--format",
         "json", "--no-check"], capture_output=True, text=True, timeout=60,
        env={**os.environ, "NO_COLOR": "1"})
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["gradients"] == {"x": 3.0, "y": 2.0}


@pytest.mark.parametrize("claim", ["x=1e999", "x=y*1e300*1e300"])
def test_a_claim_that_is_never_finite_is_wrong_and_exits_1(claim):
    result = run("check", "x*y", "--claim", claim, "--samples", "5")
    assert "is WRONG" in result.output
    assert result.exit_code == 1  # as any wrong claim: it held at no point


def test_a_right_claim_still_exits_0():
    result = run("check", "x*y", "--claim", "x=y", "--samples", "5")
    assert result.exit_code == 0 and "holds" in result.output


def test_a_claim_about_an_input_left_out_of_wrt_is_still_checked():
    # --wrt x: y's gradient is traced for the claim about it, and the table shows x alone
    right = run("check", "x*y", "--wrt", "x", "--claim", "y=x", "--samples", "5",
                "--format", "text")
    assert right.exit_code == 0 and "claim ∂f/∂y = x holds: agrees at 5" in right.output
    assert not [line for line in right.output.splitlines() if line.startswith("y ")]
    wrong = run("check", "x*y", "--wrt", "x", "--claim", "y=2*x", "--samples", "5")
    assert wrong.exit_code == 1 and "disagrees at 5" in wrong.output
