"""Chapter 13 (hooks): checkers for exercises 13.1 to 13.4."""

from __future__ import annotations

import functools

import torch
import torchvision
from torch import nn

from cnnlib.exercises.core import call, exercise, filled
from cnnlib.hooks import count_hooks


def _conv_models() -> list[tuple[nn.Module, torch.Tensor]]:
    """Models the chapter did not use: nested, strided, one conv run twice."""
    torch.manual_seed(13)
    shared = nn.Conv2d(4, 4, 3, padding=1)
    nested = nn.Sequential(
        nn.Conv2d(3, 4, 3), nn.ReLU(),
        nn.Sequential(nn.Conv2d(4, 6, 3, stride=2), nn.BatchNorm2d(6), nn.ReLU()),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 2))
    twice = nn.Sequential(nn.Conv2d(1, 4, 5), shared, nn.ReLU(), shared)
    return [(nested, torch.randn(3, 3, 17, 19)), (twice, torch.randn(2, 1, 12, 12))]


def _shapes(model: nn.Module, x: torch.Tensor, pre: bool,
            kind: type = nn.Conv2d) -> list[tuple[int, ...]]:
    """The input (pre) or output shapes of every call of a ``kind`` layer, in call order."""
    seen: list[tuple[int, ...]] = []
    handles = []
    try:
        for m in model.modules():
            if isinstance(m, kind):
                if pre:
                    handles.append(m.register_forward_pre_hook(
                        lambda m, i: seen.append(tuple(i[0].shape))))
                else:
                    handles.append(m.register_forward_hook(
                        lambda m, i, o: seen.append(tuple(o.shape))))
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    return seen


class _Fails(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise RuntimeError("this layer fails on purpose (exercise 13.1's check)")


@exercise("13.1", "A forward pre-hook",
          "a function conv_input_shapes(model, x) that returns the input shape of "
          "every nn.Conv2d call, as a list of tuples",
          "the input shapes of every Conv2d call match, on a nested model and on one "
          "that runs a conv twice, and no hook is left, even when the forward pass fails.",
          function="conv_input_shapes")
def _check_13_1(answer: object) -> str | None:
    for model, x in _conv_models():
        got = call(answer, model, x)
        left = count_hooks(model)
        if left:
            return (f"{left} hook(s) are still registered after your function returned: "
                    "keep every handle and call handle.remove() in a finally block.")
        if got is None:
            return "your function returned None: did you forget to return the list?"
        try:
            got = [tuple(int(n) for n in s) for s in got]
        except TypeError:
            return f"return a list of shape tuples such as (2, 1, 28, 28), got {got!r}."
        want = _shapes(model, x, pre=True)
        if got == want:
            continue
        if got == _shapes(model, x, pre=False):
            return ("these are the outputs' shapes: a forward *pre*-hook runs before the "
                    "layer and sees its inputs, (module, inputs).")
        if got == [s[1:] for s in want]:
            return "keep the batch dimension: record inputs[0].shape whole."
        if len(got) < len(want):
            return (f"you recorded {len(got)} calls, there are {len(want)}: model.modules() "
                    "walks nested blocks too, and a hook fires on every call of its layer.")
        if len(got) > len(want):
            return (f"you recorded {len(got)} shapes for {len(want)} Conv2d calls: hook only "
                    "the nn.Conv2d modules (isinstance).")
        return f"on a model the chapter did not use, expected {want}, got {got}."
    model = nn.Sequential(nn.Conv2d(1, 2, 3), _Fails())
    try:
        call(answer, model, torch.randn(1, 1, 8, 8))
    except RuntimeError:
        pass
    if count_hooks(model):
        return ("when the forward pass raises, your hooks stay on the model: remove the "
                "handles in a finally block.")
    return None


def _saliency(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    x = x.clone().requires_grad_()
    logits = model(x)
    (grad,) = torch.autograd.grad(logits[0, logits[0].argmax()], x)
    return grad[0].abs().amax(0)


def _small_net() -> nn.Module:
    torch.manual_seed(1302)
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 5)).eval()


@exercise("13.2", "Gradient saliency with a tensor hook",
          "a function saliency(model, x) that returns |d top logit / d pixel|, the "
          "maximum over RGB, as an (H, W) tensor for one image x of shape (1, 3, H, W)",
          "equal to autograd's map on a network and images the chapter did not use "
          "(relative tolerance 1e-5).",
          function="saliency")
def _check_13_2(answer: object) -> str | None:
    model = _small_net()
    torch.manual_seed(1303)
    for x in (torch.randn(1, 3, 20, 24), torch.randn(1, 3, 16, 16)):
        got = call(answer, model, x.clone())
        if got is None:
            return "your function returned None: did you forget to return the map?"
        if not isinstance(got, torch.Tensor):
            return f"return a tensor, got {type(got).__name__}."
        got = got.detach().cpu().float()
        want = _saliency(model, x)
        if got.shape != want.shape:
            if got.shape == (1, *want.shape) or got.shape == (1, 1, *want.shape):
                got = got.reshape(want.shape)
            elif got.shape[-3:] == (3, *want.shape):
                return (f"your map has shape {tuple(got.shape)}: reduce over the colour "
                        "channels with .amax(0) to get one value per pixel.")
            else:
                return f"expected an (H, W) map of shape {tuple(want.shape)}, got " \
                       f"{tuple(got.shape)}."
        if torch.allclose(got, want, rtol=1e-5, atol=1e-8):
            continue
        xs = x.clone().requires_grad_()
        logits = model(xs)
        (g,) = torch.autograd.grad(logits[0, logits[0].argmax()], xs)
        if torch.allclose(got, g[0].amax(0), rtol=1e-5, atol=1e-8):
            return ("take the absolute value before the maximum: a large negative gradient "
                    "matters as much as a large positive one.")
        if torch.allclose(got, g[0].abs().mean(0), rtol=1e-5, atol=1e-8):
            return "take the maximum over RGB (.amax(0)), not the mean."
        if torch.allclose(got, g[0].abs().sum(0), rtol=1e-5, atol=1e-8):
            return "take the maximum over RGB (.amax(0)), not the sum."
        xs = x.clone().requires_grad_()
        (gp,) = torch.autograd.grad(model(xs).softmax(1).max(), xs)
        if torch.allclose(got, gp[0].abs().amax(0), rtol=1e-5, atol=1e-8):
            return ("that is the gradient of the top class's probability; the exercise "
                    "asks for its logit, logits[0, logits.argmax()].")
        return ("your map differs from |d top logit / d pixel| (max over RGB): backward "
                "from logits[0, logits.argmax()] and read the tensor hook's gradient.")
    return None


def _first_step_above(zeros: list[float], threshold: float) -> int | None:
    return next((t for t, z in enumerate(zeros) if z > threshold), None)


@exercise("13.3", "When did a block die?",
          "a function first_dead_step(zeros, threshold=0.99) that returns the index of "
          "the first step whose share of zeros is above threshold, or None",
          "right on six histories the chapter did not use, including one that never "
          "dies and one that touches the threshold exactly.",
          function="first_dead_step")
def _check_13_3(answer: object) -> str | None:
    cases = [([0.2, 0.5, 0.995, 0.999, 1.0], 0.99), ([0.1, 0.3, 0.4], 0.99),
             ([0.99, 0.991, 0.5], 0.99), ([1.0], 0.99), ([0.3, 0.6, 0.2, 0.7], 0.5),
             ([0.0, 0.0, 0.95, 0.2, 0.97], 0.9)]
    for zeros, threshold in cases:
        got = call(answer, list(zeros), threshold)
        want = _first_step_above(zeros, threshold)
        if got == want and (got is None) == (want is None):
            continue
        if want is None:
            return (f"for {zeros} no step is above {threshold}: return None, not {got!r}.")
        if got is None:
            return (f"for {zeros} step {want} is above {threshold}, but you returned None "
                    "(did you forget to return it?).")
        if got == want + 1:
            return "count steps from 0, as enumerate does."
        if zeros.count(threshold) and got == zeros.index(threshold):
            return f"'above {threshold}' is strictly greater: {threshold} itself is not."
        above = [t for t, z in enumerate(zeros) if z > threshold]
        if got == above[-1]:
            return "that is the last step above the threshold; the exercise asks for the first."
        return f"for zeros={zeros}, threshold={threshold}: expected {want}, got {got!r}."
    return None


@functools.cache
def _halving_blocks() -> list[int]:
    features = torchvision.models.mobilenet_v2().features
    size, x, halved = 224, torch.zeros(1, 3, 224, 224), []
    with torch.no_grad():
        for i, block in enumerate(features):
            x = block(x)
            if i > 0 and x.shape[-1] < size:
                halved.append(i)
            size = x.shape[-1]
    return halved


@exercise("13.4", "Where does MobileNetV2 halve the resolution?",
          "a list of the indices i > 0 of the blocks features[i] whose output is smaller "
          "than their input",
          "the same blocks as a pass through torchvision's MobileNetV2 finds.")
def _check_13_4(answer: object) -> str | None:
    got = filled(answer)
    try:
        got = sorted(int(i) for i in got)
    except (TypeError, ValueError):
        return f"hand in a list of block indices such as [1, 5], got {answer!r}."
    want = _halving_blocks()
    if got == want:
        return None
    if got == [0, *want]:
        return "features[0] halves too, but the exercise asks for the blocks after it."
    if got == [i - 1 for i in want]:
        return "you listed the block before each halving: give the block whose output shrinks."
    return (f"you listed {len(got)} blocks; compare each block's output width with the "
            "previous one's (hook_outputs on mobilenet.features).")
