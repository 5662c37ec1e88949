"""cnnlib.models.inception_v3 against torchvision's: parameters, names, outputs, modules, bad input;
the mini-Inception of chapter 9 at the end."""

import pytest
import torch
import torchvision
from torch import nn

from cnnlib.models import inception, inception_v3, mini_inception


def torchvision_inception(**kwargs) -> nn.Module:
    """torchvision's Inception v3 with weights that keep activations near 1 and non-trivial
    batch-norm statistics, so that a wrong layer, order or padding shows in the outputs."""
    torch.manual_seed(0)
    tv = torchvision.models.inception_v3(weights=None, init_weights=False, **kwargs)
    with torch.no_grad():
        for m in tv.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 2.0)
    return tv


@pytest.fixture(scope="module")
def pair() -> tuple[nn.Module, nn.Module]:
    """(ours, torchvision's) with the same weights, both with the auxiliary classifier."""
    tv = torchvision_inception()
    ours = inception_v3()
    ours.load_state_dict(tv.state_dict(), strict=True)
    return ours, tv


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_parameter_counts_match_torchvision_with_and_without_aux():
    assert n_params(inception_v3()) == 27_161_264
    assert n_params(inception_v3(aux_logits=False)) == 23_834_568
    assert n_params(inception_v3(num_classes=10)) == 27_161_264 - 990 * (2048 + 1) - 990 * (768 + 1)


def test_state_dict_names_and_shapes_match_torchvision():
    for aux in (True, False):
        ours = inception_v3(aux_logits=aux).state_dict()
        tv = torchvision.models.inception_v3(weights=None, init_weights=False, aux_logits=aux)
        theirs = tv.state_dict()
        assert list(ours) == list(theirs)
        assert all(ours[k].shape == theirs[k].shape for k in ours)


def test_torchvision_loads_our_weights_strictly():
    tv = torchvision.models.inception_v3(weights=None, init_weights=False, aux_logits=False)
    assert not tv.load_state_dict(inception_v3(aux_logits=False).state_dict(), strict=True).missing_keys


def test_eval_output_equals_torchvision_in_float64_at_the_smallest_size(pair):
    ours, tv = (m.double().eval() for m in pair)
    x = torch.randn(2, 3, 75, 75, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        out, expected = ours(x), tv(x)
    assert out.shape == (2, 1000)
    assert expected.abs().max() > 0.1  # a real signal, not zeros
    assert (out - expected).abs().max() <= 1e-5


def test_eval_output_equals_torchvision_at_299_in_float32(pair):
    ours, tv = (m.float().eval() for m in pair)
    x = torch.randn(1, 3, 299, 299, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        out, expected = ours(x), tv(x)
    assert out.shape == (1, 1000)
    assert (out - expected).abs().max() <= 1e-5 * expected.abs().max()


def test_training_mode_returns_logits_and_aux_logits_like_torchvision(pair):
    ours, tv = (m.float().train() for m in pair)
    x = torch.randn(2, 3, 299, 299, generator=torch.Generator().manual_seed(3))
    torch.manual_seed(4)
    out = ours(x)
    torch.manual_seed(4)  # the same dropout mask
    expected = tv(x)
    assert isinstance(out, inception.InceptionOutputs) and out._fields == expected._fields
    for mine, theirs in zip(out, expected, strict=True):
        assert mine.shape == (2, 1000)
        assert torch.allclose(mine, theirs, rtol=1e-4, atol=1e-4)
    ours.eval(), tv.eval()


def test_training_without_aux_returns_plain_logits():
    model = inception_v3(num_classes=5, aux_logits=False).train()
    out = model(torch.randn(2, 3, 80, 80))
    assert isinstance(out, torch.Tensor) and out.shape == (2, 5)


def test_modules_output_the_documented_channels_and_sizes():
    x35, x17, x8 = torch.randn(1, 288, 35, 35), torch.randn(1, 768, 17, 17), torch.randn(1, 1280, 8, 8)
    with torch.no_grad():
        assert inception.InceptionA(288, pool_features=40).eval()(x35).shape == (1, 64 + 64 + 96 + 40, 35, 35)
        assert inception.InceptionB(288).eval()(x35).shape == (1, 384 + 96 + 288, 17, 17)
        assert inception.InceptionC(768, channels_7x7=64).eval()(x17).shape == (1, 4 * 192, 17, 17)
        assert inception.InceptionD(768).eval()(x17).shape == (1, 320 + 192 + 768, 8, 8)
        assert inception.InceptionE(1280).eval()(x8).shape == (1, 320 + 768 + 768 + 192, 8, 8)
        assert inception.InceptionAux(768, num_classes=7).eval()(x17).shape == (1, 7)


def test_basic_conv_is_biasless_conv_batchnorm_relu():
    block = inception.BasicConv2d(4, 6, kernel_size=3, padding=1).eval()
    assert block.conv.bias is None and block.bn.eps == 0.001
    x = torch.randn(2, 4, 5, 5)
    with torch.no_grad():
        assert torch.equal(block(x), torch.relu(block.bn(block.conv(x))))


def test_factorised_convolutions_have_the_documented_kernels():
    c = inception.InceptionC(768, channels_7x7=128)
    assert c.branch7x7_2.conv.kernel_size == (1, 7) and c.branch7x7_3.conv.kernel_size == (7, 1)
    e = inception.InceptionE(1280)
    assert e.branch3x3_2a.conv.kernel_size == (1, 3) and e.branch3x3_2b.conv.kernel_size == (3, 1)


def test_minimum_sizes_are_exactly_where_torchvision_breaks():
    tv = torchvision.models.inception_v3(weights=None, init_weights=False).eval()
    with torch.no_grad():
        tv(torch.zeros(1, 3, 75, 75))
        with pytest.raises(RuntimeError):
            tv(torch.zeros(1, 3, 74, 75))
        tv.train()
        tv(torch.zeros(2, 3, 299, 299))
        with pytest.raises(RuntimeError):
            tv(torch.zeros(2, 3, 298, 299))
    assert (inception.MIN_SIZE, inception.MIN_SIZE_TRAIN_AUX) == (75, 299)


def test_too_small_images_raise_a_value_error_naming_the_minimum():
    model = inception_v3(aux_logits=True).eval()
    with pytest.raises(ValueError, match="at least 75x75"):
        model(torch.zeros(1, 3, 74, 100))
    model.train()
    with pytest.raises(ValueError, match="at least 299x299.*aux_logits=False"):
        model(torch.zeros(2, 3, 298, 299))


@pytest.mark.parametrize("shape", [(1, 1, 299, 299), (1, 4, 299, 299), (3, 299, 299)])
def test_non_rgb_batches_raise_a_value_error(shape):
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        inception_v3(aux_logits=False).eval()(torch.zeros(shape))


@pytest.mark.parametrize("kwargs", [{"num_classes": 0}, {"num_classes": True}, {"num_classes": 2.0},
                                    {"aux_logits": 1}, {"aux_logits": None}])
def test_bad_arguments_raise_a_value_error(kwargs):
    with pytest.raises(ValueError, match="num_classes|aux_logits"):
        inception_v3(**kwargs)


# --------------------------------------------------------------------------- the mini-Inception (chapter 9)


def test_mini_inception_has_the_parameters_chapter_9_prints():
    assert n_params(mini_inception()) == 297_962
    assert n_params(mini_inception(num_classes=5)) == 297_962 - 5 * (192 + 1)


@pytest.mark.parametrize("size", [32, 40])
def test_mini_inception_maps_a_cifar_batch_to_logits(size):
    torch.manual_seed(0)
    x = torch.randn(2, 3, size, size)  # global average pooling: other sizes work too
    assert mini_inception().eval()(x).shape == (2, 10)
    assert mini_inception(width=4, num_classes=7).train()(x).shape == (2, 7)


def test_mini_modules_output_the_documented_channels_and_sizes():
    x = torch.randn(2, 12, 16, 16)
    with torch.no_grad():
        assert inception.MiniA(12, 5).eval()(x).shape == (2, 4 * 5, 16, 16)
        assert inception.MiniReduction(12, 6).eval()(x).shape == (2, 2 * 6 + 12, 8, 8)
        assert inception.MiniReduction(12, 6).eval()(x[..., :15, :15]).shape == (2, 24, 8, 8)
        assert inception.MiniC(12, 5).eval()(x[..., :4, :4]).shape == (2, 3 * 5, 4, 4)
    c = inception.MiniC(12, 5)
    assert c.branch3_2.conv.kernel_size == (1, 3) and c.branch3_3.conv.kernel_size == (3, 1)


@pytest.mark.parametrize("shape", [(2, 1, 32, 32), (3, 32, 32)])
def test_mini_inception_rejects_batches_that_are_not_rgb(shape):
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        mini_inception()(torch.zeros(shape))


@pytest.mark.parametrize("kwargs", [{"width": 0}, {"width": True}, {"width": 2.0}, {"num_classes": 0},
                                    {"dropout": 1.0}, {"dropout": None}])
def test_mini_inception_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        mini_inception(**kwargs)


def test_branch_labels_read_kernels_channels_and_strides_from_the_module():
    a = inception.InceptionA(192, pool_features=32)
    assert inception.branch_labels(a) == [["1×1, 64"], ["1×1, 48", "5×5, 64"],
                                          ["1×1, 64", "3×3, 96", "3×3, 96"],
                                          ["pool: avg 3×3", "1×1, 32"]]
    b = inception.branch_labels(inception.InceptionB(288))
    assert b[0] == ["3×3, 384, /2"] and b[2] == ["pool: max 3×3, /2"]
    c = inception.branch_labels(inception.InceptionC(768, channels_7x7=128))
    assert c[1] == ["1×1, 128", "1×7, 128", "7×1, 192"] and len(c[2]) == 5
    d = inception.branch_labels(inception.InceptionD(768))
    assert d[0] == ["1×1, 192", "3×3, 320, /2"]


def test_branch_labels_refuses_modules_it_cannot_draw():
    with pytest.raises(ValueError, match="InceptionE"):
        inception.branch_labels(inception.InceptionE(1280))
    with pytest.raises(ValueError, match="module"):
        inception.branch_labels("Mixed_5b")
