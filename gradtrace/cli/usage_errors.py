"""The option parser's own errors (typer's click: an unknown option, a value not among the
choices, a number out of range, an extra argument) said in the reader's language.

The parser writes its sentences in English, already filled in. Each sentence it can write is
matched whole here, its fields taken out and said again with a template of the catalog; a
sentence not known here (another typer version) is shown as the parser wrote it. In English
nothing is touched: the parser's own output, byte for byte.
"""

from __future__ import annotations

import re
import sys

import typer

from ..core import i18n
from ..core.errors import clip_runs
from ..core.i18n import N_, _

# Sentences of the parser, most specific first: (pattern, template). A field named `message`
# holds a sentence of its own, said again with this table.
SENTENCES = tuple((re.compile(pattern, re.DOTALL), template) for pattern, template in (
    (r"Invalid value for (?P<hint>.+?): (?P<message>.*)",
     N_("Invalid value for {hint}: {message}")),
    (r"Invalid value: (?P<message>.*)", N_("Invalid value: {message}")),
    (r"Missing argument (?P<hint>.+?)\.(?: (?P<message>.*))?", N_("Missing argument {hint}.")),
    (r"Missing option (?P<hint>.+?)\.(?: (?P<message>.*))?", N_("Missing option {hint}.")),
    (r"Missing parameter:? (?P<hint>.+?)\.?", N_("Missing parameter {hint}.")),
    (r"No such option: (?P<name>\S+) \(Possible options: (?P<options>.+)\)",
     N_("No such option: {name} (possible options: {options})")),
    (r"No such option: (?P<name>\S+)", N_("No such option: {name}")),
    (r"No such option:? (?P<name>'.+')\.", N_("No such option: {name}")),
    (r"No such command (?P<name>'.+?')\.(?: (?P<message>Did you mean .*))?",
     N_("No such command {name}.")),
    (r"Did you mean (?P<names>'.+')\?", N_("Did you mean {names}?")),
    (r"Missing command\.", N_("Missing command.")),
    (r"Got unexpected extra arguments? ?(?:\(s\) )?\((?P<arguments>.*)\)",
     N_("Got unexpected extra arguments ({arguments})")),
    (r"Option (?P<name>'.+') requires an argument\.", N_("Option {name} requires a value.")),
    (r"Option (?P<name>'.+') requires (?P<count>\d+) arguments\.",
     N_("Option {name} requires {count} values.")),
    (r"Option (?P<name>'.+') does not take a value\.", N_("Option {name} does not take a value.")),
    (r"Argument (?P<name>'.+') takes (?P<count>\d+) values\.",
     N_("Argument {name} takes {count} values.")),
    (r"(?P<value>.+) is not one of (?P<choices>.+)\.", N_("{value} is not one of {choices}.")),
    (r"(?P<value>.+) is not a valid int(?:eger)?(?: range)?\.",
     N_("{value} is not a valid integer.")),
    (r"(?P<value>.+) is not a valid float(?: range)?\.", N_("{value} is not a valid number.")),
    (r"(?P<value>.+) is not a valid boolean\. Recognized values: (?P<values>.+)",
     N_("{value} is not a valid boolean; recognised values: {values}")),
    (r"(?P<value>.+) is not in the range (?P<range>.+)\.",
     N_("{value} is not in the range {range}.")),
    (r"(?P<wanted>\d+) values are required, but (?P<given>\d+) (?:was |were )?given\.",
     N_("{wanted} values are required, but {given} were given.")),
    (r"Choose from:\n\t(?P<choices>.*)", N_("Choose from:\n\t{choices}")),
))


def say(sentence: str) -> str:
    """A sentence of the parser in the current language (as it is when not known here)."""
    for pattern, template in SENTENCES:
        found = pattern.fullmatch(sentence)
        if found is None:
            continue
        fields = found.groupdict()
        rest = fields.pop("message", None)
        if "{message}" in template:
            return i18n.data(template).format(**fields, message=say(rest or ""))
        said = i18n.data(template).format(**fields)
        return _("{sentence} {more}", sentence=said, more=say(rest)) if rest else said
    return sentence


def localise(error) -> None:
    """Make a usage error of the parser show itself in the current language (in English it
    is left as it is). Errors that show something else (the help, when a command is run
    without arguments) are left alone. In every language, a huge word the user typed is
    clipped (core.errors.clip_runs)."""
    if isinstance(getattr(error, "message", None), str):
        error.message = clip_runs(error.message)
    if i18n.current() == "en":
        return
    owner = next((klass for klass in type(error).__mro__ if "show" in vars(klass)), None)
    if owner is None or owner.__name__ not in ("UsageError", "ClickException"):
        return
    error.show = lambda file=None: show(error, file)


def show(error, file=None) -> None:
    """What the parser's UsageError.show writes (the usage line, where to find help, the
    error), in the current language."""
    file = sys.stderr if file is None else file
    ctx = getattr(error, "ctx", None)
    if ctx is not None and owner_is_usage(error):
        usage = ctx.get_usage()
        if usage.startswith("Usage: "):
            usage = _("Usage: {usage}", usage=usage[len("Usage: "):])
        hint = ""
        if ctx.command.get_help_option(ctx) is not None:
            hint = _("Try '{command} {option}' for help.", command=ctx.command_path,
                     option=ctx.help_option_names[0]) + "\n"
        typer.echo(f"{usage}\n{hint}", file=file)
    typer.echo(_("Error: {message}", message=say(error.format_message())), file=file)


def owner_is_usage(error) -> bool:
    return any(klass.__name__ == "UsageError" for klass in type(error).__mro__)
