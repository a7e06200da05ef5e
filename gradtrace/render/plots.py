"""Pictures of training: the loss curve, a decision boundary, optimiser paths on a contour plot,
the histograms of a traced step's activations.

matplotlib is a dependency (an environment without it is told `pip install "gradtrace[plot]"`):
it is imported here, on first use, with the Agg backend (no display needed), so the core package and its start-up stay light.
Every picture is rendered to bytes and written atomically; the format follows the file's suffix
(.png or .svg).
"""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..core.errors import GradtraceError
from ..core.i18n import N_, _, current
from .image import write_atomic

INSTALL_HINT = 'pip install "gradtrace[plot]"'
FORMATS = (".png", ".svg")


class PlottingUnavailable(GradtraceError):
    """matplotlib is not installed."""


def check_available() -> None:
    """PlottingUnavailable, with the fix, when matplotlib cannot be imported: asked before any
    work by the commands that will draw."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise PlottingUnavailable(
            _("pictures need matplotlib, which is not installed; run: {hint}",
              hint=INSTALL_HINT)) from None


def pyplot(text: str = ""):
    """matplotlib.pyplot on the Agg backend, or PlottingUnavailable with the fix. `text`, the
    user's own words the picture shows (an expression), may need the CJK font in any language;
    with none here, MissingCJKFont (exit 2) says how to get one, as for the pictures of graphs."""
    try:
        import matplotlib
    except ImportError:
        raise PlottingUnavailable(
            _("pictures need matplotlib, which is not installed; run: {hint}",
              hint=INSTALL_HINT)) from None
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    from .fonts import cjk_font_file, has_wide

    if has_wide(text) and cjk_font_file() is None:
        from .image import CJK_HELP, MissingCJKFont

        raise MissingCJKFont(_(CJK_HELP))
    if current() == "zh" or has_wide(text):
        _use_cjk_font(matplotlib)
    return plt


# Why a picture's Chinese words cannot be drawn: said by the CLI, which then draws in English.
NO_CJK_FONT = N_("the pictures' Chinese words need a Chinese font, which matplotlib does not have "
                 "here: `pip install \"gradtrace[cjk]\"` (Noto Sans CJK) or set "
                 "GRADTRACE_CJK_FONT to a .ttc/.otf/.ttf file with the glyphs; drawn with English "
                 "words instead")


def words_drawable() -> str:
    """"" when the current language's words can be drawn by matplotlib; else why not (Chinese
    with no CJK font file: gradtrace.render.fonts finds one as the PNGs of graphs do)."""
    from .fonts import cjk_font_file

    if current() != "zh" or cjk_font_file() is not None:
        return ""
    return _(NO_CJK_FONT)


def _use_cjk_font(matplotlib) -> None:
    """Put the CJK font file that gradtrace.render.fonts finds first in matplotlib's sans-serif
    list, so titles and legends in Chinese draw (matplotlib's own DejaVu has no ideographs)."""
    from matplotlib import font_manager

    from .fonts import cjk_font_file

    font = cjk_font_file()
    if font is None:
        return
    font_manager.fontManager.addfont(str(font))
    family = font_manager.FontProperties(fname=str(font)).get_name()
    # after matplotlib's own first font: Latin letters and digits keep their look, and each
    # glyph that font lacks (every ideograph) falls back to the CJK font (matplotlib ≥ 3.6)
    first = next((name for name in matplotlib.rcParams["font.sans-serif"] if name != family),
                 "DejaVu Sans")
    matplotlib.rcParams["font.family"] = [first, family]
    # a variable font (Noto Sans CJK VF) is registered at its default weight: matplotlib
    # warns, on every text, that it uses that weight for "normal", which is what is wanted
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)


def _save(figure, path) -> Path:
    """Render `figure` in the format of `path`'s suffix and write it atomically."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise GradtraceError(_("cannot draw {path}: the name must end in .png or .svg",
                               path=path))
    import matplotlib

    buffer = io.BytesIO()
    # No date or software tag and a fixed salt for SVG ids keep the bytes the same each run.
    metadata = {"Date": None} if suffix == ".svg" else {"Software": None}
    with matplotlib.rc_context({"svg.hashsalt": "gradtrace"}):
        figure.savefig(buffer, format=suffix[1:], dpi=110, bbox_inches="tight",
                       metadata=metadata)
    pyplot().close(figure)
    write_atomic(path, buffer.getvalue())
    return path


def loss_curve(losses, accuracies, path, title: str = "") -> Path:
    """Loss per epoch (log scale) and, on a second axis, accuracy per epoch."""
    plt = pyplot()
    figure, loss_axis = plt.subplots(figsize=(6, 3.6))
    epochs = np.arange(1, len(losses) + 1)
    loss_axis.plot(epochs, losses, color="tab:blue", label=_("loss"))
    loss_axis.set_yscale("log")
    loss_axis.set_xlabel(_("epoch"))
    loss_axis.set_ylabel(_("loss"), color="tab:blue")
    accuracy_axis = loss_axis.twinx()
    accuracy_axis.plot(epochs, np.asarray(accuracies) * 100, color="tab:orange",
                       label=_("accuracy"))
    accuracy_axis.set_ylim(0, 105)
    accuracy_axis.set_ylabel(_("accuracy (%)"), color="tab:orange")
    loss_axis.set_title(title or _("training loss and accuracy"))
    return _save(figure, path)


def grid_around(X: np.ndarray, steps: int = 200, margin: float = 0.5):
    """A steps×steps grid covering the points X (N, 2) with a margin: (xx, yy, points)."""
    low, high = X.min(axis=0) - margin, X.max(axis=0) + margin
    xx, yy = np.meshgrid(np.linspace(low[0], high[0], steps), np.linspace(low[1], high[1], steps))
    return xx, yy, np.stack([xx.ravel(), yy.ravel()], axis=1)


def decision_boundary(X, y, xx, yy, predicted, path, title: str = "") -> Path:
    """The predicted class over the grid (xx, yy) as coloured regions, the data on top."""
    plt = pyplot()
    figure, axis = plt.subplots(figsize=(5, 5))
    classes = int(max(np.max(y), np.max(predicted))) + 1
    levels = np.arange(classes + 1) - 0.5
    axis.contourf(xx, yy, predicted.reshape(xx.shape), levels=levels, cmap="coolwarm", alpha=0.35)
    axis.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", vmin=0, vmax=max(classes - 1, 1),
                 edgecolors="black", linewidths=0.5, s=30)
    axis.set_xlabel("x₁")
    axis.set_ylabel("x₂")
    axis.set_title(title or _("decision boundary"))
    return _save(figure, path)


def optimiser_paths(xx, yy, zz, paths: dict, path, title: str = "") -> Path:
    """Contour lines of f over (xx, yy) and each optimiser's path of points (steps+1, 2), one
    panel per optimiser (as in the notes' figure)."""
    plt = pyplot()
    count = len(paths)
    columns = min(count, 2)
    rows = (count + columns - 1) // columns
    figure, axes = plt.subplots(rows, columns, figsize=(5 * columns, 3.6 * rows), squeeze=False)
    for axis in axes.ravel()[count:]:
        axis.set_visible(False)
    for axis, (name, points) in zip(axes.ravel(), paths.items()):
        axis.contour(xx, yy, zz, levels=20, cmap="Greens", linewidths=0.8)
        axis.plot(points[:, 0], points[:, 1], "o-", color="tab:red", markersize=3, linewidth=1)
        axis.set_title(name)
        axis.set_xlim(xx.min(), xx.max())
        axis.set_ylim(yy.min(), yy.max())
    if title:  # above two-line panel titles too (a diverged path's says where it stopped)
        figure.suptitle(title, y=1.0 + 0.06 / rows)
    return _save(figure, path)


# Columns of a picture a line is thinned to: more than the ~600 pixels the axes are wide.
LINE_COLUMNS = 2000


def thinned(x, y, columns: int = LINE_COLUMNS):
    """The points of the line through (x, y) that a picture can show: past 4 points a column,
    each run of points keeps its first, last, lowest and highest, and its first non-finite
    value (a gap in the line), so peaks, steps and gaps are drawn as they are while a line of
    10⁷ points draws in well under a second instead of half a minute."""
    x, y = np.asarray(x), np.asarray(y)
    count = y.size
    if count <= 4 * columns:
        return x, y
    run = -(-count // columns)
    runs = -(-count // run)
    padded = np.concatenate([y, np.repeat(y[-1:], runs * run - count)]).reshape(runs, run)
    missing = np.isnan(padded)
    starts = np.arange(runs) * run
    kept = [starts, np.minimum(starts + run - 1, count - 1),
            starts + np.argmin(np.where(missing, np.inf, padded), axis=1),
            starts + np.argmax(np.where(missing, -np.inf, padded), axis=1)]
    gaps = missing.any(axis=1)
    kept.append((starts + np.argmax(missing, axis=1))[gaps])
    chosen = np.unique(np.minimum(np.concatenate(kept), count - 1))
    return x[chosen], y[chosen]


DRAWABLE = 1e300  # numbers a picture's axis can hold: its scale overflows past about 1e307


def drawable(values) -> np.ndarray:
    """`values` with those too large to draw (beyond ±DRAWABLE) made gaps (nan)."""
    values = np.asarray(values, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.where(np.abs(values) > DRAWABLE, np.nan, values)


TAIL = 0.05  # the share of values at each end a y-axis may leave out...
SPREAD = 10.0  # ...when showing them would squeeze the rest into a tenth of the picture


def y_window(*series) -> tuple[float, float] | None:
    """(low, high) for a y-axis that leaves out a few far values (f and its slope near a pole:
    1/x and −1/x² near 0), when drawing them would flatten the rest of the curve into a line;
    None when every value fits. The window holds all but the TAIL of values at each end."""
    finite = np.concatenate([np.asarray(values, dtype=float).ravel() for values in series])
    finite = finite[np.isfinite(finite)]
    if finite.size < 20:
        return None
    low, high = np.quantile(finite, [TAIL, 1 - TAIL])
    if not high > low or finite.max() - finite.min() <= SPREAD * (high - low):
        return None
    margin = 0.1 * (high - low)
    return float(low - margin), float(high + margin)


def jumps_across(y, window) -> np.ndarray:
    """Indices i where the line from point i to i + 1 leaves the picture at one edge and comes
    back at the other (above `window` to below it, or below to above): a pole between two
    samples (1/x, tan) that a line would draw as a false vertical stroke."""
    if window is None or len(y) < 2:
        return np.zeros(0, dtype=int)
    low, high = window
    y = np.asarray(y, dtype=float)
    with np.errstate(invalid="ignore"):
        above, below = y > high, y < low
    return np.flatnonzero((above[:-1] & below[1:]) | (below[:-1] & above[1:]))


def broken_at(x, y, indices):
    """The line through (x, y) with a gap after each of `indices`."""
    if not len(indices):
        return x, y
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    where = np.asarray(indices) + 1
    return np.insert(x, where, (x[where - 1] + x[where]) / 2), np.insert(y, where, np.nan)


def slope_drawn(curve) -> np.ndarray:
    """The derivative as drawn: none where f itself is undefined (log x below 0: the rule 1/x
    is not), nor beyond what an axis can hold."""
    return drawable(np.where(np.isnan(curve.value), np.nan, curve.derivative))


class CurveLines(NamedTuple):
    """What `function_and_derivative` draws: f and its slope with gaps where they cannot be
    drawn, the y-axis window (None: every value fits), and after which points each line is
    broken because it leaves the picture at one edge and comes back at the other."""

    value: np.ndarray
    slope: np.ndarray
    window: tuple[float, float] | None
    value_breaks: np.ndarray
    slope_breaks: np.ndarray


def curve_lines(curve) -> CurveLines:
    value, slope = drawable(curve.value), slope_drawn(curve)
    window = y_window(value, slope)
    return CurveLines(value, slope, window, jumps_across(value, window),
                      jumps_across(slope, window))


def function_and_derivative(curve, path, lines: CurveLines | None = None) -> Path:
    """f and its derivative over a range, on one pair of axes (as d2l draws relu, sigmoid and
    tanh with their gradients); the y-axis leaves out far values that would flatten the rest
    (`y_window`), and says so. `lines`: curve_lines(curve), when the caller made it already."""
    lines = curve_lines(curve) if lines is None else lines
    plt = pyplot(curve.expression)
    figure, axis = plt.subplots(figsize=(5.5, 3.6))
    marker = "o" if curve.x.size == 1 else None  # a line through one point would not show
    axis.plot(*thinned(*broken_at(curve.x, lines.value, lines.value_breaks)), color="tab:green",
              marker=marker, label=f"f = {curve.expression}")
    axis.plot(*thinned(*broken_at(curve.x, lines.slope, lines.slope_breaks)), color="tab:red",
              linestyle="--", marker=marker, label=f"df/d{curve.input}")
    axis.axhline(0.0, color="#999999", linewidth=0.6)
    window = lines.window
    if window is not None:
        axis.set_ylim(*window)
        axis.text(0.99, 0.01, _("y cut to {low} … {high}", low=f"{window[0]:.3g}",
                                high=f"{window[1]:.3g}"),
                  transform=axis.transAxes, ha="right", va="bottom", fontsize=7,
                  color="#666666")
    axis.set_xlabel(curve.input)
    axis.legend(loc="best", fontsize=8)
    axis.set_title(_("{expression} and its derivative", expression=curve.expression))
    return _save(figure, path)


MAX_PANELS = 10  # activation layers drawn; a deeper net shows layers spread evenly over depth
PANEL_COLUMNS = 5
HISTOGRAM_BINS = 30  # as 《深度学习入门》 §6.2 (weight_init_activation_histogram.py) draws them


def activation_histograms(result, path, title: str = "") -> Path:
    """One histogram per activation layer of a traced step (gradtrace.layers.step.StepResult):
    every output of the layer over the batch, 30 bins, as 《深度学习入门》 §6.2 draws the
    activations of a 5-layer sigmoid net. All panels share one range, so they can be compared:
    the activation's own limits where it levels off (0 to 1 for sigmoid, as the book draws it;
    from 0 for relu), widened to the smallest and largest finite output of all layers;
    non-finite outputs are left out and counted in the panel's title. Past MAX_PANELS layers,
    MAX_PANELS of them spread evenly from the first to the last are drawn."""
    from ..layers.diagnosis import activity, traits
    from ..narrate.layer_health import percent
    from ..narrate.numbers import fmt

    stats = activity(result)
    if not stats:
        raise GradtraceError(_("no activation layers to draw: the network has none"))
    records = result.trace.by_id
    outputs = {layer.name: np.asarray(records[layer.output].value, dtype=np.float64).ravel()
               for layer in result.layers}
    shown = _spread_evenly(len(stats), MAX_PANELS)
    finite = [outputs[stats[i].layer][np.isfinite(outputs[stats[i].layer])] for i in shown]
    bounds = [traits(op).bounds for op in sorted({a.op for a in stats})]
    low = min([float(v.min()) for v in finite if v.size]
              + [b[0] for b in bounds if b[0] is not None], default=0.0)
    high = max([float(v.max()) for v in finite if v.size]
               + [b[1] for b in bounds if b[1] is not None], default=1.0)
    if high <= low:
        low, high = low - 0.5, high + 0.5
    plt = pyplot()
    columns = min(len(shown), PANEL_COLUMNS)
    rows = -(-len(shown) // columns)
    same_size = len({outputs[stats[i].layer].size for i in shown}) == 1  # then one count axis
    figure, axes = plt.subplots(rows, columns, figsize=(2.6 * columns, 2.6 * rows),
                                squeeze=False, sharey=same_size)
    for axis in axes.ravel()[len(shown):]:
        axis.set_visible(False)
    for axis, index, values in zip(axes.ravel(), shown, finite):
        a = stats[index]
        axis.hist(values, bins=HISTOGRAM_BINS, range=(low, high), color="tab:blue")
        left_out = outputs[a.layer].size - values.size
        fields = dict(layer=a.layer, saturated=percent(a.saturated), dead=percent(a.dead),
                      count=left_out)
        axis.set_title(_("{layer}\nsaturated {saturated}, dead {dead}, {count} not finite",
                         **fields) if left_out else
                       _("{layer}\nsaturated {saturated}, dead {dead}", **fields), fontsize=8)
        axis.set_xlabel(_("output (mean {mean}, std {std})", mean=fmt(a.mean), std=fmt(a.std)),
                        fontsize=7)
        axis.tick_params(labelsize=7)
    for axis in axes[:, 0]:
        axis.set_ylabel(_("count"), fontsize=8)
    heading = title or _("activations over the batch")
    if len(shown) < len(stats):
        heading = _("{title} ({shown} of {count} activation layers)", title=heading,
                    shown=len(shown), count=len(stats))
    figure.suptitle(heading, fontsize=9)
    figure.tight_layout()
    return _save(figure, path)


def _spread_evenly(count: int, most: int) -> list[int]:
    """All of 0..count-1, or `most` of them from the first to the last, evenly spread."""
    if count <= most:
        return list(range(count))
    return sorted({round(float(i)) for i in np.linspace(0, count - 1, most)})
