"""cnnlib.train: the fit loop learns, evaluate() counts right, the history has the right lengths."""

import matplotlib

matplotlib.use("Agg")

import pytest
import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

from cnnlib import data, plot, train
from cnnlib.data import ImageSet


def blobs(n: int = 256, seed: int = 0) -> TensorDataset:
    """Two Gaussian blobs in 2-D, centred at (-2, -2) and (2, 2): almost perfectly separable."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=g)
    x = torch.randn(n, 2, generator=g) + (4 * y[:, None] - 2)
    return TensorDataset(x, y)


def test_fit_reduces_the_loss_and_learns_a_separable_problem():
    torch.manual_seed(0)
    model = nn.Linear(2, 2)
    train_dl = DataLoader(blobs(256, seed=0), batch_size=32, shuffle=True)
    valid_dl = DataLoader(blobs(200, seed=1), batch_size=50)
    loss_before, acc_before = train.evaluate(model, valid_dl)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    history = train.fit(model, train_dl, valid_dl, epochs=5, opt=opt, progress=False)
    assert history.valid_loss[-1] < loss_before / 3
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.valid_accuracy[-1] >= 0.97 > acc_before


def test_evaluate_matches_a_hand_computation_with_an_uneven_last_batch():
    model = nn.Linear(2, 3)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]))
        model.bias.zero_()
    x = torch.tensor([[2.0, 0.0], [0.0, 2.0], [-1.0, -1.0], [2.0, 1.0], [1.0, 3.0], [0.5, 0.0], [3.0, 0.0]])
    y = torch.tensor([0, 1, 2, 1, 1, 2, 0])
    # argmax of the logits: 0, 1, 2, 0, 1, 0, 0 -> correct at samples 0, 1, 2, 4, 6: 5 of 7.
    loader = DataLoader(TensorDataset(x, y), batch_size=3)  # batches of 3, 3, 1
    loss, accuracy = train.evaluate(model, loader)
    assert accuracy == pytest.approx(5 / 7)
    assert loss == pytest.approx(F.cross_entropy(model(x), y).item(), rel=1e-6)


def test_history_has_one_entry_per_epoch_and_per_batch():
    model = nn.Linear(2, 2)
    train_dl = DataLoader(blobs(100), batch_size=25)  # 4 batches
    valid_dl = DataLoader(blobs(30, seed=1), batch_size=30)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    history = train.fit(model, train_dl, valid_dl, epochs=3, opt=opt, progress=False)
    assert history.epochs == 3
    for per_epoch in (history.train_loss, history.valid_loss, history.valid_accuracy, history.seconds):
        assert len(per_epoch) == 3
    assert len(history.batch_loss) == len(history.batch_lr) == 12
    assert history.total_seconds == pytest.approx(sum(history.seconds))
    assert history.batch_lr == [0.05] * 12


def test_scheduler_is_stepped_after_every_batch_and_lrs_are_recorded():
    model = nn.Linear(2, 2)
    train_dl = DataLoader(blobs(100), batch_size=10)  # 10 batches
    valid_dl = DataLoader(blobs(20, seed=1), batch_size=20)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1e-2, total_steps=2 * len(train_dl))
    history = train.fit(model, train_dl, valid_dl, epochs=2, opt=opt, scheduler=sched, progress=False)
    lrs = history.batch_lr
    assert lrs[0] == pytest.approx(1e-2 / 25)  # OneCycleLR starts at max_lr / div_factor
    assert max(lrs) == pytest.approx(1e-2, rel=0.05)
    assert lrs[-1] < lrs[0] / 10  # and anneals far below the start
    assert sched.last_epoch == 20


def test_fit_prints_one_line_per_epoch(capsys):
    model = nn.Linear(2, 2)
    dl = DataLoader(blobs(40), batch_size=20)
    train.fit(model, dl, dl, epochs=2, opt=torch.optim.SGD(model.parameters(), lr=0.1))
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and lines[0].split()[0] == "epoch"
    assert lines[2].split()[0] == "2"


def test_bad_input_raises_value_error():
    model = nn.Linear(2, 2)
    dl = DataLoader(blobs(40), batch_size=20)
    empty = DataLoader(TensorDataset(torch.zeros(0, 2), torch.zeros(0, dtype=torch.long)), batch_size=4)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="epochs"):
        train.fit(model, dl, dl, epochs=0, opt=opt)
    with pytest.raises(ValueError, match="epochs"):
        train.fit(model, dl, dl, epochs=1.5, opt=opt)
    with pytest.raises(ValueError, match="train_loader is empty"):
        train.fit(model, empty, dl, epochs=1, opt=opt)
    with pytest.raises(ValueError, match="valid_loader is empty"):
        train.fit(model, dl, empty, epochs=1, opt=opt)
    with pytest.raises(ValueError, match="empty"):
        train.evaluate(model, empty)
    with pytest.raises(ValueError, match="DataLoader"):
        train.evaluate(model, 3)


def tiny_set(n: int, seed: int = 0) -> ImageSet:
    g = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, 1, 4, 4), generator=g, dtype=torch.uint8)
    return ImageSet(images=images, labels=torch.arange(n) % 3, classes=("a", "b", "c"))


def test_tensor_loaders_normalise_with_training_statistics_and_cover_every_sample():
    tr, va = tiny_set(50), tiny_set(20, seed=1)
    train_dl, valid_dl = train.tensor_loaders(tr, va, batch_size=16)
    assert len(train_dl) == 4 and len(valid_dl) == 2
    batches = list(train_dl)
    x = torch.cat([xb for xb, _ in batches])
    assert x.dtype == torch.float32 and x.shape == (50, 1, 4, 4)
    assert abs(x.mean().item()) < 1e-5 and x.std().item() == pytest.approx(1.0, abs=1e-4)
    labels = torch.cat([yb for _, yb in batches])
    assert sorted(labels.tolist()) == sorted(tr.labels.tolist())
    assert not torch.equal(labels, tr.labels)  # shuffled
    xv, yv = next(iter(valid_dl))
    assert torch.equal(yv, va.labels[:16])  # validation keeps its order
    mean, std = (tr.images.float() / 255).mean(), (tr.images.float() / 255).std()
    torch.testing.assert_close(xv, (va.images[:16].float() / 255 - mean) / std)
    again = torch.cat([yb for _, yb in train.tensor_loaders(tr, va, batch_size=16)[0]])
    assert torch.equal(labels, again)  # same seed, same order
    second_epoch = torch.cat([yb for _, yb in train_dl])
    assert not torch.equal(labels, second_epoch)  # a new order every epoch


def test_tensor_loaders_and_to_float_reject_bad_input():
    with pytest.raises(ValueError, match="batch_size"):
        train.tensor_loaders(tiny_set(5), tiny_set(5), batch_size=0)
    with pytest.raises(ValueError, match="samples"):
        train.tensor_loaders(tiny_set(5), ImageSet(torch.zeros(0, 1, 4, 4, dtype=torch.uint8),
                                                   torch.zeros(0, dtype=torch.long), ("a",)))
    with pytest.raises(ValueError, match="uint8"):
        train.to_float(torch.zeros(2, 1, 4, 4))
    with pytest.raises(ValueError, match="both"):
        train.to_float(torch.zeros(2, 1, 4, 4, dtype=torch.uint8), mean=0.5)


def test_subset_keeps_relabels_and_samples():
    s = tiny_set(30)  # labels 0, 1, 2, 0, 1, 2, ...
    two = train.subset(s, labels=[2, 0])
    assert len(two) == 20 and two.classes == ("c", "a")
    assert torch.equal(two.labels, torch.tensor([1, 0] * 10))  # 0 -> position 1, 2 -> position 0
    assert torch.equal(two.images, s.images[s.labels != 1])
    some = train.subset(s, n=7, seed=3)
    assert len(some) == 7 and torch.equal(some.labels, train.subset(s, n=7, seed=3).labels)
    for bad in ([], [3], [1, 1]):
        with pytest.raises(ValueError, match="labels"):
            train.subset(s, labels=bad)
    with pytest.raises(ValueError, match="n must"):
        train.subset(s, n=31)


def test_mnist_threes_and_sevens_have_the_known_counts():
    threes_sevens = train.subset(data.mnist("train"), labels=[3, 7])
    assert torch.bincount(threes_sevens.labels).tolist() == [6131, 6265]
    test = train.subset(data.mnist("test"), labels=[3, 7])
    assert torch.bincount(test.labels).tolist() == [1010, 1028]


def test_plot_history_draws_three_panels_and_rejects_an_empty_history():
    model = nn.Linear(2, 2)
    dl = DataLoader(blobs(40), batch_size=10)
    history = train.fit(model, dl, dl, epochs=2, opt=torch.optim.SGD(model.parameters(), lr=0.1),
                        progress=False)
    fig = plot.plot_history(history, smooth=3)
    assert len(fig.axes) == 3
    with pytest.raises(ValueError, match="empty"):
        plot.plot_history(train.History())


def test_random_shift_moves_each_image_by_its_own_offset_within_bounds():
    torch.manual_seed(0)
    x = torch.zeros(64, 2, 9, 9)
    x[:, :, 4, 4] = 1.0  # one bright pixel in the centre of both channels
    shifted = train.random_shift(x, max_shift=2, fill=0.0)
    assert shifted.shape == x.shape
    where = [torch.nonzero(img[0]).flatten().tolist() for img in shifted]
    assert all(len(p) == 2 and 2 <= p[0] <= 6 and 2 <= p[1] <= 6 for p in where)  # moved by <= 2
    assert len({tuple(p) for p in where}) > 10  # different offsets for different images
    assert torch.equal(shifted[:, 0], shifted[:, 1])  # the channels of one image move together
    assert torch.equal(train.random_shift(x, max_shift=0), x)


def test_random_shift_matches_a_padded_crop_and_fills_with_the_background():
    torch.manual_seed(1)
    x = torch.rand(5, 1, 6, 6) + 1.0
    shifted = train.random_shift(x, max_shift=1)
    padded = F.pad(x, (1, 1, 1, 1), value=x.min().item())
    for img, pad in zip(shifted, padded, strict=True):
        crops = [pad[:, r:r + 6, c:c + 6] for r in range(3) for c in range(3)]
        assert any(torch.equal(img, crop) for crop in crops)
    with pytest.raises(ValueError, match="N, C, H, W"):
        train.random_shift(torch.zeros(6, 6))
    with pytest.raises(ValueError, match="max_shift"):
        train.random_shift(x, max_shift=-1)


def test_augmented_applies_the_transform_and_keeps_the_length():
    dl = DataLoader(blobs(40), batch_size=10)
    aug = train.Augmented(dl, lambda x: -x)
    assert len(aug) == 4
    for (xa, ya), (x, y) in zip(aug, dl, strict=True):
        assert torch.equal(xa, -x) and torch.equal(ya, y)
    model = nn.Linear(2, 2)
    history = train.fit(model, aug, dl, epochs=1, opt=torch.optim.SGD(model.parameters(), lr=0.1),
                        progress=False)
    assert len(history.batch_loss) == 4
