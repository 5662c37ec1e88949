"""Datasets, sample photos and pretrained weights, offline first.

Everything a chapter reads comes from here, in four sections, top to bottom: locating files
(:func:`registry`, :func:`fetch`: the search order and the verified download below), the
datasets (:func:`mnist`, :func:`cifar10_subset`, :func:`imagenette`, each read from its own
file format into an :class:`ImageSet` or a folder), cutting a dataset (:func:`subset`,
:func:`split`), and the photos and class names shipped inside installed packages
(:func:`sample_image`, :func:`imagenet_classes`).

Every data file is listed with its SHA-256 in the registry ``cnnlib/SHA256SUMS`` (the format
of ``sha256sum``; ``cd data && sha256sum -c ../cnnlib/SHA256SUMS`` checks a checkout). A file
is looked for, in order, in

1. the folder named by the environment variable ``CNNLIB_DATA``,
2. the ``data/`` folder of the course checkout this module lives in,
3. a cache folder (``CNNLIB_CACHE``, default ``~/.cache/cnnlib``), which is filled by a
   download (through pooch, with a progress bar) from the course repository's ``data/``
   folder, or from a mirror named by ``CNNLIB_DATA_URL`` (a classroom server, a fork).

A local copy is verified against its SHA-256 before use: a corrupted file raises
:class:`CorruptDataError`, never loads silently. A download is verified before it is kept: a
bad one is thrown away. With no copy and no network, a :class:`FileNotFoundError` names the
file and says how to get it.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import os
import shutil
import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import torch

from cnnlib import REPO, check

_DEFAULT_URL = f"https://raw.githubusercontent.com/{REPO}/main/data/"
_CHECKOUT_DATA = Path(__file__).resolve().parents[1] / "data"
_RETRIES = 2  # a flaky connection gets two more tries

SPLITS = ("train", "test")
CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
)  # fmt: skip

SKIMAGE_PHOTOS = ("astronaut", "brick", "camera", "cat", "chelsea", "coffee", "coins", "rocket")
MATPLOTLIB_PHOTOS = {"grace_hopper": "grace_hopper.jpg"}


class CorruptDataError(ValueError):
    """A data file exists but its SHA-256 does not match the registry."""


@dataclass(frozen=True)
class ImageSet:
    """Images with integer labels: ``images`` is uint8 (N, C, H, W), ``labels`` int64 (N,)."""

    images: torch.Tensor
    labels: torch.Tensor
    classes: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.labels)


# --------------------------------------------------------------------------- locating files


@cache
def registry() -> dict[str, str]:
    """Every data file of the course (its path under ``data/``) -> its SHA-256."""
    lines = (Path(__file__).with_name("SHA256SUMS")).read_text().splitlines()
    return {name: digest for digest, name in (line.split() for line in lines if line.strip())}


def _cache_dir() -> Path:
    return Path(os.environ.get("CNNLIB_CACHE", Path.home() / ".cache" / "cnnlib")).expanduser()


def _base_url() -> str:
    url = os.environ.get("CNNLIB_DATA_URL", "").strip() or _DEFAULT_URL
    return url if url.endswith("/") else url + "/"


def _search_dirs() -> list[Path]:
    """The local folders searched before the cache, in order (see the module docstring)."""
    dirs = []
    if os.environ.get("CNNLIB_DATA"):
        dirs.append(Path(os.environ["CNNLIB_DATA"]).expanduser())
    if (_CHECKOUT_DATA / "README.md").is_file():
        dirs.append(_CHECKOUT_DATA)
    return dirs


_verified: dict[tuple[str, int, int], bool] = {}


def _verify(path: Path, name: str) -> Path:
    """Check ``path`` against the registry's SHA-256 for ``name``; raise CorruptDataError if not."""
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _verified:
        expected, actual = registry()[name], _sha256(path)
        if actual != expected:
            raise CorruptDataError(
                f"{path} is corrupted or out of date: its SHA-256 is {actual}, expected "
                f"{expected}. Delete it and run again to download a fresh copy, or restore "
                f"it with `git checkout -- data/{name}` in a clone of the course."
            )
        _verified[key] = True
    return path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _download(name: str) -> Path:
    """Fetch ``name`` into the cache with pooch: verified before it is kept, else removed."""
    import pooch  # only when a download is needed: pooch brings tqdm, which warns in Jupyter
    import requests

    url = _base_url() + name
    fetcher = pooch.create(path=_cache_dir(), base_url=_base_url(), registry=registry(),
                           retry_if_failed=_RETRIES)
    try:
        import tqdm  # noqa: F401  (pooch's progress bar)

        progress = True
    except ImportError:
        progress = False
    try:
        return Path(fetcher.fetch(name, progressbar=progress))
    except ValueError as err:  # pooch: the downloaded file's hash does not match
        raise CorruptDataError(
            f"The download of {url} does not match its SHA-256 {registry()[name]}; nothing was "
            "saved. Check CNNLIB_DATA_URL (it must serve the course's data/ folder), try "
            f"again later, or use a clone of https://github.com/{REPO}."
        ) from err
    except (requests.exceptions.RequestException, OSError) as err:  # offline, 404, refused
        raise FileNotFoundError(
            f"Data file {name!r} is not on this machine and could not be downloaded from "
            f"{url} ({type(err).__name__}). Run from a clone of https://github.com/{REPO} "
            "(its data/ folder has every file), point CNNLIB_DATA at a folder that holds it, "
            "set CNNLIB_DATA_URL to a mirror, or go online and run again."
        ) from err


def fetch(name: str, download: bool = True) -> Path:
    """The verified local path of course data file ``name`` (a key of :func:`registry`).

    Looks in ``CNNLIB_DATA``, the checkout's ``data/`` and the cache; downloads into the cache
    when no copy exists and ``download`` is true.
    """
    check.instance("name", name, str, "the path of a data file under data/, e.g. 'imagenette/classes.csv'")
    if name not in registry():
        raise ValueError(f"Unknown data file {name!r}; known files: {', '.join(sorted(registry()))}. "
                         "Pass one of them as name.")
    for folder in _search_dirs():
        if (folder / name).is_file():
            return _verify(folder / name, name)
    cached = _cache_dir() / name
    if cached.is_file() and _sha256(cached) == registry()[name]:
        return cached
    if not download:
        searched = ", ".join(str(d) for d in [*_search_dirs(), _cache_dir()])
        raise FileNotFoundError(
            f"Data file {name!r} not found in {searched}. Call with download=True when online, "
            "or set CNNLIB_DATA to a folder that holds it."
        )
    return _verify(_download(name), name)


# --------------------------------------------------------------------------- datasets


def _check_split(split: str, splits: tuple[str, ...] = SPLITS) -> None:
    if split not in splits:
        raise ValueError(f"split must be one of {splits}, got {split!r}.")


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
    dest = _cache_dir() / "unpacked" / f"imagenette160-{split}-{registry()[name][:12]}"
    if not (dest / ".complete").is_file():
        shutil.rmtree(dest, ignore_errors=True)
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(dest)
        (dest / ".complete").touch()
    return dest / split


# --------------------------------------------------------------------------- cutting a dataset


def subset(s: ImageSet, labels: list[int] | None = None, n: int | None = None, seed: int = 0) -> ImageSet:
    """Keep only the samples whose label is in ``labels`` (relabelled 0, 1, ... in that order),
    then, if ``n`` is given, a random ``n`` of them (seeded). E.g. MNIST 3s vs 7s:
    ``subset(mnist("train"), labels=[3, 7])`` has labels 0 (a 3) and 1 (a 7)."""
    check.instance("s", s, ImageSet, "an ImageSet (e.g. data.mnist('train'))")
    images, targets, classes = s.images, s.labels, s.classes
    if labels is not None:
        if isinstance(labels, (str, bytes)) or not isinstance(labels, Sequence):
            raise TypeError(f"labels must be a list of class indices, got {type(labels).__name__}.")
        unknown = [c for c in labels if not check.is_int(c) or not 0 <= c < len(s.classes)]
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
        check.int_where("n", n, lambda n: 1 <= n <= len(targets),
                        f"an int between 1 and {len(targets)} (the samples left)")
        idx = torch.randperm(len(targets), generator=torch.Generator().manual_seed(seed))[:n]
        images, targets = images[idx], targets[idx]
    return ImageSet(images=images, labels=targets, classes=classes)


def split(s: ImageSet, n_valid: int, seed: int = 0) -> tuple[ImageSet, ImageSet]:
    """Split ``s`` at random (seeded) into a training part and a held-out validation part
    of ``n_valid`` samples; every sample lands in exactly one part.

    Use the validation part for every choice (learning rate, epochs, architecture) and keep
    the test set for one final check, e.g. ``train, valid = split(mnist("train"), 10_000)``.
    """
    check.instance("s", s, ImageSet, "an ImageSet (e.g. data.mnist('train'))")
    check.int_where("n_valid", n_valid, lambda n: 1 <= n < len(s),
                    f"an int between 1 and {len(s) - 1} (the set has {len(s)} samples, and both "
                    "parts need some)")
    order = torch.randperm(len(s), generator=torch.Generator().manual_seed(seed))
    valid, train = order[:n_valid], order[n_valid:]
    return (ImageSet(images=s.images[train], labels=s.labels[train], classes=s.classes),
            ImageSet(images=s.images[valid], labels=s.labels[valid], classes=s.classes))


# --------------------------------------------------------------------------- photos and weights


def sample_image(name: str) -> np.ndarray:
    """A real photograph as a NumPy array: uint8, (H, W, 3) RGB or (H, W) grayscale.

    From scikit-image (``astronaut``, ``brick``, ``camera``, ``cat``, ``chelsea``, ``coffee``,
    ``coins``, ``rocket``) or matplotlib (``grace_hopper``); both ship inside the installed
    packages, so no download is needed.
    """
    check.instance("name", name, str, "the name of a photo, e.g. 'camera'")
    if name in SKIMAGE_PHOTOS:
        # skimage.data loads lazily and imports tqdm.auto on first use, which warns in
        # a notebook without ipywidgets
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="IProgress not found")
            import skimage.data

            return getattr(skimage.data, name)()
    if name in MATPLOTLIB_PHOTOS:
        from matplotlib import cbook
        from PIL import Image

        with cbook.get_sample_data(MATPLOTLIB_PHOTOS[name]) as f, Image.open(f) as im:
            return np.array(im.convert("RGB"))  # a writable copy, like skimage's arrays
    known = ", ".join(SKIMAGE_PHOTOS + tuple(MATPLOTLIB_PHOTOS))
    raise ValueError(f"Unknown sample image {name!r}; choose one of: {known} (as name).")


def imagenet_classes() -> list[str]:
    """The 1,000 ImageNet class names in index order (shipped inside torchvision)."""
    from torchvision.models import MobileNet_V2_Weights

    return list(MobileNet_V2_Weights.IMAGENET1K_V1.meta["categories"])
