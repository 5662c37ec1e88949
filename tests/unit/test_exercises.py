"""Every checked exercise: its reference passes, planted wrong answers get their targeted
message, and the unfilled template is told it is not filled in yet."""

from __future__ import annotations

import pytest
import torch
import torchvision
from torch import nn

from cnnlib import exercises, shapes, shifts
from cnnlib.exercises import core
from cnnlib.hooks import hook_tensor
from cnnlib.models import convnext_tiny

# ----------------------------------------------------------------------- reference answers


def conv_input_shapes(model, x):
    shapes_, handles = [], []
    try:
        for m in model.modules():
            if isinstance(m, nn.Conv2d):
                handles.append(m.register_forward_pre_hook(
                    lambda m, inputs: shapes_.append(tuple(inputs[0].shape))))
        model(x)
    finally:
        for h in handles:
            h.remove()
    return shapes_


def saliency(model, x):
    xs = x.clone().requires_grad_()
    with hook_tensor(xs) as th:
        logits = model(xs)
        logits[0, logits.argmax()].backward()
    return th.stored[0].abs().amax(0)


def first_dead_step(zeros, threshold=0.99):
    return next((t for t, z in enumerate(zeros) if z > threshold), None)


def blur_errors(x):
    return [shifts.equivariance_error(shifts.BlurPool(1, s).double(), x, (0, 1), stride=2)
            for s in range(1, 8)]


def separable_macs(c_in, c_out, k, size):
    return (shapes.conv_macs(c_in, c_in, k, size, groups=c_in, bias=False)
            + shapes.conv_macs(c_in, c_out, 1, size, bias=False))


def se_cost(channels, squeeze, size):
    params = 2 * channels * squeeze + squeeze + channels
    return params, params


def stochastic_depth(x, p, training):
    return torchvision.ops.stochastic_depth(x, p, "row", training)


def convnext_shares():
    rows = shapes.layer_counts(convnext_tiny(), (3, 224, 224))
    total = sum(r.macs for r in rows)
    dw = sum(r.macs for r in rows if r.kind == "Conv2d" and ".block.0" in r.name)
    lin = sum(r.macs for r in rows if r.kind == "Linear")
    return dw / total, lin / total, 1 - (dw + lin) / total


# --------------------------------------------------------------------- planted wrong answers


def output_shapes(model, x):
    seen, handles = [], []
    try:
        for m in model.modules():
            if isinstance(m, nn.Conv2d):
                handles.append(m.register_forward_hook(
                    lambda m, i, o: seen.append(tuple(o.shape))))
        model(x)
    finally:
        for h in handles:
            h.remove()
    return seen


def leaky_shapes(model, x):  # forgets to remove its handles
    seen = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            m.register_forward_pre_hook(lambda m, i: seen.append(tuple(i[0].shape)))
    model(x)
    return seen


def top_level_shapes(model, x):  # misses nested blocks
    seen, handles = [], []
    try:
        for m in model.children():
            if isinstance(m, nn.Conv2d):
                handles.append(m.register_forward_pre_hook(
                    lambda m, i: seen.append(tuple(i[0].shape))))
        model(x)
    finally:
        for h in handles:
            h.remove()
    return seen


def no_finally_shapes(model, x):  # removes its handles only when the pass succeeds
    seen, handles = [], []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            handles.append(m.register_forward_pre_hook(
                lambda m, i: seen.append(tuple(i[0].shape))))
    model(x)
    for h in handles:
        h.remove()
    return seen


def signed_saliency(model, x):
    xs = x.clone().requires_grad_()
    logits = model(xs)
    logits[0, logits.argmax()].backward()
    return xs.grad[0].amax(0)


def mean_saliency(model, x):
    return _grad(model, x).abs().mean(0)


def probability_saliency(model, x):
    xs = x.clone().requires_grad_()
    model(xs).softmax(1).max().backward()
    return xs.grad[0].abs().amax(0)


def _grad(model, x):
    xs = x.clone().requires_grad_()
    logits = model(xs)
    logits[0, logits.argmax()].backward()
    return xs.grad[0]


def dense_macs(c_in, c_out, k, size):
    return shapes.conv_macs(c_in, c_out, k, size, bias=False)


def biased_macs(c_in, c_out, k, size):
    return (shapes.conv_macs(c_in, c_in, k, size, groups=c_in)
            + shapes.conv_macs(c_in, c_out, 1, size))


def se_cost_per_pixel(channels, squeeze, size):
    params, macs = se_cost(channels, squeeze, size)
    return params, macs * size * size


def se_cost_no_bias(channels, squeeze, size):
    return 2 * channels * squeeze, 2 * channels * squeeze


def dropout(x, p, training):
    return nn.functional.dropout(x, p, training)


def unscaled_depth(x, p, training):
    return stochastic_depth(x, p, training) * (1 - p) if training else x


def keep_probability(x, p, training):  # reads p as the probability of keeping
    return stochastic_depth(x, 1 - p, training)


CASES = {
    "13.1": (conv_input_shapes, [(output_shapes, "pre*-hook"), (leaky_shapes, "finally"),
                                 (top_level_shapes, "nested"), (no_finally_shapes, "raises")]),
    "13.2": (saliency, [(signed_saliency, "absolute value"), (mean_saliency, "not the mean"),
                        (probability_saliency, "probability")]),
    "13.3": (first_dead_step, [(lambda z, t=0.99: first_dead_step(z, t) + 1
                                if first_dead_step(z, t) is not None else None, "from 0"),
                               (lambda z, t=0.99: next((i for i, v in enumerate(z) if v >= t),
                                                       None), "strictly"),
                               (lambda z, t=0.99: next((i for i, v in enumerate(z) if v > t),
                                                       -1), "return None")]),
    "13.4": ([2, 4, 7, 14], [([0, 2, 4, 7, 14], "after it"), ([1, 3, 6, 13], "before")]),
    "15.1": ([2, 4, 6], [([1, 2, 3, 4, 5, 6], "odd shift"), ([2, 4], "measure")]),
    "15.2": (blur_errors, [(lambda x: [shifts.equivariance_error(
        shifts.BlurPool(1, s).double(), x, (0, 1)) for s in range(1, 8)], "stride=2"),
        (lambda x: blur_errors(x)[:6], "one error per size")]),
    "16.1": (separable_macs, [(dense_macs, "dense convolution"), (biased_macs, "biases")]),
    "16.2": (se_cost, [(se_cost_per_pixel, "not on every pixel"),
                       (se_cost_no_bias, "biases")]),
    "16.3": (stochastic_depth, [(dropout, "per value is dropout"),
                                (unscaled_depth, "divide the kept images"),
                                (keep_probability, "probability of dropping"),
                                (lambda x, p, t: x * 0 if not t else x, "eval mode")]),
    "16.5": (convnext_shares(), [(tuple(100 * v for v in convnext_shares()), "percent"),
                                 ((0.5, 0.3, 0.1), "sum to 1")]),
}


def test_every_checked_exercise_is_tested_here():
    assert sorted(CASES) == sorted(exercises.exercise_keys())


@pytest.mark.parametrize("key", sorted(CASES))
def test_the_reference_answer_passes(key):
    feedback = exercises.check(key, CASES[key][0])
    assert feedback.passed, str(feedback)


@pytest.mark.parametrize("key, wrong, hint",
                         [(k, w, h) for k, (_, planted) in sorted(CASES.items())
                          for w, h in planted])
def test_a_planted_wrong_answer_gets_its_targeted_message(key, wrong, hint):
    feedback = exercises.check(key, wrong)
    assert feedback.status == "wrong", str(feedback)
    assert hint in feedback.message, feedback.message


@pytest.mark.parametrize("key", sorted(CASES))
def test_the_unfilled_template_is_told_it_is_not_filled_in(key):
    reference = CASES[key][0]
    template = (lambda *args, **kwargs: ...) if callable(reference) else ...
    feedback = exercises.check(key, template)
    assert feedback.status == "not filled in", str(feedback)
    assert "replace the ..." in feedback.message


def test_a_not_implemented_error_counts_as_not_filled_in():
    def separable(c_in, c_out, k, size):
        raise NotImplementedError

    assert exercises.check("16.1", separable).status == "not filled in"


def test_an_exception_in_the_readers_code_is_feedback_not_a_traceback():
    feedback = exercises.check("16.1", lambda c_in, c_out, k, size: 1 / 0)
    assert feedback.status == "wrong"
    assert "ZeroDivisionError" in feedback.message and "<lambda>" in feedback.message


def test_a_function_that_forgets_to_return_is_told_so():
    feedback = exercises.check("16.1", lambda c_in, c_out, k, size: None)
    assert "forget to return" in feedback.message


def test_an_unknown_exercise_is_a_value_error_listing_the_known_ones():
    with pytest.raises(ValueError, match="16.1"):
        exercises.check("99.9", 1)


def test_feedback_lines_fit_the_page():
    feedback = exercises.check("16.3", ...)
    assert max(len(line) for line in str(feedback).splitlines()) <= 76
    assert 'data-status="not filled in"' in feedback._repr_html_()


def test_a_key_cannot_be_registered_twice():
    with pytest.raises(ValueError, match="twice"):
        core.exercise("16.1", "again", "x", "y")(lambda answer: None)


def test_the_saliency_checker_compares_with_autograd_not_with_itself():
    # a constant map of the right shape must fail
    feedback = exercises.check("13.2", lambda model, x: torch.ones(x.shape[-2:]))
    assert feedback.status == "wrong"
