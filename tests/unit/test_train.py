"""cnnlib.train: the fit loop learns, evaluate() counts right, the history has the right lengths."""

import matplotlib

matplotlib.use("Agg")

import pytest
import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

from cnnlib import plot, train


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
    with pytest.raises(ValueError, match="epochs"):
        train.fit(model, dl, dl, epochs=True, opt=opt)  # a bool is not an epoch count
    with pytest.raises(ValueError, match="train_loader is empty"):
        train.fit(model, empty, dl, epochs=1, opt=opt)
    with pytest.raises(ValueError, match="valid_loader is empty"):
        train.fit(model, dl, empty, epochs=1, opt=opt)
    with pytest.raises(ValueError, match="empty"):
        train.evaluate(model, empty)
    with pytest.raises(ValueError, match="DataLoader"):
        train.evaluate(model, 3)


def test_plot_history_draws_three_panels_and_rejects_an_empty_history():
    model = nn.Linear(2, 2)
    dl = DataLoader(blobs(40), batch_size=10)
    history = train.fit(model, dl, dl, epochs=2, opt=torch.optim.SGD(model.parameters(), lr=0.1),
                        progress=False)
    fig = plot.plot_history(history, smooth=3)
    assert len(fig.axes) == 3
    with pytest.raises(ValueError, match="empty"):
        plot.plot_history(train.History())


def test_train_epoch_takes_one_step_per_batch_and_returns_their_losses():
    torch.manual_seed(0)
    model = nn.Linear(2, 2)
    dl = DataLoader(blobs(100), batch_size=25)  # 4 batches, in order
    first_x, first_y = next(iter(dl))
    expected_first = F.cross_entropy(model(first_x), first_y).item()  # before any step
    before = model.weight.detach().clone()
    lrs: list[float] = []
    losses = train.train_epoch(model, dl, torch.optim.SGD(model.parameters(), lr=0.1), lrs=lrs)
    assert len(losses) == 4 and lrs == [0.1] * 4
    assert losses[0] == pytest.approx(expected_first)
    assert model.training and not torch.equal(before, model.weight)
    assert all(p.grad is None for p in model.parameters())  # zero_grad() frees the gradients
