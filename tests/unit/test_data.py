"""cnnlib.data: the manifest, the offline loaders, and clear errors for bad input."""

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

import cnnlib
from cnnlib import data
from cnnlib.data import ImageSet

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """Only CNNLIB_DATA=tmp/data (empty) and an empty cache; downloads go to a closed port."""
    monkeypatch.setenv("CNNLIB_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("CNNLIB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("CNNLIB_DATA_URL", "http://127.0.0.1:9/data/")  # port 9: nothing listens
    monkeypatch.setattr(data, "_CHECKOUT_DATA", tmp_path / "no-checkout")
    monkeypatch.setattr(data, "_RETRIES", 0)
    (tmp_path / "data").mkdir()
    return tmp_path


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """A real HTTP server on 127.0.0.1 serving a folder, named by CNNLIB_DATA_URL."""
    import functools
    import http.server
    import threading

    root = tmp_path / "mirror"
    root.mkdir()
    requested: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            requested.append(self.path)

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("CNNLIB_DATA_URL", f"http://127.0.0.1:{server.server_port}/")
    yield root, requested
    server.shutdown()
    server.server_close()


def test_registry_lists_every_data_file_with_its_true_sha256():
    on_disk = {str(p.relative_to(ROOT / "data")) for p in (ROOT / "data").rglob("*") if p.is_file()}
    assert set(data.registry()) == on_disk - {"README.md"}, "cnnlib/SHA256SUMS must list every data file"
    for name, digest in data.registry().items():
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
    assert not any((isolated / "cache").rglob("*.csv"))


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


def test_download_from_a_mirror_is_verified_cached_and_then_reused(isolated, mirror):
    root, requested = mirror
    name = "imagenette/classes.csv"
    (root / "imagenette").mkdir()
    shutil.copy(ROOT / "data" / name, root / name)
    got = data.fetch(name)
    assert got == isolated / "cache" / name and got.read_bytes() == (ROOT / "data" / name).read_bytes()
    assert data.fetch(name) == got and len(requested) == 1  # the second call uses the cache


def test_tampered_download_raises_and_leaves_nothing_in_the_cache(isolated, mirror):
    root, _ = mirror
    (root / "imagenette").mkdir()
    (root / "imagenette" / "classes.csv").write_text("tampered")
    with pytest.raises(data.CorruptDataError, match="nothing was saved"):
        data.fetch("imagenette/classes.csv")
    assert not [p for p in (isolated / "cache").rglob("*") if p.is_file()]


def test_a_mirror_without_the_file_is_a_file_not_found(isolated, mirror):
    with pytest.raises(FileNotFoundError, match="CNNLIB_DATA_URL"):
        data.fetch("imagenette/classes.csv")


def test_search_order_is_env_then_checkout(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNLIB_DATA", str(tmp_path / "mine"))
    assert data._search_dirs() == [tmp_path / "mine", ROOT / "data"]
    monkeypatch.delenv("CNNLIB_DATA")
    assert data._search_dirs() == [ROOT / "data"]


def test_data_url_defaults_to_the_repository_and_a_mirror_overrides_it(monkeypatch):
    monkeypatch.delenv("CNNLIB_DATA_URL", raising=False)
    assert data._base_url() == f"https://raw.githubusercontent.com/{cnnlib.REPO}/main/data/"
    monkeypatch.setenv("CNNLIB_DATA_URL", "http://class.example/course-data")
    assert data._base_url() == "http://class.example/course-data/"


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


def test_split_holds_out_a_seeded_validation_part_disjoint_from_training():
    s = ImageSet(images=torch.arange(40, dtype=torch.uint8).reshape(40, 1, 1, 1),
                 labels=torch.arange(40) % 3, classes=("a", "b", "c"))  # image value = index
    train, valid = data.split(s, 10, seed=1)
    assert (len(train), len(valid)) == (30, 10) and valid.classes == s.classes
    seen = torch.cat([train.images.flatten(), valid.images.flatten()]).sort().values
    assert torch.equal(seen, s.images.flatten())  # every sample in exactly one part
    assert torch.equal(train.labels, train.images.flatten().long() % 3)  # labels stay with images
    again = data.split(s, 10, seed=1)[1]
    assert torch.equal(again.images, valid.images)
    assert not torch.equal(data.split(s, 10, seed=2)[1].images, valid.images)
    for bad in (0, 40, 2.5, True):
        with pytest.raises(ValueError, match="n_valid must"):
            data.split(s, bad)


def test_mnist_threes_and_sevens_have_the_known_counts():
    threes_sevens = data.subset(data.mnist("train"), labels=[3, 7])
    assert torch.bincount(threes_sevens.labels).tolist() == [6131, 6265]
    test = data.subset(data.mnist("test"), labels=[3, 7])
    assert torch.bincount(test.labels).tolist() == [1010, 1028]


