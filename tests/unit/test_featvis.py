"""cnnlib.featvis: dataset examples, parameterisations checked against torch-lucent 0.1.8
(tests/reference/lucent_param.py) and NumPy, the optimisation, the measures."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from reference import lucent_param
from torch import nn

from cnnlib import featvis, receptive


def _net(seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    # ends in a convolution, as MobileNetV2's blocks do (no ReLU to switch a channel off)
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Conv2d(4, 6, 3, stride=2)).eval()


# ----------------------------------------------------------- parameterisations


@pytest.mark.parametrize(("h", "w"), [(16, 16), (12, 20), (15, 9)])
def test_fourier_image_reproduces_lucents_fft_image_given_the_same_spectrum(h, w):
    torch.manual_seed(0)
    params, lucent_image = lucent_param.fft_image((2, 3, h, w), sd=0.01, decay_power=1)
    spectrum = params[0].detach()
    ours = featvis.fourier_image(spectrum, h, w)
    assert ours.shape == (2, 3, h, w)
    torch.testing.assert_close(ours, lucent_image().detach(), rtol=1e-5, atol=1e-7)


def test_fourier_image_is_a_direct_numpy_inverse_fft_of_the_scaled_spectrum():
    h, w, decay = 14, 18, 1.5
    rng = np.random.default_rng(0)
    spectrum = rng.normal(size=(1, 3, h, w // 2 + 1, 2))
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.rfftfreq(w)[None, :]
    f = np.sqrt(fx**2 + fy**2)
    scale = 1 / np.maximum(f, 1 / max(h, w)) ** decay
    coeffs = (spectrum[..., 0] + 1j * spectrum[..., 1]) * scale
    expected = np.fft.irfft2(coeffs, s=(h, w), norm="ortho") / 4
    ours = featvis.fourier_image(torch.from_numpy(spectrum), h, w, decay_power=decay)
    np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-10, atol=1e-12)


def test_rfft2d_freqs_matches_numpys_frequencies_for_even_widths():
    f = featvis.rfft2d_freqs(8, 10)
    expected = np.sqrt(np.fft.fftfreq(8)[:, None] ** 2 + np.fft.rfftfreq(10)[None, :] ** 2)
    np.testing.assert_allclose(f, np.abs(expected))


def test_fourier_image_refuses_a_spectrum_of_the_wrong_size():
    with pytest.raises(ValueError, match="spectrum must have shape"):
        featvis.fourier_image(torch.zeros(1, 3, 8, 8, 2), 8, 8)


def test_to_rgb_reproduces_lucents_to_valid_rgb_with_our_colour_matrix(monkeypatch):
    torch.manual_seed(0)
    photos = torch.rand(4, 3, 8, 8) ** 2
    photos[:, 1] = 0.7 * photos[:, 0] + 0.3 * photos[:, 1]  # correlated colours
    colour = featvis.colour_sqrt(photos)
    normalised = (colour / colour.norm(dim=0).max()).numpy()
    monkeypatch.setattr(lucent_param, "color_correlation_normalized", normalised)
    x = torch.randn(2, 3, 5, 6)
    theirs = lucent_param.to_valid_rgb(lambda: x, decorrelate=True)()
    torch.testing.assert_close(featvis.to_rgb(x, colour), theirs)
    plain = lucent_param.to_valid_rgb(lambda: x, decorrelate=False)()
    torch.testing.assert_close(featvis.to_rgb(x), plain)


def test_lucents_own_matrix_gives_the_same_transform_in_both():
    m = torch.from_numpy(lucent_param.color_correlation_svd_sqrt)
    x = torch.randn(1, 3, 4, 4)
    theirs = lucent_param.to_valid_rgb(lambda: x, decorrelate=True)()
    torch.testing.assert_close(featvis.to_rgb(x, m), theirs)


def test_colour_sqrt_is_a_square_root_of_the_pixel_covariance():
    torch.manual_seed(1)
    photos = torch.rand(3, 3, 10, 10)
    photos[:, 2] = 0.5 * photos[:, 0] + 0.5 * photos[:, 2]
    m = featvis.colour_sqrt(photos).double()
    pixels = photos.permute(1, 0, 2, 3).reshape(3, -1).double().numpy()
    cov = np.cov(pixels)
    np.testing.assert_allclose((m @ m.T).numpy(), cov, rtol=1e-5, atol=1e-7)
    norms = m.norm(dim=0)
    assert bool((norms[:-1] >= norms[1:]).all())  # largest eigenvalue first
    assert bool((m.sum(0) >= 0).all())


# ----------------------------------------------------------- dataset examples


def test_top_patches_finds_the_largest_units_one_per_image():
    acts = torch.zeros(3, 2, 4, 4)
    acts[0, 1, 2, 3], acts[0, 1, 0, 0], acts[2, 1, 1, 2] = 5.0, 4.0, 3.0
    found = featvis.top_patches(acts, 1, k=2)
    assert found == [featvis.Patch(0, 2, 3, 5.0), featvis.Patch(2, 1, 2, 3.0)]
    both = featvis.top_patches(acts, 1, k=2, one_per_image=False)
    assert [(p.image, p.row, p.col) for p in both] == [(0, 2, 3), (0, 0, 0)]


def test_patch_box_is_the_receptive_field_clipped_to_the_image():
    rf = receptive.receptive_field(nn.Sequential(nn.Conv2d(3, 3, 3, padding=1),
                                                 nn.Conv2d(3, 3, 3, stride=2, padding=1)), 16)[-1]
    assert rf.size == 5 and rf.jump == 2
    assert featvis.patch_box(rf, 3, 4, 16) == (4, 6, 8, 10)
    assert featvis.patch_box(rf, 0, 0, 16) == (0, 0, 2, 2)


def test_layer_activations_records_each_layer_with_hooks_and_leaves_none():
    from cnnlib.hooks import count_hooks

    net = _net()
    x = torch.rand(5, 3, 12, 12)
    out, (a0, a2) = featvis.layer_activations(net, [net[1], net[2]], x, batch_size=2)
    torch.testing.assert_close(out, net(x))
    torch.testing.assert_close(a0, net[:2](x))
    torch.testing.assert_close(a2, out)
    assert count_hooks(net) == 0


# ----------------------------------------------------------- optimisation


def test_seeded_runs_reproduce_and_other_seeds_differ():
    net = _net()
    kwargs = {"size": 16, "steps": 5, "colour": torch.eye(3)}
    a = featvis.visualise(net, [0, 3], seed=3, **kwargs)
    b = featvis.visualise(net, [0, 3], seed=3, **kwargs)
    c = featvis.visualise(net, [0, 3], seed=4, **kwargs)
    assert torch.equal(a.images, b.images) and torch.equal(a.history, b.history)
    assert not torch.equal(a.images, c.images)


def test_the_optimised_image_beats_every_dataset_patch_on_a_small_net():
    net = _net()
    torch.manual_seed(0)
    photos = torch.rand(100, 3, 20, 20) ** 2  # 100 x 64 = 6,400 patches of 11x11 pixels
    _, (acts,) = featvis.layer_activations(net, [net[2]], photos)
    assert acts.shape[0] * acts.shape[2] * acts.shape[3] >= 500
    channels = list(range(6))
    v = featvis.visualise(net, channels, size=20, steps=60, lr=0.1, transform=False)
    best_patch = acts[:, channels].amax((0, 2, 3))
    assert bool((v.activation > best_patch).all()), (v.activation, best_patch)
    torch.testing.assert_close(v.activation, featvis.channel_means(net, v.images, channels))


def test_a_channel_beyond_the_layer_is_refused_by_name():
    with pytest.raises(ValueError, match=r"channels\[1\]"):
        featvis.visualise(_net(), [0, 6], size=16, steps=1)


def test_the_objective_rises_during_optimisation():
    v = featvis.visualise(_net(), [1], size=16, steps=30, param="pixel", transform=False)
    assert v.history.shape == (30, 1)
    assert v.history[-1, 0] > v.history[0, 0]


def test_diversity_pushes_the_images_of_one_channel_apart():
    net = _net()
    same = featvis.visualise(net, [2] * 3, size=16, steps=30, transform=False)
    apart = featvis.visualise(net, [2] * 3, size=16, steps=30, transform=False, diversity=5.0)
    with torch.no_grad():
        sim_same = featvis.gram_similarity(net(same.images))
        sim_apart = featvis.gram_similarity(net(apart.images))
    assert sim_apart < sim_same


def test_random_transform_with_no_change_is_the_identity():
    x = torch.rand(2, 3, 9, 9)
    y = featvis.random_transform(x, torch.Generator().manual_seed(0), shift=0.0, scale=0.0, angle=0.0)
    torch.testing.assert_close(y, x, atol=1e-5, rtol=0)


def test_random_transform_moves_each_image_differently():
    x = torch.rand(1, 3, 16, 16).expand(2, -1, -1, -1)
    y = featvis.random_transform(x, torch.Generator().manual_seed(0))
    assert not torch.allclose(y[0], y[1])


# ----------------------------------------------------------- measures


def test_high_frequency_energy_tells_a_fine_pattern_from_a_coarse_one():
    i = torch.arange(32.0)
    fine = torch.cos(2 * torch.pi * 0.4 * i)[None, :].expand(32, 32)
    coarse = torch.cos(2 * torch.pi * 0.05 * i)[None, :].expand(32, 32)
    x = torch.stack([fine, coarse])[:, None].expand(-1, 3, -1, -1)
    hf = featvis.high_frequency_energy(x)
    assert hf[0] > 0.9 and hf[1] < 0.01


def test_high_frequency_energy_refuses_a_cutoff_beyond_nyquist():
    with pytest.raises(ValueError, match="cutoff"):
        featvis.high_frequency_energy(torch.rand(1, 3, 8, 8), cutoff=0.6)


def test_gram_similarity_is_one_for_identical_images():
    a = torch.rand(1, 4, 3, 3).expand(3, -1, -1, -1)
    torch.testing.assert_close(featvis.gram_similarity(a), torch.tensor(1.0))


def test_classes_overlap_compares_the_top_k_sets():
    a = torch.tensor([[0.5, 0.3, 0.1, 0.1], [0.5, 0.3, 0.1, 0.1]])
    b = torch.tensor([[0.1, 0.1, 0.3, 0.5], [0.1, 0.6, 0.2, 0.1]])
    assert featvis.classes_overlap(a, b, k=2).tolist() == [False, True]
    assert featvis.classes_overlap(a, b, k=3).tolist() == [True, True]
