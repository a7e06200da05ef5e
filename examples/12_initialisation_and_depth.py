"""12 — Initialisation, and gradients that vanish or explode with depth (d2l's 数值稳定性和模型初始化,
《深度学习入门》 §6.2, nndl's 梯度消失和梯度爆炸).

- The notes' experiment: multiply 100 Gaussian random 4×4 matrices (σ² = 1): the product explodes.
- Backprop multiplies one local derivative per layer. Sigmoid's is at most σ′(0) = 0.25, so
  through 10 sigmoid layers the gradient can shrink by 0.25¹⁰ ≈ 9.5e-07: it vanishes.
- Xavier starts weights with σ = √(1/n) (《深度学习入门》; d2l's √(2/(n_in + n_out))), made for
  activations that are linear near 0 (tanh); He with σ = √(2/n) for relu, which zeroes half
  its inputs; N(0, 1) is far too large for a layer of 64 inputs.
- Equal weights make every hidden unit compute the same thing and get the same gradient, so
  gradient descent never tells them apart (打破对称性).

A 10-layer network, 64 units wide, is started each way; the table shows ‖∂L/∂W⁽ˡ⁾‖ for the
first, middle and last hidden layers.
"""

import numpy as np

import gradtrace
import gradtrace.nn as nn

gradtrace.manual_seed(0)
M = gradtrace.normal(0, 1, size=(4, 4))
for _ in range(100):
    M = gradtrace.mm(M, gradtrace.normal(0, 1, size=(4, 4)))
print(f"a product of 100 Gaussian 4×4 matrices: largest entry {M.abs().max().item():.2e}")
assert M.abs().max().item() > 1e15

z = gradtrace.tensor(0.0, name="z")
gradtrace.sigmoid(z).backward()
print(f"σ′(0) = {z.grad.item()}, its largest value; 0.25¹⁰ = {0.25 ** 10:.1e}")
assert z.grad.item() == 0.25


def gradient_norms(activation, init, depth=10, width=64):
    """‖∂L/∂W‖ of each hidden layer after one backward pass, and the network's outputs."""
    rng = np.random.default_rng(0)  # the same data for every start
    layers = []
    for _ in range(depth):
        layers += [nn.Linear(width, width, init=init, rng=rng), activation()]
    net = nn.Sequential(*layers, nn.Linear(width, 1, rng=rng))
    out = net(gradtrace.tensor(rng.standard_normal((32, width))))
    (out ** 2).mean().backward()
    norms = [np.linalg.norm(net[2 * i].weight.grad.numpy()) for i in range(depth)]
    return np.array(norms), np.abs(out.detach().numpy()).mean()


print("\nactivation  init      ‖∂L/∂W⁽¹⁾‖  ‖∂L/∂W⁽⁵⁾‖  ‖∂L/∂W⁽¹⁰⁾‖  first/last  mean |output|")
found = {}
for activation, init in [(nn.Sigmoid, "xavier"), (nn.Tanh, "xavier"), (nn.ReLU, "normal"),
                         (nn.ReLU, "he"), (nn.Sigmoid, "normal")]:
    norms, output = gradient_norms(activation, init)
    found[activation.__name__, init] = norms
    print(f"{activation.__name__:10}  {init:7}  {norms[0]:10.2e}  {norms[4]:10.2e}  "
          f"{norms[-1]:11.2e}  {norms[0] / norms[-1]:10.1e}  {output:12.2e}")

# sigmoid: ten slopes of at most 0.25 (Xavier keeps the weights' own gain near 1): vanishing
assert found["Sigmoid", "xavier"][0] / found["Sigmoid", "xavier"][-1] < 1e-5
# tanh has slope 1 near 0, which Xavier assumes: the gradient keeps its size
assert 0.05 < found["Tanh", "xavier"][0] / found["Tanh", "xavier"][-1] < 20
# relu with N(0, 1) weights: each layer multiplies the scale by about √(64/2): exploding
assert found["ReLU", "normal"].min() > 1e10
# He's √(2/n) makes up for the half relu zeroes: every layer's gradient stays moderate
assert found["ReLU", "he"].max() < 100 and found["ReLU", "he"].min() > 0.1

# the starts themselves: He's and Xavier's standard deviations, measured on a 500-input layer
wide = nn.Linear(500, 300)
nn.init.kaiming_normal_(wide.weight, nonlinearity="relu")
print(f"\nkaiming_normal_: std {wide.weight.detach().numpy().std():.4f}, √(2/500) = "
      f"{np.sqrt(2 / 500):.4f}")
nn.init.xavier_normal_(wide.weight)
print(f"xavier_normal_:  std {wide.weight.detach().numpy().std():.4f}, √(2/(500 + 300)) = "
      f"{np.sqrt(2 / 800):.4f}")

# symmetry: every weight 0.5, so the 5 hidden units stay copies of each other
rng = np.random.default_rng(1)
net = nn.Sequential(nn.Linear(4, 5, init="constant", rng=rng), nn.Tanh(),
                    nn.Linear(5, 1, init="constant", rng=rng))
optimizer = gradtrace.optim.SGD(net.parameters(), lr=0.1)
x, y = gradtrace.tensor(rng.standard_normal((8, 4))), gradtrace.tensor(rng.standard_normal((8, 1)))
for _ in range(3):
    optimizer.zero_grad()
    ((net(x) - y) ** 2).mean().backward()
    optimizer.step()
W1 = net[0].weight.detach().numpy()
print(f"\nconstant start, after 3 steps: the 5 rows of W⁽¹⁾ are equal: {np.allclose(W1, W1[0])}"
      f"\n{np.round(W1, 4)}")
assert np.allclose(W1, W1[0]) and not np.allclose(W1, 0.5)
