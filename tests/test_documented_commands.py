"""Every command the documentation shows runs as documented: each `gradtrace ...` line of the
README's shell blocks and every example in the commands' --help, run in a fresh folder as a user
would paste it. A line documented to end otherwise says so in a comment (`# exits 1: ...`);
every other line must exit 0, and none may print an internal error or a traceback."""

import importlib
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from gradtrace.cli import COMMANDS, HELP

ROOT = Path(__file__).parent.parent
GUARD_SECONDS = 300  # a hang guard only


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    lines = []
    for block in re.findall(r"```(?:sh|bash|console)\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            # the Quick start's first line installs, then runs gradtrace: keep the run
            found = re.search(r"(?:^|&&\s*)(?:\.venv/bin/)?(gradtrace\s.*)$", line.strip())
            if found:
                lines.append(found.group(1))
    return lines


def help_examples() -> list[str]:
    texts = [HELP] + [getattr(importlib.import_module(f"gradtrace.cli.{module}"), "EXAMPLES", "")
                      for module, _ in COMMANDS.values()]
    return [line.strip() for text in texts for line in text.splitlines()
            if line.strip().startswith("gradtrace ") and "COMMAND" not in line]


def expected_exit(line: str) -> int:
    found = re.search(r"#.*\bexits? (\d)", line)
    return int(found.group(1)) if found else 0


def split(line: str) -> tuple[list[str], str | None]:
    """The arguments after `gradtrace`, and the file stdout is redirected to (`> name`)."""
    words = shlex.split(line, comments=True)[1:]
    if ">" in words:
        at = words.index(">")
        return words[:at], words[at + 1]
    return words, None


DOCUMENTED = sorted(set(readme_commands())) + sorted(set(help_examples()) - set(readme_commands()))


def test_the_readme_and_the_help_show_commands():
    assert len(readme_commands()) >= 10
    assert len(help_examples()) >= 40


@pytest.mark.parametrize("line", DOCUMENTED, ids=[line[:70] for line in DOCUMENTED])
def test_a_documented_command_runs_as_documented(line, tmp_path):
    args, redirect = split(line)
    process = subprocess.run([sys.executable, "-m", "gradtrace", *args], cwd=tmp_path,
                             capture_output=True, text=True, stdin=subprocess.DEVNULL,
                             timeout=GUARD_SECONDS,
                             # the time budget refuses work by its measured pace: a loaded
                             # test machine must not turn a documented example into a refusal
                             env={**os.environ, "NO_COLOR": "1", "GRADTRACE_MAX_SECONDS": "3600"})
    assert "internal error" not in process.stderr and "Traceback" not in process.stderr, \
        process.stderr[-800:]
    assert process.returncode == expected_exit(line), process.stderr[-800:]
    if redirect:
        (tmp_path / redirect).write_text(process.stdout, encoding="utf-8")
    for word in args:  # every file the command was asked to write is there
        if re.fullmatch(r"[\w./-]+\.(svg|png|dot|html|txt|tex|json)", word) and not word.startswith("-"):
            if process.returncode == 0 and word not in ("sigmoid.tex", "exam.tex"):
                assert (tmp_path / word).exists(), word


def test_the_readme_shows_the_chinese_explanation_as_the_golden_output_is():
    """The README's `--lang zh` example is followed by exactly what tests/test_i18n.py checks
    the command prints (tests/golden/explain_sigmoid_neuron.zh.txt)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    golden = (ROOT / "tests" / "golden" / "explain_sigmoid_neuron.zh.txt").read_text(
        encoding="utf-8")
    shown = re.search(r"```sh\ngradtrace explain (.*?) --lang zh\n```\n\n```text\n(.*?)```",
                      text, flags=re.S)
    assert shown, "the README shows no `explain ... --lang zh` example with its output"
    assert shown.group(2) == golden
