"""A real headless Chromium for the page's tests, through Playwright for Python.

Playwright's own browser download is not available everywhere, so the system Chromium is
launched through `executable_path`: GRADTRACE_CHROMIUM names one, else the first of
CHROMIUM_NAMES on PATH. Without Playwright or without a Chromium the browser tests skip and
say how to get them (`skip_reason`)."""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", "--disable-default-apps"]
HOW = ("the browser tests need Playwright for Python and a Chromium: "
       "`.venv/bin/pip install playwright` and `apt-get install chromium` (Debian; or set "
       "GRADTRACE_CHROMIUM to a Chromium or Chrome binary)")


def chromium_path() -> str | None:
    named = os.environ.get("GRADTRACE_CHROMIUM")
    if named:
        return named if os.path.exists(named) else None
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def skip_reason() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed: " + HOW
    if chromium_path() is None:
        return "no Chromium found: " + HOW
    return None


@pytest.fixture(scope="module")
def browser():
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path(), headless=True,
                                              args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


class Opened:
    """A page opened from a file, with every request it made and every script error."""

    def __init__(self, browser, path, width: int = 1280, height: int = 800):
        self.context = browser.new_context(viewport={"width": width, "height": height})
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", lambda message: message.type == "error"
                     and self.errors.append(message.text))
        self.url = path.resolve().as_uri()

    def open(self, fragment: str = ""):
        self.page.goto(self.url + fragment)
        for _ in range(600):  # the page's policy forbids the eval wait_for_function uses
            if self.page.evaluate("window.gradtrace !== undefined"):
                break
            self.page.wait_for_timeout(50)
        return self.page

    def close(self):
        self.context.close()
