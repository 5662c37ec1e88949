"""cnnlib.data: the manifest, the offline loaders, and clear errors for bad input."""

import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch

from cnnlib import data, models
from cnnlib.data import ImageSet

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """A data search path with only CNNLIB_DATA=tmp/data and an empty cache, no network."""
    monkeypatch.setenv("CNNLIB_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("CNNLIB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(data, "search_dirs", lambda: [tmp_path / "data", tmp_path / "cache"])

    def offline(url, timeout=None):
        raise data.urllib.error.URLError("network is unreachable (test)")

    monkeypatch.setattr(data.urllib.request, "urlopen", offline)
    (tmp_path / "data").mkdir()
    return tmp_path


def test_manifest_matches_the_sha256sums_file_and_the_files():
    listed = dict(reversed(line.split()) for line in (ROOT / "data" / "SHA256SUMS").read_text().splitlines())
    on_disk = {str(p.relative_to(ROOT / "data")) for p in (ROOT / "data").rglob("*") if p.is_file()}
    assert set(listed) == on_disk - {"README.md", "SHA256SUMS"}, "SHA256SUMS must list every data file"
    assert {k: v for k, v in listed.items() if "LICENSE" not in k} == data.FILES
    for name, digest in listed.items():
        assert hashlib.sha256((ROOT / "data" / name).read_bytes()).hexdigest() == digest, name


def test_data_folder_stays_within_35_mb():
    total = sum(p.stat().st_size for p in (ROOT / "data").rglob("*") if p.is_file())
    assert total <= 35 * 1024 * 1024, f"data/ holds {total / 2**20:.1f} MiB"


def test_mnist_is_the_full_dataset_with_known_label_counts():
    train, test = data.mnist("train"), data.mnist("test")
    assert train.images.shape == (60000, 1, 28, 28) and train.images.dtype == torch.uint8
    assert test.images.shape == (10000, 1, 28, 28)
    assert train.labels.bincount().tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert test.labels.bincount().tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_cifar10_subset_is_balanced_rgb_32px():
    test = data.cifar10_subset("test")
    assert test.images.shape == (1000, 3, 32, 32) and test.images.dtype == torch.uint8
    assert test.labels.bincount().tolist() == [100] * 10
    assert test.classes[0] == "airplane" and len(test.classes) == 10


def test_imagenette_unpacks_to_an_image_folder():
    folder = data.imagenette("val")
    classes = sorted(p.name for p in folder.iterdir())
    assert classes == sorted(data.imagenette_classes())
    assert all(len(list((folder / c).glob("*.JPEG"))) == 50 for c in classes)
    assert data.imagenette_classes()["n01440764"] == ("tench", 0)


def test_pretrained_mobilenet_v2_recognises_the_cat():
    from torchvision.transforms.functional import normalize, resize, to_tensor

    model = models.pretrained_mobilenet_v2()
    x = normalize(resize(to_tensor(data.sample_image("chelsea")), 224),
                  [0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    with torch.no_grad():
        probs = model(x[None]).softmax(1)[0]
    assert data.imagenet_classes()[int(probs.argmax())] == "Egyptian cat"
    assert len(data.imagenet_classes()) == 1000


@pytest.mark.parametrize("name", data.SKIMAGE_PHOTOS + tuple(data.MATPLOTLIB_PHOTOS))
def test_sample_images_are_uint8_arrays(name):
    image = data.sample_image(name)
    assert isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim in (2, 3)


def test_unknown_names_raise_value_errors_that_list_the_choices():
    with pytest.raises(ValueError, match="choose one of: astronaut"):
        data.sample_image("lena")
    with pytest.raises(ValueError, match="Unknown data file 'mnist.npz'; known files:"):
        data.fetch("mnist.npz")
    with pytest.raises(ValueError, match=r"split must be one of \('train', 'test'\)"):
        data.mnist("valid")
    with pytest.raises(ValueError, match="split must be one of"):
        data.imagenette("test")


def test_missing_file_offline_raises_file_not_found_naming_the_file_and_the_fix(isolated):
    with pytest.raises(FileNotFoundError) as err:
        data.fetch("imagenette/classes.csv")
    message = str(err.value)
    assert "imagenette/classes.csv" in message and "CNNLIB_DATA" in message and "online" in message
    assert not (isolated / "cache" / "imagenette" / "classes.csv").exists()


def test_missing_file_without_download_says_where_it_looked(isolated):
    with pytest.raises(FileNotFoundError, match="not found in"):
        data.fetch("imagenette/classes.csv", download=False)


def test_corrupted_file_is_never_loaded(isolated):
    bad = isolated / "data" / "imagenette" / "classes.csv"
    bad.parent.mkdir()
    bad.write_text("wnid,name,imagenet_index\nn0,not a fish,0\n")
    with pytest.raises(data.CorruptDataError, match="corrupted or out of date") as err:
        data.imagenette_classes()
    assert isinstance(err.value, ValueError) and "expected" in str(err.value)


def test_download_is_verified_before_it_is_kept(isolated, monkeypatch):
    import io

    good = (ROOT / "data" / "imagenette" / "classes.csv").read_bytes()
    monkeypatch.setattr(data.urllib.request, "urlopen", lambda url, timeout=None: io.BytesIO(b"tampered"))
    with pytest.raises(data.CorruptDataError, match="nothing was saved"):
        data.fetch("imagenette/classes.csv")
    assert not any((isolated / "cache").rglob("*.csv"))

    requested = []

    def serve(url, timeout=None):
        requested.append(url)
        return io.BytesIO(good)

    monkeypatch.setattr(data.urllib.request, "urlopen", serve)
    got = data.fetch("imagenette/classes.csv")
    assert got == isolated / "cache" / "imagenette" / "classes.csv" and got.read_bytes() == good
    assert requested == [data.DATA_URL + "imagenette/classes.csv"]


def test_search_order_is_env_then_checkout_then_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNLIB_DATA", str(tmp_path / "mine"))
    monkeypatch.setenv("CNNLIB_CACHE", str(tmp_path / "cache"))
    assert data.search_dirs() == [tmp_path / "mine", ROOT / "data", tmp_path / "cache"]
    monkeypatch.delenv("CNNLIB_DATA")
    assert data.search_dirs() == [ROOT / "data", tmp_path / "cache"]


def tiny_set(n: int, seed: int = 0) -> ImageSet:
    g = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, 1, 4, 4), generator=g, dtype=torch.uint8)
    return ImageSet(images=images, labels=torch.arange(n) % 3, classes=("a", "b", "c"))


def test_subset_keeps_relabels_and_samples():
    s = tiny_set(30)  # labels 0, 1, 2, 0, 1, 2, ...
    two = data.subset(s, labels=[2, 0])
    assert len(two) == 20 and two.classes == ("c", "a")
    assert torch.equal(two.labels, torch.tensor([1, 0] * 10))  # 0 -> position 1, 2 -> position 0
    assert torch.equal(two.images, s.images[s.labels != 1])
    some = data.subset(s, n=7, seed=3)
    assert len(some) == 7 and torch.equal(some.labels, data.subset(s, n=7, seed=3).labels)
    for bad in ([], [3], [1, 1]):
        with pytest.raises(ValueError, match="labels"):
            data.subset(s, labels=bad)
    with pytest.raises(ValueError, match="n must"):
        data.subset(s, n=31)


def test_mnist_threes_and_sevens_have_the_known_counts():
    threes_sevens = data.subset(data.mnist("train"), labels=[3, 7])
    assert torch.bincount(threes_sevens.labels).tolist() == [6131, 6265]
    test = data.subset(data.mnist("test"), labels=[3, 7])
    assert torch.bincount(test.labels).tolist() == [1010, 1028]


