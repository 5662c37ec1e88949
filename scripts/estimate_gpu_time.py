"""Estimate the book's full-mode time on one H200-class GPU, before any GPU time is spent.

    python scripts/estimate_gpu_time.py --out bench/gpu_estimate.md

An estimate, not a measurement; scripts/gpu_full_run.sh measures. The model of it:

- **Training cells** run on the GPU. The book's networks are small (at most 41 M multiply-adds
  an image, batches of 16 to 256), so one optimizer step costs about ``ops x T_OP``, the
  operators PyTorch launches one by one from Python (forward, backward, optimizer, the
  ``loss.item()`` that ends each step), plus the arithmetic at ``FLOPS`` (the larger of
  the two is taken). The operator count and multiply-adds of one step of each network are
  *measured here* (a dispatch counter on the CPU runs one real training step); ``T_OP`` and
  ``FLOPS`` are assumptions, stated below. The steps each cell takes in full mode follow from
  its ``config.pick(full=...)`` values (epochs, subset, batch size), listed per chapter.
- **Everything else** (figures, from-scratch NumPy/PyTorch on the CPU, kernel start) is taken
  at the CPU time the stored quick-mode run spent outside its training cells (the cells'
  ``execution`` timestamps), scaled by how much more of that work full mode does.
- Chapters run ``K`` at a time (scripts/gpu_full_run.sh: one worker per chapter), so the
  book's time is the longest chapter's, times ``SHARING`` for chapters that share one GPU,
  plus the install and start-up minutes of the script.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
from datetime import datetime
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils._python_dispatch import TorchDispatchMode

from cnnlib import models, shapes

ROOT = Path(__file__).resolve().parents[1]
T_OP = 12e-6      # s per launched operator: PyTorch eager dispatch + CUDA launch, one host core
FLOPS = 15e12     # FLOP/s the small fp32/TF32 convolutions reach (H200 fp32 peak: about 67e12)
SHARING = 1.5     # slow-down of a chapter while up to 9 training chapters share the GPU
SETUP_S = 60      # install the wheels, import check, start the workers (the rehearsal: ~40 s)


class CountOps(TorchDispatchMode):
    """Counts the aten operators dispatched: about one GPU kernel launch each."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.count += 1
        return func(*args, **(kwargs or {}))


def step_cost(build, shape: tuple[int, ...], batch: int, optimizer: str = "adamw") -> dict:
    """Operators and FLOPs of one training step of ``build()`` on a batch of ``shape``."""
    net = build()
    macs = sum(r.macs for r in shapes.layer_counts(net, shape))
    params = [p for p in net.parameters() if p.requires_grad]
    # foreach=True: the multi-tensor optimizer step that PyTorch picks for CUDA parameters
    opt = (torch.optim.SGD(params, lr=0.1, momentum=0.9, nesterov=True, foreach=True)
           if optimizer == "sgd" else torch.optim.AdamW(params, lr=1e-3, foreach=True))
    x, y = torch.randn(batch, *shape), torch.randint(0, 10, (batch,))
    net.train()
    for counted in (False, True):  # the first step creates the optimizer state
        mode = CountOps()
        with mode if counted else contextlib.nullcontext():
            loss = F.cross_entropy(net(x)[:, :10], y)
            loss.backward()
            opt.step()
            opt.zero_grad()
            loss.item()
    flops = 2 * 3 * macs * batch  # multiply-add = 2 FLOPs; backward about twice the forward
    return {"ops": mode.count, "flops": flops}


def stored_split(path: Path, training: set[int]) -> tuple[float, float]:
    """(seconds in training cells, seconds elsewhere) of the stored quick-mode run."""
    cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    inside = outside = 0.0
    for i, cell in enumerate(cells):
        stamp = cell.get("metadata", {}).get("execution", {})
        if "iopub.execute_input" not in stamp or "shell.execute_reply" not in stamp:
            continue
        t0, t1 = (datetime.fromisoformat(stamp[k].replace("Z", "+00:00"))
                  for k in ("iopub.execute_input", "shell.execute_reply"))
        if i in training:
            inside += (t1 - t0).total_seconds()
        else:
            outside += (t1 - t0).total_seconds()
    return inside, outside


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write the table there (Markdown)")
    parser.add_argument("--t-op", type=float, default=T_OP, help="s per launched operator")
    parser.add_argument("--flops", type=float, default=FLOPS, help="FLOP/s of the arithmetic")
    parser.add_argument("--sharing", type=float, default=SHARING, help="slow-down when shared")
    args = parser.parse_args()
    torch.manual_seed(0)
    mnist, cifar = (1, 28, 28), (3, 32, 32)
    cost = functools.lru_cache(maxsize=None)(step_cost)
    lenet32 = (1, 32, 32)
    net = {
        "stride-2 CNN": cost(models.simple_cnn, mnist, 128),
        "LeNet-5 (1998)": cost(models.lenet5_1998, lenet32, 128),
        "LeNet-5": cost(models.lenet5, lenet32, 128),
        "mini AlexNet b64": cost(models.mini_alexnet, cifar, 64),
        "mini VGG b64": cost(models.mini_vgg, cifar, 64),
        "mini-Inception b128": cost(models.mini_inception, cifar, 128),
        "mini-Inception b64": cost(models.mini_inception, cifar, 64),
        "ResNet-20 b125": cost(functools.partial(models.cifar_resnet, 20), cifar, 125, "sgd"),
        "ResNet-56 b125": cost(functools.partial(models.cifar_resnet, 56), cifar, 125, "sgd"),
        "plain-56 b125": cost(functools.partial(models.cifar_resnet, 56, residual=False),
                              cifar, 125, "sgd"),
        "ResNet-20 b64": cost(functools.partial(models.cifar_resnet, 20), cifar, 64),
        "LeNet-5 rgb b64": cost(functools.partial(models.lenet5, in_channels=3), cifar, 64),
        "stride-2 CNN rgb b64": cost(functools.partial(models.simple_cnn, in_channels=3),
                                     cifar, 64),
        "MobileNetV2 160px b16": cost(lambda: models.pretrained_mobilenet_v2(),
                                      (3, 160, 160), 16),
        "stride-2 CNN b256": cost(models.simple_cnn, mnist, 256),
    }
    for c in net.values():
        c["seconds"] = max(c["ops"] * args.t_op, c["flops"] / args.flops)
    mnist_train = 50_000  # chapters 06/07 hold 10,000 of the 60,000 out for validation
    # chapter: (training cells, [(network, steps in full mode, note)], extra non-training work)
    # Chapters 01-05 train nothing and run on the CPU in full mode too: their scales are the
    # full/quick ratio measured here (the script, full then quick mode, same machine, 2026-12-04).
    plan = {
        "01": (set(), [], 1.0, "no training"),
        "02": (set(), [], 1.8, "cell 31: 2,000 (quick 600) CPU gradient steps on 9 weights"),
        "03": (set(), [], 1.0, "no training"),
        "04": (set(), [], 2.7, "cell 19: 2,000 (quick 256) digits through one conv, CPU"),
        "05": (set(), [], 1.1, "cell 21: 30 (quick 6) random nets per depth, CPU"),
        "06": ({8, 13, 17, 18, 20}, [
            ("stride-2 CNN", 8 * -(-mnist_train // 128), "cell 13: 8 epochs of 50,000"),
            ("stride-2 CNN", 3 * (3 * -(-mnist_train // 128) + 100),
             "cells 17-20: fastai lr_find + 3 epochs of 50,000 (x3: fastai's callbacks)"),
        ], 1.0, ""),
        "07": ({19, 23}, [
            ("LeNet-5 (1998)", 20 * -(-mnist_train // 128), "cell 19: 20 epochs of 50,000"),
            ("LeNet-5", 20 * -(-mnist_train // 128), "cell 23: 20 epochs of 50,000"),
        ], 1.0, ""),
        "08": ({23, 25}, [
            ("mini AlexNet b64", 30 * -(-5000 // 64), "cell 23: 30 epochs of 5,000"),
            ("mini VGG b64", 30 * -(-5000 // 64), "cell 25: 30 epochs of 5,000"),
        ], 1.0, ""),
        "09": ({26}, [("mini-Inception b128", 30 * -(-5000 // 128), "cell 26: 30 epochs")],
               1.0, ""),
        "10": ({18}, [
            ("ResNet-20 b125", 2 * 30 * 40, "cell 18: plain-20 and ResNet-20, 30 epochs"),
            ("plain-56 b125", 30 * 40, "cell 18: plain-56, 30 epochs"),
            ("ResNet-56 b125", 30 * 40, "cell 18: ResNet-56, 30 epochs"),
        ], 1.0, ""),
        "11": ({4}, [
            (name, 30 * -(-5000 // 64), "cell 4: 30 epochs of 5,000, batch 64")
            for name in ("LeNet-5 rgb b64", "stride-2 CNN rgb b64", "mini AlexNet b64",
                         "mini VGG b64", "mini-Inception b64", "ResNet-20 b64")
        ], 1.0, ""),
        "12": ({20, 21, 24}, [
            # x3: fastai's callbacks, and its DataLoader decodes and resizes every JPEG on
            # the host (num_workers=0), 16 a batch
            ("MobileNetV2 160px b16", 3 * (30 + 6 * 63 + 6 * 8),
             "cells 20-21: lr_find + 2+4 epochs of 63 batches (x3: fastai, JPEG decoding)"),
            ("MobileNetV2 160px b16", 3 * (6 * 63 + 6 * 8),
             "cell 24: 6 epochs from scratch (x3)"),
        ], 1.0, ""),
        "13": ({14}, [("stride-2 CNN b256", 2 * -(-60_000 // 256) * 4,
                       "cell 14: 2 runs x 1 epoch of 60,000; 4 hooks sync each step (x4)")],
               1.0, ""),
        "14": ({27, 29}, [
            ("ResNet-20 b125", 30 * 40, "cell 29: 30 epochs of 5,000"),
            ("MobileNetV2 160px b16", 30 * 8 + 8 * 4,
             "cell 27: 240 forwards of 42 images (30 photos x 8 maps) + the maps"),
        ], 1.2, ""),
    }
    lines = [
        "Estimated full-mode times on one H200-class GPU (scripts/estimate_gpu_time.py: an "
        "estimate, not a measurement).",
        "",
        f"Assumptions: {args.t_op * 1e6:.0f} µs per launched operator, {args.flops / 1e12:.0f} "
        f"TFLOP/s for the arithmetic, x{args.sharing} while chapters share the GPU, {SETUP_S} s "
        "of set-up.",
        "Measured here: operators and multiply-adds of one training step of each network.",
        "",
        "| network, batch | operators/step | GFLOP/step | est. ms/step on the GPU |",
        "|---|---:|---:|---:|",
    ]
    for name, c in net.items():
        lines.append(f"| {name} | {c['ops']:,} | {c['flops'] / 1e9:.2f} | {c['seconds'] * 1e3:.1f} |")
    lines += ["", "| chapter | quick CPU s (train + rest) | full-mode GPU work | "
              "est. full s (alone) |", "|---|---:|---|---:|"]
    totals = {}
    for chapter, (training, work, rest_scale, note) in plan.items():
        path = next((ROOT / "book").glob(f"{chapter}_*.ipynb"))
        inside, outside = stored_split(path, training)
        gpu = sum(net[name]["seconds"] * steps for name, steps, _ in work)
        full = outside * rest_scale + gpu
        totals[chapter] = (full, gpu)
        notes = "; ".join(dict.fromkeys(n for _, _, n in work if n)) or note
        lines.append(f"| {path.stem} | {inside:.0f} + {outside:.0f} | {notes} | {full:.0f} |")
    shared = {c: full - gpu + gpu * args.sharing for c, (full, gpu) in totals.items()}
    longest = max(shared, key=shared.get)
    wall = SETUP_S + shared[longest]
    serial = SETUP_S + sum(f for f, _ in totals.values())
    lines += ["", f"All chapters at once: the longest is chapter {longest}, about "
              f"{shared[longest]:.0f} s with the GPU shared, so the book takes about "
              f"{wall / 60:.1f} min with set-up "
              f"(one chapter after another it would be {serial / 60:.1f} min)."]
    # The same with every GPU cost worse: 2.5x the launch cost, a third of the FLOP/s, and
    # sharing twice as costly; a slower host or a busier GPU than assumed.
    worst = {}
    for chapter, (training, work, rest_scale, _) in plan.items():
        path = next((ROOT / "book").glob(f"{chapter}_*.ipynb"))
        outside = stored_split(path, training)[1] * rest_scale
        gpu = sum(max(net[n]["ops"] * args.t_op * 2.5, net[n]["flops"] / args.flops * 3) * k
                  for n, k, _ in work)
        worst[chapter] = outside + gpu * args.sharing * 2
    lines += [f"Pessimistic (2.5x the launch cost, a third of the FLOP/s, twice the sharing "
              f"cost): the longest chapter, {max(worst, key=worst.get)}, takes about "
              f"{max(worst.values()):.0f} s, the book about "
              f"{(SETUP_S + max(worst.values())) / 60:.1f} min.", ""]
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
