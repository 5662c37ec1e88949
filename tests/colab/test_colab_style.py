"""A chapter run the way Colab runs it: cnnlib from its wheel, no checkout, data downloaded.

cnnlib's wheel is built and installed into a folder outside the checkout; chapter 1 is copied
into an empty directory and executed there with an empty cache, while the checkout's data/
folder is served over HTTP on 127.0.0.1 as the CNNLIB_DATA_URL mirror. So the real download
path runs end to end (fetch through pooch, SHA-256 check, cache, unzip), offline. A second
case serves a tampered file: a clear error, and nothing is left in the cache.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from offline import serve

ROOT = Path(__file__).resolve().parents[2]
CHAPTER = ROOT / "book" / "01_images_as_tensors.ipynb"


@pytest.fixture(scope="module")
def wheel_site(tmp_path_factory) -> Path:
    """cnnlib installed from a freshly built wheel into a folder of its own."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "--no-index", "-q", "-w", str(out), str(ROOT)], check=True)
    (wheel,) = out.glob("cnnlib-*.whl")
    site = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q",
                    "--target", str(site), str(wheel)], check=True)
    return site


@pytest.fixture
def colab_env(wheel_site, tmp_path) -> dict[str, str]:
    """The environment of a fresh runtime: cnnlib from the wheel, an empty cache, no CNNLIB_DATA."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CNNLIB_")}
    env.update(PYTHONPATH=str(wheel_site), CNNLIB_CACHE=str(tmp_path / "cache"), HOME=str(tmp_path / "home"))
    return env


def python(code: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True, text=True)


def test_chapter_runs_from_the_wheel_with_data_downloaded_from_a_mirror(colab_env, tmp_path):
    workdir = tmp_path / "content"  # Colab's empty working directory
    workdir.mkdir()
    shutil.copy(CHAPTER, workdir / CHAPTER.name)
    with serve(ROOT / "data") as url:
        env = {**colab_env, "CNNLIB_DATA_URL": url}
        where = python("import cnnlib, cnnlib.data as d; print(cnnlib.__file__); print(d._search_dirs())",
                       env, workdir)
        assert where.returncode == 0, where.stderr
        module_file, search_dirs = where.stdout.splitlines()
        assert module_file.startswith(colab_env["PYTHONPATH"]) and search_dirs == "[]"

        run = python(
            "import nbformat\n"
            "from nbclient import NotebookClient\n"
            f"nb = nbformat.read({CHAPTER.name!r}, as_version=4)\n"
            "NotebookClient(nb, timeout=600, kernel_name='python3').execute()\n"
            "nbformat.write(nb, 'executed.ipynb')\n",
            env, workdir)
        assert run.returncode == 0, run.stderr[-3000:]
        unzip = python("from cnnlib import data\nprint(len(list(data.imagenette('val').rglob('*.JPEG'))))",
                       env, workdir)
        assert unzip.returncode == 0, unzip.stderr[-3000:]

    executed = nbformat.read(workdir / "executed.ipynb", as_version=4)
    assert not [o for c in executed.cells if c.cell_type == "code" for o in c.outputs
                if o.output_type == "error"]
    cache = Path(colab_env["CNNLIB_CACHE"])
    downloaded = sorted(str(p.relative_to(cache)) for p in cache.rglob("*") if p.is_file()
                        and "unpacked" not in p.parts)
    assert "cifar10/cifar10_jpg_train500x10_test100x10.zip" in downloaded
    assert "mobilenet_v2/mobilenet_v2_imagenet_fp16.pth" in downloaded
    assert "imagenette/imagenette160_val_50per_class.zip" in downloaded
    assert int(unzip.stdout) == 500  # 50 validation photos for each of the 10 classes


def test_a_tampered_download_fails_clearly_and_leaves_the_cache_empty(colab_env, tmp_path):
    mirror = tmp_path / "mirror" / "imagenette"
    mirror.mkdir(parents=True)
    (mirror / "classes.csv").write_text("wnid,name,imagenet_index\nn01440764,not a fish,0\n")
    with serve(mirror.parent) as url:
        env = {**colab_env, "CNNLIB_DATA_URL": url}
        result = python("from cnnlib import data\ndata.imagenette_classes()", env, tmp_path)
    assert result.returncode != 0
    assert "CorruptDataError" in result.stderr and "nothing was saved" in result.stderr
    cache = Path(colab_env["CNNLIB_CACHE"])
    assert not [p for p in cache.rglob("*") if p.is_file()]
