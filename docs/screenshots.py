"""The README's screenshots of the interactive page, made in headless Chromium (as the browser
tests run it): the sigmoid neuron at its start, in the middle of the backward pass with a node
opened, and as a quiz with a sign slip graded.

    .venv/bin/python docs/screenshots.py        # writes docs/page-*.png
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

NEURON = "1/(1+exp(-(w0*x0+w1*x1+w2)))"
AT = {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3}
SIZE = {"width": 1280, "height": 760}


def main() -> None:
    import gradtrace
    from browser import ARGS, chromium_path, skip_reason
    from gradtrace.narrate.quiz import make_quiz
    from gradtrace.render.html import trace_page, write_page
    from playwright.sync_api import sync_playwright

    reason = skip_reason()
    if reason:
        raise SystemExit(reason)
    trace = gradtrace.explain(NEURON, at=AT)
    quiz = make_quiz(trace, "grads")
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        page_file = write_page(trace_page(trace), Path(folder) / "neuron.html")
        quiz_file = write_page(trace_page(trace, 2, quiz), Path(folder) / "quiz.html")
        browser = playwright.chromium.launch(executable_path=chromium_path(), headless=True,
                                             args=ARGS)
        page = browser.new_page(viewport=SIZE)
        page.goto(page_file.as_uri())
        page.screenshot(path=str(HERE / "page-start.png"))
        page.goto(page_file.as_uri() + "#step=14")
        page.reload()
        page.click('#graph [data-k="h5"]')
        page.wait_for_timeout(200)
        page.screenshot(path=str(HERE / "page-backward.png"))
        page.goto(quiz_file.as_uri())
        for blank in quiz.blanks:
            typed = -blank.answer if blank.number == 4 else blank.answer
            page.fill(f'input.blank[data-b="{blank.number}"]', f"{typed:.2f}")
        page.click("#check")
        page.wait_for_timeout(300)
        page.screenshot(path=str(HERE / "page-quiz.png"))
        browser.close()
    for name in ("page-start", "page-backward", "page-quiz"):
        print(f"wrote {HERE / name}.png")


if __name__ == "__main__":
    main()
