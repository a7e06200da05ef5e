"""The story of `gradtrace gradcheck`: one row per tensor, analytic against numeric."""

from __future__ import annotations

from .blocks import Section, Table
from .numbers import fmt, shape_text


def gradcheck_sections(result) -> list[Section]:
    rows = tuple((check.name, shape_text(check.shape), fmt(check.max_difference, 2),
                  fmt(check.relative_error, 2), "pass" if check.passed else "FAIL")
                 for check in result.tensors)
    table = Table(("tensor", "shape", "max |analytic − numeric|", "relative error", ""),
                  ("name", "", "number", "number", ""), rows)
    attrs = ", ".join(f"{k}={v}" for k, v in sorted(result.attrs.items()))
    verdict = ("Every gradient agrees with finite differences." if result.passed else
               "A gradient disagrees with finite differences: the VJP rule is wrong.")
    intro = (f"Output shape {shape_text(result.output_shape)}; float64, h = {result.step:g}, "
             f"pass below relative error {result.tolerance:g}.")
    title = f"gradcheck {result.layer}" + (f" ({attrs})" if attrs else "")
    return [Section(title, (intro, table, verdict))]
