"""Chinese, Japanese and Korean names in the pictures (权重*输入+偏置).

Two things stand between such a name and a picture that shows it:

1. The SVG names only Helvetica and sans-serif: `svg_font_fallbacks` names, after them, the
   fonts that have the glyphs on each system (Noto Sans CJK, Source Han Sans, PingFang,
   Hiragino, Microsoft YaHei, WenQuanYi), so a browser or a viewer finds one. (The layout
   has room for them already: graphviz-pure, which has no metrics for them, counts each byte
   of a character's UTF-8 as a space, 0.83 em for an ideograph drawn 1 em wide, which the
   boxes' margins absorb; a system Graphviz measures them.)
2. graphviz-pure draws PNGs with its own Latin fonts only (an empty box for every CJK
   glyph), and looks at no font files: `png_from_svg` draws the PNG from the SVG with resvg
   (the `resvg-py` package) and a CJK font file: GRADTRACE_CJK_FONT, the Noto Sans CJK of the
   `manimgx-fonts-cjk` package (OFL-1.1; `pip install "gradtrace[cjk]"`), or a system one
   (Debian's fonts-noto-cjk, macOS, Windows). Without them, `CJK_HELP` says how to get them.

A PNG is drawn this way only when a label has wide characters (`has_wide`), so every other
picture keeps its bytes.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..core.i18n import N_

FALLBACKS = ("Helvetica", "Arial", "Liberation Sans", "Noto Sans", "Noto Sans CJK SC",
             "Noto Sans SC", "Source Han Sans SC", "PingFang SC", "Hiragino Sans",
             "Microsoft YaHei", "WenQuanYi Micro Hei", "sans-serif")
FONT_FAMILY = ",".join(f"'{name}'" if " " in name else name for name in FALLBACKS)
CJK_HELP = N_("the graph's names need a Chinese/Japanese/Korean font, which the PNG drawer "
            "does not have: `pip install \"gradtrace[cjk]\"` (resvg-py and Noto Sans CJK, "
            "about 20 MB) or set GRADTRACE_CJK_FONT to a .ttc/.otf/.ttf file that has the "
            "glyphs; or draw the graph as SVG (.svg), which browsers show with the system's "
            "fonts")

_WIDE = re.compile("[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff"
                   "\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60"
                   "\uffe0-\uffe6\U00020000-\U0003fffd]")


def has_wide(text: str) -> bool:
    """True when `text` has a character drawn a full em wide (CJK ideographs, kana, hangul,
    full-width forms)."""
    return _WIDE.search(text) is not None


WIDE_SHORTFALL = 0.3  # no-break spaces that make up, per wide character, what graphviz-pure
# misses of its width (measured on its PNGs: it counts 0.83 em of an ideograph 1 em wide)


def runs_label(template: str, escape, **runs) -> str:
    """An HTML-like label line of several runs (coloured words among plain ones): the
    template's words and each run's markup (already escaped) in their places, each piece but
    the last followed by the spaces graphviz-pure's layout misses for its wide characters, so
    a run of Chinese words does not run into the next (a single run needs none: it is
    centred, whatever its width)."""
    import string

    pieces: list[tuple[str, str]] = []  # (markup, its text)
    for literal, field, _spec, _conversion in string.Formatter().parse(template):
        if literal:
            pieces.append((escape(literal), literal))
        if field:
            pieces.append(runs[field])
    out = []
    for position, (markup, text) in enumerate(pieces):
        out.append(markup)
        if position < len(pieces) - 1:
            out.append("\u00a0" * round(WIDE_SHORTFALL * len(_WIDE.findall(text))))
    return "".join(out)


def svg_font_fallbacks(svg: bytes) -> bytes:
    """The SVG with each font family followed by fonts that have CJK glyphs."""
    return re.sub(rb'font-family="([^"]*?),sans-Serif"',
                  lambda m: b'font-family="' + _family(m.group(1).decode()) + b'"', svg)


def _family(first: str) -> bytes:
    names = [first] + [name for name in FALLBACKS if name != first]
    return ",".join(f"'{name}'" if " " in name else name for name in names).encode()


# -- the PNG: drawn with a font that has the glyphs ------------------------------------------

SYSTEM_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",  # Debian, Ubuntu: fonts-noto-cjk
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",  # Fedora, Arch
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",  # fonts-wqy-microhei
    "/System/Library/Fonts/PingFang.ttc",  # macOS
    "/System/Library/Fonts/Hiragino Sans GB.ttc",
    "C:/Windows/Fonts/msyh.ttc",  # Microsoft YaHei
)


def cjk_font_file() -> Path | None:
    """A font file with CJK glyphs: GRADTRACE_CJK_FONT, the manimgx-fonts-cjk package, or a
    system font; None when there is none."""
    named = os.environ.get("GRADTRACE_CJK_FONT", "").strip()
    if named:
        return Path(named) if Path(named).is_file() else None
    try:
        import manimgx_fonts_cjk
    except ImportError:
        pass
    else:
        found = sorted(Path(manimgx_fonts_cjk.__file__).parent.glob("*.tt[cf]")) + sorted(
            Path(manimgx_fonts_cjk.__file__).parent.glob("*.otf"))
        if found:
            return found[0]
    for name in SYSTEM_FONTS:
        if Path(name).is_file():
            return Path(name)
    return None


def png_from_svg(svg: bytes, dpi: int) -> bytes | None:
    """The PNG of `svg` drawn by resvg with a CJK font; None when resvg-py or a CJK font is
    missing (CJK_HELP says how to get them)."""
    font = cjk_font_file()
    try:
        import resvg_py
    except ImportError:
        return None
    if font is None:
        return None
    text = _in_pixels(svg_font_fallbacks(svg).decode("utf-8"))
    data = resvg_py.svg_to_bytes(svg_string=text, font_files=[str(font)], background="white",
                                 zoom=dpi / 96.0)
    return bytes(data)


def _in_pixels(svg: str) -> str:
    """The <svg> element and what it holds (no XML prologue), its width and height in CSS
    pixels (96 to the inch) instead of points: resvg-py 0.5 refuses "226pt"."""
    def pixels(match: re.Match) -> str:
        return f'{match.group(1)}="{float(match.group(2)) * 96 / 72:.2f}"'

    start = svg.index("<svg")
    end = svg.index(">", start)
    return re.sub(r'\b(width|height)="([\d.]+)pt"', pixels, svg[start:end]) + svg[end:]
