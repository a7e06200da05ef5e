"""The `gradtrace` command: one Typer app per command module, joined here.

Only typer is imported at start-up; numpy, SymPy, rich and Graphviz are imported by the
command that needs them, so `gradtrace --help` is quick.
"""

import typer

from . import check, explain, graph, jacobian, ops

HELP = """See backpropagation: every value, local derivative and gradient of an expression,
checked three ways and drawn.

\b
Start here:
  gradtrace explain "1/(1+exp(-(w*x+b)))" --at w=2,x=-1,b=-3 --svg sigmoid.svg
  gradtrace ops                      # every op and its local derivative
  gradtrace COMMAND --help           # options, with examples

Exit codes: 0 ok; 1 a value is not finite or a check disagreed; 2 a usage or parse error.
"""

app = typer.Typer(
    help=HELP,
    no_args_is_help=True,
    rich_markup_mode=None,  # plain help: fast to start and clean when pasted
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
for module in (explain, graph, check, jacobian, ops):
    app.add_typer(module.app)
from . import optimize, train  # noqa: E402
app.add_typer(train.app)
app.add_typer(optimize.app)
from . import cnn, gradcheck, mlp  # noqa: E402  (layers, issue 4)
app.add_typer(mlp.app)
app.add_typer(cnn.app)
app.add_typer(gradcheck.app)


def main() -> None:
    app(prog_name="gradtrace")
