"""LeNet-5: the 1998 network as the paper describes it, and the modern variant."""

import pytest
import torch
import torch.nn.functional as F

from cnnlib import models, shapes
from cnnlib.models import lenet

# Table I of LeCun et al. (1998) as printed: rows are S2's maps 0-5, columns C3's maps 0-15.
PAPER_TABLE_I = (
    "X   XXX  XXXX XX",
    "XX   XXX  XXXX X",
    "XXX   XXX  X XXX",
    " XXX  XXXX  X XX",
    "  XXX  XXXX XX X",
    "   XXX  XXXX XXX",
)
PAPER_PARAMS = {"c1": 156, "s2": 12, "c3": 1516, "s4": 32, "c5": 48120, "f6": 10164, "output": 0}
OUT_SHAPES = {"c1": (6, 28, 28), "s2": (6, 14, 14), "c3": (16, 10, 10), "s4": (16, 5, 5),
              "c5": (120, 1, 1), "f6": (84,), "output": (10,)}


def trainable(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def test_lenet5_1998_has_the_papers_trainable_parameters_per_layer_and_60000_in_all():
    net = models.lenet5_1998()
    assert {name: trainable(getattr(net, name)) for name in PAPER_PARAMS} == PAPER_PARAMS
    assert trainable(net) == 60_000
    assert sum(p.numel() for p in net.parameters()) == 60_000  # nothing frozen, nothing hidden


def test_lenet5_has_61706_parameters_with_a_full_c3_and_a_linear_output():
    net = models.lenet5()
    counts = {n: trainable(getattr(net, n)) for n in ("c1", "c3", "c5", "f6", "output")}
    assert counts == {"c1": 156, "c3": 2416, "c5": 48120, "f6": 10164, "output": 850}
    assert trainable(net) == 61_706


@pytest.mark.parametrize("make", [models.lenet5, models.lenet5_1998])
def test_each_layer_has_the_papers_output_shape(make):
    rows = shapes.layer_counts(make(), (1, 32, 32))
    last_shape = {r.name: r.out_shape[1:] for r in rows}
    assert {name: last_shape[name] for name in OUT_SHAPES} == OUT_SHAPES
    assert make()(torch.zeros(5, 1, 32, 32)).shape == (5, 10)


def test_c3_table_is_table_i_of_the_paper():
    paper = torch.tensor([[ch == "X" for ch in row] for row in PAPER_TABLE_I])  # (S2 map, C3 map)
    assert torch.equal(lenet.c3_table(), paper.T)
    assert lenet.c3_table().sum(dim=1).tolist() == [3] * 6 + [4] * 9 + [6]


def test_each_c3_map_depends_on_exactly_the_s2_maps_of_its_table_row():
    c3 = models.lenet5_1998().c3
    x = torch.randn(1, 6, 14, 14, requires_grad=True)
    out = c3(x)
    for j, inputs in enumerate(lenet.C3_INPUTS):
        (grad,) = torch.autograd.grad(out[0, j].sum(), x, retain_graph=True)
        reached = grad.abs().sum(dim=(0, 2, 3)) > 0  # which S2 maps influence C3 map j
        assert reached.nonzero().flatten().tolist() == sorted(inputs), f"C3 map {j}"


def test_table_conv_equals_one_small_convolution_per_output_map():
    torch.manual_seed(0)
    c3 = lenet.TableConv2d(lenet.c3_table(), 5)
    x = torch.randn(2, 6, 14, 14)
    kernels = iter(c3.weight)  # one per connection, in the table's row-major order
    expected = []
    for j, inputs in enumerate(lenet.C3_INPUTS):
        order = sorted(inputs)
        weight = torch.stack([next(kernels) for _ in order])[None]  # (1, len(inputs), 5, 5)
        expected.append(F.conv2d(x[:, order], weight, c3.bias[j : j + 1]))
    torch.testing.assert_close(c3(x), torch.cat(expected, dim=1))
    dense = c3.dense_weight()
    assert dense.shape == (16, 6, 5, 5)
    assert torch.equal(dense.abs().sum(dim=(2, 3)) > 0, lenet.c3_table())


def test_trainable_subsampling_is_average_pooling_times_a_coefficient_plus_a_bias():
    torch.manual_seed(0)
    s2 = lenet.Subsampling(6)
    with torch.no_grad():
        s2.weight.normal_()
        s2.bias.normal_()
    x = torch.randn(3, 6, 28, 28)
    block_sum = x[..., ::2, ::2] + x[..., 1::2, ::2] + x[..., ::2, 1::2] + x[..., 1::2, 1::2]
    coef, bias = s2.weight.detach(), s2.bias.detach()
    torch.testing.assert_close(s2(x), block_sum / 4 * coef[:, None, None] + bias[:, None, None])
    torch.testing.assert_close(s2(x), F.avg_pool2d(x, 2) * coef[:, None, None] + bias[:, None, None])


def test_squashing_function_maps_plus_and_minus_one_to_themselves():
    f = lenet.ScaledTanh()
    a = torch.tensor([-1.0, 0.0, 1.0, 100.0])
    torch.testing.assert_close(f(a), torch.tensor([-1.0, 0.0, 1.0, 1.7159]), atol=1e-4, rtol=0)


def test_rbf_scores_are_minus_squared_distances_to_fixed_plus_minus_one_codes():
    net = models.lenet5_1998()
    codes = lenet.rbf_codes()
    assert codes.shape == (10, 84) and set(codes.unique().tolist()) == {-1.0, 1.0}
    assert "codes" in dict(net.output.named_buffers()) and trainable(net.output) == 0
    hamming = (codes[:, None] != codes[None]).sum(dim=-1)
    assert hamming[~torch.eye(10, dtype=torch.bool)].min() > 0  # ten different codes
    scores = net.output(codes)  # F6 exactly at each code
    torch.testing.assert_close(scores, -4.0 * hamming)  # each differing unit adds (2)^2
    assert scores.argmax(dim=1).tolist() == list(range(10))


def test_every_trainable_parameter_of_lenet5_1998_gets_a_gradient():
    torch.manual_seed(0)
    net = models.lenet5_1998()
    F.cross_entropy(net(torch.randn(8, 1, 32, 32)), torch.arange(8)).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in net.parameters())


@pytest.mark.parametrize("make", [models.lenet5, models.lenet5_1998])
@pytest.mark.parametrize("shape", [(2, 1, 28, 28), (2, 3, 32, 32), (1, 32, 32)])
def test_wrong_image_size_or_channels_raise_valueerror_naming_32x32_one_channel(make, shape):
    with pytest.raises(ValueError, match=r"1-channel 32x32.*\(N, 1, 32, 32\)"):
        make()(torch.zeros(shape))


def test_table_conv_rejects_a_table_that_is_not_boolean_or_leaves_a_map_unconnected():
    with pytest.raises(ValueError, match="boolean"):
        lenet.TableConv2d(torch.ones(4, 3), 3)
    table = torch.ones(4, 3, dtype=torch.bool)
    table[2] = False
    with pytest.raises(ValueError, match="every row"):
        lenet.TableConv2d(table, 3)


def test_discriminative_loss_is_the_papers_equation_9():
    torch.manual_seed(0)
    scores, target = -torch.rand(6, 10) * 30, torch.tensor([0, 3, 9, 1, 1, 5])
    y = -scores
    by_hand = torch.stack([y[p, target[p]] + torch.log(torch.exp(torch.tensor(-4.0)) + torch.exp(-y[p]).sum())
                           for p in range(6)]).mean()
    torch.testing.assert_close(lenet.discriminative_loss(scores, target, j=4.0), by_hand)


def test_discriminative_loss_is_cross_entropy_with_a_rubbish_logit_and_tends_to_it_as_j_grows():
    torch.manual_seed(0)
    scores, target = -torch.rand(6, 10) * 30, torch.randint(0, 10, (6,))
    rubbish = torch.full((6, 1), -4.0)
    torch.testing.assert_close(lenet.discriminative_loss(scores, target, j=4.0),
                               F.cross_entropy(torch.cat([scores, rubbish], dim=1), target))
    torch.testing.assert_close(lenet.discriminative_loss(scores, target, j=200.0),
                               F.cross_entropy(scores, target))
    assert lenet.discriminative_loss(scores, target, j=4.0) > F.cross_entropy(scores, target)


@pytest.mark.parametrize("j", [0, -1.0, True, "10"])
def test_discriminative_loss_rejects_a_j_that_is_not_a_positive_number(j):
    with pytest.raises(ValueError, match="j must be a positive number"):
        lenet.discriminative_loss(torch.zeros(2, 10), torch.zeros(2, dtype=torch.int64), j=j)


def test_lenet5_for_rgb_images_has_300_more_parameters_all_in_c1():
    net = models.lenet5(in_channels=3)
    assert trainable(net.c1) == 3 * 6 * 25 + 6 == 456
    assert trainable(net) == 62_006 == 61_706 + 300
    assert net(torch.zeros(2, 3, 32, 32)).shape == (2, 10)


def test_lenet5_for_rgb_images_names_its_channels_in_the_error():
    with pytest.raises(ValueError, match=r"3-channel 32x32.*\(N, 3, 32, 32\).*in_channels=3"):
        models.lenet5(in_channels=3)(torch.zeros(2, 1, 32, 32))


@pytest.mark.parametrize("in_channels", [0, True, 3.0, "3"])
def test_lenet5_rejects_bad_in_channels(in_channels):
    with pytest.raises(ValueError, match="in_channels must be an int >= 1"):
        models.lenet5(in_channels=in_channels)
