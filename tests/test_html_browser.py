"""The interactive page in a real headless Chromium (Playwright): stepped with the keyboard,
the buttons and the slider, opened at a step from its address, nodes clicked, a quiz typed in
and graded; and never a request beyond the file itself. Skips, saying how to get a browser,
where Playwright or Chromium is missing (tests/browser.py)."""

import re

import pytest
from typer.testing import CliRunner

import gradtrace
from browser import Opened, browser  # noqa: F401  (browser: the fixture)
from gradtrace.cli import app
from gradtrace.narrate.quiz import make_quiz
from gradtrace.render.html import trace_page, write_page

NEURON = "1/(1+exp(-(w0*x0+w1*x1+w2)))"
NEURON_AT = "w0=2,x0=-1,w1=-3,x1=-2,w2=-3"
runner = CliRunner()


def squeeze(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def text_lines(output: str, title: str) -> list[str]:
    lines = output.split("\n")
    found = []
    for line in lines[lines.index(title) + 1:]:
        if not line.strip():
            break
        if line.startswith("  "):
            found.append(squeeze(line))
    return found


@pytest.fixture(scope="module")
def neuron_page(tmp_path_factory):
    path = tmp_path_factory.mktemp("pages") / "neuron.html"
    result = runner.invoke(app, ["explain", NEURON, "--at", NEURON_AT, "--format", "text"])
    assert result.exit_code == 0, result.output
    trace = gradtrace.explain(NEURON, at={"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3})
    write_page(trace_page(trace), path)
    return path, result.output


@pytest.fixture
def opened(browser, neuron_page):  # noqa: F811
    view = Opened(browser, neuron_page[0])
    yield view
    assert view.errors == [], view.errors
    assert view.requests == [view.url.split("#")[0]], view.requests  # the file, nothing else
    view.close()


def wait_until(page, expression: str, seconds: float = 30):
    """Poll `expression` until it is true (the page's policy forbids the eval that
    wait_for_function uses); a generous limit: this waits for an event, it times nothing."""
    for _ in range(int(seconds * 20)):
        if page.evaluate(expression):
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"never true: {expression}")


def stop(page) -> int:
    return page.evaluate("window.gradtrace.current()")


def classes(page, name: str) -> set[str]:
    return set(page.eval_on_selector(f'#graph [data-k="{name}"]', "e => e.getAttribute('class')")
               .split())


def test_stepping_with_the_keyboard_shows_every_line_of_the_text_output(opened, neuron_page):
    """Acceptance: from start to end with →, the same lines as the text output, in order."""
    page = opened.open()
    expected = text_lines(neuron_page[1], "Forward pass") + text_lines(neuron_page[1],
                                                                       "Backward pass")
    shown = []
    last = page.evaluate("window.gradtrace.last")
    for _ in range(last):
        page.keyboard.press("ArrowRight")
        shown.append(squeeze(page.inner_text("#now .said")))
    assert shown == expected
    page.keyboard.press("ArrowRight")  # past the end: stays
    assert stop(page) == last


def test_a_forward_step_lights_its_node_and_shows_its_value(opened):
    page = opened.open()
    assert page.is_hidden('#graph [data-k="h3"] text.v')
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    assert page.inner_text("#now .label") == "Forward step 3 of 8: h3"
    assert {"now", "now-f"} <= classes(page, "h3") and "now" in classes(page, "h1->h3 op")
    assert page.is_visible('#graph [data-k="h3"] text.v')
    assert page.text_content('#graph [data-k="h3"] text.v') == "4.00"
    assert page.is_hidden('#graph [data-k="h4"] text.v')  # not computed yet
    assert page.is_hidden('#graph [data-k="h3"] text.g')  # no gradient yet


def test_a_backward_step_lights_its_edge_and_shows_the_gradient(opened):
    page = opened.open("#step=13")
    assert stop(page) == 13
    assert page.inner_text("#now .label") == "Backward step 4 of 12: h4 ← h5"
    assert squeeze(page.inner_text("#now .said")).startswith("h4 ← h5: -0.20 × (-1) = 0.20")
    edge = classes(page, "h4->h5 op")
    assert {"now", "now-b", "back"} <= edge
    assert "now" not in classes(page, "h3->h4 op")
    assert page.text_content('#graph [data-k="h4"] text.g') == "0.20"
    assert page.is_visible('#graph [data-k="h4"] text.g')
    assert page.is_hidden('#graph [data-k="h3"] text.g')  # reached at the next step
    assert page.get_attribute("#s13", "aria-current") == "step"


def test_controls_and_the_address_move_between_steps(opened):
    page = opened.open()
    page.keyboard.press("End")
    assert stop(page) == 21 and page.url.endswith("#step=21")
    page.keyboard.press("Home")
    assert stop(page) == 0
    page.click("#next")
    page.click("#next")
    page.click("#prev")
    assert stop(page) == 1 and page.url.endswith("#step=1")
    page.fill("#slider", "17")
    page.dispatch_event("#slider", "input")
    assert stop(page) == 17 and page.input_value("#slider") == "17"
    page.click("#last")
    assert stop(page) == 21
    page.click("#first")
    assert stop(page) == 0
    page.click("#s5")  # a line of the story
    assert stop(page) == 5
    page.evaluate("location.hash = '#step=9'")
    wait_until(page, "window.gradtrace.current() === 9")
    assert page.inner_text("#counter") == "9 / 21"


def test_space_plays_and_pauses(opened):
    page = opened.open("#step=2")
    page.select_option("#speed", "4")
    page.keyboard.press(" ")
    assert page.get_attribute("#play", "aria-pressed") == "true"
    wait_until(page, "window.gradtrace.current() > 2")  # it moves on by itself
    page.keyboard.press(" ")
    assert page.get_attribute("#play", "aria-pressed") == "false"
    paused_at = stop(page)
    page.wait_for_timeout(600)  # more than two steps at 4 steps/s
    assert stop(page) == paused_at


def test_clicking_a_node_shows_its_details_and_paths(opened):
    page = opened.open()
    page.click('#graph [data-k="h5"]')
    detail = page.inner_text("#detail")
    assert "h5 = -h4" in detail and "op neg" in detail
    assert "-1.00" in detail and "-0.20" in detail
    assert "∂h5/∂h4 = -1" in detail
    assert "1 chain-rule path" in detail
    assert "chosen" in classes(page, "h5")
    for name in ("h6", "h8", "h6 op", "h5->h6 op", "h8 op->h8"):
        assert "path" in classes(page, name), name
    assert "path" not in classes(page, "h4")
    page.click("#detail .close")
    assert page.is_hidden("#detail") and "path" not in classes(page, "h6")
    page.focus('#graph [data-k="w0"]')
    page.keyboard.press("Enter")
    assert "an input" in page.inner_text("#detail") and "-0.20" in page.inner_text("#detail")


def test_controls_have_accessible_names(opened):
    page = opened.open()
    for control in ("#first", "#prev", "#play", "#next", "#last", "#slider", "#zoom-in"):
        assert page.get_attribute(control, "aria-label"), control
    assert page.get_attribute("#now", "aria-live") == "polite"
    assert page.get_attribute('#graph [data-k="h3"]', "role") == "button"


def test_a_narrow_window_puts_the_graph_above_the_story(browser, neuron_page):  # noqa: F811
    view = Opened(browser, neuron_page[0], width=480, height=900)
    page = view.open()
    graph, story = page.locator("#graph").bounding_box(), page.locator("#story").bounding_box()
    assert graph["y"] + graph["height"] <= story["y"] + 1
    assert graph["width"] <= 480
    view.close()


def test_printing_hides_the_controls_and_shows_everything(opened):
    page = opened.open()
    page.emulate_media(media="print")
    assert page.is_hidden("#controls")
    assert page.evaluate("getComputedStyle(document.querySelector("
                         "'#graph [data-k=\"h8\"] text.g')).visibility") == "visible"


QUIZ_AT = {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3}


@pytest.fixture(scope="module")
def quiz_page(tmp_path_factory):
    path = tmp_path_factory.mktemp("pages") / "quiz.html"
    trace = gradtrace.explain(NEURON, at=QUIZ_AT, check=False)
    quiz = make_quiz(trace, "grads")
    write_page(trace_page(trace, 2, quiz), path)
    return path, quiz


def test_a_quiz_marks_right_answers_right(browser, quiz_page):  # noqa: F811
    path, quiz = quiz_page
    view = Opened(browser, path)
    page = view.open()
    for blank in quiz.blanks:
        page.fill(f'input.blank[data-b="{blank.number}"]', f"{blank.answer:.2f}")
    page.click("#check")
    assert page.inner_text("#grade") == "12 of 12 right."
    assert page.locator("input.blank.right").count() == 12
    assert view.errors == [] and view.requests == [view.url]
    view.close()


def test_a_quiz_names_the_step_of_a_sign_slip(browser, quiz_page):  # noqa: F811
    """Acceptance: a sign-flipped answer is marked wrong with the hint naming the step."""
    path, quiz = quiz_page
    view = Opened(browser, path)
    page = view.open()
    for blank in quiz.blanks:
        typed = -blank.answer if blank.number == 4 else blank.answer
        page.fill(f'input.blank[data-b="{blank.number}"]', f"{typed:.3f}".replace("-", "−"))
    page.press('input.blank[data-b="12"]', "Enter")  # Enter checks too
    grade = page.inner_text("#grade")
    assert grade.startswith("11 of 12 right. The first wrong step is backward step 4, h4 ← h5")
    assert "the sign is wrong" in grade
    assert "wrong" in page.get_attribute('input.blank[data-b="4"]', "class")
    assert stop(page) == quiz.blanks[3].line + 1 + 8 and "first-wrong" in page.get_attribute(
        f"#s{stop(page)}", "class")
    # the picture does not give the answers away
    assert page.text_content('#graph [data-k="h4"] text.g') == "?"
    page.click("#clear")
    assert page.input_value('input.blank[data-b="4"]') == "" and page.inner_text("#grade") == ""
    view.close()


def test_the_layers_page_steps_layer_by_layer(browser, tmp_path):  # noqa: F811
    path = tmp_path / "mlp.html"
    from test_html_page import layer_result

    from gradtrace.render.page_layers import layers_page

    write_page(layers_page(layer_result("mlp"), "MLP 4-5-5-3", 2), path)
    view = Opened(browser, path)
    page = view.open("#step=1")
    assert page.inner_text("#now .label").startswith("Forward, layer 1 of 6: fc1 (linear)")
    assert "now" in page.eval_on_selector('#graph [data-k="h1"]', "e => e.getAttribute('class')")
    page.keyboard.press("End")
    assert page.inner_text("#now .label").startswith("Backward, layer 6 of 6: fc1 — ‖∂L/∂output‖")
    assert "now" in page.eval_on_selector('[data-k="spark h1"]', "e => e.getAttribute('class')")
    page.click('#graph [data-k="h3"]')
    detail = page.inner_text("#detail")
    assert "fc2" in detail and "its 1 op" in detail and "h3 = linear(" in detail
    assert "W2 ← h3: grad_W2" in detail  # its backward line, with the VJP
    assert view.errors == [] and view.requests == [view.url.split("#")[0]]
    view.close()
