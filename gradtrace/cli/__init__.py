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

HELP = """See backpropagation: every value, local derivative and gradient of an expression,
checked three ways and drawn.

\b
Start here:
  gradtrace explain "1/(1+exp(-(w*x+b)))" --at w=2,x=-1,b=-3 --svg sigmoid.svg
  gradtrace ops                      # every op and its local derivative
  gradtrace COMMAND --help           # options, with examples

Exit codes: 0 ok; 1 a value is not finite or a check disagreed; 2 a usage or parse error.
"""

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
}


class _CommandsOnDemand(Mapping):
    """The commands by name; a command's module is imported the first time it is looked up."""

    def __init__(self):
        self._loaded: dict[str, typer.core.TyperCommand] = {}

    def __getitem__(self, name: str):
        if name not in self._loaded:
            module = import_module(f"{__name__}.{COMMANDS[name][0]}")
            self._loaded[name] = typer.main.get_command(module.app)
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

    def list_commands(self, ctx) -> list[str]:
        return list(COMMANDS)

    def format_commands(self, ctx, formatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, line) for name, (_, line) in COMMANDS.items()])


app = typer.Typer(
    cls=_Gradtrace,
    help=HELP,
    no_args_is_help=True,
    rich_markup_mode=None,  # plain help: fast to start and clean when pasted
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _gradtrace() -> None:
    """Only there to make `gradtrace` a group of commands; HELP is its help."""


def main() -> None:
    app(prog_name="gradtrace")
