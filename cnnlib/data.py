"""Datasets, sample photos and pretrained weights, offline first.

Every data file has a SHA-256 in :data:`FILES`. A file is looked for, in order, in

1. the folder named by the environment variable ``CNNLIB_DATA``,
2. the ``data/`` folder of the course checkout this module lives in,
3. a cache folder (``CNNLIB_CACHE``, default ``~/.cache/cnnlib``), which is filled by a
   download from the course's GitHub repository (:data:`DATA_URL`) when online (Colab).

The first copy found is verified against its SHA-256 before use: a corrupted file raises
:class:`CorruptDataError`, never loads silently. With no copy and no network, a
:class:`FileNotFoundError` names the file and says how to get it.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from cnnlib import REPO

DATA_URL = f"https://raw.githubusercontent.com/{REPO}/main/data/"
"""Where missing files are downloaded from (the ``data/`` folder of the course repository)."""

# Relative path under data/ -> SHA-256. data/SHA256SUMS lists the same (a test checks it).
FILES: dict[str, str] = {
    "mnist/train-images-idx3-ubyte.gz":
        "db8f937d487057fb14a9f0fbe97f0bc8d311ab41b750d41e1ff37c43b9e55e19",
    "mnist/train-labels-idx1-ubyte.gz":
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "mnist/t10k-images-idx3-ubyte.gz":
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "mnist/t10k-labels-idx1-ubyte.gz":
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    "cifar10/cifar10_jpg_train500x10_test100x10.zip":
        "d70efe84cc055d1fba7ca1d2ce3232e2a0e731f42dbda39ed880c073c801c29e",
    "imagenette/imagenette160_train_100per_class.zip":
        "ec9e16e68535525ebc703dd40c8d5d988feeaba6afd28230286cddab8804334f",
    "imagenette/imagenette160_val_50per_class.zip":
        "44ba1ac73ad68f104566a52607ea5ae278a1249c7f084f6814681b7bfa0c628b",
    "imagenette/classes.csv":
        "bd53c1c73cee7ea4c922817ecce10c362da60316e87e4d468678f24455f05916",
    "mobilenet_v2/mobilenet_v2_imagenet_fp16.pth":
        "5233d588e24ab35f915df95cb1275fc0ec16c11ffb01e0f7457709973690268f",
}

SPLITS = ("train", "test")
CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
)  # fmt: skip

SKIMAGE_PHOTOS = ("astronaut", "brick", "camera", "cat", "chelsea", "coffee", "coins", "rocket")
MATPLOTLIB_PHOTOS = {"grace_hopper": "grace_hopper.jpg"}


class CorruptDataError(ValueError):
    """A data file exists but its SHA-256 does not match the manifest."""


@dataclass(frozen=True)
class ImageSet:
    """Images with integer labels: ``images`` is uint8 (N, C, H, W), ``labels`` int64 (N,)."""

    images: torch.Tensor
    labels: torch.Tensor
    classes: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.labels)


# --------------------------------------------------------------------------- locating files


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cache_dir() -> Path:
    """The download cache: ``CNNLIB_CACHE`` or ``~/.cache/cnnlib``."""
    return Path(os.environ.get("CNNLIB_CACHE", Path.home() / ".cache" / "cnnlib")).expanduser()


def search_dirs() -> list[Path]:
    """The folders searched for data files, in order (see the module docstring)."""
    dirs = []
    if os.environ.get("CNNLIB_DATA"):
        dirs.append(Path(os.environ["CNNLIB_DATA"]).expanduser())
    checkout = Path(__file__).resolve().parents[1] / "data"
    if (checkout / "SHA256SUMS").is_file():
        dirs.append(checkout)
    dirs.append(cache_dir())
    return dirs


_verified: dict[tuple[str, int, int], bool] = {}


def verify(path: Path, name: str) -> Path:
    """Check ``path`` against the SHA-256 of data file ``name``; raise CorruptDataError if not."""
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _verified:
        actual = _sha256(path)
        if actual != FILES[name]:
            raise CorruptDataError(
                f"{path} is corrupted or out of date: its SHA-256 is {actual}, expected "
                f"{FILES[name]}. Delete it and run again to download a fresh copy, or restore "
                f"it with `git checkout -- data/{name}` in a clone of the course."
            )
        _verified[key] = True
    return path


def _download(name: str, dest: Path) -> None:
    url = DATA_URL + name
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=dest.parent, delete=False) as tmp:
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                shutil.copyfileobj(response, tmp)
        except (urllib.error.URLError, OSError) as err:
            tmp.close()
            os.unlink(tmp.name)
            raise FileNotFoundError(
                f"Data file {name!r} is not on this machine and could not be downloaded from "
                f"{url} ({err}). Run from a clone of https://github.com/{REPO} (its data/ "
                "folder has every file), point CNNLIB_DATA at a folder that holds it, or go "
                "online and run again."
            ) from err
    actual = _sha256(Path(tmp.name))
    if actual != FILES[name]:
        os.unlink(tmp.name)
        raise CorruptDataError(
            f"The download of {url} has SHA-256 {actual}, expected {FILES[name]}; nothing was "
            "saved. Try again later, or use a clone of the course repository."
        )
    os.replace(tmp.name, dest)


def fetch(name: str, download: bool = True) -> Path:
    """Return the verified local path of data file ``name`` (a key of :data:`FILES`).

    Downloads into :func:`cache_dir` when no local copy exists and ``download`` is true.
    """
    if name not in FILES:
        raise ValueError(f"Unknown data file {name!r}; known files: {', '.join(sorted(FILES))}.")
    for folder in search_dirs():
        candidate = folder / name
        if candidate.is_file():
            return verify(candidate, name)
    dest = cache_dir() / name
    if not download:
        searched = ", ".join(str(d) for d in search_dirs())
        raise FileNotFoundError(
            f"Data file {name!r} not found in {searched}. Call with download=True when online, "
            "or set CNNLIB_DATA to a folder that holds it."
        )
    _download(name, dest)
    return verify(dest, name)


def _check_split(split: str, splits: tuple[str, ...] = SPLITS) -> None:
    if split not in splits:
        raise ValueError(f"split must be one of {splits}, got {split!r}.")


# --------------------------------------------------------------------------- datasets


def _read_idx(file: Path) -> np.ndarray:
    """Read an IDX file (MNIST's format): magic, dims as big-endian int32, then uint8 data."""
    raw = gzip.decompress(file.read_bytes())
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def mnist(split: str = "train") -> ImageSet:
    """Full MNIST: 60,000 training or 10,000 test digits, uint8 (N, 1, 28, 28), labels 0-9."""
    _check_split(split)
    prefix = "train" if split == "train" else "t10k"
    images = _read_idx(fetch(f"mnist/{prefix}-images-idx3-ubyte.gz"))
    labels = _read_idx(fetch(f"mnist/{prefix}-labels-idx1-ubyte.gz"))
    return ImageSet(
        images=torch.from_numpy(images.copy()).unsqueeze(1),
        labels=torch.from_numpy(labels.astype(np.int64)),
        classes=tuple(str(d) for d in range(10)),
    )


def cifar10_subset(split: str = "train") -> ImageSet:
    """CIFAR-10 subset: 500 training or 100 test images per class, uint8 (N, 3, 32, 32).

    The images are JPEGs (quality about 75) of the originals: see data/README.md.
    """
    from PIL import Image

    _check_split(split)
    images, labels = [], []
    with zipfile.ZipFile(fetch("cifar10/cifar10_jpg_train500x10_test100x10.zip")) as zf:
        names = sorted(n for n in zf.namelist() if n.startswith(f"{split}/") and n.endswith(".jpg"))
        for name in names:
            label = CIFAR10_CLASSES.index(name.split("/")[1])
            with Image.open(io.BytesIO(zf.read(name))) as im:
                images.append(np.asarray(im.convert("RGB")))
            labels.append(label)
    return ImageSet(
        images=torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous(),
        labels=torch.tensor(labels, dtype=torch.int64),
        classes=CIFAR10_CLASSES,
    )


def subset(s: ImageSet, labels: list[int] | None = None, n: int | None = None, seed: int = 0) -> ImageSet:
    """Keep only the samples whose label is in ``labels`` (relabelled 0, 1, ... in that order),
    then, if ``n`` is given, a random ``n`` of them (seeded). E.g. MNIST 3s vs 7s:
    ``subset(mnist("train"), labels=[3, 7])`` has labels 0 (a 3) and 1 (a 7)."""
    images, targets, classes = s.images, s.labels, s.classes
    if labels is not None:
        unknown = [c for c in labels if isinstance(c, bool) or not isinstance(c, int)
                   or not 0 <= c < len(s.classes)]
        if not labels or unknown:
            raise ValueError(f"labels must be a non-empty list of class indices in 0..{len(s.classes) - 1}, "
                             f"got {labels}.")
        if len(set(labels)) != len(labels):
            raise ValueError(f"labels must not repeat a class, got {labels}.")
        keep = torch.isin(targets, torch.tensor(labels))
        new_label = torch.full((len(s.classes),), -1, dtype=torch.int64)
        new_label[torch.tensor(labels)] = torch.arange(len(labels))  # old label -> position in labels
        images, targets = images[keep], new_label[targets[keep]]
        classes = tuple(s.classes[c] for c in labels)
    if n is not None:
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= len(targets):
            raise ValueError(f"n must be an int between 1 and {len(targets)} (the samples left), got {n!r}.")
        idx = torch.randperm(len(targets), generator=torch.Generator().manual_seed(seed))[:n]
        images, targets = images[idx], targets[idx]
    return ImageSet(images=images, labels=targets, classes=classes)


IMAGENETTE_SPLITS = ("train", "val")


def imagenette_classes() -> dict[str, tuple[str, int]]:
    """Map each Imagenette folder name (a WordNet id) to (class name, ImageNet-1k index)."""
    with open(fetch("imagenette/classes.csv"), newline="") as f:
        return {row["wnid"]: (row["name"], int(row["imagenet_index"])) for row in csv.DictReader(f)}


def imagenette(split: str = "train") -> Path:
    """Imagenette at 160×160 px: a folder with one sub-folder of JPEGs per class.

    ``train`` has 100 images per class, ``val`` 50. The zip is unpacked once into the cache;
    the folder works with ``torchvision.datasets.ImageFolder`` and fastai's ``from_folder``.
    """
    _check_split(split, IMAGENETTE_SPLITS)
    per_class = 100 if split == "train" else 50
    name = f"imagenette/imagenette160_{split}_{per_class}per_class.zip"
    archive = fetch(name)
    dest = cache_dir() / "unpacked" / f"imagenette160-{split}-{FILES[name][:12]}"
    if not (dest / ".complete").is_file():
        shutil.rmtree(dest, ignore_errors=True)
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(dest)
        (dest / ".complete").touch()
    return dest / split


# --------------------------------------------------------------------------- photos and weights


def sample_image(name: str) -> np.ndarray:
    """A real photograph as a NumPy array: uint8, (H, W, 3) RGB or (H, W) grayscale.

    From scikit-image (``astronaut``, ``brick``, ``camera``, ``cat``, ``chelsea``, ``coffee``,
    ``coins``, ``rocket``) or matplotlib (``grace_hopper``); both ship inside the installed
    packages, so no download is needed.
    """
    if name in SKIMAGE_PHOTOS:
        import skimage.data

        return getattr(skimage.data, name)()
    if name in MATPLOTLIB_PHOTOS:
        from matplotlib import cbook
        from PIL import Image

        with cbook.get_sample_data(MATPLOTLIB_PHOTOS[name]) as f, Image.open(f) as im:
            return np.array(im.convert("RGB"))  # a writable copy, like skimage's arrays
    known = ", ".join(SKIMAGE_PHOTOS + tuple(MATPLOTLIB_PHOTOS))
    raise ValueError(f"Unknown sample image {name!r}; choose one of: {known}.")


def imagenet_classes() -> list[str]:
    """The 1,000 ImageNet class names in index order (shipped inside torchvision)."""
    from torchvision.models import MobileNet_V2_Weights

    return list(MobileNet_V2_Weights.IMAGENET1K_V1.meta["categories"])
