"""Lines far longer than a picture is wide are thinned before matplotlib draws them, keeping
what the eye sees: ends, peaks, troughs and gaps."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from gradtrace.cli import app
from gradtrace.render.plots import broken_at, jumps_across, thinned, y_window


def test_a_short_line_is_drawn_point_for_point():
    x = np.linspace(0, 1, 8000)
    y = np.sin(x)
    kept_x, kept_y = thinned(x, y, columns=2000)
    assert kept_x is x and kept_y is y


def test_a_long_line_keeps_its_ends_spikes_and_gaps_in_a_few_points_a_column():
    count = 1_000_003  # not a multiple of the run length: the last run is short
    x = np.arange(count, dtype=np.float64)
    y = np.zeros(count)
    y[123_457] = 50.0       # a one-point spike up
    y[777_001] = -20.0      # and one down
    y[500_000:500_010] = np.nan  # a gap
    y[-1] = 3.0             # the last point differs from its run
    kept_x, kept_y = thinned(x, y, columns=2000)
    assert len(kept_x) <= 5 * 2000
    assert np.all(np.diff(kept_x) > 0)  # still in the line's order
    shown = dict(zip(kept_x.tolist(), kept_y.tolist()))
    assert shown[0.0] == 0.0 and shown[count - 1.0] == 3.0
    assert shown[123_457.0] == 50.0 and shown[777_001.0] == -20.0
    assert np.isnan(shown[500_000.0])  # the gap starts where it did
    assert np.nanmax(kept_y) == 50.0 and np.nanmin(kept_y) == -20.0


def test_the_plot_of_ten_million_points_is_quick_and_the_same_each_time(tmp_path):
    runner = CliRunner()
    pictures = []
    for name in ("a.svg", "b.svg"):
        result = runner.invoke(app, ["plot", "relu(x)", "--at", "x=linspace(-8,8,10000000)",
                                     "-o", str(tmp_path / name)])
        assert result.exit_code == 0, result.output
        pictures.append((tmp_path / name).read_bytes())
    assert pictures[0] == pictures[1]
    # thinned: an SVG of 10⁷ points would be hundreds of megabytes
    assert len(pictures[0]) < 2_000_000


@pytest.mark.parametrize("columns", [1, 3, 2000])
def test_thinning_never_invents_a_point(columns):
    rng = np.random.default_rng(4)
    x = np.sort(rng.uniform(-5, 5, 50_000))
    y = rng.standard_normal(50_000)
    kept_x, kept_y = thinned(x, y, columns=columns)
    index = np.searchsorted(x, kept_x)
    np.testing.assert_array_equal(x[index], kept_x)
    np.testing.assert_array_equal(y[index], kept_y)


@pytest.mark.parametrize("command", [
    ["plot", "relu(x)", "-o", "{dir}/a.svg"],
    ["graph", "x*y + 1", "--at", "x=1,y=2", "-o", "{dir}/b.svg"],
    ["explain", "x*y", "--at", "x=1,y=2", "--no-check", "--format", "text", "--svg", "{dir}/c.svg"],
])
def test_wrote_file_goes_to_stderr_so_stdout_holds_only_the_answer(command, tmp_path):
    result = CliRunner().invoke(app, [part.format(dir=tmp_path) for part in command])
    assert result.exit_code == 0, result.output
    assert "wrote" in result.stderr and "wrote" not in result.stdout


def test_plot_out_of_order_values_are_drawn_left_to_right(tmp_path):
    from gradtrace.expr.pipeline import curve

    drawn = curve("x**2", {"x": np.array([3.0, -1.0, 2.0, -3.0, 0.0, 1.0, -2.0])})
    assert drawn.x.tolist() == [-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0]
    assert drawn.value.tolist() == [9.0, 4.0, 1.0, 0.0, 1.0, 4.0, 9.0]
    assert drawn.derivative.tolist() == [-6.0, -4.0, -2.0, 0.0, 2.0, 4.0, 6.0]


@pytest.mark.parametrize("values", ["[]", "linspace(-8,8,0)", "arange(1,0,0.1)"])
def test_plot_of_no_values_is_refused(values, tmp_path):
    result = CliRunner().invoke(app, ["plot", "relu(x)", "--at", f"x={values}",
                                      "-o", str(tmp_path / "e.png")])
    assert result.exit_code == 2 and "no values to draw" in result.output
    assert not (tmp_path / "e.png").exists()


@pytest.mark.parametrize("expression, said", [
    ("log(x)", ["f = log(x) is not finite at 201 of 401 points (x from -2.00 to 0.00)",
                "df/dx is not finite at x = 0.00"]),
    ("sqrt(x)", ["f = sqrt(x) is not finite at 200 of 401 points (x from -2.00 to -0.010)",
                 "df/dx is not finite at x = 0.00"]),
])
def test_plot_says_where_the_curve_is_not_finite(expression, said, tmp_path):
    result = CliRunner().invoke(app, ["plot", expression, "--at", "x=linspace(-2,2,401)",
                                      "-o", str(tmp_path / "p.svg")])
    assert result.exit_code == 1  # drawn, with gaps: a problem found, as explain's exit 1
    assert [line.split(";")[0] for line in result.stderr.splitlines()
            if "not finite" in line] == said


def test_chinese_names_draw_with_the_cjk_font_in_english_too(tmp_path):
    import subprocess
    import sys

    from gradtrace.render.fonts import cjk_font_file

    command = [sys.executable, "-c", "from gradtrace.cli import main; main()", "plot",
               "relu(权重)", "-o", str(tmp_path / "cn.png"), "--lang", "en"]
    if cjk_font_file() is not None:
        drawn = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert drawn.returncode == 0 and "Glyph" not in drawn.stderr, drawn.stderr
    refused = subprocess.run(command, capture_output=True, text=True, timeout=120,
                             env={**__import__("os").environ,
                                  "GRADTRACE_CJK_FONT": str(tmp_path / "no-such-font.ttc")})
    assert refused.returncode == 2 and "font" in refused.stderr
    assert "Traceback" not in refused.stderr and "Glyph" not in refused.stderr


def test_the_y_axis_leaves_out_the_far_values_near_a_pole():
    x = np.linspace(-2, 2, 400)  # no 0: every value finite, the slope reaching -40,000
    value, slope = 1 / x, -1 / x**2
    low, high = y_window(value, slope)
    assert -1000 < low < -5 and 1 < high < 100  # the spike is cut, the curves' shape kept
    both = np.concatenate([value, slope])
    assert np.mean((both >= low) & (both <= high)) >= 0.9


@pytest.mark.parametrize("function", [np.exp, np.tanh, lambda x: np.maximum(x, 0), np.sin])
def test_the_y_axis_shows_every_value_of_a_curve_without_a_pole(function):
    x = np.linspace(-8, 8, 321)
    step = x[1] - x[0]
    assert y_window(function(x), np.gradient(function(x), step)) is None
    assert y_window(1 / x[:19], 1 / x[:19]) is None  # too few values to leave any out


def test_plot_says_when_it_cuts_the_y_axis(tmp_path):
    cut = CliRunner().invoke(app, ["plot", "1/x", "--at", "x=linspace(-2,2,400)",
                                   "-o", str(tmp_path / "p.svg")])
    x = np.linspace(-2, 2, 400)
    both = np.concatenate([1 / x, -1 / x**2])
    low, high = np.quantile(both, [0.05, 0.95])  # all but 5% at each end, and a tenth more
    low, high = low - (high - low) / 10, high + (high - low) / 10
    assert cut.exit_code == 0
    assert (f"the y-axis shows {low:.3g} to {high:.3g}: a few values of f or df/dx lie far "
            "outside") in cut.stderr
    whole = CliRunner().invoke(app, ["plot", "sigmoid(x)", "-o", str(tmp_path / "s.svg")])
    assert whole.exit_code == 0 and "y-axis" not in whole.stderr


@pytest.mark.parametrize("expression, values, code, said", [
    ("x", "x=linspace(1e308,1.7e308,10)", 2,
     "x reaches 1.70e+308: a picture's axis holds numbers up to about 1.00e+300"),
    ("x", "x=linspace(-1e308,1e308,10)", 2, "(written so, or made by a range so wide it "
                                             "overflows): give finite numbers"),
    ("x", "x=[nan,1,2]", 2, "x holds nan (written so, or made by a range"),
    ("x", "x=[1,inf]", 2, "x holds inf (written so, or made by a range"),
    ("exp(-x)", "x=linspace(-800,800,1601)", 1,  # drawn, with gaps where it is too large
     "f = exp(-x) is beyond ±1.00e+300 at 19 of 1601 points (x from -709.00 to -691.00)"),
])
def test_plot_of_numbers_too_large_for_an_axis_is_refused_or_drawn_with_gaps(
        expression, values, code, said, tmp_path):
    result = CliRunner().invoke(app, ["plot", expression, "--at", values,
                                      "-o", str(tmp_path / "p.png")])
    assert result.exit_code == code and said in result.stderr
    assert "internal error" not in result.stderr
    assert (tmp_path / "p.png").exists() == (code == 1)


def test_a_line_is_broken_where_it_leaves_the_picture_at_one_edge_and_returns_at_the_other():
    x = np.array([-0.2, -0.1, 0.1, 0.2, 0.3])
    y = 1 / x  # -5, -10, 10, 5, 3.33: a pole between the second and the third point
    assert list(jumps_across(y, (-6.0, 6.0))) == [1]
    assert list(jumps_across(y, None)) == [] and list(jumps_across(-1 / x**2, (-6, 6))) == []
    line_x, line_y = broken_at(x, y, [1])
    np.testing.assert_array_equal(line_x, [-0.2, -0.1, 0.0, 0.1, 0.2, 0.3])
    assert np.isnan(line_y[2]) and np.array_equal(np.delete(line_y, 2), y)


def test_plot_says_where_it_breaks_the_line_at_a_pole_between_samples(tmp_path):
    result = CliRunner().invoke(app, ["plot", "1/x", "--at", "x=linspace(-2,2,400)",
                                      "-o", str(tmp_path / "p.svg")])
    assert result.exit_code == 0
    assert ("f = 1/x leaves the picture at one edge and comes back at the other between "
            "x = -0.0050 … 0.0050") in result.stderr
    assert "df/dx leaves" not in result.stderr  # −1/x² goes off the bottom on both sides
