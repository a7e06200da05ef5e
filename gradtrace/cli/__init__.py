"""The `gradtrace` command: one Typer app per command module, loaded when its command runs.

Each command module reads its options, makes one pipeline call (gradtrace.expr, gradtrace.layers,
gradtrace.checks) and hands the result to the one format dispatcher (gradtrace.render.formats);
it builds no tables or JSON of its own. Only this package does I/O (stdout, stderr, files named
on the command line, exit codes), and only it maps the library's parameter names to options
(a UsageError about `wrt` is shown as --wrt). Only typer is imported at start-up: `gradtrace
--help` lists the commands from the table below without importing their modules.

May import: every other package.
"""

from collections.abc import Mapping
from importlib import import_module

import typer
import typer.core
import typer.main

from . import help_text

HELP = """See backpropagation: every value, local derivative and gradient of an expression,
checked three ways and drawn.

\b
Start here:
  gradtrace explain "1/(1+exp(-(w*x+b)))" --at w=2,x=-1,b=-3 --svg sigmoid.svg
  gradtrace ops                      # every op and its local derivative
  gradtrace COMMAND --help           # options, with examples

Every command also takes --lang zh, to tell it all in Chinese with the course notes' terms
(GRADTRACE_LANG or the locale set it too; gradtrace glossary lists the terms),
--max-elements N, the largest array it makes (10,000,000 numbers by default;
GRADTRACE_MAX_ELEMENTS sets it too), and --max-seconds S, the longest repeated work it starts
(epochs, passes: 120 s by default, predicted from the first half second;
GRADTRACE_MAX_SECONDS).

Exit codes: 0 ok; 1 a value is not finite or a check disagreed; 2 a usage or parse error.
"""

# The options every command takes (read before the command's own: see main), said at the end
# of each command's help; within 76 columns, as it is shown indented by 2.
SHARED_OPTIONS = """\b
Every command also takes:
  --lang en|zh      language of the output: --lang zh tells it in Chinese, in
                    the course notes' terms (default: GRADTRACE_LANG, then the
                    locale, else en)
  --max-elements N  the largest array it makes (GRADTRACE_MAX_ELEMENTS)
  --max-seconds S   the longest repeated work it starts
                    (GRADTRACE_MAX_SECONDS)"""

# Each command: its module in this package (which defines `app`) and its line in `gradtrace
# --help`. The tests check that this table names every command module.
COMMANDS = {
    "explain": ("explain", "Trace an expression forward and backward and explain every step."),
    "graph": ("graph", "Draw an expression's computation graph (SVG, PNG or DOT)."),
    "check": ("check", "Compare traced, symbolic and finite-difference gradients."),
    "jacobian": ("jacobian", "Build a Jacobian in reverse and in forward mode; compare."),
    "plot": ("plot", "Draw a function of one input and its derivative over a range."),
    "ops": ("ops", "List every op with its local derivative and gate pattern."),
    "train": ("train", "Train an MLP on XOR, moons or spirals; draw loss and boundary."),
    "optimize": ("optimize", "Run the optimisers on a 2-D surface and draw their paths."),
    "mlp": ("mlp", "Trace one training step of an MLP, layer by layer."),
    "cnn": ("cnn", "Trace one training step of a CNN, layer by layer."),
    "gradcheck": ("gradcheck", "Check a layer's gradients numerically, in float64."),
    "quiz": ("quiz", "Backprop as an exercise: fill in the blanks, graded with hints."),
    "glossary": ("glossary", "The course notes' terms in English and Chinese (--lang zh)."),
}


class _CommandsOnDemand(Mapping):
    """The commands by name; a command's module is imported the first time it is looked up."""

    def __init__(self):
        self._loaded: dict[str, typer.core.TyperCommand] = {}

    def __getitem__(self, name: str):
        if name not in self._loaded:
            module = import_module(f"{__name__}.{COMMANDS[name][0]}")
            command = typer.main.get_command(module.app)
            command.epilog = (command.epilog or "").rstrip() + "\n\n" + SHARED_OPTIONS
            help_text.localise(command)
            self._loaded[name] = command
        return self._loaded[name]

    def __iter__(self):
        return iter(COMMANDS)

    def __len__(self) -> int:
        return len(COMMANDS)


class _Gradtrace(typer.core.TyperGroup):
    """typer's group, with its commands loaded on demand and listed from COMMANDS."""

    def __init__(self, **attrs):
        super().__init__(**attrs)
        self.commands = _CommandsOnDemand()
        help_text.localise(self)

    def list_commands(self, ctx) -> list[str]:
        return list(COMMANDS)

    def format_commands(self, ctx, formatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, line) for name, (_, line) in COMMANDS.items()])

    # The option parser's errors (an unknown option, a value not among the choices) are raised
    # while the group reads its own options and while it runs a command (which reads the
    # command's): caught on the way out, they show themselves in the reader's language.
    def make_context(self, *args, **kwargs):
        with _parser_errors_localised():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx):
        with _parser_errors_localised():
            return super().invoke(ctx)


class _parser_errors_localised:
    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        if error is not None and any(klass.__name__ == "ClickException"
                                     for klass in type(error).__mro__):
            from .usage_errors import localise

            localise(error)
        return False


app = typer.Typer(
    cls=_Gradtrace,
    help=HELP,
    no_args_is_help=True,
    rich_markup_mode=None,  # plain help: fast to start and clean when pasted
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _show_version(asked: bool) -> None:
    if asked:
        from .. import __version__

        typer.echo(f"gradtrace {__version__}")
        raise typer.Exit()


@app.callback()
def _gradtrace(version: bool = typer.Option(
        False, "--version", callback=_show_version, is_eager=True,
        help="Print gradtrace's version and exit.")) -> None:
    """Makes `gradtrace` a group of commands (HELP is its help) and reads --version."""


def main() -> None:
    import signal
    import sys
    import warnings

    # The narration names every inf and nan where it starts: numpy's own warnings (with
    # site-packages paths) would only repeat it, badly.
    warnings.filterwarnings("ignore", category=RuntimeWarning)
    # SIGTERM ends the command as Ctrl-C does, through every `finally`: a file being written
    # loses its temporary copy, and a layout engine running as a child process is killed.
    signal.signal(signal.SIGTERM, _terminated)
    args = budget_option(lang_option(sys.argv[1:]))
    app(args=expression_last(args), prog_name="gradtrace")


def lang_option(args: list[str]) -> list[str]:
    """--lang en|zh, taken by every command before its own options are read: the language of
    everything it tells (gradtrace.core.i18n). Without it, GRADTRACE_LANG, then the locale."""
    from ..core import i18n

    kept, given = take_options(args, ("--lang",))
    chosen, where = given.get("--lang"), "--lang"
    try:
        if chosen is None:
            import os

            where, chosen = "GRADTRACE_LANG", os.environ.get("GRADTRACE_LANG", "")
            i18n.choose(i18n.from_environment())
        else:
            i18n.choose(chosen)
    except i18n.UnknownLanguage:
        from ..core.i18n import _

        _refuse(_("{option}: {value!r} is not a language gradtrace speaks; choose {choices}",
                  option=where, value=chosen, choices=i18n.join_list(i18n.LANGUAGES)))
    return kept


def take_options(args: list[str], names: tuple[str, ...]) -> tuple[list[str], dict[str, str]]:
    """The arguments without the options `names` (--name VALUE or --name=VALUE, read before
    the command's own options), and the value each was given (the last, when repeated).
    Nothing after "--" is an option."""
    kept: list[str] = []
    given: dict[str, str] = {}
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            kept += args[index:]
            break
        name = arg.split("=", 1)[0]
        if name not in names:
            kept.append(arg)
            index += 1
            continue
        given[name] = arg.partition("=")[2] if "=" in arg else (
            args[index + 1] if index + 1 < len(args) else "")
        index += 1 if "=" in arg else 2
    return kept, given


def _refuse(message: str):
    """An option read before the command refused: the message on stderr, exit 2."""
    from ..core.errors import clip_runs
    from ..core.i18n import _

    typer.echo(_("error: {message}", message=clip_runs(message)), err=True)
    raise SystemExit(2)


# Options every command takes, passed on to the library through the environment (see
# gradtrace.core.budget): option → (variable, how to read it, what it must be).
def N_(template: str) -> str:
    """gradtrace.core.i18n.N_ (marks a template for the catalog), without importing it at
    start-up: `gradtrace --help` imports typer alone."""
    return template


BUDGETS = {
    "--max-elements": ("GRADTRACE_MAX_ELEMENTS", lambda text: _whole(text),
                       N_("a whole number of 1 or more (e.g. --max-elements 1e8)")),
    "--max-seconds": ("GRADTRACE_MAX_SECONDS", float,
                      N_("a number of seconds above 0 (e.g. --max-seconds 600)")),
}


def _whole(text: str) -> int:
    """A whole number written as 100000, 1e8 or 10_000_000; ValueError for 1.5, inf or 1e400."""
    number = float(text.replace("_", ""))
    if not number.is_integer():  # inf and nan are not integers either
        raise ValueError(text)
    return int(number)


def budget_option(args: list[str]) -> list[str]:
    """--max-elements N (the largest array gradtrace makes) and --max-seconds S (the longest
    repeated work it starts), taken by every command before its own options are read."""
    import math
    import os

    from ..core.i18n import _

    def checked(where: str, value: str, read, wanted: str):
        try:
            number = read(value)
        except (ValueError, OverflowError):
            number = 0
        if not (math.isfinite(number) and number > 0 and number >= (1 if read is not float
                                                                    else 0)):
            _refuse(_("{option}: {value!r} is not {wanted}", option=where, value=value,
                      wanted=_(wanted)))
        return number

    kept, given = take_options(args, tuple(BUDGETS))
    for name, value in given.items():
        variable, read, wanted = BUDGETS[name]
        os.environ[variable] = str(checked(name, value, read, wanted))
    # a budget set in the environment is read the same way: a typo there is refused, not
    # silently replaced by the default
    for name, (variable, read, wanted) in BUDGETS.items():
        value = os.environ.get(variable, "").strip()
        if name not in given and value:
            checked(variable, value, read, wanted)
    return kept


def _terminated(signum, frame):
    raise SystemExit(128 + signum)


def expression_last(args: list[str]) -> list[str]:
    """An expression may start with '-' ("-x*y", "-p*q"): the option parser would take it for
    options. Such an argument is moved after '--', where only arguments are read; a word that
    is exactly one of the command's options (-p, --at) stays an option (unless no value
    follows it: `explain "-a" --no-check`), and an unknown option such as --verbose is left for
    the parser to refuse."""
    if not args or args[0] not in COMMANDS or "--" in args:
        return args
    taking_values, flags = _options_of(args[0])
    rest = args[1:]
    index = 0
    while index < len(rest):
        arg = rest[index]
        name = arg.split("=", 1)[0]
        following = rest[index + 1] if index + 1 < len(rest) else None
        has_value = "=" in arg or (following is not None and not following.startswith("--")
                                   and following.split("=", 1)[0] not in taking_values | flags)
        if name in taking_values and has_value:
            index += 1 if "=" in arg else 2
            continue
        if name in flags or not arg.startswith("-") or arg.startswith("--") or len(arg) < 2:
            index += 1
            continue
        return [args[0], *rest[:index], *rest[index + 1:], "--", arg]
    return args


def _options_of(command_name: str) -> tuple[set[str], set[str]]:
    """(options that take a value, flags) of one command, by every name they have."""
    command = _CommandsOnDemand()[command_name]
    taking_values, flags = set(), set()
    for parameter in command.params:
        if getattr(parameter, "param_type_name", "") == "option":
            names = set(parameter.opts) | set(parameter.secondary_opts)
            (flags if parameter.is_flag or parameter.count else taking_values).update(names)
    return taking_values, flags | {"-h", "--help"}
