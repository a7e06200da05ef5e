"""`gradtrace glossary --format json`: schema gradtrace.glossary/1, the terms found."""

from __future__ import annotations

from .json import dumps


def glossary_json(found, query: str = "") -> str:
    return dumps({"schema": "gradtrace.glossary/1", "query": query,
                  "terms": [{"english": term.english, "chinese": term.chinese,
                             "sources": list(term.sources)} for term in found]})
