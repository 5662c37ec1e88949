"""Check the notebooks a GPU run brought back and store those that pass as the book's outputs.

    python scripts/store_gpu_outputs.py /work/.device/.../gpu_run.tar.gz   # or its folder
    python scripts/store_gpu_outputs.py --check-only ARCHIVE              # check, store nothing

The archive is scripts/gpu_full_run.sh's (gpu_run.tar.gz, or its gpu_run.tar.gz.partNN pieces
in one folder). Each executed notebook ``gpu_run/executed/NAME.ipynb`` is checked against the
stored ``book/NAME.ipynb`` and replaces it only if:

- it has the same cells with the same sources (it ran the book as committed), and its run
  reached every code cell (``NAME.json``: a run cut short leaves the stored outputs behind);
- no output is an error, and no output text holds a machine path;
- every ``nbval-check-output`` cell's outputs equal the stored ones as nbval compares them
  (the ``nbval_sanitize.cfg`` substitutions applied, images and metadata left out): these
  cells hold what must not depend on mode or device;
- every cell that showed a figure still shows one (a figure backend lost on the way would
  otherwise pass unnoticed, since nbval never compares images).

Afterwards it lists the numbers in prose that the new outputs no longer support (the claims
test, tests/unit/test_claims.py): those sentences quote quick-mode results and must be
rewritten to quote the full-mode ones. Exit status 0 only if every notebook passed.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MACHINE_PATH = re.compile(r"(/root/|/work/|/tmp/|/home/|/opt/|/usr/|site-packages)\w*")
IMAGES = ("image/png", "image/jpeg", "image/svg+xml")
# Keys nbval --nbval-lax leaves out of the comparison (nbval 0.11, IPyNbFile.skip_compare).
SKIP_COMPARE = {"metadata", "traceback", "prompt_number", "output_type", "name",
                "execution_count", "application/vnd.jupyter.widget-view+json",
                "image/png", "image/jpeg"}


def read_sanitize(path: Path) -> list[tuple[str, str]]:
    """The ``regex:`` / ``replace:`` pairs of an nbval sanitize file, in order."""
    pairs, regex = [], None
    for line in path.read_text().splitlines():
        if line.startswith("regex:"):
            regex = line[len("regex:"):].strip()
        elif line.startswith("replace:") and regex is not None:
            pairs.append((regex, line[len("replace:"):].strip()))
            regex = None
    return pairs


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def comparable(outputs: list[dict], sanitize: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Outputs as nbval compares them: streams joined by name, keys flattened, sanitized."""
    streams: dict[str, str] = {}
    flat: dict[str, list[str]] = {}
    for out in outputs:
        if out["output_type"] == "stream":
            streams[out["name"]] = streams.get(out["name"], "") + _text(out["text"])
            continue
        for key, value in out.items():
            if key == "data":
                for mime, data in value.items():
                    if mime not in SKIP_COMPARE:
                        flat.setdefault(mime, []).append(_text(data))
            elif key not in SKIP_COMPARE:
                flat.setdefault(key, []).append(_text(value))
    for name, text in streams.items():
        text = re.sub(r"^.*\r(?=[^\n])", "", text, flags=re.M)  # as nbval: \r overwrites
        flat[f"stream {name}"] = [text]

    def clean(s: str) -> str:
        for regex, replace in sanitize:
            s = re.sub(regex, replace, s)
        return s

    return {key: [clean(v) for v in values] for key, values in flat.items()}


def output_text(outputs: list[dict]) -> str:
    """The text of outputs, images left out (base64 can spell anything)."""
    parts = []
    for out in outputs:
        parts.append(_text(out.get("text", "")))
        for mime, value in out.get("data", {}).items():
            if mime.startswith("text/") or mime == "application/javascript":
                parts.append(_text(value))
        parts.append(_text(out.get("traceback", "")))
        parts.append(_text(out.get("evalue", "")))
    return "\n".join(parts)


def has_image(outputs: list[dict]) -> bool:
    return any(mime in out.get("data", {}) for out in outputs for mime in IMAGES)


def problems(executed: dict, stored: dict, summary: dict | None,
             sanitize: list[tuple[str, str]]) -> list[str]:
    """Why ``executed`` may not replace ``stored`` (an empty list: it may)."""
    found = []
    new_cells, old_cells = executed["cells"], stored["cells"]
    if [(c["cell_type"], _text(c["source"])) for c in new_cells] != \
            [(c["cell_type"], _text(c["source"])) for c in old_cells]:
        return ["its cells or their sources differ from the stored notebook's: the run was "
                "of another version of the chapter; run it again from this tree"]
    code = [(n, o) for n, o in zip(new_cells, old_cells, strict=True) if n["cell_type"] == "code"]
    if summary is None:
        found.append("no timing file beside it, so it is unknown whether every cell ran")
    elif summary.get("cells_run") != len(code):
        found.append(f"the run reached {summary.get('cells_run')} of {len(code)} code cells")
    for index, (new, old) in enumerate(code):
        outputs = new.get("outputs", [])
        if new.get("execution_count") is None:
            found.append(f"code cell {index} was not executed")
        errors = [o for o in outputs if o["output_type"] == "error"]
        if errors:
            found.append(f"code cell {index} has an error output: "
                         f"{errors[0].get('ename')}: {errors[0].get('evalue')}")
        leak = MACHINE_PATH.search(output_text(outputs))
        if leak:
            found.append(f"code cell {index} prints a machine path: {leak.group(0)}")
        if "nbval-check-output" in new.get("metadata", {}).get("tags", []):
            if comparable(outputs, sanitize) != comparable(old.get("outputs", []), sanitize):
                found.append(f"code cell {index} is checked by nbval and its output changed")
        if has_image(old.get("outputs", [])) and not has_image(outputs):
            found.append(f"code cell {index} showed a figure before and shows none now")
    return found


def unpack(source: Path, into: Path) -> Path:
    """The ``executed`` folder of an archive, its split parts, or an unpacked run folder."""
    into.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        for candidate in (source / "gpu_run" / "executed", source / "executed"):
            if candidate.is_dir():
                return candidate
        parts = sorted(source.glob("gpu_run.tar.gz.part*"))
        archive = source / "gpu_run.tar.gz"
        if not archive.exists():
            if not parts:
                raise FileNotFoundError(f"{source} holds no gpu_run.tar.gz, no parts of it and "
                                        "no executed/ folder: pass what gpu_full_run.sh wrote")
            archive = into / "gpu_run.tar.gz"
            with archive.open("wb") as whole:
                for part in parts:
                    whole.write(part.read_bytes())
        source = archive
    if not source.exists():
        raise FileNotFoundError(f"{source} does not exist: pass the archive gpu_full_run.sh wrote")
    with tarfile.open(source) as tar:
        tar.extractall(into, filter="data")
    executed = into / "gpu_run" / "executed"
    if not executed.is_dir():
        raise ValueError(f"{source} has no gpu_run/executed/ folder: is it gpu_full_run.sh's?")
    return executed


def unsupported_claims(path: Path) -> list[str]:
    """The claims test's findings for one notebook (tests/unit/test_claims.py)."""
    sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "unit")]
    try:
        from test_claims import unsupported_numbers
    finally:
        del sys.path[:2]
    return unsupported_numbers(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="gpu_run.tar.gz, or the folder holding it")
    parser.add_argument("--book", type=Path, default=ROOT / "book", help="where chapters live")
    parser.add_argument("--sanitize", type=Path, default=ROOT / "nbval_sanitize.cfg")
    parser.add_argument("--check-only", action="store_true", help="check, store nothing")
    args = parser.parse_args(argv)
    sanitize = read_sanitize(args.sanitize)
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        executed = unpack(args.source, Path(tmp))
        notebooks = sorted(executed.glob("*.ipynb"))
        if not notebooks:
            raise ValueError(f"{args.source} holds no executed notebooks")
        stored_now = []
        for path in notebooks:
            target = args.book / path.name
            if not target.exists():
                print(f"REJECT {path.name}: there is no {target} to replace")
                failed += 1
                continue
            summary_path = path.with_suffix(".json")
            summary = json.loads(summary_path.read_text()) if summary_path.exists() else None
            found = problems(json.loads(path.read_text()), json.loads(target.read_text()),
                             summary, sanitize)
            if found:
                failed += 1
                print(f"REJECT {path.name}:" + "".join(f"\n  - {p}" for p in found))
                continue
            seconds = f" ({summary['seconds']:.1f} s)" if summary else ""
            if args.check_only:
                print(f"ok     {path.name}{seconds}")
            else:
                shutil.copyfile(path, target)
                stored_now.append(target)
                print(f"stored {path.name}{seconds} -> {target}")
    for target in stored_now:
        for claim in unsupported_claims(target):
            print(f"prose to update in {target.name}: {claim}")
    print(f"{len(notebooks) - failed} of {len(notebooks)} notebooks passed"
          + ("" if args.check_only else ", and were stored"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
