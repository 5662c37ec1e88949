"""Tests of cnnlib.cam against pytorch-grad-cam and autograd, on real photos and real networks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import torchvision
from failing_layers import BackwardBoom, ForwardBoom
from pytorch_grad_cam import GradCAM, GradCAMPlusPlus
from pytorch_grad_cam.utils.image import scale_cam_image
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
from torch import nn

from cnnlib import cam, data, images, models, plot
from cnnlib.hooks import count_hooks

# The contract allows 0.03 from pytorch-grad-cam; we match it to float precision (< 1e-6), and
# 0.03 would miss real mistakes: dropping Grad-CAM++'s sum(A) g^3 term moves these maps by 0.003-0.006.
TOL = 1e-4


def photo(name: str, size: int = 224) -> torch.Tensor:
    """A sample photo as a normalised (3, size, size) float tensor."""
    image = torch.from_numpy(data.sample_image(name)).permute(2, 0, 1).float() / 255
    image = F.interpolate(image[None], (size, size), mode="bilinear", antialias=True, align_corners=False)
    return images.normalize(image[0])


@pytest.fixture(scope="module")
def x() -> torch.Tensor:
    return torch.stack([photo("chelsea"), photo("coffee")])


@pytest.fixture(scope="module")
def mobilenet() -> nn.Module:
    return models.pretrained_mobilenet_v2()


@pytest.fixture(scope="module")
def resnet() -> nn.Module:
    torch.manual_seed(0)
    return torchvision.models.resnet18(weights=None).eval()


def reference(method, model, layer, x, classes) -> np.ndarray:
    with method(model, [layer]) as ref:
        return ref(x, [ClassifierOutputTarget(c) for c in classes])


def tiny_net() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, stride=2, padding=1),
                         nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 4))


# --------------------------------------------------------------------------- against pytorch-grad-cam


def test_mobilenet_predicts_the_photos_classes(mobilenet, x):
    names = [data.imagenet_classes()[i] for i in mobilenet(x).argmax(1)]
    assert names == ["Egyptian cat", "espresso"]


@pytest.mark.parametrize("ours, theirs", [(cam.grad_cam, GradCAM), (cam.grad_cam_pp, GradCAMPlusPlus)])
def test_matches_pytorch_grad_cam_on_pretrained_mobilenet_v2(mobilenet, x, ours, theirs):
    classes = mobilenet(x).argmax(1).tolist()
    maps = ours(mobilenet, mobilenet.features[-1], x)  # target None: the predicted classes
    assert maps.shape == (2, 224, 224) and maps.dtype == torch.float32
    expected = reference(theirs, mobilenet, mobilenet.features[-1], x, classes)
    assert np.abs(maps.numpy() - expected).max() <= TOL
    assert count_hooks(mobilenet) == 0


@pytest.mark.parametrize("ours, theirs", [(cam.grad_cam, GradCAM), (cam.grad_cam_pp, GradCAMPlusPlus)])
def test_matches_pytorch_grad_cam_on_resnet18_with_a_target_per_image(resnet, x, ours, theirs):
    maps = ours(resnet, resnet.layer4[-1], x, target=[3, 7])
    expected = reference(theirs, resnet, resnet.layer4[-1], x, [3, 7])
    assert np.abs(maps.numpy() - expected).max() <= TOL
    assert count_hooks(resnet) == 0


@pytest.mark.parametrize("ours, theirs", [(cam.grad_cam, GradCAM), (cam.grad_cam_pp, GradCAMPlusPlus)])
def test_matches_pytorch_grad_cam_where_grad_cam_pp_terms_all_matter(ours, theirs):
    net = tiny_net()
    with torch.no_grad():
        net[6].weight.mul_(300)  # large gradients: sum(A) g^3 outweighs 2 g^2 in Grad-CAM++'s weights
    x = torch.randn(3, 3, 12, 12)
    maps = ours(net, net[2], x, target=[0, 1, 3])
    expected = reference(theirs, net, net[2], x, [0, 1, 3])
    assert np.abs(maps.numpy() - expected).max() <= TOL


def test_maps_are_scaled_to_zero_one_per_image(mobilenet, x):
    maps = cam.grad_cam(mobilenet, mobilenet.features[-1], x)
    lows, highs = maps.flatten(1).min(1).values, maps.flatten(1).max(1).values
    torch.testing.assert_close(lows, torch.zeros(2), atol=1e-6, rtol=0)
    torch.testing.assert_close(highs, torch.ones(2), atol=1e-6, rtol=0)


def test_target_as_int_list_tensor_or_none_gives_the_same_maps(resnet, x):
    predicted = resnet(x).argmax(1)
    by_none = cam.grad_cam(resnet, resnet.layer4[-1], x)
    by_tensor = cam.grad_cam(resnet, resnet.layer4[-1], x, target=predicted)
    by_list = cam.grad_cam(resnet, resnet.layer4[-1], x, target=[np.int64(c) for c in predicted])
    torch.testing.assert_close(by_none, by_tensor, rtol=0, atol=0)
    torch.testing.assert_close(by_none, by_list, rtol=0, atol=0)
    one = cam.grad_cam(resnet, resnet.layer4[-1], x, target=5)
    torch.testing.assert_close(one, cam.grad_cam(resnet, resnet.layer4[-1], x, target=[5, 5]), rtol=0, atol=0)


def test_raw_grad_cam_is_the_gradient_weighted_sum_of_the_activations(mobilenet, x):
    layer = mobilenet.features[-1]
    raw = cam.grad_cam(mobilenet, layer, x, target=[281, 504], raw=True)
    a = mobilenet.features(x).detach().requires_grad_()
    logits = mobilenet.classifier(F.adaptive_avg_pool2d(a, 1).flatten(1))
    (g,) = torch.autograd.grad(logits[0, 281] + logits[1, 504], a)
    expected = (g.mean((2, 3))[:, :, None, None] * a).sum(1)
    assert raw.shape == (2, 7, 7)  # at the layer's resolution, before ReLU, scaling and resizing
    torch.testing.assert_close(raw, expected.detach(), rtol=1e-4, atol=1e-4)


# --------------------------------------------------------------------------- CAM


def test_cam_spatial_mean_plus_bias_is_the_logit(mobilenet, x):
    head = mobilenet.classifier[-1]
    raw = cam.cam(mobilenet, x, features=mobilenet.features, classifier=head, raw=True)
    logits = mobilenet(x)
    classes = logits.argmax(1)
    torch.testing.assert_close(raw.mean((1, 2)) + head.bias[classes], logits[[0, 1], classes].detach(),
                               rtol=1e-4, atol=1e-4)


def test_cam_is_grad_cam_times_the_area_before_relu_on_a_gap_linear_head(mobilenet, x):
    # For GAP + linear, dy_c/dA_k(i,j) = W[c,k] / (h*w): Grad-CAM's weights are CAM's over h*w.
    classes = [285, 967]
    raw_cam = cam.cam(mobilenet, x, classes, features=mobilenet.features,
                      classifier=mobilenet.classifier[-1], raw=True)
    raw_grad_cam = cam.grad_cam(mobilenet, mobilenet.features, x, classes, raw=True)
    h, w = raw_cam.shape[-2:]
    assert (h, w) == (7, 7)
    torch.testing.assert_close(raw_cam, raw_grad_cam * (h * w), rtol=1e-4, atol=1e-3)


def test_cam_is_scaled_then_resized_as_pytorch_grad_cam_scales(resnet, x):
    maps = cam.cam(resnet, x, [1, 2], features=resnet.layer4, classifier=resnet.fc)
    a = resnet.layer4(resnet.layer3(resnet.layer2(resnet.layer1(resnet.maxpool(resnet.relu(resnet.bn1(
        resnet.conv1(x))))))))
    raw = torch.einsum("nk,nkhw->nhw", resnet.fc.weight[[1, 2]], a).detach().numpy()
    expected = scale_cam_image(scale_cam_image(raw, (224, 224)))  # no ReLU in CAM
    assert np.abs(maps.numpy() - expected).max() < 1e-5


def test_cam_rejects_a_head_that_is_not_average_pooling_and_linear():
    net = tiny_net()
    net[4] = nn.AdaptiveMaxPool2d(1)
    with pytest.raises(ValueError, match="not the spatial mean"):
        cam.cam(net, torch.randn(2, 3, 8, 8), features=net[3], classifier=net[6])
    with pytest.raises(ValueError, match="takes 8 features"):
        cam.cam(net, torch.randn(2, 3, 8, 8), features=net[5], classifier=net[6])
    with pytest.raises(ValueError, match="final nn.Linear"):
        cam.cam(net, torch.randn(2, 3, 8, 8), features=net[3], classifier=net[5])
    assert count_hooks(net) == 0


# --------------------------------------------------------------------------- saliency, plot.overlay


def test_saliency_is_the_channel_max_of_the_input_gradient(resnet, x):
    resnet.zero_grad(set_to_none=True)  # pytorch-grad-cam's backward() filled them in other tests
    raw = cam.saliency(resnet, x, target=[3, 9], raw=True)
    xg = x.clone().requires_grad_()
    logits = resnet(xg)
    (g,) = torch.autograd.grad(logits[0, 3] + logits[1, 9], xg)
    torch.testing.assert_close(raw, g.abs().amax(1), rtol=1e-5, atol=1e-8)
    scaled = cam.saliency(resnet, x, target=[3, 9])
    torch.testing.assert_close(scaled.flatten(1).max(1).values, torch.ones(2))
    assert all(p.grad is None for p in resnet.parameters()) and x.grad is None


def test_overlay_blends_the_colour_mapped_heatmap_with_the_image():
    import matplotlib

    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (6, 5, 3), dtype=np.uint8)
    heat = rng.random((6, 5)).astype(np.float32)
    out = plot.overlay(image, heat, alpha=0.3, cmap="inferno")
    expected = 0.7 * image / 255 + 0.3 * matplotlib.colormaps["inferno"](heat)[..., :3]
    assert out.shape == (6, 5, 3)
    np.testing.assert_allclose(out, expected, atol=1e-6)
    from_tensor = plot.overlay(torch.from_numpy(image).permute(2, 0, 1).float() / 255, torch.from_numpy(heat),
                              alpha=0.3, cmap="inferno")
    np.testing.assert_allclose(from_tensor, expected, atol=1e-6)
    small = plot.overlay(image, heat[::2, ::2])  # resized to the image
    assert small.shape == (6, 5, 3) and 0 <= small.min() and small.max() <= 1


@pytest.mark.parametrize("image, heat, kwargs, match", [
    (np.zeros((4, 4, 3)), np.zeros((2, 4, 4)), {}, "one heatmap"),
    (np.zeros((4, 4, 3)), np.full((4, 4), 2.0), {}, r"in \[0, 1\]"),
    (np.full((4, 4, 3), 3.0), np.zeros((4, 4)), {}, "denormalize"),
    (np.zeros((4, 4, 4)), np.zeros((4, 4)), {}, r"\(H, W, 3\)"),
    (np.zeros((4, 4, 3)), np.zeros((4, 4)), {"alpha": 1.5}, "alpha"),
    (np.zeros((4, 4, 3)), np.zeros((4, 4)), {"cmap": "no-such-map"}, "Unknown colormap"),
])
def test_overlay_rejects_bad_input(image, heat, kwargs, match):
    with pytest.raises(ValueError, match=match):
        plot.overlay(image, heat, **kwargs)


# --------------------------------------------------------------------------- hooks, modes, errors




def _state(model):
    return [m.training for m in model.modules()], [p.requires_grad for p in model.parameters()]


@pytest.mark.parametrize("method", [cam.grad_cam, cam.grad_cam_pp])
@pytest.mark.parametrize("boom, match", [(ForwardBoom(), "boom in forward"),
                                         (BackwardBoom(), "boom in backward")])
def test_no_hook_survives_and_the_model_is_restored_when_a_pass_raises(method, boom, match):
    net = tiny_net()
    net.insert(4, boom)
    net.train()
    net[0].requires_grad_(False)
    net[2].eval()
    before = _state(net)
    with pytest.raises(RuntimeError, match=match):
        method(net, net[2], torch.randn(2, 3, 8, 8))
    assert count_hooks(net) == 0 and _state(net) == before


@pytest.mark.parametrize("method", ["grad_cam", "grad_cam_pp", "cam", "saliency"])
def test_every_method_restores_modes_and_flags_and_leaves_no_gradient(method):
    net = tiny_net()
    net.train()
    net[6].requires_grad_(False)
    net[0].eval()
    before = _state(net)
    x = torch.randn(2, 3, 8, 8, requires_grad=True)
    kwargs = {"features": net[3], "classifier": net[6]} if method == "cam" else {}
    args = (net, x) if method in ("cam", "saliency") else (net, net[2], x)
    maps = getattr(cam, method)(*args, **kwargs)
    assert maps.shape == (2, 8, 8) and not maps.requires_grad
    assert _state(net) == before and count_hooks(net) == 0
    assert all(p.grad is None for p in net.parameters()) and x.grad is None


def test_grad_cam_is_computed_in_eval_mode():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Dropout(0.5),
                        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3))
    net[1].running_mean.normal_()
    x = torch.randn(2, 3, 8, 8)
    evaluated = cam.grad_cam(net.eval(), net[0], x, target=1)
    torch.testing.assert_close(cam.grad_cam(net.train(), net[0], x, target=1), evaluated)
    assert net.training


@pytest.mark.parametrize("call, match", [
    (lambda m, x: cam.grad_cam(m, nn.Conv2d(8, 8, 3), x), "must be a module of the model.*not in it"),
    (lambda m, x: cam.grad_cam(m, "2", x), "must be a module of the model"),
    (lambda m, x: cam.grad_cam(m, m[2], x, target=[0, 1, 2]), "has 3 class indices but the batch has 2"),
    (lambda m, x: cam.grad_cam_pp(m, m[2], x, target=[0]), "has 1 class indices but the batch has 2"),
    (lambda m, x: cam.grad_cam(m, m[2], x, target=4), "out of range: the model has 4 classes"),
    (lambda m, x: cam.grad_cam(m, m[2], x, target=[0, -1]), "out of range"),
    (lambda m, x: cam.grad_cam(m, m[2], x, target=True), "class index"),
    (lambda m, x: cam.grad_cam(m, m[2], x, target=1.0), "class index"),
    (lambda m, x: cam.grad_cam(m, m[2], x[0]), r"float batch \(N, C, H, W\)"),
    (lambda m, x: cam.grad_cam(m, m[2], (x * 10).long()), "float batch"),
    (lambda m, x: cam.grad_cam(m, m[6], x), "spatial output"),
    (lambda m, x: cam.grad_cam("model", m[2], x), "needs an nn.Module"),
    (lambda m, x: cam.saliency(m, x, target=9), "out of range"),
    (lambda m, x: cam.saliency(m, x[None]), "float batch"),
    (lambda m, x: cam.cam(m, x, [0, 9], features=m[3], classifier=m[6]), "out of range"),
    (lambda m, x: cam.cam(m, x, features=nn.ReLU(), classifier=m[6]), "features must be a module"),
])
def test_bad_arguments_raise_a_value_error_that_says_what_to_change(call, match):
    net = tiny_net()
    before = _state(net)
    with pytest.raises(ValueError, match=match):
        call(net, torch.randn(2, 3, 8, 8))
    assert count_hooks(net) == 0 and _state(net) == before


# --------------------------------------------------------------------------- a layer that runs twice


def reused_relu_net() -> nn.Sequential:
    """One ReLU module called twice per forward pass, as torchvision's BasicBlock.relu is."""
    torch.manual_seed(0)
    relu = nn.ReLU()
    return nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), relu, nn.Conv2d(6, 6, 3, padding=1), relu,
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 4)).eval()


def test_grad_cam_on_a_module_that_runs_twice_raises_naming_it_and_the_count():
    net = reused_relu_net()
    before = _state(net)
    for method in (cam.grad_cam, cam.grad_cam_pp):
        with pytest.raises(ValueError, match=r"Layer 0 \(ReLU\) ran 2 times in one forward pass"):
            method(net, net[1], torch.randn(2, 3, 8, 8), target=1)
    assert count_hooks(net) == 0 and _state(net) == before


def test_each_call_of_a_reused_relu_gives_the_grad_cam_map_computed_by_hand_with_autograd():
    from cnnlib.hooks import ActivationsAndGradients

    net = reused_relu_net()
    torch.manual_seed(1)
    x = torch.randn(2, 3, 8, 8)
    with ActivationsAndGradients(net, net[1]) as ag:
        ag.backward(ag(x)[:, 1].sum())
    # by hand: the two outputs of the shared ReLU and the score's gradient with respect to each
    first = net[1](net[0](x))
    second = net[3](net[2](first))
    score = net[4:](second)[:, 1].sum()
    grads = torch.autograd.grad(score, [first, second])

    def grad_cam_map(a, g):
        return torch.einsum("nk,nkhw->nhw", g.mean((2, 3)), a)

    assert len(ag.all_activations[0]) == len(ag.all_gradients[0]) == 2
    for k, (a, g) in enumerate(zip([first, second], grads, strict=True)):
        torch.testing.assert_close(ag.all_activations[0][k], a.detach())
        torch.testing.assert_close(ag.all_gradients[0][k], g)
        torch.testing.assert_close(grad_cam_map(ag.all_activations[0][k], ag.all_gradients[0][k]),
                                   grad_cam_map(a, g).detach())
    # the old bug, the last call's activation with the first call's gradient, is another map
    mixed = grad_cam_map(second.detach(), grads[0])
    assert not torch.allclose(mixed, grad_cam_map(first, grads[0]).detach(), atol=1e-3)


def test_score_cam_equals_pytorch_grad_cams():
    from pytorch_grad_cam import ScoreCAM
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(6, 5, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                          nn.Flatten(), nn.Linear(5, 4)).eval()
    x = torch.randn(3, 3, 16, 16)
    ours = cam.score_cam(model, model[4], x, [0, 2, 3], batch_size=2)
    with ScoreCAM(model, [model[4]]) as ref:
        theirs = torch.from_numpy(ref(x, [ClassifierOutputTarget(c) for c in (0, 2, 3)]))
    assert torch.allclose(ours, theirs, atol=1e-5)
