"""The story of `gradtrace gradcheck`: one row per tensor, analytic against numeric."""

from __future__ import annotations

from ..core.i18n import N_, _, again
from .blocks import Section, Table
from .numbers import fmt, shape_text


def gradcheck_sections(result) -> list[Section]:
    rows = tuple((check.name, shape_text(check.shape), fmt(check.max_difference, 2),
                  fmt(check.relative_error, 2), _(STATUS_WORDS.get(check.status, check.status)))
                 for check in result.tensors)
    table = Table((_("tensor"), _("shape"), _("max |analytic − numeric|"), _("relative error"),
                   ""), ("name", "", "number", "number", ""), rows)
    attrs = ", ".join(f"{k}={v}" for k, v in sorted(result.attrs.items()))
    intro = _("Output shape {shape}; float64, h = {step}, pass below relative error "
              "{tolerance}.", shape=shape_text(result.output_shape), step=f"{result.step:g}",
              tolerance=f"{result.tolerance:g}")
    if result.inputs_note:
        intro += _(" Inputs: {note}.", note=again(result.inputs_note))
    title = f"gradcheck {result.layer}" + (f" ({attrs})" if attrs else "")
    return [Section(title, (intro, table, *_notes(result), _verdict(result)), "gradcheck")]


# the statuses of a checked tensor (data: JSON keeps them) as a reader is told them
STATUS_WORDS = {"pass": N_("pass"), "FAIL": N_("FAIL"), "not checked": N_("not checked")}


def _notes(result) -> list[str]:
    """Per tensor: elements where h was too large, and elements that could not be checked."""
    notes = []
    for check in result.tensors:
        size = max(1, _size(check.shape))
        if check.settled_elements:
            notes.append(_("{name}: h = {step} was too large for {count} of {size} elements "
                           "(the function bends on a smaller scale there); a step small enough "
                           "was used for them.", name=check.name, step=f"{result.step:g}",
                           count=check.settled_elements, size=size))
        if check.not_checked and check.status == "not checked":
            notes.append(_("{name}: not checked, because {reasons}.", name=check.name,
                           reasons=_reasons(check.not_checked)))
        elif check.not_checked:
            notes.append(_("{name}: {note}.", name=check.name, note=again(check.not_checked)))
    return notes


def _reasons(not_checked) -> str:
    """The reasons of "N of M elements not checked, because ...", said again."""
    fields = getattr(not_checked, "fields", None)
    if fields and "reasons" in fields:
        return again(fields["reasons"])
    return str(not_checked).split("because ", 1)[-1]


def _verdict(result) -> str:
    statuses = [check.status for check in result.tensors]
    if "FAIL" in statuses:
        return _("A gradient disagrees with finite differences: the VJP rule is wrong.")
    if "not checked" in statuses:
        unchecked = ", ".join(check.name for check in result.tensors
                              if check.status == "not checked")
        return _("No gradient disagrees with finite differences, but {names} could not be "
                 "checked here (see above).", names=unchecked)
    return _("Every gradient agrees with finite differences.")


def _size(shape) -> int:
    size = 1
    for n in shape:
        size *= n
    return size
