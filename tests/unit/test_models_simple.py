"""cnnlib.models.simple (chapter 6's stride-2 CNN) and cnnlib.models.pretrained."""

import pytest
import torch
from torch import nn

from cnnlib import data, models


def test_simple_cnn_maps_digits_to_ten_scores_through_halving_blocks():
    net = models.simple_cnn().eval()
    x = torch.zeros(3, 1, 28, 28)
    sizes = []
    for block in net[:-1]:
        x = block(x)
        sizes.append(x.shape[-1])
    assert sizes == [14, 7, 4, 2, 1]
    assert net(torch.zeros(3, 1, 28, 28)).shape == (3, 10)


def test_simple_cnn_parameter_count_follows_from_its_channel_list():
    channels, kernels = [1, 16, 32, 64, 128, 10], [5, 3, 3, 3, 3]
    layers = list(zip(channels[:-1], channels[1:], kernels, strict=True))
    with_bn = sum(ci * co * k * k + 2 * co for ci, co, k in layers)  # no conv bias; BN's gamma, beta
    plain = sum(ci * co * k * k + co for ci, co, k in layers)  # conv weights and biases
    assert sum(p.numel() for p in models.simple_cnn().parameters()) == with_bn
    assert sum(p.numel() for p in models.simple_cnn(bn=False).parameters()) == plain


def test_conv_block_drops_the_bias_only_when_batch_norm_follows():
    with_bn, without = models.conv(3, 8), models.conv(3, 8, bn=False, act=False)
    assert with_bn[0].bias is None and isinstance(with_bn[1], nn.BatchNorm2d)
    assert without[0].bias is not None and len(without) == 1
    assert with_bn(torch.zeros(1, 3, 9, 9)).shape == (1, 8, 5, 5)


def test_simple_cnn_scores_come_out_of_batch_norm_without_relu():
    last = models.simple_cnn()[4]
    assert [type(m) for m in last] == [nn.Conv2d, nn.BatchNorm2d]  # no ReLU: scores may be < 0
    assert last[0].bias is None
    assert [type(m) for m in models.simple_cnn(bn=False)[4]] == [nn.Conv2d]


def test_simple_cnn_takes_other_channels_and_classes():
    net = models.simple_cnn(n_out=2, in_channels=3)
    assert net(torch.zeros(2, 3, 28, 28)).shape == (2, 2)


@pytest.mark.parametrize("kwargs", [{"n_out": 0}, {"n_out": True}, {"in_channels": 0}, {"n_out": 2.0}])
def test_simple_cnn_rejects_bad_sizes(kwargs):
    with pytest.raises(ValueError, match="must be an int"):
        models.simple_cnn(**kwargs)


def test_pretrained_mobilenet_v2_recognises_the_cat():
    from torchvision.transforms.functional import normalize, resize, to_tensor

    model = models.pretrained_mobilenet_v2()
    assert not model.training
    x = normalize(resize(to_tensor(data.sample_image("chelsea")), 224),
                  [0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    with torch.no_grad():
        probs = model(x[None]).softmax(1)[0]
    assert data.imagenet_classes()[int(probs.argmax())] == "Egyptian cat"
    assert len(data.imagenet_classes()) == 1000
