"""Hypothesis draws the same examples on every run by default, so CI cannot flake on a lucky draw.

Set HYPOTHESIS_PROFILE=explore to draw fresh examples each run when hunting for new failures.
"""
import os

from hypothesis import settings

settings.register_profile("repeatable", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))
