"""Pictures of the graph: DOT source laid out by a Graphviz engine into SVG or PNG, and written
to disk atomically.

The engine is the system Graphviz `dot` when there is one, else `graphviz-pure` (a
self-contained port installed with gradtrace). `graphviz-pure` is looked for next to the
running Python too, because `.venv/bin/gradtrace` is often run without activating the venv, so
`.venv/bin` is not on PATH. GRADTRACE_DOT overrides the search: a path to a dot-compatible
program, or "none" to act as if there were no engine (the tests use this).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from ..core.errors import GradtraceError, UsageError

IMAGE_FORMATS = ("svg", "png")
FORMAT_OF_SUFFIX = {".svg": "svg", ".png": "png", ".dot": "dot", ".gv": "dot"}
PNG_DPI = 144  # dot's default 72 dpi gives a blurry picture on today's screens
TIMEOUT_SECONDS = 60
NO_ENGINE = (
    "no Graphviz layout engine was found, so the graph cannot be drawn as {fmt}. "
    "Either `pip install graphviz-pure` (a self-contained engine, no root needed) "
    "or install Graphviz's `dot` (for example `apt-get install graphviz` or "
    "`brew install graphviz`)."
)


MAX_DRAWN_NODES = 1000


class RenderError(GradtraceError):
    """The graph could not be drawn: no layout engine, or the engine failed."""

    exit_code = 1


class WriteError(GradtraceError):
    """An output file could not be written (missing folder, no permission, disk full...)."""

    exit_code = 1


# -- finding and running the engine ------------------------------------------------------

def find_engine() -> list[str] | None:
    """The command that runs a dot-compatible layout engine, or None when there is none."""
    override = os.environ.get("GRADTRACE_DOT", "").strip()
    if override.lower() == "none":
        return None
    if override:
        return [override]
    system_dot = shutil.which("dot")
    if system_dot:
        return [system_dot]
    for folder in _places_for_graphviz_pure():
        found = shutil.which("graphviz-pure", path=folder)
        if found:
            return [found]
    return None


def _places_for_graphviz_pure() -> list[str | None]:
    """PATH (None), the running interpreter's folder, and this Python's scripts folder."""
    return [None, str(Path(sys.executable).parent), sysconfig.get_path("scripts")]


def render_image(dot_source: str, fmt: str) -> bytes:
    """Lay out `dot_source` and return the picture's bytes; `fmt` is "svg" or "png"."""
    if fmt not in IMAGE_FORMATS:
        raise UsageError(f"cannot render {fmt!r}: the image formats are {', '.join(IMAGE_FORMATS)}")
    engine = find_engine()
    if engine is None:
        raise RenderError(NO_ENGINE.format(fmt=fmt.upper()))
    command = engine + [f"-T{fmt}"] + ([f"-Gdpi={PNG_DPI}"] if fmt == "png" else [])
    try:
        result = subprocess.run(command, input=dot_source.encode("utf-8"), capture_output=True,
                                timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        raise RenderError(f"{engine[0]} took more than {TIMEOUT_SECONDS} s to lay out the "
                          "graph; write the DOT source (.dot) instead, or draw a smaller "
                          "expression") from None
    except OSError as error:
        raise RenderError(f"could not run {engine[0]}: {error.strerror or error} "
                          "(is GRADTRACE_DOT set to a dot-compatible program?)") from None
    if result.returncode != 0 or not result.stdout:
        raise RenderError(f"{engine[0]} failed (exit code {result.returncode}): "
                          f"{_trimmed(result.stderr)}")
    return _plain_minus_signs(result.stdout) if fmt == "svg" else result.stdout


_TEXT_ELEMENT = re.compile(rb"(<text[^>]*>)([^<]*)(</text>)")


def _plain_minus_signs(svg: bytes) -> bytes:
    """Graphviz writes '-' as &#45; everywhere (so comments never hold '--'); inside <text> a
    plain '-' is just as valid, and lets people search the picture for -0.53."""
    return _TEXT_ELEMENT.sub(lambda m: m[1] + m[2].replace(b"&#45;", b"-") + m[3], svg)


def _trimmed(stderr: bytes, limit: int = 800) -> str:
    text = stderr.decode("utf-8", errors="replace").strip() or "no message"
    return text if len(text) <= limit else text[:limit] + " ..."


# -- writing files -----------------------------------------------------------------------

def write_atomic(path, data: bytes) -> None:
    """Write `data` to `path` all at once: into a hidden temporary file in the same folder,
    then renamed over `path`, so a reader never sees half a file. On any failure the temporary
    file is removed and `path` is left as it was."""
    path = Path(path)
    folder = path.parent
    if not folder.is_dir():
        raise WriteError(f"cannot write {path}: the folder {folder} does not exist")
    temporary = folder / f".{path.name}.{secrets.token_hex(4)}.tmp"
    try:
        # os.open with 0o666 lets the umask set the mode, as for any new file.
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL
                             | getattr(os, "O_BINARY", 0), 0o666)
    except OSError as error:
        raise WriteError(f"cannot write {path}: {error.strerror or error}") from None
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except OSError as error:
        raise WriteError(f"cannot write {path}: {error.strerror or error}") from None
    finally:
        temporary.unlink(missing_ok=True)  # already gone after a successful replace


def write_graph(trace_or_dot_source, path, precision: int = 2) -> Path:
    """Write the graph to `path` in the format its extension names (.svg, .png, .dot, .gv).

    Takes a Trace or DOT source already made. Without a layout engine, an SVG or PNG cannot be
    drawn: the DOT source is written next to it instead (same name, .dot) and RenderError says
    where. Returns the path written."""
    path = Path(path)
    kind = FORMAT_OF_SUFFIX.get(path.suffix.lower())
    if kind is None:
        raise UsageError(f"cannot tell the picture format of {str(path)!r} from its extension: "
                         f"use one of {', '.join(FORMAT_OF_SUFFIX)}")
    source = _dot_source(trace_or_dot_source, precision)
    if kind == "dot":
        write_atomic(path, source.encode("utf-8"))
        return path
    too_many = _too_many_nodes(trace_or_dot_source)
    if too_many:
        fallback = path.with_suffix(".dot")
        write_atomic(fallback, source.encode("utf-8"))
        raise RenderError(f"{too_many}; the DOT source was written to {fallback} instead.")
    if find_engine() is None:
        fallback = path.with_suffix(".dot")
        write_atomic(fallback, source.encode("utf-8"))
        raise RenderError(NO_ENGINE.format(fmt=kind.upper())
                          + f" The DOT source was written to {fallback} instead.")
    write_atomic(path, render_image(source, kind))
    return path


def _too_many_nodes(trace_or_dot_source) -> str:
    """Why a graph is too big to lay out (empty when it is not): Graphviz takes minutes on a
    few thousand nodes, and nobody can read such a picture anyway."""
    if isinstance(trace_or_dot_source, str):
        return ""
    count = len(trace_or_dot_source.nodes)
    if count <= MAX_DRAWN_NODES:
        return ""
    return (f"the graph has {count} nodes, more than the {MAX_DRAWN_NODES} gradtrace draws "
            "(Graphviz takes minutes on a few thousand, and the picture is unreadable)")


def _dot_source(trace_or_dot_source, precision: int) -> str:
    if isinstance(trace_or_dot_source, str):
        return trace_or_dot_source
    from .dot import render_dot

    return render_dot(trace_or_dot_source, precision=precision)
