"""The language a reader is told things in, and the catalogs that say them (stdlib gettext).

Text for people is written as whole-sentence templates with named fields and passed through
`_` (or `ngettext` where a number decides the form): `_("{upstream} × {local} = {downstream}",
upstream=..., ...)` looks the template up in the catalog of the current language, then fills
the fields, so word order and plurals are the catalog's business. `N_` marks a template kept
as data (a table of op descriptions, say) for extraction, to be translated where it is shown.
Templates without fields are looked up and returned as they are (no brace escaping).

The language is a context variable: the CLI sets it from --lang before a command runs, the
Python API around a rendering (`trace.to_text(lang="zh")` runs in `language("zh")`). When
neither set it: GRADTRACE_LANG, then the locale (LC_ALL, LC_MESSAGES, LANG; "zh..." is
Chinese), else English. English is the templates themselves; the Chinese catalog is
gradtrace/locale/zh/LC_MESSAGES/gradtrace.mo, compiled from the .po beside it (see
CONTRIBUTING.md for the Babel commands).

Engine text that is kept in records and shown later (a step's problem, a check's note) is a
`Message`: a str in the language current when it was made that remembers its template, so a
renderer in another language says it again with `again`.
"""

from __future__ import annotations

import contextlib
import contextvars
import gettext
import os
from pathlib import Path

LANGUAGES = ("en", "zh")
DOMAIN = "gradtrace"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")  # POSIX order: the first set one wins

_chosen: contextvars.ContextVar[str | None] = contextvars.ContextVar("gradtrace_language",
                                                                     default=None)
_catalogs: dict[str, gettext.NullTranslations] = {}


class UnknownLanguage(ValueError):
    """A language gradtrace has no catalog for; the message names the choices."""


def normalise(lang: str) -> str:
    """'zh', 'zh_CN', 'zh-Hans', 'ZH' → 'zh'; UnknownLanguage for anything else."""
    code = lang.strip().replace("-", "_").split("_")[0].split(".")[0].lower()
    if code not in LANGUAGES:
        raise UnknownLanguage(f"{lang!r} is not a language gradtrace speaks; choose "
                              f"{' or '.join(LANGUAGES)}")
    return code


def from_environment(environ=None) -> str:
    """GRADTRACE_LANG when set (it must name a language: UnknownLanguage otherwise), else the
    locale's language when it is Chinese, else English."""
    environ = os.environ if environ is None else environ
    asked = environ.get("GRADTRACE_LANG", "").strip()
    if asked:
        return normalise(asked)
    for variable in LOCALE_VARIABLES:
        value = environ.get(variable, "").strip()
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def current() -> str:
    """The language text is told in now."""
    chosen = _chosen.get()
    if chosen is not None:
        return chosen
    try:
        return from_environment()
    except UnknownLanguage:
        return "en"  # the CLI refuses a bad GRADTRACE_LANG; the library just speaks English


def choose(lang: str | None) -> None:
    """Set the language for the rest of this context (the CLI, once, before a command)."""
    _chosen.set(None if lang is None else normalise(lang))


@contextlib.contextmanager
def language(lang: str | None):
    """Tell everything inside in `lang` ("en", "zh"); None keeps the language as it is."""
    if lang is None:
        yield current()
        return
    token = _chosen.set(normalise(lang))
    try:
        yield _chosen.get()
    finally:
        _chosen.reset(token)


def catalog(lang: str | None = None) -> gettext.NullTranslations:
    """The translations of `lang` (the current language by default), read once."""
    lang = current() if lang is None else lang
    if lang not in _catalogs:
        if lang == "en":
            _catalogs[lang] = gettext.NullTranslations()
        else:
            _catalogs[lang] = gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang],
                                                  fallback=True)
    return _catalogs[lang]


def _(template: str, **fields) -> str:
    """The template in the current language, its named fields filled in."""
    text = catalog().gettext(template)
    return text.format(**fields) if fields else text


def ngettext(singular: str, plural: str, n: int, **fields) -> str:
    """The form for `n` (one path, 3 paths) in the current language, fields filled in."""
    text = catalog().ngettext(singular, plural, n)
    return text.format(**fields) if fields else text


def N_(template: str) -> str:
    """Mark a template for the catalog without translating it here: data shown later."""
    return template


class Message(str):
    """Text in the language current when it was made, that keeps its template and fields so
    it can be said again in another (`again`)."""

    template: str
    fields: dict

    def __new__(cls, template: str, **fields):
        made = super().__new__(cls, _(template, **fields))
        made.template, made.fields = template, fields
        return made

    def again(self) -> str:
        return _(self.template, **{key: again(value) for key, value in self.fields.items()})

    def __reduce__(self):
        return (_remade, (self.template, self.fields))


def _remade(template: str, fields: dict) -> Message:
    return Message(template, **fields)


def message(template: str, **fields) -> Message:
    """A Message: _(template, **fields) now, said again in the language of a later reading."""
    return Message(template, **fields)


class Joined(str):
    """Texts said one after another ("a; b", "a and b"), each said again (with the separator)
    in a later language by `again`."""

    parts: tuple
    separator: str

    def __new__(cls, parts, separator: str = "; "):
        parts = tuple(part for part in parts if part)
        made = super().__new__(cls, _(separator).join(parts))
        made.parts, made.separator = parts, separator
        return made

    def again(self) -> str:
        return _(self.separator).join(again(part) for part in self.parts)

    def __reduce__(self):
        return (Joined, (self.parts, self.separator))


def again(text):
    """A Message (or Joined texts) said in the current language; any other value as it is."""
    return text.again() if isinstance(text, (Message, Joined)) else text


def data(text):
    """A template kept as data (marked with N_) said in the current language; None and ""
    as they are. Fields are not filled: such text has none."""
    if not text:
        return text
    return catalog().gettext(text)


def join_list(items, last: str = "or") -> str:
    """'a, b or c' ('a、b 或 c'): the items as one list in a sentence."""
    items = [str(item) for item in items]
    if len(items) <= 1:
        return "".join(items)
    joined = _("{items} or {last}", items=_(", ").join(items[:-1]), last=items[-1]) \
        if last == "or" else \
        _("{items} and {last}", items=_(", ").join(items[:-1]), last=items[-1])
    return joined
