"""Every numbered script in examples/ runs and prints what its notes promise.

The scripts are discovered, not listed: a new one is run as soon as it exists, and it cannot
pass without a promise below. Scripts that reproduce a worked example also assert its numbers,
so a wrong number fails here as a non-zero exit.
"""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

FOLDER = Path(__file__).parent.parent / "examples"
EXAMPLES = sorted(FOLDER.glob("[0-9][0-9]_*.py"))
SECONDS = 20  # each script takes well under a second here; "a few seconds" at most anywhere

# A fragment each script must print: the worked number of the notes it follows.
PROMISES = {
    "01_sigmoid_neuron.py": "h7 ← h8: 1.00 × (-1/h7²) (at h7 = 1.37)",
    "02_logistic_unit_chain_rule.py": "1 × -0.25 × 1 × 1 × -1 × 1 × 1 = 0.25",
    "03_linear_regression_step.py": "w: 0.8 - 0.1 × 0.90 = 0.71",
    "04_sign_slip.py": "is WRONG",
    "05_gate_patterns.py": "gradients {'x': 7.0}",
    "06_python_api.py": "w0.grad = -0.1966",
    "07_vectors_and_jacobians.py": "diagonal",
    "08_softmax_cross_entropy.py": "largest difference:",
    "09_forward_vs_reverse_mode.py": "reverse 1 passes",
    "10_mlp_training_step.py": "4-5-3: 20 + 5 = 25 and 15 + 3 = 18: 43 parameters",
    "11_convolution_layer.py": "one 5×5×3 filter: 5×5×3 + 1 = 76 parameters; output (28, 28)",
    "12_initialisation_and_depth.py": "σ′(0) = 0.25, its largest value; 0.25¹⁰ = 9.5e-07",
    "13_batch_norm.py": "γ = [1.0, 1.0, 1.0]  β = [0.0, 0.0, 0.0]",
    "14_dropout.py": "kept elements × 1/(1 − 0.5) = 2: True",
    "15_optimisers.py": "SGD       first step to (-6.3350, -1.8000)",
    "16_pytorch_course_code.py": "L = 0.18, w.grad = 0.90, b.grad = 0.60",
}


def test_every_script_in_examples_is_numbered_and_run():
    # a script named otherwise would be skipped by the discovery above: refuse it
    scripts = sorted(path.name for path in FOLDER.glob("*.py"))
    assert scripts == [path.name for path in EXAMPLES]
    numbers = [int(re.match(r"\d+", name).group()) for name in scripts]
    assert numbers == list(range(1, len(numbers) + 1))  # 01, 02, ... with no gap or repeat


def test_every_example_has_a_promise():
    assert sorted(PROMISES) == [path.name for path in EXAMPLES]


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda path: path.name)
def test_example_runs(script):
    started = time.perf_counter()
    completed = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                               timeout=120, env={**os.environ, "NO_COLOR": "1"})
    seconds = time.perf_counter() - started
    assert completed.returncode == 0, completed.stderr
    assert PROMISES[script.name] in completed.stdout
    assert seconds < SECONDS, f"{script.name} took {seconds:.1f} s"
