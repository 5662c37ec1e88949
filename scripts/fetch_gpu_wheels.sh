#!/usr/bin/env bash
# Download the wheels the GPU machine lacks, for its Python 3.12 on x86-64, into .gpu-wheels/.
#
#   bash scripts/fetch_gpu_wheels.sh          # then scripts/gpu_full_run.sh installs them there
#
# The GPU machine (README.md, "Maintainers: the full-mode run on a GPU") has torch 2.11,
# torchvision 0.26, matplotlib, OpenCV, scikit-image, scipy, scikit-learn, pandas, pytest,
# pytest-xdist and the usual small packages (requests, pyyaml, rich, psutil, anyio, attrs,
# coverage, tqdm, ...), but no Jupyter, nbval, fastai, torchinfo or grad-cam, and no network.
# The wheel set travels with the working tree, which may be at most 64 MiB, so it is lean:
# --no-deps and exactly the distributions that the chapters, their kernel and nbval import,
# found by import tracing in a clean venv with only those packages (README.md, "rehearsal").
# Not carried, because nothing imports them on the run: spaCy (fastai's text path only),
# pooch (cnnlib.data downloads nothing with data/ in the tree), debugpy (ipykernel runs
# without it), jedi/prompt_toolkit/pexpect (IPython imports them for completion and the
# terminal only), uvicorn/httpx/oauthlib/beautifulsoup4 (fasthtml's server, not imported).
# Versions are those of requirements.txt where it pins them, else those installed with it.
set -euo pipefail
cd "$(dirname "$0")/.."
DEST=${GPU_WHEELS:-.gpu-wheels}
PYTHON=${PYTHON:-python3}

WHEELS=(
  # the chapters' libraries (requirements.txt pins)
  fastai==2.8.12 torchinfo==1.8.0
  # what fastai.vision.all and pytorch_grad_cam import
  fastcore==2.2.41 fastdownload==0.0.8 fastprogress==1.1.6 fasttransform==0.0.5
  plum-dispatch==2.9.0 beartype==0.23.1 python-fasthtml==0.14.14 starlette==1.10.0
  python-multipart==0.0.34 itsdangerous==2.2.0 ttach==0.0.3
  # running notebooks: nbval and nbclient (requirements.txt pins) and the kernel
  nbval==0.11.0 nbclient==0.11.0 ipykernel==7.4.0
  nbformat==5.11.1 fastjsonschema==2.22.3 jsonschema==4.26.0
  jsonschema-specifications==2025.9.1 referencing==0.37.0 rpds-py==2026.9.1
  jupyter-client==8.10.0 jupyter-core==5.9.1 platformdirs==4.14.9 traitlets==5.16.1
  pyzmq==27.3.0 tornado==6.6.1 comm==0.2.3 ipython==9.18.1
  ipython-pygments-lexers==1.1.1 matplotlib-inline==0.2.2
  stack-data==0.6.3 asttokens==3.0.2 executing==2.3.0 pure-eval==0.2.4
)

rm -rf "$DEST"
mkdir -p "$DEST"
"$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: \
  --python-version 3.12 --implementation cp --abi cp312 --abi abi3 --abi none \
  --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux_2_27_x86_64 --platform manylinux_2_28_x86_64 --platform any \
  -d "$DEST" "${WHEELS[@]}"
# grad-cam 1.5.x is on the registry as a source archive only: build its wheel here. It is pure
# Python, so the wheel (py3-none-any) is the same for every platform; check that it is.
SDIST_ONLY=(grad-cam==1.5.7)
"$PYTHON" -m pip wheel --quiet --no-deps --no-binary=grad-cam -w "$DEST" "${SDIST_ONLY[@]}"
WHEELS+=("${SDIST_ONLY[@]}")
for whl in "$DEST"/grad_cam-*.whl; do
  case "$whl" in
    *-py3-none-any.whl) ;;
    *) echo "fetch_gpu_wheels: $whl is not a pure-Python wheel; it cannot travel" >&2; exit 1 ;;
  esac
done

count=$(find "$DEST" -name '*.whl' | wc -l)
if [ "$count" -ne "${#WHEELS[@]}" ]; then
  echo "fetch_gpu_wheels: expected ${#WHEELS[@]} wheels in $DEST, found $count" >&2
  exit 1
fi
# Every listed wheel, with its size, and the total: the working tree that travels must stay
# under 64 MiB with these in it (README.md gives the measurement).
du -b "$DEST"/*.whl | sort -n | awk '{sub(".*/", "", $2); printf "%9d  %s\n", $1, $2}'
du -cb "$DEST"/*.whl | tail -1 | awk '{printf "%9d  total (%.1f MiB) in %s\n", $1, $1 / 1048576, "'"$DEST"'"}'
# The tree that travels: tracked files, untracked files git does not ignore, and the wheels.
tracked=$(git ls-files -z | xargs -0 du -cb | tail -1 | cut -f1)
untracked=$(git ls-files -z --others --exclude-standard | xargs -0 -r du -cb | tail -1 | cut -f1)
wheels=$(du -cb "$DEST"/*.whl | tail -1 | cut -f1)
total=$((tracked + ${untracked:-0} + wheels))
limit=$((64 * 1024 * 1024))
awk -v t="$tracked" -v u="${untracked:-0}" -v w="$wheels" -v s="$total" -v l="$limit" 'BEGIN {
  printf "travelling tree: %.2f MiB tracked + %.2f MiB untracked + %.2f MiB wheels = %.2f MiB of %.0f MiB\n",
         t / 1048576, u / 1048576, w / 1048576, s / 1048576, l / 1048576 }'
if [ "$total" -gt "$limit" ]; then
  echo "fetch_gpu_wheels: the travelling tree is over the 64 MiB the GPU machine accepts" >&2
  exit 1
fi
