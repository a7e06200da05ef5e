"""The glossary: the course notes' Chinese terms with their English counterparts, read from
gradtrace/locale/glossary.tsv (English, Chinese, the notes that use the Chinese term). The
Chinese catalog uses exactly these terms; `gradtrace glossary` shows and searches them."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import NamedTuple

GLOSSARY_FILE = Path(__file__).resolve().parent.parent / "locale" / "glossary.tsv"


class Term(NamedTuple):
    english: str
    chinese: str
    sources: tuple[str, ...]  # the notes that use the Chinese term: d2l, cs231n, nndl, dlfs


@functools.cache
def terms() -> tuple[Term, ...]:
    """Every term, in the file's order (lines starting with # are comments)."""
    found = []
    for line in GLOSSARY_FILE.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        english, chinese, sources = line.split("\t")
        found.append(Term(english, chinese, tuple(part.strip() for part in sources.split(","))))
    return tuple(found)


def lookup(query: str) -> tuple[Term, ...]:
    """The terms whose English (any letter case) or Chinese holds `query`, in either direction:
    "梯度" finds 梯度, 上游梯度, 梯度下降...; "gradient" finds gradient, upstream gradient..."""
    wanted = query.strip().casefold()
    if not wanted:
        return terms()
    return tuple(term for term in terms()
                 if wanted in term.english.casefold() or wanted in term.chinese)
