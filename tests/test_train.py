"""Datasets, `gradtrace train` and `gradtrace optimize`: results, pictures and errors."""

import json
import sys
import xml.etree.ElementTree as ElementTree

import numpy as np
import pytest
from typer.testing import CliRunner

from gradtrace.layers import datasets as data
from gradtrace.cli import app

runner = CliRunner()
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NOTES_FUNCTION = "x**2/20 + y**2"  # seed 003 §6.1, with the start and steps of its source
NOTES_SETTINGS = ["--start", "-7,2", "--steps", "30"]


def invoke(*args):
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result


def assert_png(path):
    content = path.read_bytes()
    assert content.startswith(PNG_SIGNATURE) and b"IEND" in content[-16:]


def assert_svg(path):
    root = ElementTree.fromstring(path.read_bytes())
    assert root.tag.endswith("svg")


# -- datasets ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["xor", "moons", "spirals"])
def test_datasets_are_seeded_and_labelled(name):
    X, y = data.load(name, seed=3)
    again_X, again_y = data.load(name, seed=3)
    assert X.shape == (len(y), 2) and X.dtype == np.float64 and y.dtype == np.int64
    assert np.array_equal(X, again_X) and np.array_equal(y, again_y)
    counts = np.bincount(y)
    assert counts.min() == counts.max()  # balanced classes


def test_different_seeds_give_different_noise():
    assert not np.array_equal(data.load("moons", 0)[0], data.load("moons", 1)[0])
    assert data.load("spirals", 0)[1].max() == 2


def test_xor_is_the_truth_table():
    X, y = data.xor()
    assert np.array_equal(y, np.logical_xor(X[:, 0], X[:, 1]).astype(int))


def test_unknown_dataset_is_a_usage_error():
    result = runner.invoke(app, ["train", "--data", "circles"])
    assert result.exit_code == 2 and "xor, moons, spirals" in result.output


# -- training ------------------------------------------------------------------------------

def train_json(*extra):
    result = invoke("train", "--format", "json", *extra)
    return json.loads(result.stdout)


def test_xor_reaches_full_accuracy_with_a_2_4_1_tanh_mlp_and_adam():
    report = train_json("--data", "xor", "--layers", "2,4,1", "--act", "tanh", "--opt", "adam",
                        "--lr", "0.05", "--epochs", "2000", "--seed", "0")
    assert report["schema"] == "gradtrace.train/1"
    assert report["final_accuracy"] == 1.0
    assert report["epochs"][0]["accuracy"] < 1.0  # it had to learn it
    assert report["final_loss"] < 0.01
    assert [row["epoch"] for row in report["epochs"]] == [1, *range(200, 2001, 200)]


def test_training_is_deterministic():
    args = ("--data", "moons", "--layers", "2,8,1", "--epochs", "30", "--every", "10")
    assert train_json(*args) == train_json(*args)
    assert train_json(*args) != train_json(*args, "--seed", "1")


def test_spirals_use_softmax_over_three_classes():
    report = train_json("--data", "spirals", "--layers", "2,32,3", "--act", "relu",
                        "--lr", "0.01", "--epochs", "200", "--every", "100")
    losses = [row["loss"] for row in report["epochs"]]
    assert losses[0] > 1.0 > losses[-1]  # starts near log 3, then falls
    assert report["final_accuracy"] > 0.5


def test_text_table_shows_every_kth_epoch():
    result = invoke("train", "--epochs", "20", "--every", "5", "--format", "text")
    lines = result.stdout.splitlines()
    assert lines[1].split() == ["epoch", "loss", "accuracy"]
    assert [line.split()[0] for line in lines[3:]] == ["1", "5", "10", "15", "20"]
    assert "training" not in result.stderr  # no progress bar when stderr is not a terminal


@pytest.mark.parametrize("image, check", [("png", assert_png), ("svg", assert_svg)])
def test_train_writes_the_loss_curve_and_decision_boundary(tmp_path, image, check):
    invoke("train", "--epochs", "50", "--out", str(tmp_path), "--image", image)
    check(tmp_path / f"loss.{image}")
    check(tmp_path / f"boundary.{image}")
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"boundary.{image}", f"loss.{image}"]


@pytest.mark.parametrize("layers, message", [("3,4,1", "start with 2"), ("2,4,3", "end with"),
                                             ("2", "at least an input and an output width")])
def test_layer_sizes_must_fit_the_data(layers, message):
    result = runner.invoke(app, ["train", "--data", "xor", "--layers", layers])
    assert result.exit_code == 2 and message in result.output


@pytest.mark.parametrize("command", [["train", "--epochs", "10"],
                                     ["optimize", NOTES_FUNCTION, "--steps", "5"]])
def test_without_matplotlib_the_fix_is_named_before_any_work(tmp_path, monkeypatch, command):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` now fails
    out = tmp_path / "pictures"
    result = runner.invoke(app, [*command, "--out", str(out)])
    assert result.exit_code == 2
    assert result.stdout == ""  # refused before training: no table
    assert 'pip install "gradtrace[plot]"' in result.stderr and "--out" in result.stderr
    assert not out.exists()


# -- optimisers on the notes' function ------------------------------------------------------

def optimise(*extra):
    result = invoke("optimize", NOTES_FUNCTION, *NOTES_SETTINGS, "--format", "json", *extra)
    return {entry["name"]: entry for entry in json.loads(result.stdout)["optimisers"]}


def test_sgd_final_point_follows_its_update_rule():
    # ∇f = (x/10, 2y): SGD multiplies x by (1 − 0.095) and y by (1 − 1.9) each step.
    sgd = optimise("--opt", "sgd")["sgd"]
    assert sgd["final"] == pytest.approx([-7 * 0.905**30, 2 * (-0.9)**30], rel=1e-12)
    assert len(sgd["path"]) == 31 and sgd["path"][0] == [-7.0, 2.0]


def test_the_notes_figure_sgd_zigzags_and_the_others_damp_it():
    # Seed 003 §6.1: on the elongated bowl SGD zig-zags across the valley (its y step turns
    # back every time); momentum, AdaGrad and Adam lessen the zig-zag; AdaGrad heads straight
    # in. (With these settings SGD still ends nearer the minimum than momentum and about as
    # near as Adam: the notes' claim is about the path's shape, not the last point.)
    paths = optimise("--opt", "sgd,momentum,adagrad,adam")
    assert paths["sgd"]["turns"][1] == 29
    for name in ("momentum", "adagrad", "adam"):
        assert paths[name]["turns"][1] <= 4
    distance = {name: np.hypot(*entry["final"]) for name, entry in paths.items()}
    assert min(distance, key=distance.get) == "adagrad"
    assert all(np.hypot(*entry["path"][-1]) < np.hypot(-7, 2) / 5 for entry in paths.values())


def test_optimize_text_names_each_optimiser_and_its_final_point():
    result = invoke("optimize", NOTES_FUNCTION, *NOTES_SETTINGS, "--format", "text")
    lines = result.stdout.splitlines()
    rows = {line.split()[0]: line.split() for line in lines[1:2] + lines[3:]}
    assert list(rows) == ["optimiser", "sgd", "momentum", "adagrad", "adam"]
    assert rows["sgd"][1:4] == ["0.95", "-0.3504", "0.0848"]


def test_learning_rates_can_be_set_per_optimiser():
    paths = optimise("--opt", "sgd,adam", "--lr", "adam=0.1")
    assert paths["sgd"]["lr"] == 0.95 and paths["adam"]["lr"] == 0.1


@pytest.mark.parametrize("image, check", [("png", assert_png), ("svg", assert_svg)])
def test_optimize_draws_the_paths_on_the_contour_plot(tmp_path, image, check):
    invoke("optimize", NOTES_FUNCTION, "--steps", "5", "--out", str(tmp_path), "--image", image)
    check(tmp_path / f"paths.{image}")


@pytest.mark.parametrize("args, message", [
    (["x**2 + y**2 + z**2"], "two variables"),
    (["x**2 + y**2", "--opt", "lbfgs"], "unknown optimiser"),
    (["x**2 + y**2", "--start", "1"], "two numbers"),
])
def test_optimize_usage_errors(args, message):
    result = runner.invoke(app, ["optimize", *args])
    assert result.exit_code == 2 and message in result.output


def test_pictures_are_byte_stable(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir(), second.mkdir()
    for folder in (first, second):
        invoke("optimize", NOTES_FUNCTION, "--steps", "5", "--out", str(folder), "--image", "svg")
    assert (first / "paths.svg").read_bytes() == (second / "paths.svg").read_bytes()


def test_a_diverging_optimiser_exits_with_1():
    result = runner.invoke(app, ["optimize", "x**4 + y**4", "--opt", "sgd", "--lr", "10",
                                 "--format", "json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["optimisers"][0]["final"] == ["nan", "nan"]


@pytest.mark.parametrize("image", ["png", "svg"])
@pytest.mark.parametrize("rates", [["--opt", "sgd", "--lr", "1e10"],
                                   ["--opt", "sgd,adam", "--lr", "sgd=1e10"],
                                   ["--opt", "sgd", "--lr", "10", "--steps", "3"]])
def test_a_diverging_path_is_drawn_up_to_where_it_ran_away(tmp_path, rates, image):
    # its next points are inf or 1e270: the picture must not stretch to them (it had failed
    # with "Axis limits cannot be NaN or Inf", an internal error)
    result = runner.invoke(app, ["optimize", "x**4 + y**4", *rates, "--out", str(tmp_path),
                                 "--image", image])
    assert result.exit_code == 1, result.output
    assert "internal error" not in result.output
    picture = (tmp_path / f"paths.{image}").read_bytes()
    if image == "svg":
        assert b"diverged at step" in picture
    else:
        assert picture.startswith(b"\x89PNG")


def test_a_start_where_f_is_not_finite_is_refused(tmp_path):
    result = runner.invoke(app, ["optimize", NOTES_FUNCTION, "--start", "1e200,1e200"])
    assert result.exit_code == 2
    assert "--start: f is inf at (1e+200, 1e+200): start where f is a finite number" in (
        result.output)


@pytest.mark.parametrize("command", [["train"], ["optimize", NOTES_FUNCTION]])
def test_an_output_folder_that_is_a_file_is_reported_before_any_work(tmp_path, command):
    (tmp_path / "taken").write_text("a file")
    result = runner.invoke(app, [*command, "--out", str(tmp_path / "taken")])
    assert result.exit_code == 2 and "is a file, not a folder" in result.output
    assert result.stdout == ""


def test_a_missing_output_folder_is_made(tmp_path):
    folder = tmp_path / "run" / "first"
    result = runner.invoke(app, ["train", "--epochs", "5", "--out", str(folder)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in folder.iterdir()) == ["boundary.png", "loss.png"]


@pytest.mark.parametrize("command", [["train", "--lr", "0"], ["train", "--lr", "inf"],
                                     ["optimize", NOTES_FUNCTION, "--lr", "sgd=-1"],
                                     ["optimize", NOTES_FUNCTION, "--lr", "0"],
                                     ["optimize", NOTES_FUNCTION, "--lr", "1e400"],
                                     ["mlp", "--lr", "-1"], ["mlp", "--lr", "inf"],
                                     ["cnn", "--lr", "nan"]])
def test_learning_rates_must_be_finite_and_positive(command):
    result = runner.invoke(app, command)
    assert result.exit_code == 2, result.output
    assert "must be a finite number above 0" in result.output


def test_optimize_refuses_a_start_that_is_not_finite():
    result = runner.invoke(app, ["optimize", NOTES_FUNCTION, "--start", "1e400,1"])
    assert result.exit_code == 2 and "two finite numbers" in result.output


def test_one_learning_rate_for_every_optimiser():
    paths = optimise("--opt", "sgd,adam", "--lr", "0.1")
    assert paths["sgd"]["lr"] == paths["adam"]["lr"] == 0.1


def test_a_single_linear_layer_cannot_learn_xor():
    # Seeds 000/003: no line separates XOR, so a perceptron-like 2-1 net stays at most 3/4 right.
    report = train_json("--data", "xor", "--layers", "2,1", "--epochs", "2000")
    assert report["final_accuracy"] <= 0.75


def offered_optimisers(command: list[str]) -> list[str]:
    """The optimisers an unknown --opt is told to choose from, read from the message."""
    result = runner.invoke(app, [*command, "--opt", "nosuch"])
    assert result.exit_code == 2
    listed = result.output.split("choose from", 1)[1]
    return [name.strip(" .\n") for name in " ".join(listed.split()).split(",")]


@pytest.mark.parametrize("command", [["optimize", NOTES_FUNCTION], ["train"]])
def test_every_optimiser_offered_runs(command):
    offered = offered_optimisers(command)
    assert {"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"} == set(offered)
    for name in offered:
        extra = ["--steps", "5"] if command[0] == "optimize" else ["--epochs", "5"]
        result = runner.invoke(app, [*command, "--opt", name, *extra, "--format", "json"])
        assert result.exit_code in (0, 1), (name, result.output)  # 1: a path that diverged
        assert "internal error" not in result.output, name


def test_optimize_refuses_updates_past_the_time_budget_before_doing_them(monkeypatch):
    monkeypatch.setenv("GRADTRACE_MAX_SECONDS", "1")
    result = runner.invoke(app, ["optimize", NOTES_FUNCTION, "--opt", "adam,sgd",
                                 "--steps", "100000"])
    assert result.exit_code == 2
    assert "200,000 updates would take about" in result.output


def test_training_that_runs_away_says_so_and_exits_1():
    # the loss grows from 0.7 to about 1e299 but stays finite: still a divergence
    result = runner.invoke(app, ["train", "--lr", "1e300", "--epochs", "10", "--format", "json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["diverged_at"] == 2
    text = runner.invoke(app, ["train", "--lr", "1e300", "--epochs", "10", "--format", "text"])
    assert "training diverged at epoch 2" in text.stdout and "try a smaller --lr than 1e+300" in (
        text.stdout)


def test_training_stops_at_the_first_loss_that_is_not_finite():
    result = runner.invoke(app, ["train", "--lr", "1e300", "--opt", "sgd", "--act", "relu",
                                 "--layers", "2,8,8,1", "--epochs", "50", "--format", "json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["diverged_at"] == 2 and report["epochs"][-1]["epoch"] == 2
    assert report["final_loss"] == "nan"


def test_training_that_converges_has_no_divergence():
    result = runner.invoke(app, ["train", "--epochs", "20", "--format", "json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["diverged_at"] is None


def test_a_path_that_leaves_fs_domain_is_not_told_to_shrink_its_rate():
    result = runner.invoke(app, ["optimize", "sqrt(x) + y**2", "--start", "1,1", "--opt", "sgd",
                                 "--lr", "0.001", "--steps", "3000", "--format", "text"])
    assert result.exit_code == 1
    assert "sgd left the domain of f at step" in result.stdout
    assert "a smaller --lr only delays it" in result.stdout
    assert "try a smaller --lr" not in result.stdout


def test_a_rate_given_twice_for_one_optimiser_is_refused():
    result = runner.invoke(app, ["optimize", NOTES_FUNCTION, "--opt", "adam",
                                 "--lr", "adam=0.1,adam=0.2"])
    assert result.exit_code == 2 and "--lr: gives 'adam' two rates" in result.output
