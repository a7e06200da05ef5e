"""11 — A convolution layer and its gradient (CS231n's 卷积神经网络 in the backprop notes).

The notes' numbers: a 5×5×3 filter on a 32×32×3 image has 5×5×3 + 1 = 76 parameters and, at
stride 1, gives a 28×28 activation map; 12 filters with zero padding keep 32×32 (an output
32×32×12), and 2×2 pooling halves it to 16×16×12. Padding that keeps the size: 1 for 3×3,
2 for 5×5, 3 for 7×7, i.e. (F − 1)/2, from the output size (N − F + 2P)/S + 1.

Then a small case opened up: im2col lays each 3×3 window out as a row, so the convolution is one
matrix product, cols @ w + b. Backward follows from that product:
- weight sharing: every window used the same w, so ∂L/∂w = colsᵀ @ upstream adds the
  contributions of all of them;
- local connectivity: an input pixel only reaches the outputs whose window covers it, so
  ∂L/∂x sums the upstream of those few outputs (col2im: each row of upstream @ wᵀ added back
  where its window came from).
"""

import numpy as np

import gradtrace
import gradtrace.nn as nn
import gradtrace.nn.functional as F

gradtrace.manual_seed(0)
image = gradtrace.randn(1, 3, 32, 32)  # (batch, depth, height, width)

one_filter = nn.Conv2d(3, 1, kernel_size=5)
count = sum(p.numel() for p in one_filter.parameters())
print(f"one 5×5×3 filter: 5×5×3 + 1 = {count} parameters; "
      f"output {tuple(one_filter(image).shape[2:])}")
assert count == 76 and one_filter(image).shape == (1, 1, 28, 28)

twelve = nn.Conv2d(3, 12, kernel_size=5, padding=2)
pooled = F.max_pool2d(twelve(image), 2)
print(f"12 filters, padding 2: {tuple(twelve(image).shape[1:])}; 2×2 max pooling: "
      f"{tuple(pooled.shape[1:])}")
assert twelve(image).shape == (1, 12, 32, 32) and pooled.shape == (1, 12, 16, 16)
for size in (3, 5, 7):
    kept = F.conv2d(image, gradtrace.randn(1, 3, size, size), padding=(size - 1) // 2)
    print(f"{size}×{size} filter, padding {(size - 1) // 2}: 32×32 stays "
          f"{kept.shape[2]}×{kept.shape[3]}")
    assert kept.shape[2:] == (32, 32)

# -- a 4×4 image, one 3×3 filter: the four windows, by hand --------------------------------
x = gradtrace.tensor(np.arange(16.0).reshape(1, 1, 4, 4), name="x")
w = gradtrace.tensor([[[[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]]]], name="w")
b = gradtrace.tensor([0.5], name="b")
out = F.conv2d(x, w, b)
upstream = np.array([[1.0, -1.0], [2.0, 0.5]])  # some ∂L/∂out, L = Σ upstream ⊙ out
(out * gradtrace.tensor(upstream.reshape(1, 1, 2, 2))).sum().backward()

image4 = np.arange(16.0).reshape(4, 4)
positions = [(i, j) for i in range(2) for j in range(2)]
cols = np.array([image4[i:i + 3, j:j + 3].ravel() for i, j in positions])  # im2col: 4 × 9
kernel = w.numpy(force=True).ravel()
print("\nim2col: each 3×3 window of the 4×4 image as a row\n", cols)
by_im2col = (cols @ kernel + 0.5).reshape(2, 2)
print("cols @ w + b =", by_im2col.tolist(), " conv2d gives", out.detach().numpy()[0, 0].tolist())
assert np.allclose(by_im2col, out.detach().numpy()[0, 0])

dw = (cols.T @ upstream.ravel()).reshape(3, 3)  # weight sharing: all 4 windows add up
print("\n∂L/∂w = colsᵀ @ upstream (one filter, four windows summed):\n", dw)
assert np.allclose(dw, w.grad.numpy()[0, 0]) and w.grad.numpy().sum() != 0

dx, reach = np.zeros((4, 4)), np.zeros((4, 4), dtype=int)
for (i, j), g in zip(positions, upstream.ravel()):  # col2im: each window's share goes back
    dx[i:i + 3, j:j + 3] += g * kernel.reshape(3, 3)
    reach[i:i + 3, j:j + 3] += 1
print("\nlocal connectivity: how many outputs each input pixel reaches\n", reach)
print("∂L/∂x (col2im of upstream @ wᵀ):\n", dx)
assert np.allclose(dx, x.grad.numpy()[0, 0]) and reach.tolist()[0] == [1, 2, 2, 1]
print("∂L/∂b = Σ upstream =", b.grad.numpy().tolist())
assert b.grad.numpy()[0] == upstream.sum()

# the layer's backward against central differences, in float64 (as CS231n's gradient check)
inputs = (gradtrace.randn(2, 2, 5, 5, dtype=gradtrace.float64).requires_grad_(),
          gradtrace.randn(3, 2, 3, 3, dtype=gradtrace.float64).requires_grad_(),
          gradtrace.randn(3, dtype=gradtrace.float64).requires_grad_())
checked = gradtrace.autograd.gradcheck(lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1),
                                       inputs)
print("\ngradcheck of conv2d (stride 2, padding 1) against central differences:", checked)
