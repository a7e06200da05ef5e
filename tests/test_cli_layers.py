"""`gradtrace mlp`, `gradtrace cnn` and `gradtrace gradcheck` as a learner meets them: every
layer's shapes, δ's and updates; the JSON schema checked against a hand-written numpy step;
vanishing, kept and exploding gradients; symmetric units; gradient checks that pass and one
that must fail; help that explains every option with an example."""

import json

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from gradtrace.cli import app
from gradtrace.layers import networks
from gradtrace.layers.step import trace_step
from gradtrace.render.layer_graph import MAX_DRAWN_NODES, render_layer_dot

runner = CliRunner()


def run(*args):
    return runner.invoke(app, list(args), env={"NO_COLOR": "1"})


def run_json(*args) -> dict:
    result = run(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


# -- gradtrace mlp: the 4-5-3 network of the notes -------------------------------------------

def test_mlp_narrates_every_layer_forward_backward_and_update():
    result = run("mlp", "--layers", "4,5,3", "--format", "text")
    assert result.exit_code == 0, result.output
    text = result.output
    # forward, in the notes' orientation, with the engine's beside it
    assert "z⁽¹⁾ = W⁽¹⁾a⁽⁰⁾ + b⁽¹⁾ : (5,4)·(4,2) + (5,1) → (5,2)" in text
    assert "engine: a⁽⁰⁾·W⁽¹⁾ᵀ + b⁽¹⁾, (2,4)·(4,5) + (5,) → (2,5)" in text
    assert "a⁽¹⁾ = relu(z⁽¹⁾) : (5,2) → (5,2)" in text
    assert "z⁽²⁾ = W⁽²⁾a⁽¹⁾ + b⁽²⁾ : (3,5)·(5,2) + (3,1) → (3,2)" in text
    assert "L = cross_entropy(z⁽²⁾, y) : (3,2) → scalar" in text
    # backward: both δ's, both weight gradients as δa⁽ˡ⁻¹⁾ᵀ (checked against the trace)
    assert "this is δ⁽²⁾" in text and "this is δ⁽¹⁾" in text
    assert "∂L/∂W⁽²⁾ = δ⁽²⁾a⁽¹⁾ᵀ : (3,2)·(2,5) → (3,5)" in text
    assert "∂L/∂W⁽¹⁾ = δ⁽¹⁾a⁽⁰⁾ᵀ : (5,2)·(2,4) → (5,4)" in text
    assert text.count("✓ equals the traced gradient") == 2
    assert "∂L/∂b⁽¹⁾ = Σₙ δ⁽¹⁾" in text and "∂L/∂b⁽²⁾ = Σₙ δ⁽²⁾" in text
    # the update of every parameter, and the loss going down
    for name in ("W⁽¹⁾", "b⁽¹⁾", "W⁽²⁾", "b⁽²⁾"):
        assert f"{name} ← {name} − η·∂L/∂{name}" in text
    assert "Loss on the same batch: 1.4241 before the step, 1.1116 after." in text
    for section in ("Jacobians, layer by layer", "Gradient health"):
        assert section in text


def _numpy_step(seed=0, sizes=(4, 5, 3), batch=2):
    """The same step written by hand in numpy (batch first), from the same seeded weights."""
    rng = np.random.default_rng(seed)
    specs = networks.mlp_specs(list(sizes), "relu", "xavier", "ce", rng)
    data = networks.batch((batch, sizes[0]), sizes[-1], "ce", rng)
    (W1, b1), (W2, b2) = [[v for _, v in s.params] for s in specs if s.params]
    z1 = data.data @ W1.T + b1
    a1 = np.maximum(z1, 0)
    z2 = a1 @ W2.T + b2
    p = np.exp(z2 - z2.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    onehot = np.eye(sizes[-1])[data.target]
    loss = -np.mean(np.sum(onehot * np.log(p), axis=1))
    d2 = (p - onehot) / batch
    da1 = d2 @ W2
    d1 = da1 * (z1 > 0)
    return {"loss": loss, "W1": d1.T @ data.data, "b1": d1.sum(0), "W2": d2.T @ a1,
            "b2": d2.sum(0), "a0": d1 @ W1, "z1": d1, "a1": da1, "z2": d2}


LAYER_KEYS = {"name", "op", "label", "input_shape", "output_shape", "grad_norm",
              "output_grad_norm", "param_shapes", "param_grad_norms",
              "parameters", "activation", "window"}  # the last three added later


def test_mlp_json_follows_the_schema_and_matches_numpy():
    document = run_json("mlp", "--layers", "4,5,3", "--seed", "0")
    assert document["schema"] == "gradtrace.layers/1"
    assert set(document) == {"schema", "network", "loss", "loss_after", "lr", "layers",
                             "health", "symmetry", "expanded", "parameters"}
    layers = document["layers"]
    assert [layer["name"] for layer in layers] == ["fc1", "relu1", "fc2", "loss"]
    assert all(set(layer) == LAYER_KEYS for layer in layers)
    assert [layer["output_shape"] for layer in layers] == [[2, 5], [2, 5], [2, 3], []]
    assert [sorted(layer["param_grad_norms"]) for layer in layers] == [["W1", "b1"], [],
                                                                       ["W2", "b2"], []]
    norms = [layer["grad_norm"] for layer in layers]
    norms += [v for layer in layers for v in layer["param_grad_norms"].values()]
    assert all(isinstance(v, float) and np.isfinite(v) for v in norms)
    hand = _numpy_step()
    assert document["loss"] == pytest.approx(hand["loss"], rel=1e-12)
    assert document["loss_after"] < document["loss"]
    for layer, source in zip(layers, ("a0", "z1", "a1", "z2")):
        assert layer["grad_norm"] == pytest.approx(np.linalg.norm(hand[source]), rel=1e-12)
    for name in ("W1", "b1", "W2", "b2"):
        layer = layers[0] if name.endswith("1") else layers[2]
        assert layer["param_grad_norms"][name] == pytest.approx(np.linalg.norm(hand[name]),
                                                                rel=1e-12)


def test_mlp_json_is_byte_stable():
    args = ("mlp", "--layers", "4,5,3", "--format", "json")
    assert run(*args).output == run(*args).output


# -- gradient health ---------------------------------------------------------------------------

def _weight_norms(document) -> list[float]:
    return [layer["param_grad_norms"][f"W{layer['label'][2:-1].translate(_DIGITS)}"]
            for layer in document["layers"] if layer["op"] == "linear"]


_DIGITS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")
DEEP = ("mlp", "--layers", "4,5,3", "--depth", "10")


def test_depth_10_sigmoid_with_normal_init_vanishes():
    document = run_json(*DEEP, "--act", "sigmoid", "--init", "normal")
    norms = _weight_norms(document)
    assert len(norms) == 10
    assert norms[0] < 1e-3 * norms[-1]
    assert document["health"]["verdict"] == "vanishing"


def test_depth_10_relu_with_he_init_keeps_the_gradient():
    document = run_json(*DEEP, "--act", "relu", "--init", "he")
    norms = _weight_norms(document)
    assert len(norms) == 10
    assert not norms[0] < 1e-3 * norms[-1]
    assert document["health"]["verdict"] == "kept"


def test_large_init_explodes_and_the_text_says_so():
    args = (*DEEP, "--act", "relu", "--init", "he", "--gain", "5")
    assert run_json(*args)["health"]["verdict"] == "exploding"
    text = run(*args, "--format", "text").output
    assert "Exploding:" in text
    assert "‖δ⁽ˡ⁾‖ over depth l = 1..10:" in text


def test_constant_init_flags_symmetric_units():
    document = run_json("mlp", "--layers", "4,5,5,3", "--init", "constant")
    assert document["symmetry"] == [
        {"layer": "fc1", "parameter": "W1", "units": [[0, 1, 2, 3, 4]]},
        {"layer": "fc2", "parameter": "W2", "units": [[0, 1, 2, 3, 4]]}]
    text = run("mlp", "--layers", "4,5,5,3", "--init", "constant", "--format", "text").output
    assert "fc1: units 1, 2, 3, 4, 5 of 5 have identical gradients" in text
    assert run_json("mlp", "--layers", "4,5,5,3")["symmetry"] == []


# -- gradtrace cnn -----------------------------------------------------------------------------

def test_cnn_narrates_shapes_and_shows_local_connectivity_and_weight_sharing():
    result = run("cnn", "--input", "1x8x8", "--conv", "4x3x3", "--pool", "2", "--classes", "3",
                 "--batch", "2", "--format", "text")
    assert result.exit_code == 0, result.output
    text = result.output
    assert "z⁽¹⁾ = W⁽¹⁾ ⋆ a⁽⁰⁾ + b⁽¹⁾ : (2,1,8,8) ⋆ (4,1,3,3) + (4,) → (2,4,6,6)" in text
    assert "p⁽¹⁾ = maxpool2×2(a⁽¹⁾) : (2,4,6,6) → (2,4,3,3)" in text
    assert "z⁽²⁾ = W⁽²⁾f + b⁽²⁾ : (3,36)·(36,2) + (3,1) → (3,2)" in text
    assert "∂out/∂in is 144 × 64, sparse" in text and "reads at most 9 of 64" in text
    assert "Weight sharing" in text and "I_4 ⊗ B" in text
    # the first filter's connectivity: 36 rows of three runs of three
    rows = [line.strip() for line in text.splitlines() if line.strip().startswith(("█", "·"))]
    assert rows[0] == "███·····███·····███" + "·" * 45


def test_cnn_json_layers():
    document = run_json("cnn", "--input", "1x8x8", "--conv", "4x3x3", "--conv", "2x2x2",
                        "--pool-kind", "avg", "--classes", "3")
    assert [(layer["name"], layer["output_shape"]) for layer in document["layers"]] == [
        ("conv1", [2, 4, 6, 6]), ("relu1", [2, 4, 6, 6]), ("pool1", [2, 4, 3, 3]),
        ("conv2", [2, 2, 2, 2]), ("relu2", [2, 2, 2, 2]), ("pool2", [2, 2, 1, 1]),
        ("flatten", [2, 2]), ("fc3", [2, 3]), ("loss", [])]


@pytest.mark.parametrize("args", [
    ("cnn", "--input", "1x4x4", "--conv", "2x5x5"),
    ("cnn", "--input", "1x8", "--conv", "2x3x3"),
    ("mlp", "--layers", "4"),
    ("mlp", "--layers", "4,x,3"),
    ("mlp", "--expand", "fc9"),
])
def test_usage_errors_exit_2(args):
    result = run(*args)
    assert result.exit_code == 2, result.output


# -- expanding a layer, the layer picture -----------------------------------------------------

def test_expand_narrates_the_primitives_and_keeps_the_numbers():
    fused = run_json("mlp", "--layers", "4,5,3")
    expanded = run_json("mlp", "--layers", "4,5,3", "--expand", "fc1")
    assert expanded["expanded"] == "fc1"
    assert expanded["loss"] == pytest.approx(fused["loss"], rel=1e-12)
    for a, b in zip(fused["layers"], expanded["layers"]):
        assert a["param_grad_norms"] == pytest.approx(b["param_grad_norms"], rel=1e-12)
    text = run("mlp", "--layers", "4,5,3", "--expand", "fc1", "--format", "text").output
    assert "fc1 (linear) written with primitive ops: 3 nodes" in text
    assert "matmul: swapper" in text


def _step(depth=None, expand=None, sizes=(4, 5, 3)):
    rng = np.random.default_rng(0)
    widths = networks.mlp_sizes(list(sizes), depth)
    specs = networks.mlp_specs(widths, "relu", "he", "ce", rng)
    data = networks.batch((2, widths[0]), widths[-1], "ce", rng)
    return trace_step(specs, data.data, data.target, 0.1, expand)


def test_layer_dot_has_one_box_per_layer_and_gradient_norms_on_edges():
    dot = render_layer_dot(_step(), "t")
    assert dot.count("[label=<") == 5  # input, fc1, relu1, fc2, loss
    assert '"a0" -> "h1" [label="0.91"];' in dot
    assert "W1 (5, 4)" in dot and "‖∂L/∂W1‖" in dot


def test_layer_dot_expands_into_a_cluster():
    dot = render_layer_dot(_step(expand="fc1"), "t")
    assert 'subgraph "cluster_fc1"' in dot
    assert '"W1" -> "h1"' in dot and '"a0" -> "h2"' in dot


def test_deep_layer_dot_is_collapsed():
    dot = render_layer_dot(_step(depth=200), "t")
    assert dot.count("[label=<") <= MAX_DRAWN_NODES
    assert "… 380 layers …" in dot  # 200 linear + 199 relu + loss, 10 kept at each end


def test_svg_option_writes_the_dot_source(tmp_path):
    path = tmp_path / "net.dot"
    result = run("mlp", "--layers", "4,5,3", "--svg", str(path), "--format", "json")
    assert result.exit_code == 0, result.output
    assert path.read_text().startswith("digraph layers {")


# -- gradtrace gradcheck -----------------------------------------------------------------------

@pytest.mark.parametrize("args, tensors", [
    (("linear",), ["x", "W", "b"]),
    (("linear", "--input", "3x6", "--out", "2"), ["x", "W", "b"]),
    (("conv2d",), ["x", "W", "b"]),
    (("conv2d", "--input", "2x3x7x7", "--filters", "4", "--stride", "2", "--padding", "1"),
     ["x", "W", "b"]),
    (("max_pool2d", "--input", "1x2x6x6", "--kernel", "3"), ["x"]),
    (("batch_norm", "--input", "6x3"), ["x", "gamma", "beta"]),
])
def test_gradcheck_passes(args, tensors):
    document = run_json("gradcheck", *args)
    assert document["passed"] is True
    assert [t["name"] for t in document["tensors"]] == tensors
    assert all(t["relative_error"] < 1e-6 for t in document["tensors"])


def test_gradcheck_text_names_each_tensor():
    result = run("gradcheck", "conv2d", "--format", "text")
    assert result.exit_code == 0, result.output
    assert [line.split()[-1] for line in result.output.splitlines()[4:7]] == ["pass"] * 3


def test_gradcheck_catches_a_wrong_vjp(monkeypatch):
    from gradtrace.ops import REGISTRY

    linear = REGISTRY["linear"]

    def wrong(g, inputs, out, needed):
        grads = list(linear.vjp_rule(g, inputs, out, needed))
        grads[1] = grads[1] * 1.01  # 1% off for W
        return tuple(grads)

    monkeypatch.setitem(REGISTRY, "linear", linear._replace(vjp_rule=wrong))
    result = run("gradcheck", "linear", "--format", "json")
    assert result.exit_code == 1
    document = json.loads(result.output)
    assert [t["passed"] for t in document["tensors"]] == [True, False, True]


def test_gradcheck_unknown_layer_is_a_usage_error():
    assert run("gradcheck", "nonsense").exit_code == 2


# -- help ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["mlp", "cnn", "gradcheck"])
def test_help_explains_every_option_with_an_example(name):
    command = typer.main.get_command(app).commands[name]
    for parameter in command.params:
        if parameter.name == "help":
            continue
        assert parameter.help and "Example" in parameter.help, parameter.name
    result = run(name, "--help")
    assert result.exit_code == 0, result.output
    assert "Examples:" in result.output and f"gradtrace {name}" in result.output
    for parameter in command.params:
        if parameter.param_type_name == "option":
            assert parameter.opts[0] in result.output


# -- the summariser on a trace from the Python API ------------------------------------------------

def test_summarise_a_trace_from_gradtrace_nn():
    import gradtrace
    from gradtrace import nn
    from gradtrace.nn import functional as F
    from gradtrace.layers.step import gradient_health, summarise

    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(4, 5, rng=rng), nn.Sigmoid(), nn.Linear(5, 3, rng=rng))
    x = gradtrace.tensor(rng.normal(size=(2, 4)), "x", requires_grad=False)
    trace = F.cross_entropy(model(x), np.array([0, 2])).backward()
    summaries = summarise(trace)
    assert [(s.name, s.output_shape) for s in summaries] == [
        ("0 linear", (2, 5)), (f"{trace.graph.ops[1].id} sigmoid", (2, 5)),
        ("2 linear", (2, 3)), (f"{trace.graph.ops[3].id} cross_entropy", ())]
    weight = model[0].weight if hasattr(model[0], "weight") else model[0].W
    assert summaries[0].param_grad_norms["0.weight"] == pytest.approx(
        np.linalg.norm(weight.grad))
    assert gradient_health(summaries).levels == (1, 2)


def test_markdown_has_a_section_per_part_of_the_step():
    result = run("mlp", "--layers", "4,5,3", "--format", "markdown")
    assert result.exit_code == 0, result.output
    headings = [line for line in result.output.splitlines() if line.startswith("#")]
    assert headings == [
        "## `MLP 4-5-3, relu, xavier init, batch 2, cross-entropy: one SGD step`",
        "### Forward, layer by layer", "### Backward, layer by layer (δ⁽ˡ⁾ = ∂L/∂z⁽ˡ⁾)",
        "### Update (SGD, η = 0.1)", "### Jacobians, layer by layer", "### Gradient health"]


def _examples(module) -> list[list[str]]:
    import shlex

    lines = [line.split("#")[0].strip() for line in module.EXAMPLES.splitlines()]
    return [shlex.split(line)[1:] for line in lines if line.startswith("gradtrace ")]


@pytest.mark.parametrize("command", ["mlp", "cnn", "gradcheck"])
def test_every_help_example_runs(command, tmp_path, monkeypatch):
    import importlib

    monkeypatch.chdir(tmp_path)  # examples that draw write .svg (or .dot without Graphviz)
    module = importlib.import_module(f"gradtrace.cli.{command}")
    examples = _examples(module)
    assert len(examples) >= 5
    from gradtrace.render.image import find_engine

    for args in examples:
        if "--svg" in args and find_engine() is None:
            continue  # drawing needs Graphviz (or graphviz-pure); the DOT test covers the rest
        result = run(*args)
        assert result.exit_code == 0, (args, result.output)


# -- one output unit: a binary classifier ------------------------------------------------------

def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _mlp_by_hand(sizes, act, init, loss, batch, seed=0):
    """The weights, data and targets `gradtrace mlp` draws, and its forward pass in numpy."""
    rng = np.random.default_rng(seed)
    specs = networks.mlp_specs(list(sizes), act, init, loss, rng)
    data = networks.batch((batch, sizes[0]), sizes[-1], loss, rng)
    functions = {"relu": lambda z: np.maximum(z, 0), "sigmoid": _sigmoid, "tanh": np.tanh}
    weights = [[v for _, v in s.params] for s in specs if s.params]
    a, zs = data.data, []
    for level, (W, b) in enumerate(weights, start=1):
        zs.append(a @ W.T + b)
        a = functions[act](zs[-1]) if level < len(weights) else zs[-1]
    return data, weights, zs


def test_one_output_unit_trains_binary_cross_entropy_on_0_1_targets():
    document = run_json("mlp", "--layers", "2,3,1", "--batch", "8")
    assert document["layers"][-1]["op"] == "binary_cross_entropy_with_logits"
    data, (_, (W2, _)), (z1, z2) = _mlp_by_hand((2, 3, 1), "relu", "xavier", "ce", 8)
    y = data.target
    assert y.shape == (8, 1) and set(np.unique(y)) == {0.0, 1.0}
    loss = np.mean(np.log1p(np.exp(z2)) - y * z2)  # −y·log σ(z) − (1−y)·log(1−σ(z))
    assert document["loss"] == pytest.approx(loss, rel=1e-12) and loss > 0.1
    delta = (_sigmoid(z2) - y) / 8
    assert document["layers"][2]["param_grad_norms"]["W2"] == pytest.approx(
        np.linalg.norm(delta.T @ np.maximum(z1, 0)), rel=1e-12)
    assert document["loss_after"] < document["loss"]
    health = document["health"]
    assert health["verdict"] not in ("exploding", "nothing_to_learn", "no_gradient")
    assert isinstance(health["ratio"], float) and np.isfinite(health["ratio"])


def test_the_notes_text_for_one_output_unit():
    result = run("mlp", "--layers", "2,3,1", "--format", "text")
    assert result.exit_code == 0, result.output
    assert "binary cross-entropy: one SGD step" in result.output
    assert "∂L/∂z⁽²⁾ = (σ(z) − y) / N" in result.output
    assert "xploding" not in result.output and "= inf" not in result.output


def test_cnn_with_one_class_is_binary_too():
    document = run_json("cnn", "--classes", "1", "--batch", "4")
    assert document["layers"][-1]["op"] == "binary_cross_entropy_with_logits"
    assert document["loss"] > 0.1
    assert all(v > 0 for layer in document["layers"]
               for v in layer["param_grad_norms"].values())
    assert document["health"]["verdict"] != "exploding"


def test_mse_with_one_output_compares_with_0_1_targets():
    document = run_json("mlp", "--layers", "3,4,1", "--loss", "mse", "--batch", "16")
    data, _, (_, z2) = _mlp_by_hand((3, 4, 1), "relu", "xavier", "mse", 16)
    assert set(np.unique(data.target)) == {0.0, 1.0}
    assert document["loss"] == pytest.approx(np.mean((z2 - data.target) ** 2), rel=1e-12)
    assert document["loss_after"] < document["loss"]


# -- dead units --------------------------------------------------------------------------------

DEAD = ("mlp", "--layers", "4,4,4", "--depth", "100", "--act", "relu", "--init", "he")


def _verdict_line(text: str) -> str:
    lines = [line for line in text.splitlines()
             if line.startswith(("Dead:", "Saturated:", "Vanishing:", "Exploding:", "Kept:",
                                 "Nothing to learn:", "No gradient:"))]
    assert len(lines) == 1, text
    return lines[0]


def _suggested(verdict: str) -> tuple[set, set]:
    """The activations (--act a, b or c) and initialisations (--init x) a verdict suggests."""
    import re

    acts = set()
    for listed in re.findall(r"--act ([\w, ]+?)(?: with|;|\.|$)", verdict):
        acts |= {name.strip() for name in re.split(r",| or ", listed) if name.strip()}
    return acts, set(re.findall(r"--init (\w+)", verdict))


def test_deep_narrow_relu_net_has_dead_units_and_says_so():
    document = run_json(*DEAD)
    health = document["health"]
    assert health["verdict"] == "dead"
    culprit = health["culprit"]
    # by hand: the first hidden layer whose relu is off for every sample
    _, _, zs = _mlp_by_hand((4,) + (4,) * 99 + (4,), "relu", "he", "ce", 2)
    first_dead = next(level for level, z in enumerate(zs[:-1], start=1) if np.all(z <= 0))
    assert culprit == f"relu{first_dead}"
    stats = {layer["name"]: layer["activation"] for layer in document["layers"]}
    assert stats[culprit]["dead"] == 1.0 and stats[culprit]["dead_units"] == 4
    for layer in document["layers"]:  # no gradient below the dead layer
        if layer["op"] == "linear" and int(layer["name"][2:]) <= first_dead:
            assert layer["param_grad_norms"][f"W{layer['name'][2:]}"] == 0.0
    verdict = _verdict_line(run(*DEAD, "--format", "text").output)
    assert verdict.startswith(f"Dead: every unit of {culprit} (4 of 4) is off for both samples")
    acts, inits = _suggested(verdict)
    assert "relu" not in acts and "he" not in inits  # never what is already in use
    assert {"leaky_relu", "elu"} <= acts
    assert "Try relu" not in verdict


@pytest.mark.parametrize("args, act, init", [
    (DEAD[1:], "relu", "he"),
    (("--layers", "3,3,3", "--depth", "60", "--act", "relu", "--init", "xavier"), "relu",
     "xavier"),
    (("--layers", "4,8,4", "--depth", "50", "--act", "relu", "--init", "he", "--batch", "16"),
     "relu", "he"),
])
def test_dead_verdicts_never_advise_what_is_in_use(args, act, init):
    assert run_json("mlp", *args)["health"]["verdict"] == "dead"
    verdict = _verdict_line(run("mlp", *args, "--format", "text").output)
    acts, inits = _suggested(verdict)
    assert act not in acts and init not in inits
    assert acts, verdict  # an activation that cannot die is offered


def test_leaky_relu_has_no_dead_units():
    document = run_json("mlp", "--layers", "4,4,4", "--depth", "100", "--act", "leaky_relu",
                        "--init", "he")
    stats = [layer["activation"] for layer in document["layers"] if layer["activation"]]
    assert len(stats) == 99
    assert all(s["dead"] == 0 and s["off"] == 0 for s in stats)
    assert document["health"]["verdict"] != "dead"


# -- saturation: 《深度学习入门》 §6.2's 5 × 100 sigmoid net --------------------------------------

DLFS = ("mlp", "--layers", "100,100,100,100,100,100", "--act", "sigmoid", "--batch", "1000")


def test_sigmoids_with_weights_of_std_1_saturate_and_the_verdict_says_so():
    document = run_json(*DLFS, "--init", "normal")
    _, _, zs = _mlp_by_hand((100,) * 6, "sigmoid", "normal", "ce", 1000)
    stats = [layer["activation"] for layer in document["layers"] if layer["activation"]]
    assert len(stats) == 4
    for z, s in zip(zs, stats):
        a = _sigmoid(z)
        assert s["saturated"] == pytest.approx(np.mean(a * (1 - a) < 0.01), abs=1e-4)
        assert s["saturated"] > 0.5  # the outputs pile up at 0 and 1, as in the book
        assert s["mean"] == pytest.approx(a.mean()) and s["std"] == pytest.approx(a.std())
        assert s["dead"] == 0
    assert document["health"]["verdict"] == "saturated"
    assert document["health"]["gradient_verdict"] == "kept"  # what the norms alone said
    assert document["health"]["thresholds"]["saturated_slope"] == 0.01
    text = run(*DLFS, "--init", "normal", "--format", "text").output
    verdict = _verdict_line(text)
    assert verdict.startswith("Saturated: 64% of the sigmoid outputs of sigmoid1")
    assert "near 0 or 1, where sigmoid′ < 0.01" in verdict
    acts, inits = _suggested(verdict)
    assert inits == {"xavier", "he"} and "sigmoid" not in acts and "relu" in acts
    assert "activation   units   saturated   off   dead units" in text


def test_xavier_keeps_the_same_sigmoid_net_unsaturated():
    document = run_json(*DLFS, "--init", "xavier")
    stats = [layer["activation"] for layer in document["layers"] if layer["activation"]]
    assert all(s["saturated"] < 0.01 for s in stats)
    assert document["health"]["verdict"] == "kept"


def test_saturated_tanh_is_named_with_advice_that_fits():
    args = ("mlp", "--layers", "50,50,50,50", "--act", "tanh", "--init", "normal",
            "--batch", "200")
    assert run_json(*args)["health"]["verdict"] == "saturated"
    verdict = _verdict_line(run(*args, "--format", "text").output)
    assert "tanh′ < 0.01" in verdict and "near -1 or 1" in verdict
    acts, inits = _suggested(verdict)
    assert "tanh" not in acts and "normal" not in inits and "xavier" in inits


def test_markdown_story_has_the_activation_statistics():
    result = run(*DLFS, "--init", "normal", "--format", "markdown")
    assert result.exit_code == 0, result.output
    assert "| activation | units | saturated | off | dead units | mean | std |" in result.output
    assert "Saturated: 64%" in result.output


# -- activation histograms (--plot) ------------------------------------------------------------

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _panels(svg_path) -> int:
    import xml.etree.ElementTree as ElementTree

    root = ElementTree.fromstring(svg_path.read_bytes())
    assert root.tag.endswith("svg")
    return sum(1 for element in root.iter()
               if element.get("id", "").startswith("axes_"))


def test_plot_draws_one_histogram_per_activation_layer(tmp_path):
    png, svg = tmp_path / "acts.png", tmp_path / "acts.svg"
    args = ("mlp", "--layers", "10,10,10,10,3", "--act", "sigmoid", "--batch", "50")
    for path in (png, svg):
        result = run(*args, "--plot", str(path), "--format", "json")
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["schema"] == "gradtrace.layers/1"
    content = png.read_bytes()
    assert content.startswith(PNG_SIGNATURE) and b"IEND" in content[-16:]
    assert _panels(svg) == 3  # sigmoid1..3
    again = tmp_path / "again.svg"
    assert run(*args, "--plot", str(again)).exit_code == 0
    assert again.read_bytes() == svg.read_bytes()


def test_plot_of_a_deep_net_spreads_its_panels(tmp_path):
    path = tmp_path / "deep.svg"
    assert run(*DEAD, "--plot", str(path), "--format", "json").exit_code == 0
    assert _panels(path) == 10


def test_cnn_plots_its_conv_activations(tmp_path):
    path = tmp_path / "conv.svg"
    result = run("cnn", "--conv", "4x3x3", "--conv", "2x2x2", "--pool", "1", "--plot",
                 str(path), "--format", "json")
    assert result.exit_code == 0, result.output
    assert _panels(path) == 2


@pytest.mark.parametrize("name, message", [("acts.gif", "must end in .png, .svg"),
                                           ("missing/acts.png", "does not exist")])
def test_a_bad_plot_name_is_a_usage_error_before_any_work(tmp_path, name, message):
    result = run("mlp", "--plot", str(tmp_path / name))
    assert result.exit_code == 2, result.output
    assert "--plot" in result.output and message in result.output
    assert result.stdout == ""
    assert list(tmp_path.iterdir()) == []


def test_a_net_without_hidden_layers_has_nothing_to_plot(tmp_path):
    result = run("mlp", "--layers", "4,3", "--plot", str(tmp_path / "acts.png"))
    assert result.exit_code == 2, result.output
    assert "--plot" in result.output and "no activation to draw" in result.output
    assert list(tmp_path.iterdir()) == []


def test_plot_without_matplotlib_names_the_fix(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    result = run("mlp", "--plot", str(tmp_path / "acts.png"), "--format", "text")
    assert result.exit_code == 2
    assert result.stdout == ""  # refused before the step is traced
    assert 'pip install "gradtrace[plot]"' in result.stderr and "--plot" in result.stderr
    assert list(tmp_path.iterdir()) == []


# -- windows that do not fit -------------------------------------------------------------------

def test_a_stride_that_does_not_fit_leaves_the_last_row_and_column_unread():
    args = ("cnn", "--input", "1x7x7", "--conv", "1x3x3", "--stride", "3")
    document = run_json(*args)
    conv = document["layers"][0]
    # PyTorch: OH = ⌊(7 + 2·0 − 3)/3⌋ + 1 = 2; windows read rows 0–2 and 3–5, never 6
    assert conv["output_shape"] == [2, 1, 2, 2]
    assert conv["window"]["output_size"] == [2, 2]
    assert conv["window"]["unread_rows"] == [6] and conv["window"]["unread_columns"] == [6]
    text = run(*args, "--format", "text").output
    assert "OH = ⌊(7 + 2·0 − 3)/3⌋ + 1 = 2" in text
    assert "No window reads input row 6 and column 6 (counting from 0)" in text


def test_a_pool_that_does_not_tile_its_feature_map_is_reported():
    document = run_json("cnn", "--input", "1x8x8", "--conv", "2x3x3", "--pool", "4")
    conv, pool = document["layers"][0], document["layers"][2]
    assert conv["window"]["unread_rows"] == []  # 3×3, stride 1: every row is read
    assert pool["op"] == "max_pool2d" and pool["window"]["input_size"] == [6, 6]
    assert pool["window"]["unread_rows"] == [4, 5] == pool["window"]["unread_columns"]


def test_windows_that_fit_say_nothing():
    result = run("cnn", "--input", "1x8x8", "--conv", "4x3x3", "--pool", "2", "--format", "text")
    assert result.exit_code == 0, result.output
    assert "unread" not in result.output and "No window reads" not in result.output


# -- parameters per layer ----------------------------------------------------------------------

@pytest.mark.parametrize("args, counts, total", [
    (("mlp", "--layers", "4,5,3"), {"fc1": 4 * 5 + 5, "fc2": 5 * 3 + 3}, 43),
    (("cnn", "--input", "1x8x8", "--conv", "4x3x3", "--pool", "2", "--classes", "3"),
     {"conv1": 4 * 1 * 3 * 3 + 4, "fc2": (4 * 3 * 3) * 3 + 3}, 151),
    (("mlp", "--layers", "784,256,10"), {"fc1": 784 * 256 + 256, "fc2": 256 * 10 + 10}, 203530),
])
def test_parameters_are_counted_per_layer_and_in_all(args, counts, total):
    document = run_json(*args)
    assert document["parameters"] == total == sum(counts.values())
    assert {layer["name"]: layer["parameters"] for layer in document["layers"]
            if layer["parameters"]} == counts
    text = run(*args, "--format", "text").output
    assert f"Parameters: {total:,} numbers are learned" in text
    rows = {line.split()[0]: line.split()[-1] for line in text.splitlines()
            if line.split() and line.split()[0] in {*counts, "total"}
            and line.split()[-1].replace(",", "").isdigit()}
    assert rows == {**{name: f"{n:,}" for name, n in counts.items()}, "total": f"{total:,}"}


def test_a_batch_too_large_blames_batch_and_a_layer_too_wide_blames_layers():
    result = runner.invoke(app, ["mlp", "--layers", "4,5,3", "--batch", "100000000"])
    assert result.exit_code == 2 and "--batch: the input batch of shape 100000000×4" in (
        result.output)
    result = runner.invoke(app, ["mlp", "--layers", "4,50000000,3"])
    assert result.exit_code == 2 and "--layers: W1 of shape 50000000×4" in result.output


def test_a_step_whose_arrays_would_pass_the_whole_budget_is_refused_before_any_work():
    # 33 million numbers in W, z and a: the step would hold about five copies of them
    # (measured: 1.33 GB), past ten budgets of 10,000,000 numbers
    result = runner.invoke(app, ["mlp", "--layers", "3000,3000,3000", "--batch", "1000"])
    assert result.exit_code == 2
    assert "the step's arrays would make 165,000,000 elements (1.2 GB) in all" in result.output
