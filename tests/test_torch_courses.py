"""Course code runs as written (issue: "a PyTorch-faithful Python API"): the programs of
tests/torch_courses.py run on gradtrace and, when PyTorch is installed, on PyTorch, and must
agree: to float64 rounding with the default type set to float64 (as a script that starts with
torch.set_default_dtype(torch.float64) would), to float32 rounding with PyTorch's default.

The data, the weights and the dropout masks are drawn by each library's own random functions
after manual_seed, so they agree only because gradtrace draws PyTorch's numbers. Without
PyTorch the comparisons skip with a reason; the gradtrace-only tests below still check each
program against independent answers (finite differences, the true weights of the data, hand
formulas).
"""

from __future__ import annotations

import numpy as np
import pytest

import torch_courses as courses

GRADTRACE = courses.gradtrace_library()
TORCH = courses.torch_library()
needs_torch = pytest.mark.skipif(TORCH is None, reason="PyTorch is not installed (pip install "
                                 "torch==2.13.0, the CPU build): nothing to compare with")

PROGRAMS = ["d2l_linear_regression", "d2l_softmax_regression", "d2l_mlp",
            "cs231n_two_layer_net", "two_layer_autograd", "cnn_steps", "custom_sigmoid"]
# float64: agreement to rounding. float32: PyTorch's own default; the two libraries round
# differently (BLAS kernels, vectorised exp), and a few SGD steps carry that further.
TOLERANCE = {"float64": dict(rtol=1e-9, atol=1e-12), "float32": dict(rtol=2e-3, atol=2e-5)}


@needs_torch
@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("program", PROGRAMS)
def test_course_program_agrees_with_pytorch(program, dtype):
    ours = courses.with_dtype(GRADTRACE, dtype, getattr(courses, program))
    theirs = courses.with_dtype(TORCH, dtype, getattr(courses, program))
    assert sorted(ours) == sorted(theirs)
    for name, expected in theirs.items():
        np.testing.assert_allclose(np.asarray(ours[name], dtype=float),
                                   np.asarray(expected, dtype=float), **TOLERANCE[dtype],
                                   err_msg=f"{program}: {name}")


@needs_torch
def test_the_cnn_starts_from_pytorchs_weights_and_draws_its_dropout_masks():
    # exact in float64: the same generator stream, the same init formulas, the same masks
    ours = courses.with_dtype(GRADTRACE, "float64", courses.cnn_steps, 1)
    theirs = courses.with_dtype(TORCH, "float64", courses.cnn_steps, 1)
    np.testing.assert_allclose(ours["losses"], theirs["losses"], rtol=1e-14)


# -- gradtrace alone: each program against answers that do not come from gradtrace -------------

def test_linear_regression_recovers_the_weights_that_made_the_data():
    result = courses.with_dtype(GRADTRACE, "float64", courses.d2l_linear_regression)
    # d2l's data: y = X·[2, −3.4] + 4.2 + N(0, 0.01²) noise
    np.testing.assert_allclose(result["w"].ravel(), [2.0, -3.4], atol=2e-3)
    np.testing.assert_allclose(result["b"], [4.2], atol=2e-3)
    assert result["losses"][-1] < 1e-4 < result["losses"][0] * 1e-2


def test_linear_regression_first_gradient_is_the_formula_of_the_squared_loss():
    torch = GRADTRACE.torch
    torch.manual_seed(7)
    X, y = torch.randn(10, 2, dtype=torch.float64), torch.randn(10, 1, dtype=torch.float64)
    w = torch.normal(0, 0.01, size=(2, 1), dtype=torch.float64, requires_grad=True)
    b = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    (((X @ w + b) - y) ** 2 / 2).sum().backward()
    residual = X.numpy() @ w.detach().numpy() - y.numpy()  # ∂/∂w Σ r²/2 = Xᵀr, ∂/∂b = Σ r
    np.testing.assert_allclose(w.grad.numpy(), X.numpy().T @ residual, rtol=1e-12)
    np.testing.assert_allclose(b.grad.numpy(), residual.sum(0), rtol=1e-12)


def test_softmax_regression_loss_agrees_with_finite_differences():
    torch = GRADTRACE.torch
    torch.manual_seed(9)
    X = torch.rand(4, 6, dtype=torch.float64)
    y = torch.tensor([0, 2, 1, 2])

    def loss(W, b):  # d2l 3.6: softmax by hand, cross-entropy by picking y_hat[range, y]
        X_exp = torch.exp(X @ W + b)
        y_hat = X_exp / X_exp.sum(1, keepdim=True)
        return - torch.log(y_hat[range(len(y_hat)), y]).sum()

    W = torch.normal(0, 0.5, size=(6, 3), dtype=torch.float64, requires_grad=True)
    b = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(loss, (W, b))


def test_mlp_gradients_agree_with_finite_differences():
    torch = GRADTRACE.torch
    torch.manual_seed(8)
    X = torch.rand(4, 6, dtype=torch.float64)
    y = torch.tensor([0, 2, 1, 2])
    W1 = torch.randn(6, 5, dtype=torch.float64, requires_grad=True)
    W2 = torch.randn(5, 3, dtype=torch.float64, requires_grad=True)

    def loss(W1, W2):
        return GRADTRACE.F.cross_entropy(torch.max(X @ W1, torch.zeros(4, 5,
                                                                     dtype=torch.float64)) @ W2, y)

    assert torch.autograd.gradcheck(loss, (W1, W2))


def test_two_layer_net_backward_passes_gradcheck_and_a_wrong_one_does_not():
    result = courses.cs231n_two_layer_net(GRADTRACE)
    assert result["gradcheck"]
    TwoLayerNetLoss = courses.two_layer_function(GRADTRACE)

    class Forgetful(TwoLayerNetLoss):
        @staticmethod
        def backward(ctx, grad_loss):  # the classic slip: no regularisation gradient
            grads = list(TwoLayerNetLoss.backward(ctx, grad_loss))
            grads[1] = grads[1] - 2 * ctx.reg * ctx.saved_tensors[1]
            return tuple(grads)

    inputs = courses.two_layer_inputs(GRADTRACE)
    with pytest.raises(GRADTRACE.torch.autograd.GradcheckError, match="with respect to input 1"):
        GRADTRACE.torch.autograd.gradcheck(Forgetful.apply, inputs)


def test_two_layer_net_hand_backward_equals_the_traced_one():
    by_hand = courses.cs231n_two_layer_net(GRADTRACE)
    traced = courses.two_layer_autograd(GRADTRACE)
    for name in ("loss", "W1", "b1", "W2", "b2"):
        np.testing.assert_allclose(by_hand[name], traced[name], rtol=1e-12, atol=1e-15)


def test_the_cnn_trains_and_evaluates_with_running_statistics():
    result = courses.with_dtype(GRADTRACE, "float64", courses.cnn_steps, 3)
    assert result["losses"][-1] < result["losses"][0]
    assert result["bn.num_batches_tracked"] == 3
    assert not np.allclose(result["bn.running_var"], 1.0)


def test_custom_sigmoid_is_the_sigmoid_and_passes_gradcheck():
    result = courses.custom_sigmoid(GRADTRACE)
    x = result["x"]
    sigma = 1 / (1 + np.exp(-x))
    assert result["gradcheck"]
    np.testing.assert_allclose(result["y"], sigma, rtol=1e-15)
    np.testing.assert_allclose(result["grad"], np.arange(6) * sigma * (1 - sigma), rtol=1e-14)


def test_a_training_step_written_for_pytorch_is_still_explained():
    torch, nn = GRADTRACE.torch, GRADTRACE.nn
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    X = torch.randn(5, 3)
    y = torch.tensor([0, 1, 1, 0, 1])
    loss = nn.CrossEntropyLoss()(net(X), y)
    trace = loss.backward()
    assert trace.graph.inputs == ("0.weight", "0.bias", "2.weight", "2.bias")
    assert trace.graph.output == "loss"  # the caller's own variable names
    text = trace.to_text()
    assert "0.weight" in text and "loss = cross_entropy" in text
