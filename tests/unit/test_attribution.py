"""cnnlib.attribution against Captum: Integrated Gradients, occlusion; guided backprop
against pytorch-grad-cam."""

import pytest
import torch
from captum.attr import IntegratedGradients, Occlusion
from pytorch_grad_cam import GuidedBackpropReLUModel
from torch import nn

from cnnlib import attribution


def small_cnn(seed: int = 0, relu=nn.ReLU) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), relu(), nn.MaxPool2d(2),
                         nn.Conv2d(6, 8, 3, padding=1), relu(), nn.AdaptiveAvgPool2d(1),
                         nn.Flatten(), nn.Linear(8, 4)).double().eval()


def test_integrated_gradients_are_captums_trapezoid_rule_with_weights_summing_to_one():
    # Captum's riemann_trapezoid weighs the 16 points (1/2, 1, ..., 1, 1/2) / 16, which sum
    # to 15/16; the trapezoid rule divides by the 15 intervals.
    model = small_cnn()
    x = torch.randn(3, 3, 12, 12, dtype=torch.float64)
    baseline = torch.randn(1, 3, 12, 12, dtype=torch.float64)
    ours = attribution.integrated_gradients(model, x, [0, 2, 3], baseline, steps=16)
    theirs = IntegratedGradients(model).attribute(x, baseline.expand_as(x), target=[0, 2, 3],
                                                  n_steps=16, method="riemann_trapezoid")
    assert torch.allclose(ours * 15 / 16, theirs, atol=1e-10)


def test_integrated_gradients_sum_to_the_score_difference():
    # a smooth network, so that the trapezoid rule's error is small at 256 points
    torch.manual_seed(1)
    model = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.Softplus(), nn.AvgPool2d(2),
                          nn.Conv2d(6, 8, 3, padding=1), nn.Softplus(), nn.AdaptiveAvgPool2d(1),
                          nn.Flatten(), nn.Linear(8, 4)).double().eval()
    x = torch.randn(2, 3, 12, 12, dtype=torch.float64)
    ig = attribution.integrated_gradients(model, x, 1, steps=256)
    with torch.no_grad():
        gap = model(x)[:, 1] - model(torch.zeros_like(x))[:, 1]
    assert torch.allclose(ig.sum((1, 2, 3)), gap, rtol=1e-4, atol=1e-8)


@pytest.mark.parametrize(("window", "stride"), [(4, 2), (5, 3), (12, 4)])
def test_occlusion_equals_captums(window, stride):
    model = small_cnn(2)
    x = torch.randn(2, 3, 12, 12, dtype=torch.float64)
    ours = attribution.occlusion(model, x, [1, 3], window=window, stride=stride,
                                 baseline=0.5, batch_size=5)
    theirs = Occlusion(model).attribute(x, sliding_window_shapes=(3, window, window),
                                        strides=(3, stride, stride), target=[1, 3],
                                        baselines=0.5)
    assert torch.allclose(ours, theirs, atol=1e-10)


def test_guided_backprop_equals_pytorch_grad_cams_on_relu_networks():
    model = small_cnn(3).float()
    x = torch.randn(1, 3, 12, 12)
    ours = attribution.guided_backprop(model, x, 2)[0].permute(1, 2, 0)
    theirs = torch.from_numpy(GuidedBackpropReLUModel(model, "cpu")(x.clone(), target_category=2))
    assert torch.allclose(ours, theirs, atol=1e-6)


def test_guided_backprop_clamps_relu6_too_and_leaves_no_hooks():
    model = small_cnn(4, nn.ReLU6)
    x = torch.randn(1, 3, 12, 12, dtype=torch.float64)
    plain = x.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(model(plain)[0, 1], plain)
    guided = attribution.guided_backprop(model, x, 1)
    assert not torch.allclose(guided, grad)
    assert all(not m._forward_hooks for m in model.modules())


def test_a_baseline_of_the_wrong_shape_is_refused():
    with pytest.raises(ValueError, match="baseline"):
        attribution.integrated_gradients(small_cnn(), torch.randn(1, 3, 12, 12, dtype=torch.float64),
                                         baseline=torch.zeros(2, 5))
