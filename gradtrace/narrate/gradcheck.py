"""The story of `gradtrace gradcheck`: one row per tensor, analytic against numeric."""

from __future__ import annotations

from .blocks import Section, Table
from .numbers import fmt, shape_text


def gradcheck_sections(result) -> list[Section]:
    rows = tuple((check.name, shape_text(check.shape), fmt(check.max_difference, 2),
                  fmt(check.relative_error, 2), check.status)
                 for check in result.tensors)
    table = Table(("tensor", "shape", "max |analytic − numeric|", "relative error", ""),
                  ("name", "", "number", "number", ""), rows)
    attrs = ", ".join(f"{k}={v}" for k, v in sorted(result.attrs.items()))
    intro = (f"Output shape {shape_text(result.output_shape)}; float64, h = {result.step:g}, "
             f"pass below relative error {result.tolerance:g}.")
    if result.inputs_note:
        intro += f" Inputs: {result.inputs_note}."
    title = f"gradcheck {result.layer}" + (f" ({attrs})" if attrs else "")
    return [Section(title, (intro, table, *_notes(result), _verdict(result)))]


def _notes(result) -> list[str]:
    """Per tensor: elements where h was too large, and elements that could not be checked."""
    notes = []
    for check in result.tensors:
        size = max(1, _size(check.shape))
        if check.settled_elements:
            notes.append(f"{check.name}: h = {result.step:g} was too large for "
                         f"{check.settled_elements} of {size} elements (the function bends on "
                         "a smaller scale there); a step small enough was used for them.")
        if check.not_checked:
            notes.append(f"{check.name}: not checked, because "
                         f"{check.not_checked.split('because ', 1)[-1]}." if check.status ==
                         "not checked" else f"{check.name}: {check.not_checked}.")
    return notes


def _verdict(result) -> str:
    statuses = [check.status for check in result.tensors]
    if "FAIL" in statuses:
        return "A gradient disagrees with finite differences: the VJP rule is wrong."
    if "not checked" in statuses:
        unchecked = ", ".join(check.name for check in result.tensors
                              if check.status == "not checked")
        return (f"No gradient disagrees with finite differences, but {unchecked} could not be "
                "checked here (see above).")
    return "Every gradient agrees with finite differences."


def _size(shape) -> int:
    size = 1
    for n in shape:
        size *= n
    return size
