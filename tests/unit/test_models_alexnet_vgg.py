"""AlexNet and VGG are torchvision's networks: same state_dict keys, same outputs, same start.
Their scaled-down versions for 32×32 images (chapter 8) are checked at the end.

The output tests load torchvision's weights into ours (strict) and compare in float64, where
the two should agree to rounding; shape-only checks run on the meta device (no memory, no
arithmetic), which is why building a 138-million-parameter VGG there is instant.
"""

from __future__ import annotations

import pytest
import torch
import torchvision
from torch import nn

import cnnlib.models
from cnnlib.models.alexnet import alexnet, alexnet_2012, mini_alexnet
from cnnlib.models.vgg import CONFIGS, MINI_CONFIG, make_classifier, make_features, mini_vgg, vgg, vgg16

PARAMS = {11: 132_863_336, 13: 133_047_848, 16: 138_357_544, 19: 143_667_240}


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def torchvision_vgg(depth: int, batch_norm: bool = False, **kwargs) -> nn.Module:
    return getattr(torchvision.models, f"vgg{depth}{'_bn' if batch_norm else ''}")(weights=None, **kwargs)


def random_float64_weights(model: nn.Module) -> nn.Module:
    """Materialise a model built on the meta device as float64 with random weights: kernels with
    He's variance 2/fan_in (activations keep their scale through the ReLUs; uniform, as float64
    normal_ is five times slower), random biases, and random batch-norm
    statistics and affine weights, so eval-mode batch norm is not the identity it is at
    initialisation (a misplaced BN layer would go unnoticed). Cheaper than torchvision's
    initialisation followed by a float64 copy, and these tests are about the architecture."""
    model = model.to_empty(device="cpu").double()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                bound = (6 / m.weight[0].numel()) ** 0.5  # uniform(-b, b) has variance b^2 / 3
                m.weight.uniform_(-bound, bound)
                m.bias.uniform_(-0.1, 0.1)
            elif isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
    return model.eval()


def assert_same_outputs(build_ours, build_theirs, x: torch.Tensor) -> None:
    """Load torchvision's weights into ours (strict: every key, every shape) and compare outputs."""
    with torch.device("meta"):
        ours, theirs = build_ours(), build_theirs()
    theirs = random_float64_weights(theirs)
    ours.load_state_dict(theirs.state_dict(), strict=True, assign=True)  # meta -> theirs' tensors
    assert all(p.device.type == "cpu" for p in ours.state_dict().values())  # nothing left unloaded
    ours.eval()
    with torch.no_grad():
        expected, got = theirs(x.double()), ours(x.double())
    assert got.shape == expected.shape == (len(x), 1000)
    assert expected.abs().max() > 1e-2  # outputs big enough for the 1e-5 bound to mean something
    assert (got - expected).abs().max().item() <= 1e-5


# --------------------------------------------------------------------------- identical to torchvision


def test_alexnet_gives_torchvisions_outputs_with_its_weights():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 63, 80)  # the smallest height, and a non-square image
    assert_same_outputs(alexnet, torchvision.models.alexnet, x)


@pytest.mark.parametrize(("depth", "batch_norm"), [(11, False), (13, False), (16, False), (19, False),
                                                   (13, True)])
def test_vgg_gives_torchvisions_outputs_with_its_weights(depth, batch_norm):
    torch.manual_seed(depth)
    assert_same_outputs(lambda: vgg(depth, batch_norm=batch_norm),
                        lambda: torchvision_vgg(depth, batch_norm), torch.randn(2, 3, 64, 64))


def test_loading_torchvisions_weights_fails_when_a_layer_differs():
    with torch.device("meta"):
        ours = vgg(11, batch_norm=False)
        theirs_bn, theirs_13 = torchvision_vgg(11, batch_norm=True), torchvision_vgg(13)
    for theirs in (theirs_bn, theirs_13):  # extra BN keys; VGG-13's second conv lands on a ReLU
        with pytest.raises(RuntimeError, match="state_dict"):
            ours.load_state_dict(theirs.state_dict(), strict=True, assign=True)


@pytest.mark.parametrize("build", ["alexnet", "vgg11_bn"])
def test_same_seed_gives_torchvisions_initial_weights(build):
    torch.manual_seed(0)
    theirs = getattr(torchvision.models, build)(weights=None).state_dict()
    torch.manual_seed(0)
    ours = (alexnet() if build == "alexnet" else vgg(11, batch_norm=True)).state_dict()
    assert list(ours) == list(theirs)
    assert all(torch.equal(ours[k], theirs[k]) for k in ours)


# --------------------------------------------------------------------------- sizes and counts (meta device)


def test_alexnet_has_torchvisions_parameter_count():
    with torch.device("meta"):
        assert n_params(alexnet()) == 61_100_840
        assert n_params(alexnet(num_classes=10)) == 61_100_840 - 4097 * 990


@pytest.mark.parametrize("depth", sorted(PARAMS))
def test_vgg_parameter_counts_match_the_paper_and_torchvision(depth):
    with torch.device("meta"):
        ours, theirs = vgg(depth), torchvision_vgg(depth)
        assert n_params(ours) == n_params(theirs) == PARAMS[depth]
        assert n_params(vgg(depth, batch_norm=True)) == n_params(torchvision_vgg(depth, batch_norm=True))


@pytest.mark.parametrize("depth", sorted(CONFIGS))
def test_vgg_depth_counts_the_weight_layers(depth):
    with torch.device("meta"):
        model = vgg(depth)
    weight_layers = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert len(weight_layers) == depth
    convs = [m for m in model.features if isinstance(m, nn.Conv2d)]
    assert all(m.kernel_size == (3, 3) and m.padding == (1, 1) for m in convs)


def test_vgg16_is_vgg_of_depth_16():
    with torch.device("meta"):
        a, b = vgg16(batch_norm=True, num_classes=7), vgg(16, batch_norm=True, num_classes=7)
    layout = [(k, v.shape) for k, v in a.state_dict().items()]
    assert layout == [(k, v.shape) for k, v in b.state_dict().items()]


@pytest.mark.parametrize(("build", "min_size", "theirs"), [
    (lambda: alexnet(num_classes=10), 63, lambda: torchvision.models.alexnet(num_classes=10)),
    (lambda: vgg(11, num_classes=10), 32, lambda: torchvision.models.vgg11(num_classes=10)),
    (lambda: vgg(19, batch_norm=True, num_classes=10), 32,
     lambda: torchvision.models.vgg19_bn(num_classes=10)),
])
def test_minimum_image_size_is_exact_and_named_in_the_error(build, min_size, theirs):
    with torch.device("meta"):
        ours, tv = build().eval(), theirs().eval()
        assert ours(torch.zeros(4, 3, min_size, min_size)).shape == (4, 10)
        assert ours(torch.zeros(1, 3, min_size, 500)).shape == (1, 10)
        small = torch.zeros(1, 3, min_size - 1, 224)
        with pytest.raises(RuntimeError):  # torchvision fails one pixel below, deep inside a pool
            tv(small)
        with pytest.raises(ValueError, match=f"H and W >= {min_size}"):
            ours(small)
        with pytest.raises(ValueError, match=f"H and W >= {min_size}"):
            ours(small.transpose(2, 3))


@pytest.mark.parametrize("build", [alexnet, lambda: vgg(11)])
@pytest.mark.parametrize("shape", [(3, 224, 224), (1, 1, 224, 224), (2, 4, 224, 224)])
def test_forward_rejects_inputs_that_are_not_rgb_batches(build, shape):
    with torch.device("meta"):
        model = build()
        with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
            model(torch.zeros(shape))


# --------------------------------------------------------------------------- bad arguments


@pytest.mark.parametrize("depth", [15, 0, 16.0, True, "16", None])
def test_vgg_rejects_a_depth_not_in_the_table_and_lists_the_choices(depth):
    with pytest.raises(ValueError, match=r"one of \[11, 13, 16, 19\]"):
        vgg(depth)


@pytest.mark.parametrize("kwargs", [dict(num_classes=0), dict(num_classes=True), dict(dropout=1.0),
                                    dict(dropout=-0.1), dict(dropout="0.5")])
def test_builders_reject_bad_arguments(kwargs):
    with torch.device("meta"):
        with pytest.raises(ValueError, match=next(iter(kwargs))):
            alexnet(**kwargs)
        with pytest.raises(ValueError, match=next(iter(kwargs))):
            vgg(11, **kwargs)


def test_vgg_rejects_a_batch_norm_flag_that_is_not_a_bool():
    with pytest.raises(ValueError, match="batch_norm must be True or False"):
        vgg(11, batch_norm="yes")


@pytest.mark.parametrize("config", [(64, "A"), (64, 0), (True,), (64.0,)])
def test_make_features_rejects_unknown_entries(config):
    with pytest.raises(ValueError, match="'M' for a max pool"):
        make_features(config)


def test_make_features_numbers_layers_like_torchvision():
    with torch.device("meta"):
        ours = make_features((8, "M", 16), batch_norm=True, in_channels=1)
        kinds = [type(m) for m in ours]
    assert kinds == [nn.Conv2d, nn.BatchNorm2d, nn.ReLU, nn.MaxPool2d, nn.Conv2d, nn.BatchNorm2d, nn.ReLU]
    assert ours[0].in_channels == 1 and ours[4].out_channels == 16


def test_cnnlib_models_exports_the_builders_not_the_modules():
    # alexnet.py defines alexnet(): the package must hand out the function, as torchvision does.
    assert cnnlib.models.alexnet is alexnet
    assert cnnlib.models.vgg is vgg and cnnlib.models.vgg16 is vgg16


# --------------------------------------------------------------------------- scaled down to 32×32 (chapter 8)


def conv_count(model: nn.Module) -> int:
    return sum(isinstance(m, nn.Conv2d) for m in model.modules())


@pytest.mark.parametrize(("build", "params", "convs"), [
    (mini_alexnet, 717_530, 5),
    (mini_vgg, 482_506, 6),
    (lambda: mini_vgg(batch_norm=False), 481_642, 6),
])
def test_mini_networks_have_the_parameters_chapter_8_prints(build, params, convs):
    model = build()
    assert n_params(model) == params and conv_count(model) == convs


@pytest.mark.parametrize("build", [mini_alexnet, mini_vgg])
def test_mini_networks_map_a_cifar_batch_to_logits(build):
    torch.manual_seed(0)
    x = torch.randn(2, 3, 32, 32)
    assert build().eval()(x).shape == (2, 10)
    assert build(num_classes=7).train()(x).shape == (2, 7)


def test_mini_vgg_is_make_features_of_mini_config_with_batch_norm():
    features = mini_vgg().features
    assert [type(m) for m in features] == [type(m) for m in make_features(MINI_CONFIG, batch_norm=True)]
    assert sum(isinstance(m, nn.MaxPool2d) for m in features) == 4  # 32 -> 2
    assert not any(isinstance(m, nn.BatchNorm2d) for m in mini_vgg(batch_norm=False).modules())


@pytest.mark.parametrize("build", [mini_alexnet, mini_vgg])
@pytest.mark.parametrize("shape", [(2, 3, 64, 64), (2, 1, 32, 32), (3, 32, 32)])
def test_mini_networks_reject_inputs_that_are_not_rgb_32x32_batches(build, shape):
    with pytest.raises(ValueError, match=r"3-channel 32x32 images, shape \(N, 3, 32, 32\)"):
        build()(torch.zeros(shape))


@pytest.mark.parametrize("kwargs", [dict(num_classes=0), dict(num_classes=True), dict(dropout=1.0),
                                    dict(dropout=-0.1), dict(dropout="0.5")])
def test_mini_builders_reject_bad_arguments(kwargs):
    for build in (mini_alexnet, mini_vgg):
        with pytest.raises(ValueError, match=next(iter(kwargs))):
            build(**kwargs)


def test_mini_vgg_rejects_a_batch_norm_flag_that_is_not_a_bool():
    with pytest.raises(ValueError, match="batch_norm must be True or False"):
        mini_vgg(batch_norm=1)


def test_cnnlib_models_exports_the_mini_builders():
    assert cnnlib.models.mini_alexnet is mini_alexnet and cnnlib.models.mini_vgg is mini_vgg


def test_make_classifier_is_vggs_classifier_at_any_width():
    with torch.device("meta"):
        assert [(k, v.shape) for k, v in make_classifier(512 * 7 * 7, 4096, 1000).state_dict().items()] == [
            (k.removeprefix("classifier."), v.shape)
            for k, v in vgg(11).state_dict().items() if k.startswith("classifier.")]
        small = make_classifier(8, 4, 3, dropout=0.2)
    assert [type(m) for m in small] == [nn.Linear, nn.ReLU, nn.Dropout] * 2 + [nn.Linear]
    assert small[2].p == small[5].p == 0.2
    assert (small[0].in_features, small[3].out_features, small[6].out_features) == (8, 4, 3)


@pytest.mark.parametrize("kwargs", [dict(in_features=0), dict(width=True), dict(num_classes=0),
                                    dict(dropout=1.0)])
def test_make_classifier_rejects_bad_arguments(kwargs):
    args = dict(in_features=8, width=4, num_classes=3) | kwargs
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        make_classifier(**args)


# --------------------------------------------------------------- the 2012 paper's AlexNet


def test_alexnet_2012_has_the_papers_layers_and_parameter_count():
    with torch.device("meta"):
        net = alexnet_2012()
    convs = [m for m in net.features if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [96, 256, 384, 384, 256]
    assert [c.groups for c in convs] == [1, 2, 1, 2, 2]  # conv3 reads both GPUs' halves
    assert sum(isinstance(m, nn.LocalResponseNorm) for m in net.features) == 2
    assert n_params(net) == 60_965_224


def test_alexnet_2012_drops_the_outputs_of_fc6_and_fc7_not_their_inputs():
    kinds = [type(m).__name__ for m in alexnet_2012().classifier]
    assert kinds == ["Linear", "ReLU", "Dropout", "Linear", "ReLU", "Dropout", "Linear"]
    torchvision_kinds = [type(m).__name__ for m in torchvision.models.alexnet().classifier]
    assert torchvision_kinds[:2] == ["Dropout", "Linear"]  # torchvision: dropout before fc6


def test_alexnet_2012_maps_227_pixels_to_55_and_refuses_224():
    torch.manual_seed(0)
    net = alexnet_2012(num_classes=7).eval()
    x = torch.randn(2, 3, 227, 227)
    with torch.no_grad():
        assert net.features[0](x).shape[-1] == 55
        assert net(x).shape == (2, 7)
    with pytest.raises(ValueError, match="227"):
        net(torch.randn(2, 3, 224, 224))
    with pytest.raises(ValueError, match="dropout"):
        alexnet_2012(dropout=1.5)
