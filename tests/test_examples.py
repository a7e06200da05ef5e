"""Every numbered script in examples/ runs and prints what its notes promise."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("[0-9][0-9]_*.py"))

# A fragment each script must print: the worked number of the notes it follows.
PROMISES = {
    "01_sigmoid_neuron.py": "h7 ← h8: 1.00 × (-1/h7²) at h7 = 1.37",
    "02_logistic_unit_chain_rule.py": "1 × -0.25 × 1 × 1 × -1 × 1 × 1 = 0.25",
    "03_linear_regression_step.py": "w: 0.8 - 0.1 × 0.90 = 0.71",
    "04_sign_slip.py": "is WRONG",
    "05_gate_patterns.py": "gradients {'x': 7.0}",
    "06_python_api.py": "w0.grad = -0.1966",
    "07_vectors_and_jacobians.py": "diagonal",
    "08_softmax_cross_entropy.py": "largest difference:",
    "09_forward_vs_reverse_mode.py": "reverse 1 passes",
}


def test_every_example_has_a_promise():
    assert sorted(PROMISES) == [path.name for path in EXAMPLES]


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda path: path.name)
def test_example_runs(script):
    completed = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                               timeout=120, env={**os.environ, "NO_COLOR": "1"})
    assert completed.returncode == 0, completed.stderr
    assert PROMISES[script.name] in completed.stdout
