"""gradtrace.layers.diagnosis on networks built by hand, where the answer is known by
construction: dead units from negative biases, saturated sigmoids from large ones, a loss that is
already 0, windows whose unread rows are found by brute force, and the registry's activations
told apart by their slopes."""

import math

import numpy as np
import pytest

from gradtrace.core.registry import activations
from gradtrace.layers import diagnosis
from gradtrace.layers.step import LayerSpec, gradient_health, trace_step
from gradtrace.narrate.layer_health import verdict_text
from gradtrace.narrate.layers import layer_sections


WEIGHTS = np.array([[1.0, 0.5, 0.25], [0.5, 1.0, 0.25], [0.25, 0.5, 1.0], [0.5, 0.25, 1.0]])


def _one_hidden_layer(act: str, bias, samples: int, loss: str = "cross_entropy", outputs=2):
    """x (positive) → linear 3→len(bias) with positive weights (each row its own, so no two
    units are alike) and the given biases → act → linear → loss, on `samples` samples; the
    hidden units' z is x·w + bias with x·w in (0, 25) by construction."""
    rng = np.random.default_rng(1)
    units = len(bias)
    x = np.abs(rng.normal(size=(samples, 3))) + 0.1
    specs = [
        LayerSpec("fc1", "linear", (("W1", WEIGHTS[:units]), ("b1", np.asarray(bias, float))),
                  (), "z", 1),
        LayerSpec(f"{act}1", act, (), (), "a", 1),
        LayerSpec("fc2", "linear", (("W2", rng.normal(size=(outputs, units))),
                                    ("b2", np.zeros(outputs))), (), "z", 2),
        LayerSpec("loss", loss, (), (), "L"),
    ]
    target = np.arange(samples) % outputs
    return trace_step(specs, x, target, 0.1), x


def test_units_with_large_negative_biases_are_dead_and_counted():
    result, x = _one_hidden_layer("relu", [-100.0, -90.0, -80.0, 0.0], samples=16)
    (stats,) = diagnosis.activity(result)
    assert stats.dead_units == (0, 1, 2)  # z = x·w − 80 or less < 0 for every sample
    assert stats.dead == 0.75 and stats.off == 0.75 and stats.saturated == 0.0
    hidden = np.maximum(x @ WEIGHTS.T + np.array([-100, -90, -80, 0]), 0)
    assert stats.mean == pytest.approx(hidden.mean()) and stats.std == pytest.approx(hidden.std())
    found = diagnosis.diagnose(result)
    assert found.verdict == "dead" and found.culprit.layer == "relu1"
    text = verdict_text(found, result, 2, {"act": "relu", "init": "he", "gain": 1.0})
    assert text.startswith("Dead: 75% of the units of relu1 (3 of 4) are off for all 16 samples")
    assert "leaky_relu" in text and "--init he" not in text


def test_a_batch_too_small_to_tell_flags_units_without_a_dead_verdict():
    result, _ = _one_hidden_layer("relu", [-100.0, -90.0, -80.0, 0.0], samples=2)
    found = diagnosis.diagnose(result)
    assert found.activity[0].dead_units == (0, 1, 2)
    assert found.verdict != "dead"  # 2⁻² = 1/4: a live unit could be off for both by chance
    text = "\n".join(str(block) for section in layer_sections(result, "t")
                     for block in section.blocks if isinstance(block, str))
    assert "Units off for the whole batch: relu1 3 of 4" in text
    assert "1 time in 4" in text


def test_a_wholly_dead_layer_is_dead_whatever_the_batch():
    result, _ = _one_hidden_layer("relu", [-100.0, -90.0], samples=2)
    found = diagnosis.diagnose(result)
    assert found.verdict == "dead" and found.culprit.all_dead
    # no gradient passes below the dead layer: its weights get none
    assert not np.any(result.trace.by_id["W1"].grad)


@pytest.mark.parametrize("act", ["leaky_relu", "elu", "silu", "softplus"])
def test_activations_with_a_slope_below_zero_never_die(act):
    result, _ = _one_hidden_layer(act, [-10.0, -12.0, -14.0, 0.0], samples=16)
    (stats,) = diagnosis.activity(result)
    assert stats.dead_units == () and stats.off == 0.0


def test_sigmoids_pinned_at_1_are_saturated_not_dead():
    result, x = _one_hidden_layer("sigmoid", [50.0, 60.0, 0.0, 0.5], samples=16)
    (stats,) = diagnosis.activity(result)
    a = 1 / (1 + np.exp(-(x @ WEIGHTS.T + np.array([50, 60, 0, 0.5]))))
    assert stats.saturated == pytest.approx(np.mean(a * (1 - a) < 0.01))
    assert stats.saturated >= 0.5 and stats.dead_units == ()
    assert stats.ends == (pytest.approx(1.0, abs=1e-2),)  # only the z > 0 end is reached
    found = diagnosis.diagnose(result)
    assert found.verdict == "saturated" and found.culprit.layer == "sigmoid1"


def test_a_loss_of_zero_is_nothing_to_learn_not_exploding():
    # softmax over one class is 1 whatever the logit: cross-entropy 0, every gradient 0
    result, _ = _one_hidden_layer("relu", [0.0, 0.0], samples=4, outputs=1)
    assert result.loss == 0.0
    health = gradient_health(result.summaries)
    assert health.verdict == "no_gradient" and math.isnan(health.ratio)
    found = diagnosis.diagnose(result)
    assert found.verdict == "nothing_to_learn"
    text = verdict_text(found, result, 2)
    assert text.startswith("Nothing to learn") and "xploding" not in text
    flat = diagnosis.diagnose(result._replace(loss=0.5))  # a loss whose gradient is 0
    assert flat.verdict == "no_gradient"
    assert verdict_text(flat, result._replace(loss=0.5), 2).startswith("No gradient")


def test_activation_traits_come_from_the_slopes():
    traits = {op.name: diagnosis.traits(op.name) for op in activations()}
    assert traits["relu"].slope_below_zero is False and traits["relu"].flat_for_large is False
    assert traits["sigmoid"].flat_for_large and traits["tanh"].flat_for_large
    assert traits["leaky_relu"].slope_below_zero and traits["elu"].slope_below_zero
    assert traits["sigmoid"].peak_slope == pytest.approx(0.25, abs=1e-6)
    assert traits["sigmoid"].bounds == (0.0, 1.0) and traits["tanh"].bounds == (-1.0, 1.0)
    assert traits["relu"].bounds == (0.0, None)


# -- windows ---------------------------------------------------------------------------------

def _brute_force_unread(size, kernel, stride, padding):
    """Input indices no window reads, walking windows while they fit (PyTorch's rule)."""
    read, start = set(), 0
    while start + kernel <= size + 2 * padding:
        read |= {start + i - padding for i in range(kernel)}
        start += stride
    return tuple(i for i in range(size) if i not in read), len(range(0, start, stride))


GEOMETRIES = [(7, 3, 3, 0), (8, 3, 1, 0), (9, 2, 3, 1), (10, 2, 3, 0), (6, 4, 4, 0),
              (11, 3, 2, 1), (5, 5, 1, 2), (12, 3, 5, 2)]


@pytest.mark.parametrize("size, kernel, stride, padding", GEOMETRIES)
def test_coverage_finds_the_rows_no_window_reads(size, kernel, stride, padding):
    rng = np.random.default_rng(0)
    specs = [LayerSpec("conv1", "conv2d", (("W1", rng.normal(size=(2, 1, kernel, kernel))),
                                           ("b1", np.zeros(2))),
                       (("padding", padding), ("stride", stride)), "z", 1),
             LayerSpec("flatten", "flatten", (), (("start_dim", 1),), "f"),
             LayerSpec("loss", "mse", (), (), "L")]
    out = math.floor((size + 2 * padding - kernel) / stride) + 1  # PyTorch's output size
    x = rng.normal(size=(2, 1, size, size))
    result = trace_step(specs, x, np.zeros((2, 2 * out * out)), 0.1)
    (window,) = diagnosis.coverage(result)
    unread, windows = _brute_force_unread(size, kernel, stride, padding)
    assert window.output_size == (out, out) == (windows, windows)
    assert window.rows == window.columns == unread
    # an unread pixel gets no gradient: the engine's own ∂L/∂x agrees
    grad = np.abs(result.trace.by_id["a0"].grad).sum(axis=(0, 1))
    for row in range(size):
        assert (grad[row].sum() == 0) == (row in unread)
