"""The catalog of the help pages (`gradtrace_help.po`): every piece `help_text` looks up, and
the update that keeps it whole. Run by hand after changing a command's help (CONTRIBUTING.md):

    .venv/bin/python -m gradtrace.cli.help_catalog

May import: the command modules (to read their help), babel (a test dependency, not needed to
run gradtrace).
"""

from __future__ import annotations

import os

from .help_text import DOMAIN, EXTRA_WORDS, HEADINGS, HELP_OPTION, paragraphs

HEADER = ("# Chinese (zh) help pages of gradtrace (--help), translated by hand in the course notes'\n"
          "# terms (gradtrace/locale/glossary.tsv). How to update: CONTRIBUTING.md.")


def help_messages() -> list[str]:
    """Every piece of every help page, in the order the pages show them, once each."""
    import typer.main

    from . import COMMANDS, app

    root = typer.main.get_command(app)
    found: dict[str, None] = dict.fromkeys(HEADINGS)
    found.update(dict.fromkeys(EXTRA_WORDS.values()))
    found[HELP_OPTION] = None

    def command_pieces(command) -> None:
        for text in (command.help or "", command.epilog or ""):
            found.update(dict.fromkeys(paragraphs(text)))
        for param in command.params:
            help_text = getattr(param, "help", None)
            if help_text:
                found[" ".join(help_text.split())] = None

    command_pieces(root)
    found.update(dict.fromkeys(line for _module, line in COMMANDS.values()))
    for name in COMMANDS:
        command_pieces(root.commands[name])
    return [message for message in found if message]


def update_catalog(path) -> int:
    """Write the catalog at `path` (a .po file) with every piece of help, in page order,
    keeping the translations and the header it has; returns how many pieces lack one."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po, write_po

    try:
        with open(path, "rb") as file:
            old = read_po(file)
    except FileNotFoundError:
        old = Catalog(locale="zh", project="gradtrace", domain=DOMAIN)
    new = Catalog(locale=old.locale, project="gradtrace", version="0.1.0", domain=DOMAIN,
                  header_comment=HEADER, creation_date=old.creation_date,
                  revision_date=old.creation_date, last_translator="gradtrace",
                  language_team=str(old.locale), fuzzy=False)
    missing = 0
    for message in help_messages():
        kept = old.get(message)
        translation = kept.string if kept is not None else ""
        missing += not translation
        new.add(message, translation)
    temporary = f"{path}.partial"
    with open(temporary, "wb") as file:
        write_po(file, new, width=100, omit_header=False, sort_output=False)
    os.replace(temporary, path)
    return missing


if __name__ == "__main__":
    import sys

    from ..core.i18n import LOCALE_DIR

    target = LOCALE_DIR / "zh" / "LC_MESSAGES" / f"{DOMAIN}.po"
    lacking = update_catalog(target)
    print(f"{target}: {lacking} pieces of help without a translation", file=sys.stderr)
