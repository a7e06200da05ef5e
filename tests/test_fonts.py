"""Chinese and other wide names in the pictures: fonts named in the SVG, room made in the
layout, and a PNG drawn with glyphs instead of empty boxes (where resvg-py and a CJK font are
installed; skipped otherwise, saying how to get them)."""

import io
import re

import pytest

import gradtrace
from gradtrace.render.dot import render_dot
from gradtrace.render.fonts import (CJK_HELP, cjk_font_file, has_wide, png_from_svg,
                                    svg_font_fallbacks)
from gradtrace.render.image import find_engine, render_image

def box_width(svg: bytes, name: str) -> float:
    """The width of the value box of node `name`, in points, from Graphviz's SVG."""
    text = svg.decode("utf-8")
    group = text[text.index(f"<title>{name}</title>"):]
    xs = [float(x) for x in re.findall(r"(-?[\d.]+),-?[\d.]+", group[:group.index("</g>")])]
    return max(xs) - min(xs)


def test_wide_characters_are_told_apart():
    assert has_wide("权重") and has_wide("ｘ") and has_wide("가") and has_wide("カ")
    assert not has_wide("w0*x0 + b ∂f/∂x ⊙ σ(z) é")


def test_the_svg_names_fonts_with_cjk_glyphs():
    svg = b'<text font-family="Helvetica,sans-Serif">x</text>'
    named = svg_font_fallbacks(svg).decode()
    assert named.startswith('<text font-family="Helvetica,Arial,')
    assert "'Noto Sans CJK SC'" in named and "'Microsoft YaHei'" in named
    assert named.endswith(',sans-serif">x</text>')


@pytest.mark.skipif(find_engine() is None, reason="no Graphviz layout engine")
def test_a_wide_name_has_room_in_its_box():
    """graphviz-pure has no metrics for ideographs and counts each UTF-8 byte as a space
    (0.83 em for one drawn 1 em wide): a six-character name still fits its box."""
    svg = render_image(render_dot(gradtrace.explain("神经网络权重*x", check=False)), "svg")
    assert box_width(svg, "神经网络权重") >= 6 * 11  # six ideographs in bold at 11 pt


def glyph_cells(png: bytes, boxes):
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("L")
    return [image.crop(box).tobytes() for box in boxes]


@pytest.mark.skipif(find_engine() is None, reason="no Graphviz layout engine")
def test_a_png_of_cjk_names_has_their_glyphs():
    """Two different characters drawn side by side give different pixels with a font that
    has them; the empty boxes of a missing glyph are all alike."""
    pytest.importorskip("PIL")
    if cjk_font_file() is None or png_from_svg(b'<svg width="1pt" height="1pt"></svg>', 72) \
            is None:
        pytest.skip(CJK_HELP)
    svg = ('<svg width="60pt" height="30pt" viewBox="0 0 60 30" '
           'xmlns="http://www.w3.org/2000/svg"><text x="2" y="22" font-size="20" '
           'font-family="Helvetica,sans-Serif">权重</text></svg>').encode()
    png = png_from_svg(svg, 72)
    first, second = glyph_cells(png, [(2, 4, 22, 26), (22, 4, 42, 26)])
    assert first != second
    assert min(first) < 128 and min(second) < 128  # ink in both cells
