"""The Python API's arguments, as a user mistypes them: each bad value is refused with a
message that names the argument and says what it takes, never read as something else
(None as nan, a claim one character at a time) and never a raw numpy or internal error."""

from __future__ import annotations

import re

import numpy as np
import pytest

import gradtrace
from gradtrace.core.errors import UsageError


@pytest.mark.parametrize("value", [None, [1.0, None], [[1, 2], [3]], {"a": 1}, object(),
                                   1 + 2j, [b"1"]])
@pytest.mark.parametrize("function", ["explain", "explain_forward", "explain_jacobian",
                                      "curve"])
def test_a_value_that_is_not_numbers_is_refused_naming_the_input(function, value):
    from gradtrace.expr import pipeline

    expression = "x*2" if function in ("curve", "explain_jacobian") else "sum(x*2)"
    with pytest.raises(UsageError) as refused:
        getattr(pipeline, function)(expression, at={"x": value})
    assert refused.value.parameter == "at"
    assert "x: " in str(refused.value) and "is not a number or an array of numbers" in str(
        refused.value)


@pytest.mark.parametrize("value, expected", [
    ("[1, 2]", [1.0, 2.0]),  # text is read as --at reads it
    ("3", 3.0),
    (np.float32(2.5), 2.5),
    ([[1, 2], [3, 4]], [[1.0, 2.0], [3.0, 4.0]]),
    (True, 1.0),
])
def test_numbers_arrays_and_text_are_read_as_at_reads_them(value, expected):
    trace = gradtrace.explain("sum(x*1)", at={"x": value}, check=False)
    np.testing.assert_array_equal(trace.values["x"], np.asarray(expected, dtype=np.float64))


def test_a_tensor_is_read_as_its_values():
    trace = gradtrace.explain("sum(x*x)", at={"x": gradtrace.tensor([1.0, 3.0])}, check=False)
    np.testing.assert_array_equal(trace.gradients["x"], [2.0, 6.0])


def test_text_that_is_not_a_value_says_what_a_value_is():
    with pytest.raises(UsageError, match=r"x=abc: 'abc' is not a number"):
        gradtrace.explain("x*2", at={"x": "abc"})


def test_a_huge_refused_value_is_shown_short():
    with pytest.raises(UsageError) as refused:
        gradtrace.explain("sum(x)", at={"x": list(range(100_000)) + [None]})
    assert len(str(refused.value)) < 300


# -- gradtrace.check -------------------------------------------------------------------------

def test_check_draws_twenty_points_unless_told():
    report = gradtrace.check("x*x")
    assert report.samples == 20 and report.ok


def test_a_claim_given_as_text_is_one_claim():
    report = gradtrace.check("x*x", 5, claims="x=2*x")
    assert [claim.holds for claim in report.claims] == [True]
    wrong = gradtrace.check("x*x", 5, claims="x=3*x")
    assert [claim.holds for claim in wrong.claims] == [False]


@pytest.mark.parametrize("samples", [0, -3, 5.5, "a", True, 10**9])
def test_a_number_of_samples_out_of_range_is_refused_before_any_work(samples):
    with pytest.raises(UsageError, match="a whole number of points from 1 to 100000") as refused:
        gradtrace.check("x*x", samples)
    assert refused.value.parameter == "samples"


@pytest.mark.parametrize("claims", [5, [1, 2], {"x": "2*x"}])
def test_claims_that_are_not_text_are_refused(claims):
    with pytest.raises(UsageError, match="a claim NAME=FORMULA") as refused:
        gradtrace.check("x*x", 5, claims=claims)
    assert refused.value.parameter == "claims"


@pytest.mark.parametrize("bound", ["low", "high"])
def test_a_bound_that_is_not_a_number_is_refused(bound):
    with pytest.raises(UsageError, match="a number, not 'a'") as refused:
        gradtrace.check("x*x", 5, **{bound: "a"})
    assert refused.value.parameter == bound


def test_fixed_inputs_take_what_at_takes():
    with pytest.raises(UsageError, match="y: None is not a number"):
        gradtrace.check("x*y", 5, at={"y": None})
    report = gradtrace.check("x*y", 5, at={"y": "3"}, claims="x=y")
    assert [claim.holds for claim in report.claims] == [True]


# -- a tensor's name -------------------------------------------------------------------------

@pytest.mark.parametrize("name", [5, 2.5, b"w", ["w"]])
def test_a_name_that_is_not_text_is_refused(name):
    w = gradtrace.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="a tensor's name is text"):
        w.name = name
    with pytest.raises(TypeError, match="a tensor's name is text"):
        gradtrace.tensor([1.0], name)


@pytest.mark.parametrize("name", ["2", "-1.5", "1e3", "inf", "nan"])
def test_a_name_that_reads_as_a_number_is_refused(name):
    # a leaf called "2" would be shown as the constant 2: (a*2) would read 2*2
    w = gradtrace.tensor(1.0, requires_grad=True)
    with pytest.raises(ValueError, match="cannot read as a number"):
        w.name = name


@pytest.mark.parametrize("name", ["w", "0.weight", "权重", "W_1", "x'"])
def test_names_with_letters_are_kept_and_shown(name):
    w = gradtrace.tensor(2.0, requires_grad=True)
    w.name = name
    trace = (w * 3).backward()
    assert w.name == name
    assert name in trace.graph.inputs
    assert f"name={name!r}" in repr(w)


# -- results past the budget ---------------------------------------------------------------

@pytest.mark.parametrize("make, shapes", [
    (lambda t: t.ones(200, 1) * t.ones(200), "(200, 1), (200,)"),  # broadcasting: 200²
    (lambda t: t.ones(200, 5) @ t.ones(5, 200), "(200, 5), (5, 200)"),
    (lambda t: t.nn.functional.linear(t.ones(200, 5), t.ones(200, 5), t.ones(200)),
     "(200, 5), (200, 5), (200,)"),
    (lambda t: t.ones(200, 1, requires_grad=True) + t.ones(200), "(200, 1), (200,)"),
])
def test_a_result_past_the_budget_is_refused_before_it_is_made(monkeypatch, make, shapes):
    # as the factories refuse such a tensor: 40,000 numbers against a budget of 10,000
    monkeypatch.setenv("GRADTRACE_MAX_ELEMENTS", "10000")
    with pytest.raises(ValueError, match=r"of shapes " + re.escape(shapes) +
                       r" would make 40,000 elements .*more than the budget of 10,000"):
        make(gradtrace)


def test_results_within_the_budget_are_made(monkeypatch):
    monkeypatch.setenv("GRADTRACE_MAX_ELEMENTS", "10000")
    assert (gradtrace.ones(100, 1) * gradtrace.ones(100)).shape == (100, 100)
    assert (gradtrace.ones(100, 5) @ gradtrace.ones(5, 100)).shape == (100, 100)


# -- more of the Python API's arguments ------------------------------------------------------

@pytest.mark.parametrize("call, parameter, says", [
    (lambda: gradtrace.explain("x*y", at={1: 1}), "at", "an input's name is text, not 1"),
    (lambda: gradtrace.explain("x*y", at=[1, 2]), "at", "a dict of input names and values"),
    (lambda: gradtrace.explain("x*y", wrt=1), "wrt", "an input's name or a list of names"),
    (lambda: gradtrace.jacobian("x*y", wrt=["x"]), "wrt", "one input's name, not ['x']"),
    (lambda: gradtrace.check("x*y", progress="yes"), "progress", "a function to call"),
    (lambda: gradtrace.explain("x*y", check="no"), "check", "True or False, not 'no'"),
    (lambda: gradtrace.explain("x*y", fuse="yes"), "fuse", "True or False, not 'yes'"),
])
def test_arguments_of_the_wrong_kind_are_refused_by_name(call, parameter, says):
    with pytest.raises(UsageError, match=re.escape(says)) as refused:
        call()
    assert refused.value.parameter == parameter


def test_at_may_be_written_as_at_is_on_the_command_line():
    trace = gradtrace.explain("sum(x*y)", at="x=2,y=[1,3]", check=False)
    assert trace.gradients["x"] == 4.0
    report = gradtrace.check("x*y", 5, at="y=2", claims="x=y")
    assert [claim.holds for claim in report.claims] == [True]


@pytest.mark.parametrize("function, inputs, says", [
    (None, (1.0,), "explain_function takes a function of tensors first, not None"),
    (lambda x: x * 2, ("abc",), "the argument x is 'abc', not a number"),
    (lambda x: x.sum(), ([1.0, None],), "the argument x is [1.0, None], not a number"),
])
def test_explain_function_says_what_it_takes(function, inputs, says):
    with pytest.raises(TypeError, match=re.escape(says)):
        gradtrace.explain_function(function, *inputs)


@pytest.mark.parametrize("settings, says", [
    ({"lr": "0.1"}, "invalid lr '0.1'"),
    ({"lr": 0.1, "momentum": "0.9"}, "invalid momentum '0.9'"),
    ({"lr": 0.1, "momentum": "x", "nesterov": True}, "invalid momentum 'x'"),
    ({"lr": 0.1, "dampening": None}, "invalid dampening None"),
])
def test_a_hyperparameter_given_as_text_is_refused_not_read(settings, says):
    w = gradtrace.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match=re.escape(says)):
        gradtrace.optim.SGD([w], **settings)


def test_a_numpy_or_tensor_learning_rate_is_a_number():
    w = gradtrace.tensor([1.0], requires_grad=True)
    assert gradtrace.optim.SGD([w], lr=np.float32(0.5)).param_groups[0]["lr"] == 0.5
    assert gradtrace.optim.SGD([w], lr=gradtrace.tensor(0.25)).param_groups[0]["lr"] == 0.25


def test_checks_at_inf_and_nan_print_no_numpy_warnings(recwarn):
    for at in ({"x": float("inf"), "y": 1.0}, {"x": float("nan"), "y": 1.0}):
        gradtrace.explain("exp(x)*y", at=at)
    assert [str(w.message) for w in recwarn if issubclass(w.category, RuntimeWarning)] == []


# -- reductions over nothing, and a norm at 0 ------------------------------------------------

@pytest.mark.parametrize("reduce, says", [
    (lambda t: t.tensor([]).max(), "max(): Expected reduction dim to be specified for "
                                   "input.numel() == 0"),
    (lambda t: t.tensor([]).min(), "min(): Expected reduction dim to be specified"),
    (lambda t: t.tensor([]).argmax(), "argmax(): Expected reduction dim to be specified"),
    (lambda t: t.zeros(0, 3).max(dim=0), "max(): Expected reduction dim 0 to have non-zero size"),
    (lambda t: t.zeros(0, 3).argmin(dim=0), "argmin(): Expected reduction dim 0 to have non-zero"),
    (lambda t: t.zeros(0, 3).amax(dim=0), "amax(): Expected reduction dim 0 to have non-zero"),
])
def test_an_extreme_of_no_elements_is_pytorchs_error(reduce, says):
    with pytest.raises(gradtrace.PyTorchError, match=re.escape(says)):
        reduce(gradtrace)


def test_extremes_along_a_full_axis_and_means_of_nothing_are_pytorchs(recwarn):
    values, indices = gradtrace.zeros(0, 3).max(dim=1)
    assert values.shape == (0,) and indices.shape == (0,)
    assert np.isnan(gradtrace.tensor([]).mean().item())
    np.testing.assert_array_equal(gradtrace.zeros(3, 0).mean(dim=1).numpy(), [np.nan] * 3)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_a_norm_at_zero_refuses_its_gradient_and_says_why():
    z = gradtrace.zeros(2, requires_grad=True)
    norm = z.norm()
    assert norm.item() == 0.0  # the value is PyTorch's
    with pytest.raises(gradtrace.DiffersFromPyTorch, match=r"x.norm\(\) is 0, where its "
                       r"gradient x/‖x‖ is 0/0: PyTorch takes 0"):
        norm.backward()
    y = gradtrace.tensor([3.0, 4.0], requires_grad=True)
    y.norm().backward()
    np.testing.assert_allclose(y.grad.numpy(), [0.6, 0.8])


def test_a_given_array_past_the_budget_is_refused(monkeypatch):
    monkeypatch.setenv("GRADTRACE_MAX_ELEMENTS", "1000")
    with pytest.raises(UsageError, match=r"x: an array of shape \(2000,\) makes 2,000 elements"):
        gradtrace.explain("sum(x)", at={"x": np.zeros(2000)})
    assert gradtrace.explain("sum(x)", at={"x": np.zeros(1000)}, check=False).value == 0.0


def test_a_parameter_whose_place_reads_as_a_number_stays_unnamed():
    # register_parameter("1", ...) inside Sequential's "0" is at "0.1": not a name to show
    layer = gradtrace.nn.Module()
    layer.register_parameter("1", gradtrace.nn.Parameter(gradtrace.ones(2)))
    net = gradtrace.nn.Sequential(layer)
    assert [name for name, _ in net.named_parameters()] == ["0.1"]
    assert [p.name for p in net.parameters()] == [None]
    net.add_module("w", gradtrace.nn.Linear(2, 1))
    assert net.w.weight.name == "w.weight"


@pytest.mark.parametrize("make, what", [
    (lambda t: t.cat([t.zeros(60)] * 3), "cat of 3 tensors"),
    (lambda t: t.stack([t.zeros(60)] * 3), "stack of 3 tensors"),
    (lambda t: t.zeros(10).repeat(20), "repeat(20,)"),
    (lambda t: t.zeros(10, 10).repeat(2, 1), "repeat(2, 1)"),
    (lambda t: t.where(t.zeros(20, 1) > 0, t.zeros(1, 20), 0.0),
     "where of shapes (20, 1), (1, 20), ()"),
    (lambda t: t.zeros(10, 10).unsqueeze(0).expand(2, 10, 10).clone(),
     "clone of an expanded tensor of shape (2, 10, 10)"),
    (lambda t: t.ones(1, 10, requires_grad=True).expand(20, 10), "expand to (20, 10)"),
    (lambda t: t.nn.functional.conv2d(t.zeros(1, 1, 12, 12), t.zeros(2, 1, 1, 1)),
     "conv2d of an input of shape (1, 1, 12, 12) with filters of shape (2, 1, 1, 1)"),
    (lambda t: t.nn.functional.conv2d(t.zeros(1, 8, 4, 4), t.zeros(1, 8, 3, 3)),  # im2col
     "conv2d of an input of shape (1, 8, 4, 4) with filters of shape (1, 8, 3, 3)"),
    (lambda t: t.nn.functional.one_hot(t.tensor([0, 1]), num_classes=101),
     "one_hot of 2 indices into 101 classes"),
])
def test_joins_tiles_and_layers_past_the_budget_are_refused_before_they_are_made(
        monkeypatch, make, what):
    monkeypatch.setenv("GRADTRACE_MAX_ELEMENTS", "150")
    with pytest.raises(ValueError, match=re.escape(what) + r" would make [\d,]+ elements"):
        make(gradtrace)


def test_one_hot_makes_rows_without_a_classes_by_classes_identity():
    rows = gradtrace.nn.functional.one_hot(gradtrace.tensor([2, 0]), num_classes=200_000)
    assert rows.shape == (2, 200_000) and rows.value.sum() == 2
    assert rows.value[0, 2] == 1 and rows.value[1, 0] == 1
    with pytest.raises(gradtrace.PyTorchError, match="Class values must be smaller"):
        gradtrace.nn.functional.one_hot(gradtrace.tensor([3]), num_classes=3)


# -- PyTorch's refusals of arguments that are not what they look like ------------------------

@pytest.mark.parametrize("call, says", [
    (lambda t: t.zeros(6).reshape("2", "3"), "argument 'size' must be tuple of ints, but found "
                                             "element of type str at pos 0"),
    (lambda t: t.zeros(6).view(2.0, 3), "found element of type float at pos 0"),
    (lambda t: t.zeros(6).view(None), "found element of type NoneType at pos 0"),
    (lambda t: t.zeros(2, 3).permute("a", 0), "argument 'dims' must be tuple of ints"),
    (lambda t: t.arange("5"), "arange(): argument 'end' must be Number, not str"),
    (lambda t: t.full((2,), "3"), "full(): argument 'fill_value' must be Number, not str"),
    (lambda t: t.tensor(1.0, requires_grad="yes"), "argument 'requires_grad' must be bool"),
    (lambda t: t.zeros(2, 3).sum(dim=0, keepdim="yes"), "sum(): argument 'keepdim' must be "
                                                        "bool, not str"),
])
def test_a_string_or_a_float_is_not_read_as_a_size_or_a_flag(call, says):
    with pytest.raises(TypeError, match=re.escape(says)):
        call(gradtrace)


# (arguments, values, integer result) as PyTorch 2.13 gives them
@pytest.mark.parametrize("bounds, values, integers", [
    (lambda t: (t.tensor(3),), [0, 1, 2], True),
    (lambda t: (np.int64(3),), [0, 1, 2], True),
    (lambda t: (t.tensor(3, dtype=t.uint8),), [0, 1, 2], True),
    (lambda t: (t.tensor(2), t.tensor(7), 2), [2, 4, 6], True),
    (lambda t: (1, t.tensor(4)), [1, 2, 3], True),
    (lambda t: (True,), [0], True),
    (lambda t: (t.tensor(3.0),), [0.0, 1.0, 2.0], False),
    (lambda t: (t.tensor(2), 7.0), [2.0, 3.0, 4.0, 5.0, 6.0], False),
    (lambda t: {"end": 5}, [0, 1, 2, 3, 4], True),
    (lambda t: {"end": t.tensor(4)}, [0, 1, 2, 3], True),
    (lambda t: {"start": 1, "end": 5}, [1, 2, 3, 4], True),
    (lambda t: ((1,), {"end": 3.0}), [1.0, 2.0], False),
])
def test_arange_of_integer_tensors_and_numpy_ints_counts_in_integers(bounds, values, integers):
    given = bounds(gradtrace)
    args, kwargs = (given if isinstance(given, tuple) and isinstance(given[-1], dict)
                    else ((), given) if isinstance(given, dict) else (given, {}))
    made = gradtrace.arange(*args, **kwargs)
    assert made.tolist() == values
    assert made.dtype == (gradtrace.int64 if integers else gradtrace.float32)


def test_arange_of_a_tensor_of_several_numbers_is_refused_naming_the_tensor():
    with pytest.raises(TypeError, match="argument 'end' must be Number, not Tensor"):
        gradtrace.arange(gradtrace.tensor([3]))
    with pytest.raises(TypeError, match='missing 1 required positional arguments: "end"'):
        gradtrace.arange()  # PyTorch's words
    assert gradtrace.arange(np.bool_(True)).tolist() == [0]  # as arange(True)


def test_sizes_take_numpy_ints_and_integer_tensors():
    x = gradtrace.zeros(6)
    assert x.view(np.int64(2), 3).shape == (2, 3)
    assert x.reshape(gradtrace.tensor(3), -1).shape == (3, 2)


@pytest.mark.parametrize("value", ["3", [1, None]])
def test_a_grad_that_is_not_numbers_is_refused(value):
    w = gradtrace.zeros(2, requires_grad=True)
    with pytest.raises(TypeError, match="assigned grad expected to be a Tensor or None"):
        w.grad = value
    w.grad = [1.0, 2.0]
    np.testing.assert_array_equal(w.grad.numpy(), [1.0, 2.0])


def test_an_optimiser_step_that_overflows_prints_no_numpy_warning(recwarn):
    w = gradtrace.tensor([1.0], dtype=gradtrace.float32, requires_grad=True)
    (w * 1e30).sum().backward()
    gradtrace.optim.SGD([w], lr=1e30).step()
    assert np.isinf(w.value).all()
    assert not [str(x.message) for x in recwarn if issubclass(x.category, RuntimeWarning)]
