"""A story as a LaTeX document, for slides and exams: `--format latex`.

Every section is a \\section*; prose is a paragraph; narrated lines (forward and backward
steps, chain-rule paths) are the rows of an align* environment, aligned at their first
"=" (or ":"), values in green and gradients in red as in every other picture, notes small
and to the right; tables are tabular with booktabs rules (longtable past LONG_TABLE rows, so
a big graph's table breaks across pages); pictures of characters (sparsity patterns,
sparklines) are drawn with rules. A quiz's blanks (gradtrace.narrate.quiz) are numbered lines
to write on, so `gradtrace quiz EXPRESSION --format latex` is an exam sheet.

The document compiles as it is with pdfLaTeX and the packages of a basic TeX Live (amsmath,
amssymb, booktabs, xcolor, geometry, longtable). Names become math (h7 → h₇, exp →
\\operatorname{exp}), every Unicode symbol the narration uses becomes its LaTeX command, and
any other character outside Latin-1 is written with \\gtchar, which typesets it with CJKutf8
where that package and its Chinese font are installed and as its code point otherwise, so
a name such as 权重 never stops the compile. Nothing here runs LaTeX.
"""

from __future__ import annotations

import re

from ..narrate.blocks import Picture, Section, Table
from ..narrate.lines import Line
from ..narrate.quiz import BLANK
from .dot import GRADIENT_COLOUR, VALUE_COLOUR

LONG_TABLE = 30

PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage[utf8]{inputenc}
\usepackage{amsmath,amssymb}
\usepackage{booktabs,longtable}
\usepackage{xcolor}
\usepackage[margin=2cm,landscape]{geometry}
\definecolor{gtvalue}{HTML}{%(value)s}
\definecolor{gtgrad}{HTML}{%(grad)s}
\allowdisplaybreaks
\setlength{\parindent}{0pt}
\setlength{\parskip}{0.5em}
\newcommand{\gtnote}[1]{\quad\text{\footnotesize\itshape #1}}
\newcommand{\gtwarn}[1]{\quad\text{\footnotesize\bfseries #1}}
\newcommand{\gtblank}[1]{\underline{\hspace{2.2cm}}_{\,\text{\tiny #1}}}
\IfFileExists{CJKutf8.sty}{\IfFileExists{c70gbsn.fd}{\def\gtcjkok{}}{}}{}
\ifdefined\gtcjkok
  \usepackage{CJKutf8}
  \newcommand{\gtchar}[2]{\begin{CJK}{UTF8}{gbsn}#1\end{CJK}}
\else
  \newcommand{\gtchar}[2]{\texttt{[#2]}}
\fi
"""

# -- Unicode → LaTeX ------------------------------------------------------------------------

MATH_SYMBOLS = {
    "×": r"\times", "⊙": r"\odot", "·": r"\cdot", "←": r"\leftarrow", "→": r"\to",
    "∂": r"\partial", "Σ": r"\Sigma", "∑": r"\sum", "σ": r"\sigma", "δ": r"\delta",
    "η": r"\eta", "λ": r"\lambda", "α": r"\alpha", "β": r"\beta", "γ": r"\gamma",
    "μ": r"\mu", "π": r"\pi", "θ": r"\theta", "φ": r"\varphi", "ε": r"\varepsilon",
    "ω": r"\omega", "τ": r"\tau", "ρ": r"\rho", "∇": r"\nabla", "‖": r"\|", "−": "-",
    "…": r"\dots", "≠": r"\neq", "≤": r"\leq", "≥": r"\geq", "⋆": r"\star", "⌊": r"\lfloor",
    "⌋": r"\rfloor", "√": r"\surd", "✓": r"\checkmark", "′": "'", "∈": r"\in", "∞": r"\infty",
    "≈": r"\approx", "±": r"\pm", "÷": r"\div", "∘": r"\circ", "⟨": r"\langle",
    "⟩": r"\rangle", "½": r"\tfrac{1}{2}", "⁄": "/", "−∞": r"-\infty", "→∞": r"\to\infty",
    "⊤": r"\top", "∣": r"\mid", "⇒": r"\Rightarrow", "↦": r"\mapsto",
}
SUPERSCRIPTS = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾⁻⁺ᵀˡᴸⁿⁱ", "0123456789()-+TlLni"))
SUBSCRIPTS = dict(zip("₀₁₂₃₄₅₆₇₈₉ₙᵢ₍₎", "0123456789ni()"))
TEXT_SYMBOLS = {
    "—": "---", "–": "--", "“": "``", "”": "''", "‘": "`", "’": "'", "…": r"\ldots{}",
    "⚠": r"\textbf{!}", "█": r"\rule{0.55em}{0.7em}", "·": r"\ensuremath{\cdot}",
    "《": r"\gtchar{《}{U+300A}", "》": r"\gtchar{》}{U+300B}",
}
SPARK = "▁▂▃▄▅▆▇"
FUNCTIONS = {"exp", "log", "sin", "cos", "tan", "tanh", "sinh", "cosh", "max", "min"}
_TEXT_SPECIALS = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&",
                  "#": r"\#", "^": r"\^{}", "_": r"\_", "%": r"\%", "~": r"\~{}",
                  "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}"}
_SCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾⁻⁺ᵀˡᴸⁿⁱ₀₁₂₃₄₅₆₇₈₉ₙᵢ₍₎"
_TOKEN = re.compile(rf"(?P<name>(?:(?![{_SCRIPTS}])[^\W\d_])(?:(?![{_SCRIPTS}])\w)*)|(?P<number>\d+(?:\.\d+)?(?:e[+-]?\d+)?)"
                    r"|(?P<sup>[⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾⁻⁺ᵀˡᴸⁿⁱ]+)|(?P<sub>[₀₁₂₃₄₅₆₇₈₉ₙᵢ₍₎]+)|(?P<other>.)",
                    re.S)


def _wide(char: str) -> str:
    """A character LaTeX cannot set on its own: typeset by \\gtchar (CJK where installed)."""
    return rf"\gtchar{{{char}}}{{U+{ord(char):04X}}}"


def text(value: str) -> str:
    """Text for a paragraph or a table cell: specials escaped, symbols as commands."""
    out = []
    for char in value:
        if char in _TEXT_SPECIALS:
            out.append(_TEXT_SPECIALS[char])
        elif char in TEXT_SYMBOLS:
            out.append(TEXT_SYMBOLS[char])
        elif char in SPARK:
            out.append(rf"\rule{{0.4em}}{{{0.1 * (SPARK.index(char) + 1):.1f}em}}")
        elif char in MATH_SYMBOLS:
            out.append(rf"\ensuremath{{{MATH_SYMBOLS[char]}}}")
        elif char in SUPERSCRIPTS:
            out.append(rf"\textsuperscript{{{SUPERSCRIPTS[char]}}}")
        elif char in SUBSCRIPTS:
            out.append(rf"\ensuremath{{_{{{SUBSCRIPTS[char]}}}}}")
        elif ord(char) > 0xFF:
            out.append(_wide(char))
        else:
            out.append(char)
    return "".join(out)


def _command(latex: str) -> str:
    """A symbol's LaTeX; a control word gets a space after it, so a letter cannot join it."""
    return latex + " " if re.fullmatch(r"\\[A-Za-z]+", latex) else latex


def _name(word: str) -> str:
    """h7 → h_{7}, W1 → W_{1}, exp → \\operatorname{exp}, cross_entropy → \\mathit{cross\\_entropy}."""
    if any(ord(char) > 0xFF for char in word):
        if all(char in MATH_SYMBOLS or char.isascii() for char in word):  # σ, δ, ηx
            return "".join(_command(MATH_SYMBOLS[c]) if c in MATH_SYMBOLS else c for c in word)
        return r"\text{" + text(word) + "}"
    if word in FUNCTIONS:
        return rf"\{word}" if word not in ("max", "min") else rf"\operatorname{{{word}}}"
    match = re.fullmatch(r"([A-Za-z])(\d+)", word)
    if match:
        return f"{match.group(1)}_{{{match.group(2)}}}"
    match = re.fullmatch(r"([A-Za-z]+)(\d+)", word)
    if match:
        return rf"\mathit{{{match.group(1)}}}_{{{match.group(2)}}}"
    if len(word) == 1:
        return word
    return rf"\mathit{{{word.replace('_', chr(92) + '_')}}}"


def math(value: str) -> str:
    """A formula or a number in math mode: names, symbols, super- and subscripts."""
    out = []
    for match in _TOKEN.finditer(value):
        kind, token = match.lastgroup, match.group()
        if kind == "name":
            out.append(_name(token))
        elif kind == "number":
            out.append(token)
        elif kind == "sup":
            out.append("^{" + "".join(SUPERSCRIPTS[c] for c in token) + "}")
        elif kind == "sub":
            out.append("_{" + "".join(SUBSCRIPTS[c] for c in token) + "}")
        elif token in MATH_SYMBOLS:
            out.append(_command(MATH_SYMBOLS[token]))
        elif token == " ":
            continue  # TeX spaces math itself
        elif token in "{}":
            out.append("\\" + token)
        elif token in "#$%&_^~\\":
            out.append(r"\text{" + _TEXT_SPECIALS.get(token, token) + "}")
        elif token == "|":
            out.append(r"\vert ")
        elif ord(token) > 0xFF:
            out.append(r"\text{" + text(token) + "}")
        else:
            out.append(token)
    return "".join(out)


_WORDS = ("at", "of", "for", "and", "from", "to", "by", "over")
_PROSE = re.compile(r"[A-Za-z]{2,}[,;:]? +[A-Za-z]{2,}")


def _segment(part: str, kind: str) -> str:
    if kind == BLANK:
        return rf"\gtblank{{{part}}}"
    if kind == "" and part.strip() in _WORDS:
        return r"\text{ " + part.strip() + " }"
    if kind == "" and part == ", ":
        return r",\ "
    if kind != "name" and _PROSE.search(part):  # words, not a formula: set as text
        body = r"\text{" + text(part) + "}"
    else:
        body = math(part)
    if kind == "value":
        return rf"\textcolor{{gtvalue}}{{{body}}}"
    if kind == "grad":
        return rf"\textcolor{{gtgrad}}{{{body}}}"
    return body


def line_row(line: Line) -> str:
    """One row of align*: the line's math, aligned at its first " = " or ": ", its warning
    and note after it."""
    parts = list(line.parts)
    out, aligned = [], False
    for text_part, kind in parts:
        if not aligned and kind == "" and (" = " in text_part or text_part.startswith(": ")):
            marker = ": " if text_part.startswith(": ") else " = "
            before, _, after = text_part.partition(marker)
            out.append(_segment(before, kind) if before else "")
            out.append("&" + ("=" if marker == " = " else ":") + r"\ ")
            out.append(_segment(after, kind) if after else "")
            aligned = True
        else:
            out.append(_segment(text_part, kind))
    row = "".join(out)
    if not aligned:
        row = "&" + row
    if line.warning:
        row += r"\gtwarn{" + text("⚠ " + line.warning) + "}"
    if line.note:
        row += r"\gtnote{" + text(line.note) + "}"
    return row


def lines_block(lines) -> str:
    rows = [line_row(line) for line in lines]
    return "{\\small\n\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}\n}"


def table_block(table: Table) -> str:
    numeric = ("value", "grad", "number")
    spec = "".join("r" if kind in numeric else "l" for kind in table.kinds)
    head = " & ".join(r"\textbf{" + text(column) + "}" for column in table.columns) + r" \\"
    rows = []
    for row in table.rows:
        cells = []
        for cell, kind in zip(row, table.kinds):
            written = text(cell)
            if kind == "value" and cell:
                written = rf"\textcolor{{gtvalue}}{{{written}}}"
            elif kind == "grad" and cell:
                written = rf"\textcolor{{gtgrad}}{{{written}}}"
            cells.append(written)
        rows.append(" & ".join(cells) + r" \\")
    if len(table.rows) > LONG_TABLE:
        return ("{\\small\n\\begin{longtable}{" + spec + "}\n\\toprule\n" + head +
                "\n\\midrule\n\\endhead\n" + "\n".join(rows) +
                "\n\\bottomrule\n\\end{longtable}\n}")
    return ("{\\small\n\\begin{tabular}{" + spec + "}\n\\toprule\n" + head + "\n\\midrule\n" +
            "\n".join(rows) + "\n\\bottomrule\n\\end{tabular}\n}")


def picture_block(picture: Picture) -> str:
    rows = [r"\mbox{\ttfamily " + text(row).replace(" ", r"\ ") + "}" for row in picture.rows]
    return "{\\setlength{\\lineskip}{0pt}\\setlength{\\baselineskip}{0.75em}\n" + \
        "\\\\\n".join(rows) + "\n\\par}"


def block(value) -> str:
    if isinstance(value, str):
        return text(value)
    if isinstance(value, Table):
        return table_block(value)
    if isinstance(value, Picture):
        return picture_block(value)
    return lines_block(value) if value else ""


def render_latex(sections: list[Section], picture: str | None = None) -> str:
    """A complete document: the preamble, then every section. `picture` (a file name, a PDF
    or PNG LaTeX can include) is drawn after the first section, the width of the page."""
    parts = [PREAMBLE % {"value": VALUE_COLOUR.lstrip("#").upper(),
                         "grad": GRADIENT_COLOUR.lstrip("#").upper()},
             "\\begin{document}"]
    for position, section in enumerate(sections):
        title = r"\texttt{" + text(section.title) + "}" if position == 0 else text(section.title)
        parts.append(f"\\section*{{{title}}}")
        parts += [block(value) for value in section.blocks]
        if position == 0 and picture:
            parts.append("\\begin{center}\\includegraphics[width=\\linewidth,height=0.8\\textheight,"
                         f"keepaspectratio]{{{picture}}}\\end{{center}}")
    parts.append("\\end{document}")
    document = "\n\n".join(part for part in parts if part) + "\n"
    if picture:
        document = document.replace("\\usepackage{xcolor}", "\\usepackage{xcolor,graphicx}", 1)
    return document
