"""cnnlib.images against torchvision's Normalize and NumPy's statistics."""

import numpy as np
import pytest
import torch
from torchvision import transforms

from cnnlib import images


@pytest.fixture
def batch() -> torch.Tensor:
    return torch.rand(4, 3, 9, 7, generator=torch.Generator().manual_seed(0))


def test_imagenet_stats_are_torchvision_values():
    from torchvision.models import MobileNet_V2_Weights

    preset = MobileNet_V2_Weights.IMAGENET1K_V1.transforms()
    assert list(images.IMAGENET_MEAN) == list(preset.mean)
    assert list(images.IMAGENET_STD) == list(preset.std)


@pytest.mark.parametrize("shape", [(3, 9, 7), (4, 3, 9, 7)])
def test_normalize_matches_torchvision_normalize(shape):
    x = torch.rand(shape, generator=torch.Generator().manual_seed(1))
    expected = transforms.Normalize(images.IMAGENET_MEAN, images.IMAGENET_STD)(x)
    torch.testing.assert_close(images.normalize(x), expected)


def test_normalize_with_custom_stats_and_one_channel():
    x = torch.rand(2, 1, 5, 5, generator=torch.Generator().manual_seed(2))
    expected = transforms.Normalize([0.1307], [0.3081])(x)
    torch.testing.assert_close(images.normalize(x, [0.1307], [0.3081]), expected)


def test_normalize_does_not_modify_its_input(batch):
    before = batch.clone()
    images.normalize(batch)
    assert torch.equal(batch, before)


def test_normalize_keeps_dtype(batch):
    assert images.normalize(batch.double()).dtype == torch.float64
    assert images.normalize(batch.half()).dtype == torch.float16


def test_denormalize_inverts_normalize(batch):
    torch.testing.assert_close(images.denormalize(images.normalize(batch)), batch)


def test_denormalize_matches_inverse_torchvision_normalize(batch):
    mean, std = torch.tensor(images.IMAGENET_MEAN), torch.tensor(images.IMAGENET_STD)
    inverse = transforms.Normalize((-mean / std).tolist(), (1 / std).tolist())
    torch.testing.assert_close(images.denormalize(batch), inverse(batch))


def test_normalized_imagenet_like_channel_has_zero_mean_unit_std():
    mean, std = 0.485, 0.229
    x = mean + std * torch.randn(1, 1, 200, 200, generator=torch.Generator().manual_seed(3))
    y = images.normalize(x, [mean], [std])
    assert abs(y.mean().item()) < 0.02 and abs(y.std().item() - 1) < 0.02


@pytest.mark.parametrize("fn", [images.normalize, images.denormalize])
def test_uint8_input_raises_and_says_how_to_convert(fn):
    x = torch.zeros(3, 4, 4, dtype=torch.uint8)
    with pytest.raises(ValueError, match=r"float\(\) / 255"):
        fn(x)


@pytest.mark.parametrize("fn", [images.normalize, images.denormalize])
def test_channels_last_image_raises(fn):
    hwc = torch.rand(8, 8, 3)  # 8 "channels" along dimension -3
    with pytest.raises(ValueError, match="8 channels"):
        fn(hwc)


@pytest.mark.parametrize("shape", [(5, 5), (1, 1, 3, 5, 5)])
def test_wrong_rank_raises(shape):
    with pytest.raises(ValueError, match="shape"):
        images.normalize(torch.rand(shape))


def test_numpy_input_raises():
    with pytest.raises(ValueError, match="torch.Tensor"):
        images.normalize(np.zeros((3, 4, 4), dtype=np.float32))


def test_zero_std_raises():
    with pytest.raises(ValueError, match="positive"):
        images.normalize(torch.rand(3, 4, 4), std=(0.2, 0.0, 0.2))


def test_channel_stats_of_uint8_dataset_matches_numpy():
    rng = np.random.default_rng(4)
    data = rng.integers(0, 256, size=(6, 3, 10, 12), dtype=np.uint8)
    mean, std = images.channel_stats(torch.from_numpy(data))
    scaled = data.astype(np.float64) / 255
    np.testing.assert_allclose(mean.numpy(), scaled.mean(axis=(0, 2, 3)), rtol=1e-6)
    np.testing.assert_allclose(std.numpy(), scaled.std(axis=(0, 2, 3)), rtol=1e-6)
    assert mean.dtype == std.dtype == torch.float32 and mean.shape == (3,)


def test_channel_stats_of_one_float_image_matches_torch():
    x = torch.rand(3, 16, 16, generator=torch.Generator().manual_seed(5))
    mean, std = images.channel_stats(x)
    torch.testing.assert_close(mean, x.mean(dim=(1, 2)))
    torch.testing.assert_close(std, x.std(dim=(1, 2), correction=0))


def test_channel_stats_feed_normalize_to_zero_mean_unit_std():
    x = torch.randint(0, 256, (8, 3, 16, 16), dtype=torch.uint8, generator=torch.Generator().manual_seed(6))
    mean, std = images.channel_stats(x)
    y = images.normalize(x.float() / 255, mean.tolist(), std.tolist())
    torch.testing.assert_close(y.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-5, rtol=0)
    torch.testing.assert_close(y.std(dim=(0, 2, 3), correction=0), torch.ones(3), atol=1e-5, rtol=0)


def test_channel_stats_rejects_other_integer_types_and_empty_input():
    with pytest.raises(ValueError, match="dtype"):
        images.channel_stats(torch.zeros(1, 3, 4, 4, dtype=torch.int32))
    with pytest.raises(ValueError, match="at least one pixel"):
        images.channel_stats(torch.zeros(0, 3, 4, 4))
