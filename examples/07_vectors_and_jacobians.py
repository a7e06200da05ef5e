"""07 — From scalars to vectors (CS231n's 向量计算; nndl's 矩阵微积分).

"The flow is the same, only the gradient becomes a Jacobian." For f = sum(relu(W @ x + b)) with
W = [[1, -2], [3, 4]], x = [1, 2], b = [0.5, -10]: z = W @ x + b = [-2.5, 1], so relu passes
only the second element and the gradients are dW = [[0, 0], [1, 2]], dx = [3, 4], db = [0, 1].
Each backward step's Jacobian is printed beside the vector–Jacobian product backprop computes
instead: the relu Jacobian is diagonal, diag(0, 1).
"""

import gradtrace

POINT = {"W": [[1, -2], [3, 4]], "x": [1, 2], "b": [0.5, -10]}
trace = gradtrace.explain("sum(relu(W@x+b))", at=POINT)
print(trace.to_text(jacobians=True))
