"""Time Grad-CAM of one 224x224 photo on the shipped MobileNetV2: cnnlib.cam.grad_cam vs pytorch-grad-cam.

Usage: python scripts/bench_cam.py [--repeats 15] [--warmup 3] [--threads N]

On a shared, busy machine pass --threads 1: OpenMP threads that wait for a busy core slow every
call down many times over.

Both run on the same input in the same process, alternating, at target layer features[-1] and
the predicted class; each figure is the median of the repeats after a warm-up. pytorch-grad-cam
is timed as its README uses it (``with GradCAM(model, layers) as cam: cam(x, targets)``).
Why ours is faster: the weights are frozen during the call, so autograd records nothing below
the target layer and the backward pass stops there, while pytorch-grad-cam back-propagates
through the whole network and fills in every weight's .grad.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F
from pytorch_grad_cam import GradCAM
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

from cnnlib import cam, data, images, models


def photo(name: str) -> torch.Tensor:
    image = torch.from_numpy(data.sample_image(name)).permute(2, 0, 1).float() / 255
    image = F.interpolate(image[None], (224, 224), mode="bilinear", antialias=True, align_corners=False)
    return images.normalize(image)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)

    model = models.pretrained_mobilenet_v2()
    layer = model.features[-1]
    x = photo("chelsea")
    with torch.no_grad():
        predicted = int(model(x).argmax())

    def ours() -> np.ndarray:
        return cam.grad_cam(model, layer, x, target=predicted).numpy()

    def theirs() -> np.ndarray:
        with GradCAM(model, [layer]) as gc:
            return gc(x, [ClassifierOutputTarget(predicted)])

    times: dict[str, list[float]] = {"cnnlib.cam.grad_cam": [], "pytorch-grad-cam GradCAM": []}
    for i in range(args.warmup + args.repeats):
        for name, fn in zip(times, (ours, theirs), strict=True):
            start = time.perf_counter()
            fn()
            if i >= args.warmup:
                times[name].append(time.perf_counter() - start)

    diff = float(np.abs(ours() - theirs()).max())
    load = os.getloadavg()
    print(f"Grad-CAM, MobileNetV2 features[-1], 1x3x224x224 ({data.imagenet_classes()[predicted]}), "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"{'method':<26} {'median s':>9} {'min s':>7} {'max s':>7}")
    for name, t in times.items():
        print(f"{name:<26} {statistics.median(t):9.3f} {min(t):7.3f} {max(t):7.3f}")
    ours_s, theirs_s = (statistics.median(t) for t in times.values())
    ratio = theirs_s / ours_s
    print(f"speed-up {ratio:.1f}x; max |difference| of the maps {diff:.1e} ({args.repeats} repeats)")


if __name__ == "__main__":
    main()
