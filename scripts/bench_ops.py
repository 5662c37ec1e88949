"""Time cnnlib.ops against torch: how many times slower is the from-scratch op?

    python scripts/bench_ops.py [--out bench/ops.md]      # make bench runs it

For each shape (N, C, H=W, C_out, k) of the structure issue: ``ops.conv2d`` against
``F.conv2d`` (padding k // 2), and the 2x2 pools against torch's, forward only, float32. Each
time is the best of several repeats after a warm-up (the least disturbed by other processes).
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F

from cnnlib import ops

SHAPES = [(8, 3, 64, 16, 3), (16, 32, 32, 64, 3), (32, 64, 16, 128, 3), (64, 1, 28, 16, 5)]


def best_time(fn: Callable[[], object], repeats: int = 15) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="also write the table to this Markdown file")
    args = parser.parse_args()
    torch.manual_seed(0)
    lines = [
        f"cnnlib.ops vs torch (forward, float32, best of 15), CPU {os.cpu_count()} cores "
        f"({platform.machine()}), torch {torch.__version__.split('+')[0]}, "
        f"{torch.get_num_threads()} threads.",
        "",
        "| (N, C, H=W, C_out, k) | F.conv2d ms | conv2d ratio | max pool ratio | avg pool ratio |",
        "|---|---:|---:|---:|---:|",
    ]
    for n, c, h, c_out, k in SHAPES:
        x, w = torch.randn(n, c, h, h), torch.randn(c_out, c, k, k)
        assert torch.allclose(ops.conv2d(x, w, padding=k // 2), F.conv2d(x, w, padding=k // 2), atol=1e-3)
        t_conv = best_time(lambda: F.conv2d(x, w, padding=k // 2))  # noqa: B023
        ratio_conv = best_time(lambda: ops.conv2d(x, w, padding=k // 2)) / t_conv  # noqa: B023
        ratio_max = best_time(lambda: ops.max_pool2d(x, 2)) / best_time(lambda: F.max_pool2d(x, 2))  # noqa: B023
        ratio_avg = best_time(lambda: ops.avg_pool2d(x, 2)) / best_time(lambda: F.avg_pool2d(x, 2))  # noqa: B023
        lines.append(f"| {(n, c, h, c_out, k)} | {t_conv * 1e3:.2f} | {ratio_conv:.1f}x | "
                     f"{ratio_max:.1f}x | {ratio_avg:.1f}x |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)


if __name__ == "__main__":
    main()
