"""Hostile, huge and malformed input, tried as a user would: every one gets its answer or a
clear message with exit 2 (exit 1 for a result that is not finite), within bounded memory and
time, and never an internal error, a traceback or a raw numpy warning.

Each command runs in its own process under an address-space cap (CAP) and a generous time
guard (a hang fails the test; nothing here asserts on how fast anything is). The peak memory
of the child is read with os.wait4 and must stay under the budget the refusals promise.
"""

import json
import os
import resource
import subprocess
import sys
import tempfile
import threading

import pytest

CAP = 3 * 2**30  # address space per run: numpy, SymPy and BLAS threads reserve a lot of it
PEAK = 700 * 2**20  # resident memory a refused (or answered) hostile input may reach
GUARD_SECONDS = 120  # a hang guard only: the runs below take a second or two


def run(args, env=None):
    """(exit code, stdout, stderr, peak resident bytes) of `python -m gradtrace ARGS`, the
    peak read from the kernel's record of that one child (os.wait4)."""
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (CAP, CAP))

    process = subprocess.Popen([sys.executable, "-m", "gradtrace", *args], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, preexec_fn=limit, cwd=tempfile.gettempdir(),
                               env={**os.environ, "NO_COLOR": "1", **(env or {})})
    read = {}
    readers = [threading.Thread(target=lambda name=name, stream=stream: read.__setitem__(
        name, stream.read().decode("utf-8", "replace")))
        for name, stream in (("out", process.stdout), ("err", process.stderr))]
    for reader in readers:
        reader.start()
    guard = threading.Timer(GUARD_SECONDS, process.kill)
    guard.start()
    _, status, usage = os.wait4(process.pid, 0)
    hung = not guard.is_alive()
    guard.cancel()
    for reader in readers:
        reader.join()
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    assert not hung, f"no answer within {GUARD_SECONDS} s: {args}"
    return process.returncode, read["out"], read["err"], usage.ru_maxrss * 1024


def assert_clean(err: str) -> None:
    assert "internal error" not in err
    assert "Traceback" not in err
    assert "RuntimeWarning" not in err and "site-packages" not in err


SUM_OF_2500 = "+".join(f"x{i}" for i in range(2500))

# (arguments, exit code, words the message must hold)
REFUSED = [
    # arrays written with --at: sizes checked before allocating, with exact integer products
    (["explain", "x*2", "--at", "x=eye(100000)"], 2, ["10,000,000,000 elements", "--max-elements"]),
    (["explain", "x*2", "--at", "x=zeros(4294967296,4294967296)"], 2,
     ["18,446,744,073,709,551,616 elements"]),
    (["explain", "x*2", "--at", "x=randn(100000,100000)"], 2, ["budget"]),
    (["explain", "x*2", "--at", "x=ones(3037000500,3037000500)"], 2, ["budget"]),
    (["explain", "x*2", "--at", "x=arange(0,1e12)"], 2, ["budget"]),
    (["explain", "x*2", "--at", "x=linspace(0,1,100000000)"], 2, ["budget"]),
    (["jacobian", "x*2", "--at", "x=rand(20000,20000)"], 2, ["budget"]),
    # results estimated from the inputs' shapes before they are computed
    (["explain", "sum(x*y)", "--at", "x=zeros(100000,1),y=zeros(100000)"], 2,
     ["10,000,000,000 elements"]),
    (["explain", "sum(A@B)", "--at", "A=zeros(5000,2),B=zeros(2,5000)"], 2, ["budget"]),
    (["check", "sum(x*y)", "--at", "x=zeros(10000,1),y=zeros(10000)", "-n", "1"], 2, ["budget"]),
    # every value of a trace together (here with a budget ten times smaller than the default)
    (["explain", "sum(tanh(x)*sigmoid(x)+x+x*x+x*3+x*4+x*5+x*6+x*7)", "--at",
      "x=randn(1000000)", "--max-elements", "1000000"], 2, ["in all"]),
    # networks: every array's size known before the first weight is drawn
    (["mlp", "--layers", "1000000,1000000"], 2, ["--layers", "W1", "budget"]),
    (["mlp", "--depth", "1000000"], 2, ["--depth", "1,000,000 layers"]),
    (["mlp", "--layers", "4,5,3", "--batch", "100000000"], 2, ["budget"]),
    (["mlp", "--layers", "20000,20000,20000"], 2, ["budget"]),
    (["cnn", "--classes", "1000000000"], 2, ["budget"]),
    (["cnn", "--input", "3x1000x1000", "--batch", "64"], 2, ["budget"]),
    (["cnn", "--input", "1x100x100", "--conv", "100000x3x3"], 2, ["budget"]),
    (["train", "--layers", "2,100000,100000,1"], 2, ["budget"]),
    (["gradcheck", "linear", "--input", "100000x100000"], 2, ["20,000 elements"]),
    (["gradcheck", "linear", "--input", "10x10", "--out", "100000000"], 2, ["20,000 elements"]),
    # the budget option itself
    (["explain", "x*2", "--at", "x=randn(2000)", "--max-elements", "1000"], 2, ["budget of 1,000"]),
    (["explain", "x", "--max-elements", "0"], 2, ["--max-elements"]),
    (["explain", "x", "--max-seconds", "-5"], 2, ["--max-seconds"]),
    # long work: counted up front, timed for half a second, refused over the time budget
    (["train", "--epochs", "100000000"], 2, ["100,000,000 epochs", "--max-seconds"]),
    (["jacobian", "sum(x*x)", "--at", "x=randn(4000000)"], 2, ["passes", "--max-seconds"]),
    (["explain", SUM_OF_2500, "--mode", "forward", "--max-seconds", "5"], 2,
     ["2,500 forward passes", "--max-seconds"]),
    # the random points of `check`
    (["check", "x*y", "--low=-inf", "--high", "inf"], 2, ["--low", "finite"]),
    (["check", "x*y", "--low=-1e308", "--high", "1e308"], 2, ["--low"]),
    (["check", "x*y", "--low", "nan"], 2, ["--low"]),
    (["check", "x*y", "--low", "3", "--high", "1"], 2, ["--low"]),
    (["check", "sum(x*x)", "--claim", "x=[1,2,3]", "--at", "x=[1,2]"], 2, ["--claim"]),
    (["check", "sum(A@x)", "--claim", "x=A", "--at", "A=randn(2,2),x=[1,2]"], 2,
     ["--claim", "shape"]),
    # options: unknown ones refused, not read as the expression; options forward mode lacks
    (["explain", "--verbose", "x"], 2, ["--verbose"]),
    (["explain", "x", "--wrt-all"], 2, ["--wrt-all"]),
    (["explain", "x*y", "--mode", "forward", "--jacobians"], 2, ["--jacobians", "forward"]),
    (["mlp", "--layers", "4,x,3"], 2, ["--layers"]),
    (["explain", "x*2", "--svg", "graph.pdf"], 2, [".pdf"]),
    # parse errors
    (["explain", "x +* ("], 2, ["cannot parse"]),
    (["explain", "(" * 5000 + "x" + ")" * 5000], 2, []),
    (["explain", "__import__('os').system('true')"], 2, []),
    (["explain", "+".join(["x"] * 6000)], 2, ["5,000"]),
]


@pytest.mark.parametrize("args, code, words", REFUSED,
                         ids=[" ".join(args)[:60] for args, _, _ in REFUSED])
def test_hostile_input_is_refused_clearly_within_the_budget(args, code, words):
    returncode, out, err, peak = run(args)
    assert returncode == code, (returncode, err[-500:])
    assert_clean(err)
    assert err.startswith(("error:", "Error:", "Usage:")) or "error" in err.lower(), err
    for word in words:
        assert word in err, (word, err)
    assert out == ""  # nothing half-printed before the refusal
    assert peak <= PEAK, f"peak {peak / 2**20:.0f} MB"


NOT_FINITE = [
    (["mlp", "--lr", "1e308"], []),  # a finite rate whose update overflows
    (["check", "x*y", "--at", "x=inf,y=1"], []),
    (["explain", "x*2", "--at", "x=inf"], ["the input x is inf itself"]),
    (["explain", "x*y", "--at", "x=nan,y=1"], ["the input x is nan itself"]),
    (["explain", "exp(x)", "--at", "x=1000"], []),
    (["explain", "log(x)", "--at", "x=-1"], []),
]


@pytest.mark.parametrize("args, words", NOT_FINITE, ids=[" ".join(a) for a, _ in NOT_FINITE])
def test_a_result_that_is_not_finite_exits_1_with_strict_json(args, words):
    code, out, err, _ = run(args)
    assert code == 1, err
    assert_clean(err)
    for word in words:
        assert word in out, word
    code, document, err, _ = run([*args, "--format", "json"])
    assert code == 1, err
    # strict JSON: Python's parser refuses NaN and Infinity when told to
    json.loads(document, parse_constant=lambda word: pytest.fail(f"bare {word} in the JSON"))


ANSWERED = [
    ["check", "sum(x*y)", "--at", "x=randn(3),y=randn(3)", "-n", "3"],
    ["check", "sum(x*y)", "--at", "x=randn(3)", "-n", "3"],
    ["check", "sum(x*x)", "--claim", "x=2*x", "--at", "x=[1,2]", "-n", "3"],
    ["check", "+".join(f"x{i}" for i in range(1000)), "-n", "1"],
    ["explain", "-p*q", "--at", "p=2,q=3"],
    ["explain", "sum(x*x)", "--at", "x=eye(2000)"],
    ["explain", "sum(x*2)", "--at", "x=randn(3000000)"],
    ["explain", "sum(tanh(W@x))", "--at", "W=randn(1000,1000),x=randn(1000)"],
    ["mlp", "--layers", "2000,2000,2000", "--batch", "50"],
    ["mlp", "--depth", "300"],
    ["gradcheck", "linear", "--input", "3x4"],
]


@pytest.mark.parametrize("args", ANSWERED, ids=[" ".join(a)[:60] for a in ANSWERED])
def test_big_but_reasonable_input_is_answered(args):
    code, out, err, _ = run(args)
    assert code == 0, err[-500:]
    assert_clean(err)
    assert out


def test_write_errors_are_a_message_and_exit_1():
    with open("/dev/full", "w") as full:
        process = subprocess.run([sys.executable, "-m", "gradtrace", "ops"], stdout=full,
                                 stderr=subprocess.PIPE, text=True, timeout=GUARD_SECONDS)
    assert process.returncode == 1
    assert "cannot write" in process.stderr
    assert_clean(process.stderr)


@pytest.mark.parametrize("variable, value", [("GRADTRACE_MAX_ELEMENTS", "abc"),
                                             ("GRADTRACE_MAX_ELEMENTS", "0"),
                                             ("GRADTRACE_MAX_SECONDS", "-1"),
                                             ("GRADTRACE_MAX_SECONDS", "nan")])
def test_a_budget_mistyped_in_the_environment_is_refused_not_ignored(variable, value):
    code, out, err, _ = run(["explain", "x", "--at", "x=1"], env={variable: value})
    assert code == 2 and out == ""
    assert variable in err and repr(value) in err
    assert_clean(err)


HUGE_WORD = "q" * 100_000
ECHOED = [  # each of these messages repeats what was typed
    ["explain", "x", "--at", f"x={HUGE_WORD}"], ["explain", "x", "--at", HUGE_WORD],
    ["explain", "x*y", "--wrt", HUGE_WORD], ["explain", f"{HUGE_WORD}(x)"],
    ["explain", "x", "--lang", HUGE_WORD], ["mlp", "--layers", HUGE_WORD],
    ["glossary", HUGE_WORD], ["explain", "x", "--precision", HUGE_WORD],
    ["explain", "x", "--format", HUGE_WORD], [HUGE_WORD], ["explain", "x", f"--{HUGE_WORD}"],
    ["explain", "x", "--lang", "zh", "--at", HUGE_WORD],
]


@pytest.mark.parametrize("args", ECHOED, ids=[" ".join(a)[:30] for a in ECHOED])
def test_a_huge_word_typed_is_repeated_clipped_not_whole(args):
    code, out, err, _ = run(args)
    assert code in (1, 2)  # 1: glossary's "no such term"
    assert len(err) < 2_000, err[:300]
    assert "100,00" in err  # the message says how long the word was (quotes may count)
    assert_clean(err)


@pytest.mark.parametrize("args, words", [
    (["explain", "x", "--at", "x=1", "--max-elements", "inf"], "--max-elements: 'inf'"),
    (["explain", "x", "--at", "x=1", "--max-elements", "1e400"], "--max-elements: '1e400'"),
    (["explain", "x", "--at", "x=1", "--max-elements", "1.5"], "not a whole number"),
    (["gradcheck", "conv2d", "--max-elements", "5"], "more than the budget of 5"),
    (["train", "--layers", "2,,1"], "--layers: 2,,1"),
    (["optimize", "x**2+y**2", "--start", "1e400,1"], "two finite numbers"),
])
def test_values_that_cannot_be_meant_are_refused(args, words):
    code, out, err, _ = run(args)
    assert code == 2 and out == "", err
    assert words in err
    assert_clean(err)


def test_memory_the_machine_lacks_after_a_raised_budget_is_a_message_and_exit_2():
    # run() caps the child's address space (CAP): 74.5 GiB cannot be had
    code, out, err, _ = run(["explain", "sum(x)", "--at", "x=randn(100000,100000)",
                             "--max-elements", "1e11", "--no-check"])
    assert code == 2 and out == ""
    assert "more memory than this machine has" in err
    assert_clean(err)


UNWRITABLE = "/proc"  # a folder that exists, where no file can be made (even by root)
UNWRITABLE_OUTPUTS = [
    (["graph", "x*y", "-o", f"{UNWRITABLE}/x.svg"], "--output"),
    (["explain", "x*y", "--html", f"{UNWRITABLE}/x.html"], "--html"),
    (["explain", "x*y", "--svg", f"{UNWRITABLE}/x.png"], "--svg"),
    (["explain", "x*y", "--html", "{tmp}/q.html", "--quiz", "grads", "--answers",
      f"{UNWRITABLE}/key.txt"], "--answers"),
    (["mlp", "--plot", f"{UNWRITABLE}/acts.png"], "--plot"),
    (["plot", "sigmoid(x)", "-o", f"{UNWRITABLE}/s.svg"], "--output"),
    (["train", "--epochs", "5", "--out", UNWRITABLE], "--out"),
    (["explain", "x*y", "--svg", "{tmp}"], "--svg"),  # a folder's name
]


@pytest.mark.skipif(not os.path.isdir(UNWRITABLE), reason="needs Linux's /proc")
@pytest.mark.parametrize("args, option", UNWRITABLE_OUTPUTS,
                         ids=[" ".join(a)[:50] for a, _ in UNWRITABLE_OUTPUTS])
def test_an_output_that_cannot_be_written_is_refused_before_any_work(args, option, tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    args = [arg.replace("{tmp}", str(folder)) for arg in args]
    code, out, err, _ = run(args)
    assert code == 2, err
    assert out == ""  # refused before the story is told
    assert option in err, err
    assert "cannot write" in err or "must end in" in err, err
    assert_clean(err)
    assert list(folder.iterdir()) == []  # nothing written, not even the other file


# -- the Python API: wrong input raises a TypeError or ValueError naming what is wrong -------

def _api_cases():
    import gradtrace as gt
    from gradtrace import nn, optim

    w = gt.tensor([1.0, 2.0], requires_grad=True)

    def batch_of_one():
        layer = nn.BatchNorm1d(3)
        layer.train()
        return layer(gt.randn(1, 3))

    def unknown_wrt():
        x = gt.tensor(2.0, name="x")
        return (x * 3).backward(wrt=["q"])

    return [
        ("tensor(None)", lambda: gt.tensor(None), TypeError, "NoneType"),
        ("tensor('1e3')", lambda: gt.tensor("1e3"), TypeError, "str"),
        ("tensor(1+2j)", lambda: gt.tensor(1 + 2j), TypeError, "complex"),
        ("tensor(object())", lambda: gt.tensor(object()), TypeError, "object"),
        ("t + None", lambda: gt.tensor(1.0) + None, TypeError, "NoneType"),
        ("t * 'a'", lambda: gt.tensor(1.0) * "a", TypeError, "str"),
        ("t - 1j", lambda: gt.tensor(1.0) - 1j, TypeError, "complex"),
        ("SGD(tensor)", lambda: optim.SGD(w, lr=0.1), TypeError, "iterable"),
        ("SGD([1, 2])", lambda: optim.SGD([1, 2], lr=0.1), TypeError, "int"),
        ("SGD lr nan", lambda: optim.SGD([w], lr=float("nan")), ValueError, "lr"),
        ("SGD lr inf", lambda: optim.SGD([w], lr=float("inf")), ValueError, "lr"),
        ("SGD lr -1", lambda: optim.SGD([w], lr=-1.0), ValueError, "lr"),
        ("SGD momentum -1", lambda: optim.SGD([w], lr=0.1, momentum=-1), ValueError,
         "momentum"),
        ("Adam lr nan", lambda: optim.Adam([w], lr=float("nan")), ValueError, "lr"),
        ("Adam betas", lambda: optim.Adam([w], betas=(1.5, 2.0)), ValueError, "beta"),
        ("RMSprop eps nan", lambda: optim.RMSprop([w], eps=float("nan")), ValueError, "eps"),
        ("Linear(0, 3)", lambda: nn.Linear(0, 3), ValueError, "in_features"),
        ("Linear(3, -2)", lambda: nn.Linear(3, -2), ValueError, "out_features"),
        ("Linear(2.5, 3)", lambda: nn.Linear(2.5, 3), ValueError, "in_features"),
        ("Linear(100000, 100000)", lambda: nn.Linear(100000, 100000), ValueError, "budget"),
        ("Conv2d(1, 0, 3)", lambda: nn.Conv2d(1, 0, 3), ValueError, "out_channels"),
        ("BatchNorm1d(0)", lambda: nn.BatchNorm1d(0), ValueError, "num_features"),
        ("BatchNorm1d batch of one", batch_of_one, ValueError, "more than 1 value"),
        ("index 1.5", lambda: gt.tensor([1.0, 2.0])[1.5], IndexError, "integers"),
        ("sum(dim=5)", lambda: w.sum(dim=5), IndexError, "out of range"),
        ("backward(wrt=['q'])", unknown_wrt, ValueError, "'q'"),
        ("randn(100000, 100000)", lambda: gt.randn(100000, 100000), ValueError, "budget"),
        ("zeros(-1)", lambda: gt.zeros(-1), ValueError, "-1"),
        ("eye(100000)", lambda: gt.eye(100000), ValueError, "budget"),
    ]


@pytest.mark.parametrize("index", range(len(_api_cases())),
                         ids=[case[0] for case in _api_cases()])
def test_wrong_python_api_input_raises_an_error_naming_it(index):
    _, call, error, words = _api_cases()[index]
    with pytest.raises(error) as raised:
        call()
    assert words in str(raised.value)


@pytest.mark.parametrize("point, word", [("x=inf,y=1", "inf"), ("x=nan,y=2", "nan"),
                                         ("x=[1,inf],y=1", "inf")])
def test_an_input_that_is_not_finite_is_named_where_the_problem_starts(point, word):
    code, document, err, _ = run(["explain", "sum(x*y)", "--at", point, "--format", "json"])
    assert code == 1, err
    problems = json.loads(document)["problems"]
    assert problems[0]["node"] == "x" and word in problems[0]["why"], problems
