"""Pictures of the graph: DOT source laid out by a Graphviz engine into SVG or PNG, and written
to disk atomically.

The engine is the system Graphviz `dot` when there is one, else `graphviz-pure` (a
self-contained port installed with gradtrace). `graphviz-pure` is looked for next to the
running Python too, because `.venv/bin/gradtrace` is often run without activating the venv, so
`.venv/bin` is not on PATH. GRADTRACE_DOT overrides the search: a path to a dot-compatible
program, or "none" to act as if there were no engine (the tests use this).

The engine runs as a child process with its address space limited (ENGINE_MEMORY, plus a
PNG's pixels), so a layout that needs far more than measured fails at once with a one-line
message; it is killed and reaped whatever ends the drawing (an error, Ctrl-C, SIGTERM), and on
Linux it dies with gradtrace even when gradtrace is killed. A file is written through a
temporary file that no failure or signal leaves behind.
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
from typing import NamedTuple

from ..core.errors import GradtraceError, UsageError
from ..core.i18n import N_, _, current, language
from .fonts import CJK_HELP, has_wide, png_from_svg, svg_font_fallbacks

IMAGE_FORMATS = ("svg", "png")
FORMAT_OF_SUFFIX = {".svg": "svg", ".png": "png", ".dot": "dot", ".gv": "dot"}
PNG_DPI = 144  # dot's default 72 dpi gives a blurry picture on today's screens
TIMEOUT_SECONDS = 60
NO_ENGINE = N_(
    "no Graphviz layout engine was found, so the graph cannot be drawn as {fmt}. "
    "Either `pip install graphviz-pure` (a self-contained engine, no root needed) "
    "or install Graphviz's `dot` (for example `apt-get install graphviz` or "
    "`brew install graphviz`)."
)


class RenderError(GradtraceError):
    """The graph could not be drawn: no layout engine, or the engine failed."""

    exit_code = 1


class MissingCJKFont(RenderError):
    """A PNG with Chinese (Japanese, Korean) text, and no font here to draw it with: the
    reader can fix this (install the font, or ask for SVG), so exit 2."""

    exit_code = 2


class WriteError(GradtraceError):
    """An output file could not be written (missing folder, no permission, disk full...): the
    file the user named is the problem, so exit 2 as for any other input that cannot be
    done (check_writable refuses most of these before the work)."""

    exit_code = 2


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
    """Lay out `dot_source` and return the picture's bytes; `fmt` is "svg" or "png".

    A PNG is a raster: the layout engine holds every pixel in memory (PNG_BYTES_PER_PIXEL
    bytes each, measured), so a wide graph at PNG_DPI can ask for gigabytes. The layout is
    made as SVG first (cheap) to measure the picture; the PNG's resolution is lowered to fit
    PNG_MEMORY, and a picture that would not fit even at MIN_PNG_DPI is refused with the
    advice to draw it as SVG. (draw_picture draws a trace's graph collapsed instead.)"""
    engine = _engine_for(fmt)
    svg = _run_engine(engine, dot_source, ["-Tsvg"])
    if fmt == "svg":
        return svg_font_fallbacks(_plain_minus_signs(svg))
    return _png_drawn(engine, dot_source, svg)


def _png_drawn(engine: list[str], dot_source: str, svg: bytes) -> bytes:
    """The PNG of a layout already made as `svg`: by the engine, or, for wide characters
    (Chinese names or words) that graphviz-pure's Latin fonts lack, by resvg from the SVG."""
    if has_wide(dot_source) and "graphviz-pure" in Path(engine[0]).name:
        return _png_with_glyphs(svg, _svg_size(svg))
    return _png(engine, dot_source, _svg_size(svg))


def _png_with_glyphs(svg: bytes, size: tuple[float, float]) -> bytes:
    """graphviz-pure draws PNGs with its own Latin fonts only: a picture with Chinese,
    Japanese or Korean names is drawn from its SVG by resvg with a CJK font (render/fonts.py)."""
    png = png_from_svg(svg, _png_dpi(size))
    if png is None:
        raise MissingCJKFont(_(CJK_HELP))
    return png


class Picture(NamedTuple):
    data: bytes
    note: str | None  # what was left out, for the user, in one line; None when nothing


def draw_picture(trace_or_dot_source, fmt: str, precision: int = 2) -> Picture:
    """A trace's graph (or DOT source already made) as SVG or PNG bytes.

    A graph too big for a PNG within PNG_MEMORY at MIN_PNG_DPI is drawn collapsed, with
    fewer nodes each try (COLLAPSED_PNG_TRIES), and the note says what was left out; DOT
    source given as text cannot be collapsed and is refused (RenderError)."""
    engine = _engine_for(fmt)
    if isinstance(trace_or_dot_source, str):
        source, whole = trace_or_dot_source, None
    else:
        from .dot import drawing

        source, whole = drawing(trace_or_dot_source, precision)  # whole: what SVG leaves out
    svg = _run_engine(engine, source, ["-Tsvg"])
    if fmt == "svg":
        return Picture(_plain_minus_signs(svg), None)
    try:
        return Picture(_png_drawn(engine, source, svg), None)
    except _TooBig as error:
        if isinstance(trace_or_dot_source, str):
            raise
        refusal = error
    trace = trace_or_dot_source
    for max_nodes, kept_ops in COLLAPSED_PNG_TRIES:
        if max_nodes >= len(trace.nodes):
            continue
        source, summary = drawing(trace, precision, max_nodes, kept_ops)
        svg = _run_engine(engine, source, ["-Tsvg"])
        try:
            _png_dpi(_svg_size(svg))
        except _TooBig:
            continue
        fields = dict(count=f"{len(trace.nodes):,}", summary=summary)
        note = _("the whole graph ({count} nodes) does not fit a readable PNG, so the PNG shows "
                 "{summary}; a name ending in .svg draws every node", **fields) \
            if whole is None else \
            _("the whole graph ({count} nodes) does not fit a readable PNG, so the PNG shows "
              "{summary}; a name ending in .svg draws more of it", **fields)
        return Picture(_png_drawn(engine, source, svg), note)
    raise refusal


PNG_MEMORY = 512 * 2**20  # bytes the layout engine may use for a PNG's pixels
# graphviz-pure 0.2.2, measured (peak RSS over its size for the layout alone): 8.0 bytes per
# pixel, an RGBA raster and a second buffer as it encodes (66.8 Mpx: +535 MB).
PNG_BYTES_PER_PIXEL = 8
MIN_PNG_DPI = 72  # 11-point labels are 11 pixels tall: below this nobody can read them
MAX_PNG_SIDE = 32767  # pixels: longer sides are past what browsers and viewers open
# Address space (RLIMIT_AS) the engine may use besides the pixels: a limit, so that a layout
# that needs far more than measured fails at once with a message instead of swapping.
# graphviz-pure 0.2.2, the least address space that works (found with ulimit -v): SVG 16 MB
# at 199 nodes, 31 MB at 999, 44 MB with 7,200 hidden nodes of long edges (LAYOUT_BUDGET
# keeps under 4,000); PNG 83 MB besides its pixels. The system `dot` loads shared libraries
# and fonts besides: room for them too.
ENGINE_MEMORY = 384 * 2**20
PIXEL_MARGIN = 1.25  # the limit allows this much above the pixels' measured need
# Collapsed drawings tried, in turn, for a PNG the whole graph does not fit: (nodes above
# which the graph is collapsed, ops kept next to the output).
COLLAPSED_PNG_TRIES = ((400, 120), (200, 60), (100, 30), (50, 15))


class _TooBig(RenderError):
    """A PNG that would not fit in PNG_MEMORY even at MIN_PNG_DPI."""


def _engine_for(fmt: str) -> list[str]:
    if fmt not in IMAGE_FORMATS:
        raise UsageError(_("cannot render {fmt!r}: the image formats are {listed}", fmt=fmt, listed=', '.join(IMAGE_FORMATS)))
    engine = find_engine()
    if engine is None:
        raise RenderError(_(NO_ENGINE, fmt=fmt.upper()))
    return engine


def _png(engine: list[str], source: str, size: tuple[float, float]) -> bytes:
    """The PNG of a picture of `size` points, at the dpi that fits PNG_MEMORY; the engine's
    memory limited to what its pixels are measured to need."""
    dpi = _png_dpi(size)
    pixels = (size[0] * dpi / 72 + 1) * (size[1] * dpi / 72 + 1)
    return _run_engine(engine, source, ["-Tpng", f"-Gdpi={dpi}"], pixels=pixels)


def _svg_size(svg: bytes) -> tuple[float, float]:
    """(width, height) in points, from the SVG the engine wrote."""
    found = re.search(rb'<svg[^>]*\swidth="([\d.]+)pt"[^>]*\sheight="([\d.]+)pt"', svg)
    return (float(found.group(1)), float(found.group(2))) if found else (0.0, 0.0)


def _png_dpi(size: tuple[float, float]) -> int:
    """PNG_DPI, or less when the picture's pixels would not fit in PNG_MEMORY or a side would
    be longer than MAX_PNG_SIDE pixels."""
    width, height = size
    area = width * height / 72**2  # square inches
    longest = max(width, height, 1.0) / 72
    dpi = min(PNG_DPI, int((PNG_MEMORY / (PNG_BYTES_PER_PIXEL * max(area, 1e-9))) ** 0.5),
              int(MAX_PNG_SIDE / longest))
    if dpi < MIN_PNG_DPI:
        needed = area * MIN_PNG_DPI**2 * PNG_BYTES_PER_PIXEL / 2**30
        side = longest * MIN_PNG_DPI
        fields = dict(width=f"{width / 72:,.0f}", height=f"{height / 72:,.0f}", dpi=MIN_PNG_DPI,
                      needed=f"{needed:.1f}", side=f"{side:,.0f}")
        if side > MAX_PNG_SIDE:
            raise _TooBig(_("the graph is {width} × {height} inches: as a PNG readable at {dpi} "
                            "dpi it would need about {needed} GB and be {side} pixels long. Give "
                            "a name ending in .svg (any browser shows and zooms an SVG), or one "
                            "ending in .dot for the DOT source", **fields))
        raise _TooBig(_("the graph is {width} × {height} inches: as a PNG readable at {dpi} dpi "
                        "it would need about {needed} GB. Give a name ending in .svg (any browser "
                        "shows and zooms an SVG), or one ending in .dot for the DOT source",
                        **fields))
    return dpi


def _run_engine(engine: list[str], dot_source: str, options: list[str],
                pixels: float = 0) -> bytes:
    """Run the engine on `dot_source`; its address space limited to ENGINE_MEMORY plus the
    pixels' measured need (POSIX), and the process always ended before this returns or
    raises, whatever ends gradtrace (Ctrl-C, SIGTERM, an error)."""
    memory = int(ENGINE_MEMORY + pixels * PNG_BYTES_PER_PIXEL * PIXEL_MARGIN)
    # RUST_BACKTRACE=0: graphviz-pure then says what failed in one line, not a backtrace
    environment = dict(os.environ, RUST_BACKTRACE="0")
    try:
        process = subprocess.Popen(engine + options, stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   env=environment, preexec_fn=_child_setup(memory))
    except (OSError, subprocess.SubprocessError) as error:
        reason = getattr(error, "strerror", None) or error
        raise RenderError(_("could not run {engine}: {reason} (is GRADTRACE_DOT set to a dot-compatible program?)", engine=engine[0], reason=reason)) from None
    try:
        output, errors = process.communicate(dot_source.encode("utf-8"), timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        raise RenderError(_("{engine} took more than {seconds} s to lay out the graph; write the DOT source (.dot) instead, or draw a smaller expression", engine=engine[0], seconds=TIMEOUT_SECONDS)) from None
    finally:
        _end(process)
    if process.returncode != 0 or not output:
        raise RenderError(_failure(engine[0], process.returncode, errors, memory))
    return output


def _end(process: subprocess.Popen) -> None:
    """Kill the engine if it still runs, reap it, close its pipes: no orphan, no zombie."""
    try:
        if process.poll() is None:
            process.kill()
    finally:
        process.wait()
        for pipe in (process.stdin, process.stdout, process.stderr):
            try:
                if pipe is not None:
                    pipe.close()
            except OSError:  # stdin to a killed engine: its unsent input is dropped
                pass


def _child_setup(memory: int):
    """The function run in the engine's process before it starts (POSIX; None elsewhere): its
    address space limited to `memory`, and (Linux) killed when gradtrace ends, even by
    SIGKILL. Everything it needs is loaded here, in gradtrace's process."""
    if os.name != "posix":
        return None
    import resource
    import signal

    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = memory if hard == resource.RLIM_INFINITY else min(memory, hard)
    prctl = _prctl()
    parent = os.getpid()

    def setup() -> None:
        try:
            resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
        except (OSError, ValueError):
            pass  # drawn without the limit rather than not at all
        if prctl is not None:
            prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
            if os.getppid() != parent:  # gradtrace ended before prctl took effect
                os._exit(1)

    return setup


_PR_SET_PDEATHSIG = 1


def _prctl():
    """libc's prctl on Linux, else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


# How a failed allocation ends graphviz-pure (SIGABRT), a stack that cannot grow under the
# limit (SIGSEGV), and the kernel's out-of-memory killer (SIGKILL); 128 + n through a shell.
_OUT_OF_MEMORY_CODES = {-6, -9, -11, 134, 137, 139}


def _failure(engine: str, returncode: int, stderr: bytes, memory: int) -> str:
    """Why the engine failed, in one sentence: its first line that is not a warning."""
    reason = _trimmed(stderr)
    fields = dict(engine=engine, memory=f"{memory / 2**20:,.0f}", code=returncode,
                  reason=_(reason) if reason == _NO_MESSAGE else reason)
    if ("memory allocation" in reason or "out of memory" in reason.lower()
            or returncode in _OUT_OF_MEMORY_CODES):
        if reason == _NO_MESSAGE:
            return _("{engine} ran out of memory drawing the graph (it may use {memory} MB). "
                     "Give a name ending in .dot for the DOT source, or draw a smaller graph",
                     **fields)
        return _("{engine} ran out of memory drawing the graph (it may use {memory} MB: "
                 "{reason}). Give a name ending in .dot for the DOT source, or draw a smaller "
                 "graph", **fields)
    return _("{engine} failed (exit code {code}): {reason}", **fields)


_TEXT_ELEMENT = re.compile(rb"(<text[^>]*>)([^<]*)(</text>)")


def _plain_minus_signs(svg: bytes) -> bytes:
    """Graphviz writes '-' as &#45; everywhere (so comments never hold '--'); inside <text> a
    plain '-' is just as valid, and lets people search the picture for -0.53."""
    return _TEXT_ELEMENT.sub(lambda m: m[1] + m[2].replace(b"&#45;", b"-") + m[3], svg)


_NO_MESSAGE = N_("no message")


def _trimmed(stderr: bytes, limit: int = 300) -> str:
    """The engine's first line that says something: not a warning, not a backtrace."""
    lines = [line.strip() for line in stderr.decode("utf-8", errors="replace").splitlines()]
    lines = [line for line in lines if line]
    meaningful = [line for line in lines if not line.lower().startswith("warning")]
    text = (meaningful or lines or [_NO_MESSAGE])[0]
    return text if len(text) <= limit else text[:limit] + " ..."


# -- writing files -----------------------------------------------------------------------

def write_atomic(path, data: bytes, overwrite: bool = True) -> None:
    """Write `data` to `path` all at once: into a hidden temporary file in the same folder,
    then renamed over `path`, so a reader never sees half a file. On any failure, and when
    Ctrl-C or SIGTERM (as SystemExit) stops it, the temporary file is removed and `path` is
    left as it was. With overwrite=False an existing `path` is never replaced (WriteError)."""
    path = Path(path)
    folder = path.parent
    _check_name(path)
    if not _is_folder(folder):
        raise WriteError(_("cannot write {path}: the folder {folder} does not exist", path=path, folder=folder))
    # a short name of its own, so a target name near the file system's limit still works
    temporary = folder / f".gradtrace-{secrets.token_hex(6)}.tmp"
    # True from before os.open: a signal can stop us just after it made the file, before
    # anything else runs. Nothing else has this random name, so removing it is safe.
    made = True
    try:
        try:
            # os.open with 0o666 lets the umask set the mode, as for any new file.
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL
                                 | getattr(os, "O_BINARY", 0), 0o666)
        except OSError:
            made = False  # O_EXCL: a failed open made nothing
            raise
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
        _move(temporary, path, overwrite)
    except OSError as error:
        raise WriteError(_("cannot write {path}: {why}", path=path, why=error.strerror or error)) from None
    finally:
        if made:
            temporary.unlink(missing_ok=True)  # already gone after a successful move


def _move(temporary: Path, path: Path, overwrite: bool) -> None:
    if overwrite:
        os.replace(temporary, path)
        return
    try:
        os.link(temporary, path)  # fails if path exists, atomically: nothing is replaced
    except FileExistsError:
        raise WriteError(_("cannot write {path}: a file of that name exists", path=path)) from None
    except OSError:  # a file system without hard links (FAT, some network shares)
        if os.path.lexists(path):
            raise WriteError(_("cannot write {path}: a file of that name exists", path=path)) from None
        os.replace(temporary, path)


NAME_MAX = 255  # bytes in a file name on almost every file system, when it cannot be asked


def check_writable(path) -> None:
    """Refuse, before any work is done, a file that write_atomic could not write: no such
    folder, a folder of that name, a name too long, or a folder where no file can be made
    (read-only, no permission, /proc). The probe makes and removes a hidden file of its own."""
    path = Path(path)
    folder = path.parent
    if not _is_folder(folder):
        raise WriteError(_("cannot write {path}: the folder {folder} does not exist",
                           path=path, folder=folder))
    _check_name(path)
    if _is_folder(path):
        raise WriteError(_("cannot write {path}: it is a folder", path=path))
    why = _cannot_make_files(folder)
    if why:
        raise WriteError(_("cannot write {path}: no file can be made in the folder {folder} "
                           "({why})", path=path, folder=folder, why=why))


def check_folder_writable(folder) -> None:
    """Refuse, before any work, an existing folder in which no file can be made."""
    why = _cannot_make_files(Path(folder))
    if why:
        raise WriteError(_("cannot write into the folder {folder}: {why}", folder=folder,
                           why=why))


def _cannot_make_files(folder: Path) -> str:
    """"" when a new file can be made in `folder` (a hidden probe is made and removed), else
    why not."""
    probe = folder / f".gradtrace-{secrets.token_hex(6)}.tmp"
    try:
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError as error:
        return str(error.strerror or error)
    probe.unlink(missing_ok=True)
    return ""


def _check_name(path: Path) -> None:
    """A file name longer than the file system allows, refused before any work is done."""
    try:
        limit = os.pathconf(path.parent, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):  # no such folder (yet); Windows
        limit = NAME_MAX
    size = len(os.fsencode(path.name))
    if size > limit:
        raise WriteError(_("cannot write {path}: the file name is {size} bytes long, and this file system allows at most {limit}; choose a shorter name", path=_short(path), size=size, limit=limit))


def _short(path: Path) -> str:
    text = str(path)
    return text if len(text) <= 100 else text[:60] + "…" + text[-30:]


def _is_folder(folder: Path) -> bool:
    try:
        return folder.is_dir()
    except OSError:  # a path too long, a loop of links: not a folder we can write to
        return False


class Written(NamedTuple):
    path: Path
    note: str | None  # one line for the user: what was left out of the picture, or None


def write_graph(trace_or_dot_source, path, precision: int = 2) -> Path:
    """Write the graph to `path` in the format its extension names; returns the path written.
    See write_picture, which also says what a collapsed PNG left out."""
    return write_picture(trace_or_dot_source, path, precision).path


def write_picture(trace_or_dot_source, path, precision: int = 2) -> Written:
    """Write the graph to `path` in the format its extension names (.svg, .png, .dot, .gv).

    Takes a Trace (drawn collapsed past dot.MAX_DRAWN_NODES nodes, and for a PNG, past what
    fits its memory: the note says so) or DOT source already made. Without a layout engine an
    SVG or PNG cannot be drawn: the DOT source is written next to it instead (same name, .dot),
    unless a file of that name exists, which is never overwritten; RenderError says what
    happened."""
    path = Path(path)
    kind = picture_format(path)
    _check_name(path)  # before the work of drawing
    if kind == "dot":
        write_atomic(path, _dot_source(trace_or_dot_source, precision).encode("utf-8"))
        return Written(path, None)
    if find_engine() is None:
        source = _dot_source(trace_or_dot_source, precision)
        raise RenderError(_(NO_ENGINE, fmt=kind.upper()) + _dot_instead(path, source))
    try:
        picture = draw_picture(trace_or_dot_source, kind, precision)
    except MissingCJKFont:
        if current() == "en" or isinstance(trace_or_dot_source, str):
            raise  # the names themselves are Chinese (or the DOT is given): nothing to fall to
        try:
            with language("en"):  # the words, not the names, were Chinese: draw in English
                picture = draw_picture(trace_or_dot_source, kind, precision)
        except MissingCJKFont:  # the names are Chinese too: say so in the reader's language
            raise MissingCJKFont(_(CJK_HELP)) from None
        english = _("no Chinese font to draw this PNG's words with, so they are in English "
                    "(pip install \"gradtrace[cjk]\", or draw SVG)")
        picture = picture._replace(note=f"{picture.note} {english}" if picture.note else english)
    write_atomic(path, picture.data)
    return Written(path, picture.note)


def picture_format(path) -> str:
    """"svg", "png" or "dot" from a file name's extension; any other is refused (an SVG
    written into a file called .pdf helps nobody)."""
    kind = FORMAT_OF_SUFFIX.get(Path(path).suffix.lower())
    if kind is None:
        raise UsageError(_("cannot tell the picture format of {path!r} from its extension: use one of {listed}", path=str(path), listed=', '.join(FORMAT_OF_SUFFIX)))
    return kind


def _dot_instead(path: Path, source: str) -> str:
    """Write the DOT source beside `path` when no file has that name; say what was done."""
    fallback = path.with_suffix(".dot")
    try:
        write_atomic(fallback, source.encode("utf-8"), overwrite=False)
    except WriteError as error:
        return _(" The DOT source was not written either: {why}.", why=error)
    return _(" The DOT source was written to {path} instead.", path=fallback)


def _dot_source(trace_or_dot_source, precision: int) -> str:
    if isinstance(trace_or_dot_source, str):
        return trace_or_dot_source
    from .dot import render_dot

    return render_dot(trace_or_dot_source, precision=precision)
