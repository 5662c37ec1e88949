"""Chapter 8's peak learning rates, chosen on validation data (never on the test set).

The 5,000 CIFAR-10 training images of the course's subset are split into 4,000 for training
and 1,000 for validation (``data.split``, seed 0); each network is trained with chapter 8's
quick-mode recipe (AdamW, weight decay 0.05, one-cycle, batches of 64 with the last partial
batch dropped, random shifts of up to 4 pixels and flips, quick mode's epochs) at each peak
learning rate of a grid, and the rate with the best validation accuracy is the chapter's.
Writes bench/ch08_learning_rates.md. Run from the repository root (2 threads, ~5 minutes):

    PYTHONPATH=$PWD python scripts/choose_lr_ch08.py
"""

from __future__ import annotations

import time
from pathlib import Path

import torch

from cnnlib import config, data, loaders, train
from cnnlib.models.alexnet import mini_alexnet
from cnnlib.models.vgg import mini_vgg

EPOCHS = 6  # chapter 8's quick mode
RATES = (3e-4, 1e-3, 3e-3, 1e-2)
NETWORKS = {
    "mini AlexNet": mini_alexnet,
    "mini VGG (batch norm)": mini_vgg,
    "mini VGG (no batch norm)": lambda: mini_vgg(batch_norm=False),
}


def flip_and_shift(x: torch.Tensor) -> torch.Tensor:
    return loaders.random_flip(loaders.random_shift(x, 4, fill=0.0))


def validation_accuracy(build, max_lr: float, train_set, valid_set) -> float:
    config.seed_everything(0)
    train_dl, valid_dl = loaders.tensor_loaders(train_set, valid_set, batch_size=64,
                                                drop_last=True)
    net = build()
    opt = torch.optim.AdamW(net.parameters(), lr=max_lr, weight_decay=0.05)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=max_lr,
                                                total_steps=EPOCHS * len(train_dl))
    history = train.fit(net, loaders.Augmented(train_dl, flip_and_shift), valid_dl, EPOCHS,
                        opt, scheduler=sched, progress=False)
    return history.valid_accuracy[-1]


def main() -> None:
    torch.set_num_threads(2)
    train_set, valid_set = data.split(data.cifar10_subset("train"), 1000, seed=0)
    start = time.perf_counter()
    lines = [
        "# Chapter 8: peak learning rates chosen on validation data",
        "",
        f"Written by `scripts/choose_lr_ch08.py`: {len(train_set):,} of the 5,000 training "
        f"images for training, the other {len(valid_set):,} for validation (the test set is "
        f"not used), {EPOCHS} epochs of chapter 8's recipe. Validation accuracy after the "
        "last epoch, one seed (0) per cell; the chosen rate is the best of its row.",
        "",
        "| network | " + " | ".join(f"{r:g}" for r in RATES) + " | chosen |",
        "|---|" + "---:|" * (len(RATES) + 1),
    ]
    for name, build in NETWORKS.items():
        accs = [validation_accuracy(build, r, train_set, valid_set) for r in RATES]
        best = RATES[max(range(len(RATES)), key=accs.__getitem__)]
        lines.append(f"| {name} | " + " | ".join(f"{a:.1%}" for a in accs) + f" | {best:g} |")
        print(lines[-1], flush=True)
    lines += ["", f"{time.perf_counter() - start:.0f} s on {torch.get_num_threads()} threads, "
              f"torch {torch.__version__}.", ""]
    Path("bench/ch08_learning_rates.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
