"""The story of `gradtrace glossary`: the terms as a table, English beside Chinese, with the
course notes that use each Chinese term."""

from __future__ import annotations

from ..core.glossary import Term
from ..core.i18n import N_, _
from .blocks import Section, Table

# what each source of the glossary is, for the line under the table
SOURCES = {"d2l": N_("《动手学深度学习》 (d2l) notes"),
           "cs231n": N_("CS231n notes"),
           "nndl": N_("《神经网络与深度学习》 (nndl) slides"),
           "dlfs": N_("《深度学习入门：基于Python的理论与实践》 (dlfs) notes")}


def glossary_sections(found: tuple[Term, ...], query: str = "") -> list[Section]:
    rows = tuple((term.english, term.chinese, ", ".join(term.sources)) for term in found)
    table = Table((_("English"), _("Chinese"), _("notes")), ("name", "name", ""), rows)
    title = _("Glossary: {query}", query=query) if query else _("Glossary")
    sources = _("Notes: {sources}.", sources=_("; ").join(
        f"{key} = {_(text)}" for key, text in SOURCES.items()))
    return [Section(title, (table, sources), "glossary")]
