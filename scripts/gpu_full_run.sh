#!/usr/bin/env bash
# The whole book in full mode under nbval on the GPU machine, in one command.
#
#   bash scripts/gpu_full_run.sh [book/X.ipynb ...]     # there, from the repository root
#
# README.md ("Maintainers: the full-mode run on a GPU") gives the procedure; in short: run
# scripts/fetch_gpu_wheels.sh here first, carry .gpu-wheels/ along, then store what comes back
# with scripts/store_gpu_outputs.py. Steps, each timed into the log:
#  1. install the carried wheels offline into a folder of their own (pip --no-index --no-deps
#     --target), put it and the repository on PYTHONPATH (cnnlib is imported from the tree:
#     no build step, so no setuptools needed there);
#  2. run every chapter (or those named) under nbval with CNNLIB_MODE=full, several notebooks
#     at once (pytest-xdist -n K --dist loadfile, one thread each), the scripts/nbval_save.py
#     plugin keeping each executed notebook and its time;
#  3. pack the executed notebooks, the log and the per-chapter timing table into ONE archive,
#     $OUT/gpu_run.tar.gz (split into 15 MiB parts gpu_run.tar.gz.partNN only if it is larger,
#     since at most 16 MiB a file comes back).
# The notebooks get GPU_RUN_BUDGET seconds (default 480) in all, so that the command ends
# inside the lease's 10 minutes a command and a shorter second try still fits the 15 in all.
# Variables: OUT (where the archive goes), GPU_RUN_WORKERS (K, default: one per notebook, at
# most the cores less two), GPU_RUN_BUDGET, GPU_RUN_CELL_TIMEOUT (seconds a cell, default 300),
# CNNLIB_MODE (default full), GPU_RUN_ALLOW_CPU=1 (the rehearsal: run without CUDA),
# GPU_WHEELS (default .gpu-wheels), GPU_SITE (install folder, default /tmp/cnnlib-gpu-site).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PYTHON=${PYTHON:-python3}
OUT=${OUT:-$ROOT/_build/gpu-run}
WHEELS=${GPU_WHEELS:-.gpu-wheels}
SITE=${GPU_SITE:-/tmp/cnnlib-gpu-site}
BUDGET=${GPU_RUN_BUDGET:-480}
CELL_TIMEOUT=${GPU_RUN_CELL_TIMEOUT:-300}
export CNNLIB_MODE=${CNNLIB_MODE:-full}
CORES=$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)  # nproc obeys those variables
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 PYTHONUNBUFFERED=1

if [ "$#" -gt 0 ]; then NOTEBOOKS=("$@"); else NOTEBOOKS=(book/*.ipynb); fi
K=${GPU_RUN_WORKERS:-$(( ${#NOTEBOOKS[@]} < CORES - 2 ? ${#NOTEBOOKS[@]} : CORES - 2 ))}
[ "$K" -ge 1 ] || K=1

STAGE=$(mktemp -d)
RUN=$STAGE/gpu_run
mkdir -p "$RUN/executed" "$OUT"
exec > >(tee "$RUN/log.txt") 2>&1
step() { echo "== $(date -u +%H:%M:%S) $*"; }
T0=$(date +%s)

step "machine"
echo "notebooks: ${#NOTEBOOKS[@]}, workers: $K, cores: $CORES, mode: $CNNLIB_MODE, budget: ${BUDGET}s"
nvidia-smi -L 2>/dev/null || echo "nvidia-smi: none"
"$PYTHON" - <<'EOF' || exit 2
import os, sys, torch, torchvision
print(f"python {sys.version.split()[0]}, torch {torch.__version__}, torchvision {torchvision.__version__}")
cuda = torch.cuda.is_available()
print("cuda:", torch.cuda.get_device_name(0) if cuda else "not available")
if not cuda and os.environ.get("GPU_RUN_ALLOW_CPU") != "1":
    sys.exit("no CUDA device: this is the GPU run (set GPU_RUN_ALLOW_CPU=1 to rehearse on a CPU)")
EOF

step "install the carried wheels from $WHEELS into $SITE (offline)"
shopt -s nullglob
whl=("$WHEELS"/*.whl)
[ "${#whl[@]}" -gt 0 ] || { echo "no wheels in $WHEELS: run scripts/fetch_gpu_wheels.sh and carry it"; exit 2; }
rm -rf "$SITE"
"$PYTHON" -m pip install -q --no-index --no-deps --no-cache-dir --disable-pip-version-check \
  --target "$SITE" "${whl[@]}" || exit 2
export PYTHONPATH=$ROOT:$ROOT/scripts:$SITE${PYTHONPATH:+:$PYTHONPATH}
"$PYTHON" - <<'EOF' || exit 2
import warnings
warnings.simplefilter("ignore")
import fastai.vision.all, ipykernel, nbclient, nbval, pytorch_grad_cam, torchinfo  # noqa
import cnnlib
from cnnlib import config
print("imports ok;", config.describe(), "| cnnlib from", cnnlib.__file__.rsplit("/", 2)[-2])
EOF

step "run ${#NOTEBOOKS[@]} notebooks under nbval, $K at a time"
T1=$(date +%s)
timeout --signal=INT --kill-after=30 "$BUDGET" \
  env NBVAL_SAVE_DIR="$RUN/executed" "$PYTHON" -m pytest -p nbval_save -p no:cacheprovider \
  --nbval-lax --nbval-current-env --nbval-sanitize-with nbval_sanitize.cfg \
  --nbval-cell-timeout "$CELL_TIMEOUT" -n "$K" --dist loadfile -q -rfE \
  --junitxml "$RUN/junit.xml" "${NOTEBOOKS[@]}"
RC=$?
T2=$(date +%s)
[ "$RC" -eq 124 ] && echo "the notebooks ran past GPU_RUN_BUDGET=${BUDGET}s and were stopped"

step "timings"
{
  echo "Full-run times, mode $CNNLIB_MODE, $K notebooks at a time, $(date -u +%Y-%m-%d)."
  nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1 | sed 's/^/GPU: /'
  echo "Wall time of the nbval run: $((T2 - T1)) s (pytest exit status $RC); whole script so far: $((T2 - T0)) s."
  echo
  "$PYTHON" scripts/nbval_save.py summarize "$RUN/executed"
} > "$RUN/timings.md"
cat "$RUN/timings.md"

step "archive"
echo "pytest exit status: $RC" > "$RUN/status.txt"
tar -czf "$OUT/gpu_run.tar.gz" -C "$STAGE" gpu_run
size=$(stat -c %s "$OUT/gpu_run.tar.gz")
if [ "$size" -gt $((15 * 1024 * 1024)) ]; then
  split -b 15M -d "$OUT/gpu_run.tar.gz" "$OUT/gpu_run.tar.gz.part" && rm "$OUT/gpu_run.tar.gz"
fi
cp "$RUN/timings.md" "$OUT/timings.md"
ls -l "$OUT"
step "done in $(( $(date +%s) - T0 )) s; pytest exit status $RC"
exit "$RC"
