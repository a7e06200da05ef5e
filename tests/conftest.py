"""Hypothesis draws the same examples on every run by default, so CI cannot flake on a lucky draw.

Set HYPOTHESIS_PROFILE=explore to draw fresh examples each run when hunting for new failures.
"""
import os

import pytest

from hypothesis import settings

settings.register_profile("repeatable", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

# The time budget refuses long work by the pace it measures: on a loaded test machine a test's
# ordinary command must not become a refusal. Tests of the refusal ask for far more than this
# (hours of work), or set --max-seconds themselves.
os.environ.setdefault("GRADTRACE_MAX_SECONDS", "3600")
# The expected outputs are English whatever the machine's locale (LANG=zh_CN.UTF-8 would make
# them Chinese); tests/test_i18n.py chooses the language itself where it tests it.
os.environ["GRADTRACE_LANG"] = "en"


# Tests that need PyTorch (an oracle), Chromium (browser tests), pdflatex or a CJK font skip
# without them, with a reason saying how to get them. CI installs them all and sets
# GRADTRACE_EXTRAS_INSTALLED=1, so there such a skip is a failure: those tests must really run.
EXTRAS = ("PyTorch", "Chromium", "Playwright", "pdflatex", "gradtrace[cjk]", "layout engine")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    report = (yield).get_result()
    if not (report.skipped and os.environ.get("GRADTRACE_EXTRAS_INSTALLED")):
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    if any(extra in reason for extra in EXTRAS):
        report.outcome = "failed"
        report.longrepr = f"skipped although CI installed the extras: {reason}"
