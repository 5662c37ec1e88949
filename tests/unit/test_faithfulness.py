"""cnnlib.faithfulness: the box scores by construction, ROAD against pytorch-grad-cam."""

import numpy as np
import pytest
import torch
from pytorch_grad_cam.metrics.perturbation_confidence import (
    PerturbationConfidenceMetric,
    RemoveLeastRelevantFirst,
    RemoveMostRelevantFirst,
)
from pytorch_grad_cam.metrics.road import NoisyLinearImputer
from pytorch_grad_cam.utils.model_targets import ClassifierOutputSoftmaxTarget
from torch import nn

from cnnlib import faithfulness


def small_cnn() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2),
                         nn.Flatten(), nn.Linear(24, 4)).eval()


BOXES = torch.tensor([[2, 3, 6, 8], [0, 0, 4, 4]])


def test_pointing_game_hits_only_a_peak_inside_the_box():
    maps = torch.zeros(2, 10, 10)
    maps[0, 4, 5] = 1.0  # inside box 0
    maps[1, 7, 7] = 1.0  # outside box 1
    assert faithfulness.pointing_game(maps, BOXES).tolist() == [True, False]


def test_a_constant_map_points_at_the_top_left_corner():
    assert faithfulness.pointing_game(torch.ones(2, 10, 10), BOXES).tolist() == [False, True]


def test_mass_in_box_of_a_uniform_map_is_the_boxs_share_of_the_image():
    mass = faithfulness.mass_in_box(torch.ones(2, 10, 10), BOXES)
    assert torch.allclose(mass, torch.tensor([20 / 100, 16 / 100]))
    assert torch.allclose(faithfulness.mass_in_box(torch.zeros(2, 10, 10), BOXES), mass)


def test_mass_in_box_refuses_signed_maps():
    with pytest.raises(ValueError, match="non-negative"):
        faithfulness.mass_in_box(-torch.ones(2, 10, 10), BOXES)


def test_deletion_starts_at_the_original_and_insertion_ends_at_it():
    model, x = small_cnn(), torch.randn(2, 3, 12, 12)
    f, deletion, insertion = faithfulness.deletion_insertion(model, x, torch.rand(2, 12, 12),
                                                             [1, 2], steps=4,
                                                             blur_kernel=5, blur_sigma=2.0)
    p = model(x).softmax(1)[[0, 1], [1, 2]].detach().numpy()
    assert f.tolist() == [0, 0.25, 0.5, 0.75, 1]
    assert np.allclose(deletion[:, 0], p, atol=1e-6) and np.allclose(insertion[:, -1], p, atol=1e-6)
    grey = model(torch.zeros(1, 3, 12, 12)).softmax(1)[0, [1, 2]].detach().numpy()
    assert np.allclose(deletion[:, -1], grey, atol=1e-6)
    assert np.allclose(faithfulness.curve_area(f, np.ones((2, 5))), 1.0)


def test_road_removes_the_asked_fraction_even_when_the_map_is_mostly_zero():
    model, x = small_cnn(), torch.randn(2, 3, 10, 10)
    maps = torch.zeros(2, 10, 10)
    maps[:, :3, :3] = 1.0  # 9 of 100 pixels non-zero: ties everywhere else
    probs = faithfulness.road(model, x, maps, [0, 1], removed=[0.5, 0.9], noise=0.0)
    assert np.isfinite(probs).all()


def test_imputation_equals_pytorch_grad_cams_without_noise():
    torch.manual_seed(1)
    x = torch.randn(2, 3, 9, 11)
    keep = torch.rand(2, 9, 11) > 0.6
    ours = faithfulness.noisy_linear_impute(x, keep, noise=0.0)
    theirs = torch.stack([NoisyLinearImputer(noise=0.0)(x[i], keep[i].float()) for i in range(2)])
    assert torch.allclose(ours, theirs, atol=1e-5)
    assert torch.equal(ours[keep[:, None].expand_as(x)], x[keep[:, None].expand_as(x)])


@pytest.mark.parametrize("most_relevant_first", [True, False])
def test_road_equals_pytorch_grad_cams_without_noise(most_relevant_first, monkeypatch):
    model, x = small_cnn(), torch.randn(3, 3, 10, 10)
    maps = torch.rand(3, 10, 10)
    ours = faithfulness.road(model, x, maps, [0, 1, 3], removed=[0.2, 0.6],
                             most_relevant_first=most_relevant_first, noise=0.0)
    remove = RemoveMostRelevantFirst if most_relevant_first else RemoveLeastRelevantFirst
    targets = [ClassifierOutputSoftmaxTarget(c) for c in (0, 1, 3)]
    for j, r in enumerate([0.2, 0.6]):
        metric = PerturbationConfidenceMetric(remove(100 * (1 - r), NoisyLinearImputer(noise=0.0)))
        theirs = metric(x, maps.numpy(), targets, model, return_diff=False)
        assert np.allclose(ours[:, j], theirs, atol=1e-5)
