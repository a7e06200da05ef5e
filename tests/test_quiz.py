"""Exercises: which quantities a quiz blanks, the answers against the trace, the grading with
its hints, and `gradtrace quiz` in the terminal, on paper and as a key."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

import gradtrace
from gradtrace.cli import app
from gradtrace.core.errors import UsageError
from gradtrace.narrate.quiz import (BLANK, KINDS, boxed, grade, judge, make_quiz, read_answer,
                                    worksheet)
from gradtrace.render.plain import render_plain
from gradtrace.render.quiz import key_text, quiz_json, sheet

NEURON = "1/(1+exp(-(w0*x0+w1*x1+w2)))"
NEURON_AT = {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3}
FORK = "x*y + x*sigmoid(x) + 1/x"  # x reached by four paths


@pytest.fixture(scope="module")
def neuron():
    return gradtrace.explain(NEURON, at=NEURON_AT, check=False)


@pytest.fixture(scope="module")
def fork():
    return gradtrace.explain(FORK, at={"x": 1.5, "y": -2}, check=False)


def blanks_on(lines):
    return [int(text) for line in lines for text, kind in line.parts if kind == BLANK]


# -- what is blanked ------------------------------------------------------------------------

def test_a_quiz_of_gradients_asks_every_step_and_every_sum(fork):
    quiz = make_quiz(fork, "grads")
    sums = sum(step.arrival > 1 for step in fork.backward)
    assert sums == 3
    assert len(quiz.blanks) == len(fork.backward) + sums
    assert [blank.kind for blank in quiz.blanks].count("sum") == sums
    # each step's blank holds that step's downstream, each sum the running total
    downstream = iter(fork.backward)
    for blank in quiz.blanks:
        if blank.kind == "grad":
            step = next(downstream)
            assert blank.answer == pytest.approx(float(step.downstream))
        else:
            assert blank.answer == pytest.approx(float(step.total))
    assert blanks_on(quiz.backward) == list(range(1, len(quiz.blanks) + 1))
    assert blanks_on(quiz.forward) == []


@pytest.mark.parametrize("kind, expected", [
    ("values", {"value": 8}), ("locals", {"local": 12}), ("grads", {"grad": 12}),
    ("all", {"value": 8, "local": 12, "grad": 12})])
def test_each_kind_blanks_its_quantities(neuron, kind, expected):
    quiz = make_quiz(neuron, kind)
    counts = {}
    for blank in quiz.blanks:
        counts[blank.kind] = counts.get(blank.kind, 0) + 1
    assert counts == expected
    assert [blank.number for blank in quiz.blanks] == list(range(1, len(quiz.blanks) + 1))


def test_locals_are_the_traced_local_derivatives(neuron):
    quiz = make_quiz(neuron, "locals")
    assert [blank.answer for blank in quiz.blanks] == pytest.approx(
        [float(step.local) for step in neuron.backward])


def test_values_are_the_forward_values(neuron):
    quiz = make_quiz(neuron, "values")
    assert [blank.answer for blank in quiz.blanks] == pytest.approx(
        [float(step.value) for step in neuron.forward])
    assert quiz.backward == ()  # the backward pass would give the values away


def test_the_lines_do_not_give_the_blanks_away(neuron):
    """With gradients blanked no gradient's number is in the lines (the upstream is written
    ∂f/∂h6); with values blanked no op's value is."""
    grads = make_quiz(neuron, "grads")
    text = "\n".join(line.text for line in grads.backward[1:])
    for record in neuron.nodes:
        if record.grad is not None and record.id != neuron.output:
            assert f"= {gradtrace_fmt(record.grad)}" not in text, record.id
    assert "∂f/∂h6 ×" in text
    values = make_quiz(neuron, "values")
    text = "\n".join(line.text for line in values.forward)
    for step in neuron.forward:
        assert gradtrace_fmt(step.value) not in text
    assert set(grads.hidden_grads) == {r.id for r in neuron.nodes if r.grad is not None} - {"h8"}
    assert set(values.hidden_values) == {step.node for step in neuron.forward}


def gradtrace_fmt(value):
    from gradtrace.narrate.numbers import fmt

    return fmt(value, 2)


def test_a_quiz_needs_numbers_and_a_kind():
    arrays = gradtrace.explain("sum(x*x)", at={"x": [1.0, 2.0]}, check=False)
    with pytest.raises(UsageError, match="array"):
        make_quiz(arrays, "grads")
    scalar = gradtrace.explain("x*y", at={"x": 1, "y": 2}, check=False)
    with pytest.raises(UsageError, match="grads, locals, values, all"):
        make_quiz(scalar, "everything")
    assert KINDS == ("grads", "locals", "values", "all")


# -- grading --------------------------------------------------------------------------------

def test_right_answers_with_rounding_are_right(neuron):
    quiz = make_quiz(neuron, "grads")
    answers = {blank.number: f"{blank.answer:.2f}" for blank in quiz.blanks}
    result = grade(quiz, answers)
    assert result.right == len(quiz.blanks) and result.first_wrong is None
    assert result.summary == f"{len(quiz.blanks)} of {len(quiz.blanks)} right."


def test_a_flipped_sign_is_named_with_its_step(neuron):
    quiz = make_quiz(neuron, "grads")
    answers = {blank.number: f"{blank.answer:.3f}" for blank in quiz.blanks}
    fourth = quiz.blanks[3]  # h4 ← h5, through the negation
    answers[4] = f"{-fourth.answer:.3f}"
    result = grade(quiz, answers)
    assert result.first_wrong == fourth
    assert fourth.where == "backward step 4, h4 ← h5"
    assert "backward step 4, h4 ← h5" in result.hint and "sign" in result.hint
    assert result.right == len(quiz.blanks) - 1


def test_a_missing_upstream_factor_is_named(neuron):
    quiz = make_quiz(neuron, "grads")
    third = quiz.blanks[2]  # h5 ← h6: upstream -0.53 × local exp(h5) = 0.37
    verdict = judge(third, "0.37")
    assert verdict.status == "wrong" and "missing upstream factor" in verdict.why


@pytest.mark.parametrize("kind", ["grads", "all"])
def test_a_gradient_worked_out_with_the_multiply_gate_s_inputs_swapped_is_named(kind):
    # ∂f/∂x of f = (x·y)·z at x=2, y=-3, z=4: upstream z = 4 times y = -3, not times x = 2
    traced = gradtrace.explain("(x*y)*z", at={"x": 2, "y": -3, "z": 4}, check=False)
    quiz = make_quiz(traced, kind)
    to_x = next(b for b in quiz.blanks if b.kind == "grad" and b.where.endswith("x ← h1"))
    assert to_x.answer == pytest.approx(-12.0)
    verdict = judge(to_x, "8")  # 4 × x
    assert verdict.status == "wrong" and "swaps its inputs" in verdict.why
    assert judge(to_x, "-12").status == "right"


def test_a_forgotten_second_path_is_named(fork):
    quiz = make_quiz(fork, "grads")
    first_sum = next(blank for blank in quiz.blanks if blank.kind == "sum")
    alone = fork.backward[5]  # x ← h3: the second gradient to reach x, on its own
    assert alone.input == "x" and alone.arrival == 2
    verdict = judge(first_sum, f"{float(alone.downstream):.3f}")
    assert verdict.status == "wrong" and "forgot to add a second path" in verdict.why


def test_an_upstream_that_forgot_a_path_is_named():
    """q is used twice: its gradient is a sum, and what it sends on needs all of it."""
    twice = gradtrace.explain("q = a*b; f = 3*exp(q) + 2*q", at={"a": 0.5, "b": 2},
                              check=False)
    quiz = make_quiz(twice, "grads")
    to_a = next(step for step in twice.backward if step.node == "q" and step.input == "a")
    blank = next(b for b in quiz.blanks if b.where.endswith("a ← q"))
    first_share = next(float(s.total) for s in twice.backward if s.input == "q")
    verdict = judge(blank, f"{first_share * float(to_a.local):.4f}")
    assert verdict.status == "wrong" and "forgot to add a second path" in verdict.why
    assert judge(blank, f"{float(to_a.downstream):.4f}").status == "right"


def test_other_wrong_answers_say_what_was_expected(neuron):
    quiz = make_quiz(neuron, "grads")
    assert judge(quiz.blanks[0], "12").why.startswith("not upstream × local")
    assert judge(quiz.blanks[0], "").status == "empty"
    assert judge(quiz.blanks[0], "abc").status == "unreadable"


@pytest.mark.parametrize("typed, value", [
    ("0.53", 0.53), ("-.53", -0.53), ("−0.53", -0.53), ("0,53", 0.53), ("1e-3", 0.001),
    ("1/4", 0.25), (" -2 ", -2.0), ("+3", 3.0)])
def test_answers_are_read_as_people_type_them(typed, value):
    assert read_answer(typed) == pytest.approx(value)


@pytest.mark.parametrize("typed", ["", "x", "1/0", "1..2", "0.5.1", "--1", "1,000,000"])
def test_what_is_not_a_number_is_not_read(typed):
    assert read_answer(typed) is None


def test_tolerance_accepts_rounding_but_not_a_mistake(neuron):
    quiz = make_quiz(neuron, "grads")
    for blank in quiz.blanks:
        assert blank.tolerance >= 0.01 * abs(blank.answer)
        for mistake in blank.mistakes:
            assert abs(mistake.value - blank.answer) > blank.tolerance


# -- the worksheet, the key and the JSON ----------------------------------------------------

def test_the_worksheet_shows_boxes_and_the_key_the_answers(neuron):
    quiz = make_quiz(neuron, "grads")
    text = render_plain(boxed(worksheet(quiz)))
    assert "▢1" in text and "▢12" in text
    key = key_text(quiz, "key.txt")
    assert "backward step 4, h4 ← h5" in key and "0.1966" in key
    document = json.loads(quiz_json(quiz))
    assert document["schema"] == "gradtrace.quiz/1" and len(document["blanks"]) == 12
    assert document["blanks"][3]["mistakes"][0]["code"] == "sign"
    assert key_text(quiz, "key.json") == quiz_json(quiz)
    assert "\\begin{tabular}" in key_text(quiz, "key.tex")
    assert sheet(quiz, "text") == sheet(quiz, "text")


# -- the command ------------------------------------------------------------------------------

runner = CliRunner()
AT = "w0=2,x0=-1,w1=-3,x1=-2,w2=-3"


def test_the_terminal_quiz_grades_each_answer(neuron):
    quiz = make_quiz(neuron, "grads")
    typed = [f"{blank.answer:.3f}" for blank in quiz.blanks]
    typed[3] = f"{-quiz.blanks[3].answer:.3f}"  # a sign slip, then the right answer
    typed.insert(4, f"{quiz.blanks[3].answer:.3f}")
    result = runner.invoke(app, ["quiz", NEURON, "--at", AT], input="\n".join(typed) + "\n")
    assert result.exit_code == 0, result.output
    assert "the sign is wrong" in result.output and "Try once more." in result.output
    assert "Score: 11 of 12 right the first time, 12 with a second try." in result.output


def test_the_terminal_quiz_stops_at_the_end_of_the_input():
    # blanks not reached are not wrong answers: exit 0 (a quiz piped from nothing, too)
    result = runner.invoke(app, ["quiz", NEURON, "--at", AT], input="-0.53\n")
    assert result.exit_code == 0, result.output
    assert "stopped after 1 of 12" in result.output
    assert runner.invoke(app, ["quiz", NEURON, "--at", AT], input="").exit_code == 0


def test_an_answer_that_stays_wrong_exits_1(neuron):
    quiz = make_quiz(neuron, "grads")
    wrong = f"{-quiz.blanks[0].answer:.3f}"
    result = runner.invoke(app, ["quiz", NEURON, "--at", AT], input=f"{wrong}\n{wrong}\n")
    assert result.exit_code == 1, result.output
    assert "The answer is" in result.output


def test_a_seed_gives_each_student_a_point_of_their_own():
    one = runner.invoke(app, ["quiz", "w*x+b", "--seed", "1", "--format", "json"])
    two = runner.invoke(app, ["quiz", "w*x+b", "--seed", "2", "--format", "json"])
    assert one.exit_code == 0 and two.exit_code == 0, one.output + two.output
    assert json.loads(one.output)["point"] != json.loads(two.output)["point"]
    again = runner.invoke(app, ["quiz", "w*x+b", "--seed", "1", "--format", "json"])
    assert again.output == one.output


def test_the_command_writes_the_page_and_the_key(tmp_path):
    page, key = tmp_path / "quiz.html", tmp_path / "key.md"
    result = runner.invoke(app, ["quiz", NEURON, "--at", AT, "--blank", "all", "--format", "text",
                                 "--html", str(page), "--answers", str(key)])
    assert result.exit_code == 0, result.output
    assert "▢32" in result.output
    assert "<input class=\"blank\"" in page.read_text() and "| blank |" in key.read_text()


@pytest.mark.parametrize("args, message", [
    (["--blank", "everything"], "--blank"),
    (["--html", "quiz.txt"], "--html"),
    (["--answers", "/no/such/folder/key.txt"], "--answers"),
])
def test_bad_options_are_clear_messages(args, message):
    result = runner.invoke(app, ["quiz", "x*y", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output


def test_a_quiz_of_arrays_is_refused_clearly():
    result = runner.invoke(app, ["quiz", "sum(x*x)", "--at", "x=[1,2]", "--format", "text"])
    assert result.exit_code == 2 and "array" in result.output, result.output


def test_latex_exam_sheet_has_lines_to_write_on(neuron):
    text = sheet(make_quiz(neuron, "locals"), "latex")
    assert text.count("\\gtblank{") == 12 and "\\begin{align*}" in text
    assert np.isfinite(make_quiz(neuron, "locals").blanks[0].answer)
