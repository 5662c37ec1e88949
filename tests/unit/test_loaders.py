"""cnnlib.loaders: per-channel normalised tensor loaders and batch augmentations."""

import pytest
import torch
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

from cnnlib import images, loaders
from cnnlib.data import ImageSet


def blobs(n: int = 40) -> TensorDataset:
    g = torch.Generator().manual_seed(0)
    return TensorDataset(torch.randn(n, 2, generator=g), torch.randint(0, 2, (n,), generator=g))


def tiny_set(n: int, seed: int = 0) -> ImageSet:
    g = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, 1, 4, 4), generator=g, dtype=torch.uint8)
    return ImageSet(images=images, labels=torch.arange(n) % 3, classes=("a", "b", "c"))


def test_tensor_loaders_normalise_with_training_statistics_and_cover_every_sample():
    tr, va = tiny_set(50), tiny_set(20, seed=1)
    train_dl, valid_dl = loaders.tensor_loaders(tr, va, batch_size=16)
    assert len(train_dl) == 4 and len(valid_dl) == 2
    batches = list(train_dl)
    x = torch.cat([xb for xb, _ in batches])
    assert x.dtype == torch.float32 and x.shape == (50, 1, 4, 4)
    assert abs(x.mean().item()) < 1e-5 and x.std(correction=0).item() == pytest.approx(1.0, abs=1e-4)
    labels = torch.cat([yb for _, yb in batches])
    assert sorted(labels.tolist()) == sorted(tr.labels.tolist())
    assert not torch.equal(labels, tr.labels)  # shuffled
    xv, yv = next(iter(valid_dl))
    assert torch.equal(yv, va.labels[:16])  # validation keeps its order
    mean, std = images.channel_stats(tr.images)  # the training set's, per channel
    expected = images.normalize(va.images[:16].float() / 255, mean.tolist(), std.tolist())
    torch.testing.assert_close(xv, expected)
    again = torch.cat([yb for _, yb in loaders.tensor_loaders(tr, va, batch_size=16)[0]])
    assert torch.equal(labels, again)  # same seed, same order
    second_epoch = torch.cat([yb for _, yb in train_dl])
    assert not torch.equal(labels, second_epoch)  # a new order every epoch


def test_tensor_loaders_normalise_each_colour_channel_on_its_own():
    g = torch.Generator().manual_seed(0)
    rgb = torch.randint(0, 256, (40, 3, 5, 5), generator=g, dtype=torch.uint8)
    rgb[:, 0] //= 4  # a dark red channel: its own mean and std, not the image's
    s = ImageSet(images=rgb, labels=torch.zeros(40, dtype=torch.long), classes=("a",))
    x = torch.cat([xb for xb, _ in loaders.tensor_loaders(s, s, batch_size=8)[0]])
    torch.testing.assert_close(x.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-5, rtol=0)
    torch.testing.assert_close(x.std(dim=(0, 2, 3), correction=0), torch.ones(3), atol=1e-4, rtol=0)
    raw = torch.cat([xb for xb, _ in loaders.tensor_loaders(s, s, normalize=False)[1]])
    torch.testing.assert_close(raw, rgb.float() / 255)


def test_tensor_loaders_reject_bad_input():
    with pytest.raises(ValueError, match="batch_size"):
        loaders.tensor_loaders(tiny_set(5), tiny_set(5), batch_size=0)
    with pytest.raises(ValueError, match="samples"):
        loaders.tensor_loaders(tiny_set(5), ImageSet(torch.zeros(0, 1, 4, 4, dtype=torch.uint8),
                                                   torch.zeros(0, dtype=torch.long), ("a",)))
    with pytest.raises(ValueError, match="batch_size"):
        loaders.tensor_loaders(tiny_set(5), tiny_set(5), batch_size=True)


def test_random_shift_moves_each_image_by_its_own_offset_within_bounds():
    torch.manual_seed(0)
    x = torch.zeros(64, 2, 9, 9)
    x[:, :, 4, 4] = 1.0  # one bright pixel in the centre of both channels
    shifted = loaders.random_shift(x, max_shift=2, fill=0.0)
    assert shifted.shape == x.shape
    where = [torch.nonzero(img[0]).flatten().tolist() for img in shifted]
    assert all(len(p) == 2 and 2 <= p[0] <= 6 and 2 <= p[1] <= 6 for p in where)  # moved by <= 2
    assert len({tuple(p) for p in where}) > 10  # different offsets for different images
    assert torch.equal(shifted[:, 0], shifted[:, 1])  # the channels of one image move together
    assert torch.equal(loaders.random_shift(x, max_shift=0), x)


def test_random_shift_matches_a_padded_crop_and_fills_with_the_background():
    torch.manual_seed(1)
    x = torch.rand(5, 1, 6, 6) + 1.0
    shifted = loaders.random_shift(x, max_shift=1)
    padded = F.pad(x, (1, 1, 1, 1), value=x.min().item())
    for img, pad in zip(shifted, padded, strict=True):
        crops = [pad[:, r:r + 6, c:c + 6] for r in range(3) for c in range(3)]
        assert any(torch.equal(img, crop) for crop in crops)
    with pytest.raises(ValueError, match="N, C, H, W"):
        loaders.random_shift(torch.zeros(6, 6))
    with pytest.raises(ValueError, match="max_shift"):
        loaders.random_shift(x, max_shift=-1)


def test_augmented_applies_the_transform_and_keeps_the_length():
    dl = DataLoader(blobs(40), batch_size=10)
    aug = loaders.Augmented(dl, lambda x: -x)
    assert len(aug) == 4
    for (xa, ya), (x, y) in zip(aug, dl, strict=True):
        assert torch.equal(xa, -x) and torch.equal(ya, y)
    with pytest.raises(ValueError, match="transform"):
        loaders.Augmented(dl, "flip")


def test_random_flip_mirrors_about_half_the_images_and_nothing_else():
    torch.manual_seed(0)
    x = torch.rand(200, 3, 4, 5)
    flipped = loaders.random_flip(x)
    mirrored = torch.tensor([torch.equal(a, b.flip(-1)) for a, b in zip(flipped, x, strict=True)])
    kept = torch.tensor([torch.equal(a, b) for a, b in zip(flipped, x, strict=True)])
    assert bool((mirrored | kept).all())
    assert 70 < int(mirrored.sum()) < 130
    with pytest.raises(ValueError, match="N, C, H, W"):
        loaders.random_flip(torch.zeros(4, 5))


def test_tensor_loaders_drop_last_skips_only_the_partial_training_batch():
    tr, va = tiny_set(50), tiny_set(20, seed=1)
    train_dl, valid_dl = loaders.tensor_loaders(tr, va, batch_size=16, drop_last=True)
    sizes = [len(yb) for _, yb in train_dl]
    assert sizes == [16, 16, 16] and len(train_dl) == 3  # 50 = 3 x 16 + 2: the 2 are skipped
    assert [len(yb) for _, yb in valid_dl] == [16, 4]  # validation keeps every sample
    kept = torch.cat([yb for _, yb in loaders.tensor_loaders(tr, va, batch_size=16)[0]])[:48]
    dropped = torch.cat([yb for _, yb in loaders.tensor_loaders(tr, va, batch_size=16,
                                                                drop_last=True)[0]])
    assert torch.equal(kept, dropped)  # same shuffle, only the remainder goes
    with pytest.raises(ValueError, match="drop_last"):
        loaders.tensor_loaders(tiny_set(5), tiny_set(5), batch_size=8, drop_last=True)
    with pytest.raises(ValueError, match="drop_last"):
        loaders.tensor_loaders(tr, va, drop_last="yes")
