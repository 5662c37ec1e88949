"""Write book/18_trust_heatmaps.ipynb from the cells below (code first, prose filled later)."""

import sys

import nbformat

cells = []


def md(text, **meta):
    cells.append(nbformat.v4.new_markdown_cell(text.strip("\n"), metadata=meta))


def code(text, tags=(), alt=None):
    meta = {}
    if tags:
        meta["tags"] = list(tags)
    if alt:
        meta["mystnb"] = {"image": {"alt": alt}}
    cells.append(nbformat.v4.new_code_cell(text.strip("\n"), metadata=meta))


IGN = ("nbval-ignore-output",)

md(r"""
# Can we trust a heatmap?

Chapter 14 built the classic heatmaps and checked that each one computes what its paper
defines. That says nothing about whether a map shows what the *model* used. A heatmap
always looks like something: bright blobs on the object are what we expect to see, so we
believe them. This chapter measures instead, three ways. First on a benchmark where we
*know* where the evidence is, because we planted it. Then with the two sanity checks of
Adebayo et al. (2018): does the map change when the network's weights are destroyed, and
when the network is trained on random labels? Last with faithfulness tests that need no
ground truth: does the model's confidence fall when the pixels a map ranks first are taken
away? Every comparison comes with an interval, and a method is ranked above another only
when the interval of the difference excludes zero.

**Learning goals**

- Build a planted-evidence benchmark (an MNIST digit pasted on a cluttered canvas, its box
  known) and score every heatmap method of chapter 14, plus Integrated Gradients,
  occlusion and Score-CAM, with the pointing game and the mass inside the box, against a
  random map, a centre prior and an edge detector.
- Plant a shortcut (a mark that gives the label away) and measure whether the maps find it.
- Run both sanity checks of Adebayo et al.: model-parameter randomisation, cascading and
  independent, on 50 photos, and data randomisation on the benchmark.
- Measure why guided backpropagation fails them: its maps keep the photo's edges.
- Compute deletion and insertion curves with paired bootstrap intervals, and ROAD, which
  fixes what deletion rewards by mistake.
- Check Integrated Gradients and occlusion against Captum, ROAD against pytorch-grad-cam.
""")

code(r'''
# Setup: in Colab, install cnnlib (the course's helper library);
# in a checkout it is already installed.
import importlib.util

repo = "inside-cnns/inside-cnns"
if importlib.util.find_spec("cnnlib") is None:
    %pip install -q "cnnlib[book] @ git+https://github.com/{repo}"
from cnnlib import (attribution, cam, config, data, faithfulness, images,
                    models, planted, plot, stats, train)

config.seed_everything(0)
print(config.describe())
''')

code(r'''
import copy

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from scipy.stats import spearmanr
from torch import nn

plt.rcParams["figure.dpi"] = 150
%config InlineBackend.figure_formats = ["jpeg"]
device = config.device()
''')

md(r"""
## A benchmark where we know the answer

`planted.canvases` draws each canvas from a seeded generator: an MNIST digit shrunk to
16×16 pixels, pasted at a random place on a 36×36 canvas, three small fragments of *other*
digits' strokes around it (never inside its square) and a faint noise texture. The label
is the pasted digit; its square, the *box*, is where the evidence is. The test canvases
take their digits from MNIST's test set.
""")

code(r'''
n_train = config.pick(quick=3000, full=20000)
n_test = 500  # pointing game and mass in box: 500 canvases in both modes
train_set = planted.canvases("train", n_train, seed=0)
test_set = planted.canvases("test", n_test, seed=1)
print(tuple(train_set.images.shape), tuple(test_set.images.shape))
print("test boxes:", tuple(test_set.boxes.shape),
      "first:", test_set.boxes[0].tolist(),
      "label", int(test_set.labels[0]))
''', tags=("nbval-check-output",))

code(r'''
def show_canvases(images, boxes, titles, marks=None):
    # up to 3 canvases per row, each with its box drawn in
    n = len(images)
    fig, axes = plt.subplots(1, n, figsize=(2.4 * n, 2.6))
    for k, ax in enumerate(np.atleast_1d(axes)):
        ax.imshow(images[k, 0], cmap="gray", vmin=0, vmax=1)
        for box, colour in [(boxes[k], "lime")] + (
                [] if marks is None else [(marks[k], "red")]):
            t, left, b, r = box.tolist()
            ax.add_patch(plt.Rectangle((left - 0.5, t - 0.5), r - left,
                                       b - t, fill=False, ec=colour))
        ax.set_title(titles[k], fontsize=9)
        ax.axis("off")
    fig.tight_layout()
    plt.show()


show_canvases(test_set.images[:3], test_set.boxes[:3],
              [f"label {int(y)}" for y in test_set.labels[:3]])
''', alt="ALT-CANVASES")

md(r"""
The network is small and ends like MobileNetV2, in global average pooling and one linear
layer, so that CAM applies too: three convolution blocks (8, 16 and 32 channels, batch
norm, ReLU) with two max-poolings between them, so its last block works on a 9×9 grid.
It trains in a few seconds on the CPU.
""")

code(r'''
def small_net() -> nn.Sequential:
    def block(c_in, c_out):
        return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1),
                             nn.BatchNorm2d(c_out), nn.ReLU())
    return nn.Sequential(block(1, 8), nn.MaxPool2d(2), block(8, 16),
                         nn.MaxPool2d(2), block(16, 32),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(32, 10))


def fit_canvases(images, labels, epochs, seed=0):
    # AdamW with a one-cycle schedule, as in chapter 6
    config.seed_everything(seed)
    model = small_net().to(device)
    ds = torch.utils.data.TensorDataset(images, labels)
    dl = torch.utils.data.DataLoader(
        ds, batch_size=64, shuffle=True,
        generator=torch.Generator().manual_seed(seed))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=1e-2, total_steps=epochs * len(dl))
    valid = torch.utils.data.DataLoader(  # a look at the training fit
        torch.utils.data.TensorDataset(images[:500], labels[:500]),
        batch_size=500)
    train.fit(model, dl, valid, epochs, opt, scheduler=sched,
              progress=False)
    return model.eval()


def accuracy(model, images, labels):
    with torch.no_grad():
        pred = model(images.to(device)).argmax(1).cpu()
    return (pred == labels).numpy()


epochs = config.pick(quick=3, full=10)
net = fit_canvases(train_set.images, train_set.labels, epochs)
right = accuracy(net, test_set.images, test_set.labels)
acc, low, high = stats.mean_ci(right)
print(f"{config.mode()} mode, {epochs} epochs: test accuracy {acc:.1%} "
      f"(95% CI {low:.1%} to {high:.1%})")
assert acc >= config.pick(quick=0.5, full=0.8)
''', tags=IGN)

md(r"""
Every method explains the label of each test canvas. The gradient methods and CAMs are
chapter 14's (Grad-CAM, Grad-CAM++ and CAM at the last block, `net[4]`); three are new.
**Integrated Gradients** (Sundararajan et al., 2017) integrates the gradient along the
straight path from a baseline (here the empty canvas, 0) to the input, so that the
attributions add up to $f(x) - f(\text{baseline})$. **Occlusion** (Zeiler and Fergus, 2014)
greys an 8×8 window at a time and records how much the score drops. **Score-CAM** (Wang et
al., 2020) weighs each channel of a layer by the score of the input masked with that
channel's map, one forward pass per channel: on the 16 channels of `net[3]` that is 16
passes per canvas (on MobileNetV2's last block it would be 1,280 per photo). Signed
attributions enter the scores as magnitudes (occlusion: its positive part, the drops).

The three baselines need no model at all: a random map, a centre prior (a Gaussian bump in
the middle) and the Sobel edge magnitude of the canvas. A method that cannot beat them
says nothing about the model.
""")

code(r'''
def sobel_edges(x):
    # gradient magnitude of each image (N, 1, H, W) -> (N, H, W)
    kx = torch.tensor([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]])
    k = torch.stack([kx, kx.T])[:, None].to(x)
    return F.conv2d(x, k, padding=1).pow(2).sum(1).sqrt()


def centre_prior(n, size):
    # a Gaussian bump in the middle of every image
    r = torch.arange(size) - (size - 1) / 2
    d2 = r[:, None] ** 2 + r[None] ** 2
    bump = torch.exp(-d2 / (2 * (size / 4) ** 2))
    return bump.expand(n, size, size)


def all_maps(model, x, classes, seed=0):
    # one (N, H, W) map per method, non-negative, at the canvas size
    x = x.to(device)
    gc = cam.grad_cam(model, model[4], x, classes)
    gb = attribution.guided_backprop(model, x, classes)[:, 0]
    ig = attribution.integrated_gradients(model, x, classes, steps=32)
    occ = attribution.occlusion(model, x, classes, window=8, stride=4,
                                batch_size=4096)
    g = torch.Generator().manual_seed(seed)
    return {
        "saliency": cam.saliency(model, x, classes),
        "CAM": cam.cam(model, x, classes, features=model[4],
                       classifier=model[7]),
        "Grad-CAM": gc,
        "Grad-CAM++": cam.grad_cam_pp(model, model[4], x, classes),
        "guided backprop": gb.abs(),
        "guided Grad-CAM": (gb * gc).abs(),
        "Integrated Gradients": ig[:, 0].abs(),
        "occlusion": occ[:, 0].clamp(min=0),
        "Score-CAM": cam.score_cam(model, model[3], x, classes),
        "random (baseline)": torch.rand(x.shape[0], *x.shape[-2:],
                                        generator=g).to(device),
        "centre (baseline)": centre_prior(len(x), x.shape[-1]).to(device),
        "Sobel edges (baseline)": sobel_edges(x),
    }


labels = test_set.labels.tolist()
maps = all_maps(net, test_set.images, labels)
print(len(maps), "maps of", len(labels), "canvases, for the label")
''', tags=IGN)

code(r'''
# IG and occlusion against Captum, IG's completeness, on 8 canvases
from captum.attr import IntegratedGradients, Occlusion

few, few_y = test_set.images[:8].to(device), labels[:8]
ours = attribution.integrated_gradients(net, few, few_y, steps=32)
theirs = IntegratedGradients(net).attribute(
    few, torch.zeros_like(few), target=few_y, n_steps=32,
    method="riemann_trapezoid")
print(f"IG: max |ours x 31/32 - Captum| "
      f"{(ours * 31 / 32 - theirs).abs().max():.1e}")
with torch.no_grad():
    logits_x = net(few)[range(8), few_y]
    logits_0 = net(torch.zeros_like(few))[range(8), few_y]
gap = (ours.sum((1, 2, 3)) - (logits_x - logits_0)).abs().max().item()
print(f"IG completeness: max |sum - (f(x) - f(0))| {gap:.1e} "
      f"(logits up to {logits_x.abs().max():.1f})")
occ = attribution.occlusion(net, few, few_y, window=8, stride=4)
ref = Occlusion(net).attribute(few, sliding_window_shapes=(1, 8, 8),
                               strides=(1, 4, 4), target=few_y)
print(f"occlusion: max |ours - Captum| {(occ - ref).abs().max():.1e}")
assert (ours * 31 / 32 - theirs).abs().max() < 1e-4
assert (occ - ref).abs().max() < 1e-4
''', tags=IGN)


md(r'''
PROSE-IG-BASELINES
''')

code(r'''
# IG from three baselines, signed: red adds to the label's logit
blurred = torchvision.transforms.functional.gaussian_blur(few, 9, 3.0)
noise = torch.rand(few.shape, generator=torch.Generator().manual_seed(0))
bases = {"black (0)": torch.zeros_like(few), "blurred": blurred,
         "uniform noise": noise.to(device)}
k = 1
fig, axes = plt.subplots(1, 3, figsize=(7.2, 2.7))
for ax, (name, b) in zip(axes, bases.items(), strict=True):
    ig = attribution.integrated_gradients(net, few, few_y, b, steps=64)
    with torch.no_grad():
        gap = net(few)[range(8), few_y] - net(b)[range(8), few_y]
    err = (ig.sum((1, 2, 3)) - gap).abs().max().item()
    pos = ig.clamp(min=0).sum((1, 2, 3)) / ig.abs().sum((1, 2, 3))
    print(f"{name:>13}: completeness error {err:.1e}, "
          f"positive share of |IG| {pos.mean():.0%}")
    lim = ig[k, 0].abs().max().item()
    ax.imshow(ig[k, 0].cpu(), cmap="bwr", vmin=-lim, vmax=lim)
    t, left, bottom, r = test_set.boxes[k].tolist()
    ax.add_patch(plt.Rectangle((left - 0.5, t - 0.5), r - left, bottom - t,
                               fill=False, ec="k", lw=0.8))
    ax.set_title(f"IG, {name} baseline", fontsize=8)
    ax.axis("off")
fig.tight_layout()
plt.show()
''', tags=IGN, alt="ALT-IG")

code(r'''
def interval(values, n=2000):
    # mean and percentile-bootstrap 95% interval of per-canvas values
    values = np.asarray(values, dtype=float)
    low, high = stats.bootstrap_ci(values, n=n)
    return float(values.mean()), low, high


boxes = test_set.boxes
hits = {m: faithfulness.pointing_game(v, boxes).float().cpu().numpy()
        for m, v in maps.items()}
mass = {m: faithfulness.mass_in_box(v, boxes).cpu().numpy()
        for m, v in maps.items()}
side = test_set.images.shape[-1]
box_share = float(((boxes[:, 2] - boxes[:, 0]) ** 2).float().mean()
                  / side**2)
print(f"the box is {box_share:.1%} of the canvas")
print(f"{'method':>22}  pointing game        mass in box")
for m in maps:
    p, m_ = interval(hits[m]), interval(mass[m])
    print(f"{m:>22}  {p[0]:.2f} [{p[1]:.2f}, {p[2]:.2f}]  "
          f"{m_[0]:.2f} [{m_[1]:.2f}, {m_[2]:.2f}]")
''', tags=IGN)

code(r'''
baselines = [m for m in maps if "baseline" in m]
methods = [m for m in maps if m not in baselines]
best = max(baselines, key=lambda b: mass[b].mean())
print(f"strongest baseline on mass in box: {best}")
print("mass in box minus that baseline's, same canvases (paired):")
beats = {}
for m in methods:
    d, low, high = interval(mass[m] - mass[best])
    beats[m] = low > 0
    print(f"{m:>22}  {d:+.2f} [{low:+.2f}, {high:+.2f}]"
          + ("" if low > 0 or high < 0 else "  (no evidence)"))
''', tags=IGN)

code(r'''
fig, axes = plt.subplots(1, 2, figsize=(7.5, 4.2), sharey=True)
order = sorted(maps, key=lambda m: mass[m].mean())
for ax, (title, score) in zip(axes, [("pointing game", hits),
                                     ("mass in box", mass)], strict=True):
    for k, m in enumerate(order):
        mean, low, high = interval(score[m], n=1000)
        colour = "gray" if "baseline" in m else "C0"
        ax.errorbar(mean, k, xerr=[[mean - low], [high - mean]], fmt="o",
                    color=colour, ms=4, capsize=2)
    ax.set(title=title, xlim=(0, 1))
    ax.axvline(box_share, color="gray", lw=0.6, ls=":")
axes[0].set_yticks(range(len(order)), order, fontsize=7)
fig.tight_layout()
plt.show()
''', alt="ALT-SCORES")

code(r'''
def show_maps(image, panels, ncols=3):
    # a canvas under each map, titles above; 3 per row
    rows = -(-len(panels) // ncols)
    fig, axes = plt.subplots(rows, ncols, figsize=(2.4 * ncols, 2.5 * rows),
                             squeeze=False)
    rgb = image.expand(3, -1, -1).cpu()
    for ax in axes.flat:
        ax.axis("off")
    for ax, (title, m) in zip(axes.flat, panels, strict=False):
        m = m / (m.max() + 1e-12)
        ax.imshow(plot.overlay(rgb, m.cpu()))
        ax.set_title(title, fontsize=8)
    fig.tight_layout()
    plt.show()


k = 0
shown = ["Grad-CAM", "Integrated Gradients", "occlusion",
         "guided backprop", "Sobel edges (baseline)", "Score-CAM"]
show_maps(test_set.images[k], [(m, maps[m][k]) for m in shown])
print("box of this canvas (top, left, bottom, right):", boxes[k].tolist())
''', alt="ALT-ONE")

md(r"""
PROSE-RESULTS

## A shortcut: does the map find the mark?

Now a network that cheats, because we let it. In `planted.canvases(..., shortcut=1.0)`
every canvas carries a bright 3×3 mark on its top rows, at a column that encodes the label
(class $c$ at column $2 + 3c$). The digit is still there, but the mark is easier to read.
We train the same network on such canvases and test it twice: with the mark at its class's
place, and with the mark moved to a random class's place. If the network reads the mark,
its accuracy falls to near chance in the second test, and a faithful map should point at
the mark, not at the digit.
""")

code(r'''
short_train = planted.canvases("train", n_train, shortcut=1.0, seed=2)
short_test = planted.canvases("test", n_test, shortcut=1.0, seed=3)
moved = planted.canvases("test", n_test, shortcut=0.0, seed=3)
show_canvases(short_test.images[:3], short_test.boxes[:3],
              [f"label {int(y)}" for y in short_test.labels[:3]],
              marks=short_test.marks[:3])
short_net = fit_canvases(short_train.images, short_train.labels, epochs)
for what, s in [("mark at its class's place", short_test),
                ("mark at a random place", moved)]:
    a, low, high = stats.mean_ci(accuracy(short_net, s.images, s.labels))
    print(f"{what:>26}: accuracy {a:.1%} [{low:.1%}, {high:.1%}]")
''', tags=IGN, alt="ALT-SHORT")

code(r'''
n_sub = config.pick(quick=200, full=500)  # canvases for the checks below
sub = slice(0, n_sub)
short_labels = short_test.labels[sub].tolist()
short_maps = all_maps(short_net, short_test.images[sub], short_labels)
print(f"{n_sub} canvases")
print(f"{'method':>22}  mass on mark      mass on digit     "
      "peak on mark")
for m, v in short_maps.items():
    on_mark = interval(
        faithfulness.mass_in_box(v, short_test.marks[sub]).cpu())
    on_digit = interval(
        faithfulness.mass_in_box(v, short_test.boxes[sub]).cpu())
    peak = interval(faithfulness.pointing_game(
        v, short_test.marks[sub]).float().cpu())
    print(f"{m:>22}  {on_mark[0]:.2f} [{on_mark[1]:.2f}, {on_mark[2]:.2f}]"
          f"  {on_digit[0]:.2f} [{on_digit[1]:.2f}, {on_digit[2]:.2f}]"
          f"  {peak[0]:.2f}")
mark_share = planted.MARK**2 / side**2
print(f"the mark is {mark_share:.1%} of the canvas")
''', tags=IGN)

md(r"""
PROSE-SHORT-RESULTS

## Sanity check 1: data randomisation

Adebayo et al.'s second test: train the same network on the same canvases with the labels
*shuffled*, so that it can only memorise, and compare its maps with the real network's.
A map that looks the same for both explains the canvas, not what the network learned.
""")

code(r'''
shuffled = train_set.labels[torch.randperm(
    n_train, generator=torch.Generator().manual_seed(0))]
noise_net = fit_canvases(train_set.images, shuffled, epochs)
train_acc = accuracy(noise_net, train_set.images, shuffled).mean()
test_acc = accuracy(noise_net, test_set.images, test_set.labels).mean()
print(f"shuffled labels: training accuracy {train_acc:.1%}, "
      f"test accuracy {test_acc:.1%} (chance 10%)")
noise_maps = all_maps(noise_net, test_set.images[:n_sub], labels[:n_sub])


def rank_similarity(a, b):
    # Spearman rank correlation of two maps (N, H, W), one per image
    out = []
    for m, n in zip(a.flatten(1).cpu().numpy(), b.flatten(1).cpu().numpy(),
                    strict=True):
        constant = m.min() == m.max() or n.min() == n.max()
        out.append(0.0 if constant else spearmanr(m, n).statistic)
    return np.array(out)


print(f"{'method':>22}  Spearman, trained vs shuffled-label net  "
      "mass in box")
for m in methods:
    rho = stats.mean_ci(rank_similarity(maps[m][:n_sub], noise_maps[m]))
    in_box = faithfulness.mass_in_box(noise_maps[m], boxes[:n_sub]).mean()
    print(f"{m:>22}  {rho[0]:+.2f} [{rho[1]:+.2f}, {rho[2]:+.2f}]"
          f"                        {in_box:.2f}")
''', tags=IGN)

md(r"""
PROSE-DATA-RAND-RESULTS

## Sanity check 2: model-parameter randomisation, on 50 photos

Adebayo et al.'s first test on a real network: replace MobileNetV2's weights by random
ones and see whether the maps change. *Cascading* randomisation replaces the modules from
the top down (the classifier first, then the blocks from `features[18]` down) and
compares with the trained network's maps after each step; *independent* randomisation
replaces one module at a time, the rest trained. Each new weight tensor is drawn from a
normal distribution with the trained tensor's mean and standard deviation, so activations
keep their scale. Similarity is Spearman's rank correlation between the trained and the
randomised map of each photo, for the class the trained network predicted.

The photos: the first five of each class of Imagenette's validation set, 50 in all,
resized from 160 to 112 pixels in quick mode (224 in full mode) to keep the backward
passes affordable on a CPU.
""")

code(r'''
mobilenet = models.pretrained_mobilenet_v2().to(device).eval()
names = data.imagenet_classes()
size = config.pick(quick=112, full=224)
val = torchvision.datasets.ImageFolder(data.imagenette("val"))
wnid = data.imagenette_classes()


def to_input(path):
    # a 160 px Imagenette photo -> normalised (3, size, size)
    x = torch.from_numpy(np.array(val.loader(path))).permute(2, 0, 1)
    x = F.interpolate(x[None].float() / 255, (size, size),
                      mode="bilinear", antialias=True)
    return images.normalize(x[0])


per_class = 5
photos, targets = [], []
for k, c in enumerate(val.classes):
    paths = [p for p, y in val.samples if y == k][:per_class]
    photos += [to_input(p) for p in paths]
    targets += [wnid[c][1]] * len(paths)
photos = torch.stack(photos).to(device)
with torch.no_grad():
    predicted = mobilenet(photos).argmax(1).tolist()
top1 = np.mean(np.equal(predicted, targets))
print(f"{len(photos)} photos at {size} px, {per_class} per class; "
      f"MobileNetV2 top-1 right on {top1:.0%}")
''', tags=IGN)

code(r'''
def photo_maps(model, x, classes):
    # Grad-CAM and saliency from one backward pass, guided backprop, and
    # guided Grad-CAM; each (N, H, W)
    store = {}
    hook = model.features.register_forward_hook(
        lambda module, inputs, output: store.update(A=output))
    try:
        xg = x.clone().requires_grad_(True)
        logits = model(xg)
    finally:
        hook.remove()
    score = cam.target_score(logits, torch.tensor(classes, device=x.device))
    gx, ga = torch.autograd.grad(score, [xg, store["A"]])
    acts = store["A"].detach()
    gc = cam.scale_and_resize(
        torch.einsum("nk,nkhw->nhw", ga.mean((2, 3)), acts).clamp(min=0),
        x.shape[-2:])
    gb = attribution.guided_backprop(model, x, classes)
    return {"Grad-CAM": gc, "saliency": gx.abs().amax(1),
            "guided backprop": gb.abs().amax(1),
            "guided Grad-CAM": (gb * gc[:, None]).abs().amax(1)}


original = photo_maps(mobilenet, photos, predicted)
check_gc = cam.grad_cam(mobilenet, mobilenet.features, photos, predicted)
check_sal = cam.saliency(mobilenet, photos, predicted, raw=True)
print("vs cam.grad_cam, cam.saliency: max differences "
      f"{(original['Grad-CAM'] - check_gc).abs().max():.1e}, "
      f"{(original['saliency'] - check_sal).abs().max():.1e}")
assert (original["Grad-CAM"] - check_gc).abs().max() < 1e-4
''', tags=IGN)

code(r'''
def randomise_(module, generator):
    # new weights with each tensor's trained mean and std
    with torch.no_grad():
        for p in module.parameters():
            if p.numel() > 1:
                noise = torch.randn(p.shape, generator=generator)
                p.copy_(p.mean() + p.std() * noise.to(p.device))


def part(model, name):
    return (model.classifier if name == "classifier"
            else model.features[int(name.removeprefix("features."))])


blocks = config.pick(quick=[18, 14, 10, 5, 0],
                     full=list(range(18, -1, -1)))
cascade = ["classifier"] + [f"features.{i}" for i in blocks]
independent = config.pick(quick=["classifier", "features.14",
                                 "features.5"],
                          full=cascade)
similarity = {"cascading": {}, "independent": {}}
generator = torch.Generator().manual_seed(0)
random_net = copy.deepcopy(mobilenet)
done = []
for name in cascade:
    # randomise this module and every block above it not yet randomised
    todo = ["classifier"] if name == "classifier" else [
        f"features.{i}" for i in range(18, int(name[9:]) - 1, -1)]
    for p in todo:
        if p not in done:
            randomise_(part(random_net, p), generator)
            done.append(p)
    maps_now = photo_maps(random_net, photos, predicted)
    similarity["cascading"][name] = {
        m: rank_similarity(original[m], maps_now[m]) for m in original}
    print(f"{name:>12}: {len(done):>2} modules random")
fully_random = maps_now
for name in independent:
    one_random = copy.deepcopy(mobilenet)
    randomise_(part(one_random, name), generator)
    maps_now = photo_maps(one_random, photos, predicted)
    similarity["independent"][name] = {
        m: rank_similarity(original[m], maps_now[m]) for m in original}
print(f"independent: {len(independent)} modules, one at a time")
for kind, steps in similarity.items():
    print(kind)
    for m in original:
        row = [stats.mean_ci(steps[s][m])[0] for s in steps]
        print(f"{m:>16}: " + " ".join(f"{v:+.2f}" for v in row))
''', tags=IGN)

code(r'''
fig, axes = plt.subplots(1, 2, figsize=(8, 3.6), sharey=True)
for ax, (kind, steps) in zip(axes, similarity.items(), strict=True):
    for j, m in enumerate(original):
        ci = [stats.mean_ci(steps[s][m]) for s in steps]
        mean = [c[0] for c in ci]
        ax.fill_between(range(len(ci)), [c[1] for c in ci],
                        [c[2] for c in ci], alpha=0.2, color=f"C{j}")
        ax.plot(mean, marker="o", ms=3, label=m, color=f"C{j}")
        for s_i, s in enumerate(steps):  # each photo, as a faint dot
            ax.scatter(np.full(len(steps[s][m]), s_i + 0.1 * (j - 1.5)),
                       steps[s][m], s=1, color=f"C{j}", alpha=0.3)
    ax.set_xticks(range(len(steps)), list(steps), rotation=60, fontsize=7)
    ax.axhline(0, color="gray", lw=0.5)
    ax.set(title=f"{kind} randomisation", ylim=(-1, 1.05))
axes[0].set(ylabel="Spearman vs trained map")
axes[0].legend(fontsize=6)
fig.tight_layout()
plt.show()
''', alt="ALT-RAND")

md(r"""
PROSE-RAND-RESULTS
""")

code(r'''
def edge_map(x):
    # Sobel magnitude of the photo's grey image, (N, H, W)
    grey = images.denormalize(x).mean(1, keepdim=True)
    return sobel_edges(grey)


edges = edge_map(photos)
print("Spearman of each map with the photo's edge map, mean [95% CI]")
print(f"{'':>16}  trained net           all random")
for m in original:
    a = stats.mean_ci(rank_similarity(original[m], edges))
    b = stats.mean_ci(rank_similarity(fully_random[m], edges))
    print(f"{m:>16}  {a[0]:+.2f} [{a[1]:+.2f}, {a[2]:+.2f}]  "
          f"{b[0]:+.2f} [{b[1]:+.2f}, {b[2]:+.2f}]")
''', tags=IGN)

md(r"""
PROSE-EDGES

## Faithfulness: deletion and insertion, with intervals

The sanity checks say whether a map depends on the model. Faithfulness asks whether the
model depends on what the map shows. *Deletion* (Petsiuk et al., 2018): set the pixels to
the mean colour in the map's order, most important first, in 20 steps, and follow the
class probability; a faithful map makes it collapse early, a small area under the curve.
*Insertion*: start from a blurred copy and put the original pixels back in the same
order; a large area is good. On the same 50 photos, for the predicted class, we compare
Grad-CAM, saliency and a random order, and rank two methods only when the bootstrap
interval of their paired area difference excludes zero.
""")

code(r'''
steps = 20
g = torch.Generator().manual_seed(0)
photo_heat = {"Grad-CAM": original["Grad-CAM"],
              "saliency": original["saliency"],
              "random": torch.rand(photos.shape[0], size, size,
                                   generator=g).to(device)}
areas = {}
for m, heat in photo_heat.items():
    f, deletion, insertion = faithfulness.deletion_insertion(
        mobilenet, photos, heat, predicted, steps=steps)
    areas[m] = (faithfulness.curve_area(f, deletion),
                faithfulness.curve_area(f, insertion))
print(f"{len(photos)} photos, {steps} steps per curve")
print(f"{'method':>9}  deletion (lower better)  insertion (higher better)")
for m, (d, i) in areas.items():
    print(f"{m:>9}  {d.mean():.3f}                    {i.mean():.3f}")
''', tags=IGN)

code(r'''
print("paired differences of areas, mean [95% bootstrap interval]:")
pairs = [("Grad-CAM", "saliency"), ("Grad-CAM", "random"),
         ("saliency", "random")]
for a, b in pairs:
    for j, curve in enumerate(["deletion", "insertion"]):
        d, low, high = interval(areas[a][j] - areas[b][j])
        verdict = "no evidence" if low <= 0 <= high else (
            f"{a} better" if (d < 0) == (curve == "deletion")
            else f"{b} better")
        print(f"{curve:>9} {a} - {b}: {d:+.3f} [{low:+.3f}, {high:+.3f}]"
              f"  {verdict}")
''', tags=IGN)

md(r"""
Deletion has a flaw that Rong et al. (2022) made the point of their ROAD benchmark
("Remove And Debias"): the removed pixels, set to a constant, form a pattern of holes the
network never saw in training, and the shape of the holes carries information of its own.
A map that removes scattered pixels (a random map, or a speckled saliency map) destroys
the image's statistics faster than one that removes a compact region, and is rewarded
for it. ROAD fills each removed pixel by *noisy linear imputation* instead, the weighted
mean of its neighbours plus a little noise, so that what remains looks like an image. It
removes a fraction of the pixels most relevant first (MoRF) or least relevant first (LeRF).
`faithfulness.road` first, checked against pytorch-grad-cam's `metrics.road` without the
noise (the two draw their noise differently):
""")

code(r'''
from pytorch_grad_cam.metrics.perturbation_confidence import (
    PerturbationConfidenceMetric, RemoveMostRelevantFirst)
from pytorch_grad_cam.metrics.road import NoisyLinearImputer
from pytorch_grad_cam.utils.model_targets import (
    ClassifierOutputSoftmaxTarget)

few_maps = maps["Integrated Gradients"][:8]  # no ties (see the docstring)
ours = faithfulness.road(net, few, few_maps, few_y, removed=[0.5],
                         noise=0.0)[:, 0]
metric = PerturbationConfidenceMetric(
    RemoveMostRelevantFirst(50, NoisyLinearImputer(noise=0.0)))
theirs = metric(few, few_maps.cpu().numpy(),
                [ClassifierOutputSoftmaxTarget(c) for c in few_y], net,
                return_diff=False)
print(f"ROAD, 8 canvases, half removed: max |ours - pytorch-grad-cam| "
      f"{np.abs(ours - theirs).max():.1e}")
assert np.abs(ours - theirs).max() < 1e-4
''', tags=IGN)

code(r'''
removed = [0.1, 0.3, 0.5, 0.7, 0.9]
n_road = config.pick(quick=100, full=500)
road_methods = ["Grad-CAM", "Integrated Gradients", "saliency",
                "random (baseline)", "Sobel edges (baseline)"]
x_road = test_set.images[:n_road].to(device)
fill_curves, road_curves = {}, {}
for m in road_methods:
    heat = maps[m][:n_road]
    f, deletion, _ = faithfulness.deletion_insertion(
        net, x_road, heat, labels[:n_road], steps=10, blur_kernel=5,
        blur_sigma=2.0)
    fill_curves[m] = deletion[:, [1, 3, 5, 7, 9]]
    road_curves[m] = faithfulness.road(net, x_road, heat, labels[:n_road],
                                       removed=removed)
print(f"{n_road} canvases; mean probability of the label with a fraction "
      "removed,")
print("most relevant first (lower = the map found what the net needs)")
print(f"{'':>22}  " + "  ".join(f"{r:>4}" for r in removed))
for what, curves in [("set to 0", fill_curves), ("ROAD", road_curves)]:
    print(what)
    for m in road_methods:
        print(f"{m:>22}  " + "  ".join(f"{v:.2f}" for v in
                                       curves[m].mean(0)))
''', tags=IGN)

code(r'''
print("random map minus Grad-CAM, mean over the removed fractions:")
for what, curves in [("set to 0", fill_curves), ("ROAD", road_curves)]:
    diff = curves["random (baseline)"].mean(1) - curves["Grad-CAM"].mean(1)
    d, low, high = interval(diff)
    print(f"{what:>9}: {d:+.3f} [{low:+.3f}, {high:+.3f}]")
''', tags=IGN)

md(r"""
PROSE-ROAD-RESULTS

## Exercises

**1. A pointing game with tolerance.** Zhang et al. (2018) count a hit when the maximum
lies within 15 pixels of the object. Grow every box by 2 pixels on each side and score
the pointing game again for every method. Which methods gain most, and what happens to
the baselines?
""")

code(r'''
# Solution
grown = boxes + torch.tensor([-2, -2, 2, 2])
for m in maps:
    exact = faithfulness.pointing_game(maps[m], boxes).float().mean()
    near = faithfulness.pointing_game(maps[m], grown).float().mean()
    print(f"{m:>22}: {exact:.2f} -> {near:.2f}")
''', tags=("hide-cell", "nbval-ignore-output"))

md(r"""
:::{admonition} Why
:class: dropdown
A map whose peak is at the digit's edge, a pixel or two outside the pasted square, now
counts as a hit; coarse maps (Grad-CAM's 9×9 grid, resized) gain from that. The baselines
gain too, by the area the boxes grew: a tolerance makes every score larger, and only the
distance to the baselines says anything.
:::

**2. What does the cheating network read?** On the test canvases with the mark moved
(`moved`), count how often `short_net` predicts the *mark's* class, (column − 2) / 3, and
how often the digit's.
""")

code(r'''
# Solution
with torch.no_grad():
    pred = short_net(moved.images.to(device)).argmax(1).cpu()
mark_class = (moved.marks[:, 1] - 2) // 3
on_mark = (pred == mark_class).float().mean()
on_digit = (pred == moved.labels).float().mean()
print(f"predicts the mark's class: {on_mark:.0%}")
print(f"predicts the digit:        {on_digit:.0%}")
''', tags=("hide-cell", "nbval-ignore-output"))

md(r"""
**3. A finer Grad-CAM.** Compute Grad-CAM at `net[2]` (the second block, an 18×18 grid)
for the 500 test canvases and compare its mass in box with Grad-CAM at `net[4]`, with a
paired interval.
""")

code(r'''
# Solution
fine = cam.grad_cam(net, net[2], test_set.images.to(device), labels)
fine_mass = faithfulness.mass_in_box(fine, boxes).cpu().numpy()
d, low, high = interval(fine_mass - mass["Grad-CAM"])
print(f"net[2] mass in box {fine_mass.mean():.2f}, net[4] "
      f"{mass['Grad-CAM'].mean():.2f}; difference {d:+.2f} "
      f"[{low:+.2f}, {high:+.2f}]")
''', tags=("hide-cell", "nbval-ignore-output"))

md(r"""
**4. SmoothGrad on the benchmark.** Average the raw saliency map over 8 copies of each test
canvas with Gaussian noise (std 0.15) and compare its mass in box with plain saliency,
with a paired interval. Does smoothing move the mass into the box?
""")

code(r'''
# Solution
g = torch.Generator().manual_seed(0)
xs = test_set.images.to(device)
smooth = sum(cam.saliency(net, xs + 0.15 * torch.randn(
    xs.shape, generator=g).to(device), labels, raw=True) for _ in range(8))
smooth_mass = faithfulness.mass_in_box(smooth, boxes).cpu().numpy()
d, low, high = interval(smooth_mass - mass["saliency"])
print(f"SmoothGrad {smooth_mass.mean():.2f}, saliency "
      f"{mass['saliency'].mean():.2f}: {d:+.2f} [{low:+.2f}, {high:+.2f}]")
''', tags=("hide-cell", "nbval-ignore-output"))

md(r"""
## Summary

PROSE-SUMMARY

## Further reading

PROSE-FURTHER
""")

nb = nbformat.v4.new_notebook()
nb.cells = cells
nb.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python",
                              "name": "python3"},
               "language_info": {"name": "python"}}
nbformat.write(nb, sys.argv[1] if len(sys.argv) > 1 else "book/18_trust_heatmaps.ipynb")
