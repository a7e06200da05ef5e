"""The architecture holds: the layering rule, one docstring per package saying what it may
import, and the op registry as the only list of ops (everything that lists ops derives it)."""

import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import gradtrace
import gradtrace.nn as nn
import gradtrace.nn.functional as F
from gradtrace.cli import app
from gradtrace.core.registry import activations, calls
from gradtrace.ops import REGISTRY

ROOT = Path(__file__).parent.parent
PACKAGES = sorted(module.name for module in pkgutil.iter_modules(gradtrace.__path__)
                  if module.ispkg)


def test_the_layers_contract_is_kept():
    """import-linter reads the contract in pyproject.toml: no package imports one above it,
    directly or inside a function (so the engine never imports render or cli)."""
    run = subprocess.run([sys.executable, "-c",
                          "import sys; from importlinter.cli import lint_imports; "
                          "sys.exit(lint_imports(no_cache=True, no_logo=True))"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 kept, 0 broken" in run.stdout


def test_the_contract_names_every_package():
    contract = (ROOT / "pyproject.toml").read_text()
    for package in PACKAGES:
        assert f'"gradtrace.{package}' in contract or f"| gradtrace.{package}" in contract, package


@pytest.mark.parametrize("package", PACKAGES)
def test_every_package_says_what_it_holds_and_may_import(package):
    doc = importlib.import_module(f"gradtrace.{package}").__doc__ or ""
    assert len(doc.split()) > 20, "a paragraph saying what the package holds"
    assert "May import:" in doc


@pytest.mark.parametrize("name", sorted(calls()))
def test_every_function_of_the_expression_language_is_a_public_function(name):
    function = getattr(gradtrace, name)
    assert callable(function) and function.__name__ == name
    assert name in dir(gradtrace)


@pytest.mark.parametrize("op", activations(), ids=lambda op: op.name)
def test_every_activation_is_in_nn_and_the_cli(op):
    assert callable(getattr(F, op.name))
    assert op.name in F.__all__
    module = getattr(nn, op.activation.module)
    assert isinstance(module(), nn.Module)
    help_text = CliRunner().invoke(app, ["mlp", "--help"]).output
    assert op.name in help_text
    train_help = CliRunner().invoke(app, ["train", "--help"]).output
    assert op.name in train_help


def test_the_readme_lists_no_ops_by_hand():
    """The README points at `gradtrace ops` instead of keeping its own list of functions."""
    readme = (ROOT / "README.md").read_text()
    assert "gradtrace ops" in readme
    names = [name for name in calls() if len(name) > 3]
    longest_run = max(sum(1 for name in names if f"{name}" in line)
                      for line in readme.splitlines())
    assert longest_run < 6, "a line of the README lists ops by hand"


def test_ops_listing_names_every_registered_op():
    result = CliRunner().invoke(app, ["ops", "--format", "json"])
    import json

    assert [row["name"] for row in json.loads(result.output)] == list(REGISTRY)
