"""The interactive page of a 1,000-node trace, measured in the browser the tests use (a
benchmark, not a test: it prints figures and never fails).

The trace is (tanh(w0*x0+b0) + ... )**2 with 140 terms: about 980 nodes, as many backward
steps, drawn whole (render.dot draws up to 1,000 nodes). Printed:

- the page's size in bytes (goal: under 2 MB), and how much of it is the SVG, the data and
  the script;
- the time to make it in Python (the trace, the story, the Graphviz layout: a cost of the
  command, not of the page);
- in headless Chromium, from file://: the time from navigation until the page is ready
  (read, its script run, the first step painted; goal: under 1 s), and what one
  step costs: ArrowRight pressed repeatedly, the time from the key to the next painted frame
  (goal: under 50 ms), plus End and Home, the longest jumps.

    .venv/bin/python bench/bench_html.py [--terms 140] [--steps 40]

Needs Playwright and a Chromium (tests/browser.py says where they come from).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

GOALS = {"bytes": 2_000_000, "open": 1.0, "step": 0.050}

# The time from the key to the end of the frame that paints the step: the key's handler, style,
# layout and paint, and the wait for that frame (at 60 frames a second, up to 17 ms of it is
# waiting for the screen). "script" is the handler alone, up to a forced style and layout.
STEP_PROBE = """async (key) => {
  const before = window.gradtrace.current();
  const start = performance.now();
  document.dispatchEvent(new KeyboardEvent("keydown", {key, bubbles: true}));
  const handled = performance.now();
  document.body.offsetHeight;
  const laidOut = performance.now();
  await new Promise(r => requestAnimationFrame(() => {
    const channel = new MessageChannel();
    channel.port1.onmessage = r;
    channel.port2.postMessage(0);
  }));
  return [performance.now() - start, laidOut - start, window.gradtrace.current() !== before];
}"""


# when the frame after the script's first step has been painted, since navigation started
PAINTED = """() => new Promise(r => requestAnimationFrame(() => {
  const channel = new MessageChannel();
  channel.port1.onmessage = () => r(performance.now());
  channel.port2.postMessage(0);
}))"""


def make_page(terms: int, folder: Path) -> tuple[Path, int, float, dict]:
    import gradtrace
    from gradtrace.render.html import trace_page, write_page

    expression = "(" + "+".join(f"tanh(w{i}*x{i}+b{i})" for i in range(terms)) + ")**2"
    start = time.perf_counter()
    trace = gradtrace.explain(expression, check=False)
    page = trace_page(trace)
    made = time.perf_counter() - start
    path = write_page(page, folder / "big.html")
    svg = page.index("</figure>") - page.index('<figure id="graph"')
    data = page.index("</script>", page.index('id="gt-data"')) - page.index('id="gt-data"')
    script = len(page) - page.rindex("<script>")
    parts = {"svg": svg, "data": data, "script": script, "rest": len(page) - svg - data - script}
    return path, len(trace.nodes), made, parts


def measure(path: Path, steps: int) -> dict:
    from browser import ARGS, chromium_path, skip_reason
    from playwright.sync_api import sync_playwright

    reason = skip_reason()
    if reason:
        raise SystemExit(reason)
    figures: dict = {"open": [], "step": [], "script": [], "jump": []}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), headless=True,
                                             args=ARGS)
        for _ in range(3):
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            page = context.new_page()
            requests: list[str] = []
            page.on("request", lambda request, found=requests: found.append(request.url))
            page.goto(path.as_uri(), wait_until="load")
            while not page.evaluate("window.gradtrace !== undefined"):
                page.wait_for_timeout(10)
            ready = page.evaluate(PAINTED)
            figures["open"].append(ready / 1000)
            figures["requests"] = requests
            context.close()
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.goto(path.as_uri())
        while not page.evaluate("window.gradtrace !== undefined"):
            page.wait_for_timeout(10)
        for _ in range(steps):
            elapsed, script, _ = page.evaluate(STEP_PROBE, "ArrowRight")
            page.wait_for_timeout(30)  # the scrolling that follows a step, out of the way
            figures["step"].append(elapsed / 1000)
            figures["script"].append(script / 1000)
        for key in ("End", "Home", "End", "Home"):
            elapsed, _, _ = page.evaluate(STEP_PROBE, key)
            page.wait_for_timeout(30)
            figures["jump"].append(elapsed / 1000)
        context.close()
        browser.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--terms", type=int, default=140)
    parser.add_argument("--steps", type=int, default=40)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path, nodes, made, parts = make_page(options.terms, Path(folder))
        size = path.stat().st_size
        print(f"trace: {nodes} nodes; page made in Python in {made:.2f} s")
        print(f"page: {size:,} bytes (goal < {GOALS['bytes']:,}): "
              + ", ".join(f"{name} {count:,}" for name, count in parts.items()))
        figures = measure(path, options.steps)
    opened = statistics.median(figures["open"])
    step = statistics.median(figures["step"])
    worst = max(figures["step"])
    jump = max(figures["jump"])
    print(f"open (navigation to the first step drawn), median of 3: {opened * 1000:.0f} ms "
          f"(goal < {GOALS['open'] * 1000:.0f} ms)")
    print(f"one step (key to the next frame), median of {len(figures['step'])}: "
          f"{step * 1000:.1f} ms, slowest {worst * 1000:.1f} ms (goal < {GOALS['step'] * 1000:.0f} ms)")
    print(f"  of which the key's handler, style and layout: median "
          f"{statistics.median(figures['script']) * 1000:.1f} ms")
    print(f"End / Home (every element redrawn), slowest: {jump * 1000:.1f} ms")
    others = [url for url in figures["requests"] if not url.startswith("file://")]
    print(f"requests other than the file: {len(others)}")


if __name__ == "__main__":
    main()
