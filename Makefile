# Inside CNNs — the one interface for readers, authors and CI.  Run `make` for help.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Notebooks to execute/benchmark (default: every chapter).
NB ?= $(sort $(wildcard book/*.ipynb))
NBVAL := --nbval-lax --nbval-current-env --nbval-sanitize-with nbval_sanitize.cfg
# -n 2 --dist loadfile: two notebooks at a time, each whole on one worker; one thread each
# (OMP_NUM_THREADS=1), since two kernels with two threads each on two cores run far slower.
XDIST := -n 2 --dist loadfile

.DEFAULT_GOAL := help
.PHONY: help install book test test-unit test-colab test-notebooks test-site lint execute bench clean vendor-mathjax gpu-wheels gpu-run

help:  ## Show this help
	@echo "Inside CNNs — make targets:"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'
	@echo "Variables: CNNLIB_MODE=quick|full (chapter sizes), NB='book/x.ipynb ...' (execute/bench)"

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps -e .
	touch $@

install: $(STAMP)  ## Create .venv and install the pinned packages and cnnlib

book: $(STAMP)  ## Build the site into _build/html from the stored outputs (warnings are errors)
	$(VENV)/bin/jupyter-book build -W -n --keep-going .

test: $(STAMP) lint test-unit test-colab test-notebooks book test-site  ## Everything: lint, unit tests, Colab-style run, every notebook (nbval), site build, browser check
	@echo "make test: all checks passed (mode: $$($(PY) -c 'from cnnlib import config; print(config.mode())'))"

lint: $(STAMP)  ## ruff on code and notebooks, actionlint on the workflows
	$(VENV)/bin/ruff check .
	$(VENV)/bin/actionlint .github/workflows/*.yml

test-unit: $(STAMP)  ## cnnlib's unit tests
	$(PY) -m pytest -q -p no:cacheprovider tests/unit

test-colab: $(STAMP)  ## Chapter 1 run as in Colab: cnnlib from its wheel, data downloaded from a local mirror
	$(PY) -m pytest -q -p no:cacheprovider tests/colab

test-notebooks: $(STAMP)  ## Execute every notebook under nbval and compare checked outputs
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-1} $(PY) -m pytest -q $(NBVAL) $(XDIST) -p no:cacheprovider book/

test-site: $(STAMP)  ## Open the built site in headless Chromium (needs `make book` first)
	$(PY) -m pytest -q -p no:cacheprovider tests/site

execute: $(STAMP)  ## Re-run notebooks in place to refresh their stored outputs
	$(PY) scripts/run_notebooks.py --inplace $(NB)

bench: $(STAMP)  ## Time each notebook (bench/<mode>.md) and cnnlib.ops against torch (bench/ops.md)
	$(PY) scripts/bench_ops.py --out bench/ops.md
	$(PY) scripts/run_notebooks.py --bench bench $(NB)

clean:  ## Remove the build, caches and the virtual environment
	rm -rf _build .pytest_cache .ruff_cache $(VENV) *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

MATHJAX_VERSION := 3.2.2
vendor-mathjax:  ## (maintainers) Refresh the vendored MathJax in _mathjax/ from npm
	rm -rf /tmp/cnnlib-mathjax && mkdir -p /tmp/cnnlib-mathjax
	npm install --prefix /tmp/cnnlib-mathjax --no-audit --no-fund mathjax@$(MATHJAX_VERSION)
	rm -rf _mathjax/_static/mathjax && mkdir -p _mathjax/_static/mathjax/output/chtml/fonts
	cp /tmp/cnnlib-mathjax/node_modules/mathjax/es5/tex-mml-chtml.js /tmp/cnnlib-mathjax/node_modules/mathjax/LICENSE _mathjax/_static/mathjax/
	cp -r /tmp/cnnlib-mathjax/node_modules/mathjax/es5/output/chtml/fonts/woff-v2 _mathjax/_static/mathjax/output/chtml/fonts/

gpu-wheels:  ## (maintainers) Fetch the wheels the GPU machine lacks into .gpu-wheels/ (README)
	bash scripts/fetch_gpu_wheels.sh

gpu-run:  ## (maintainers) On the GPU machine: every chapter in full mode under nbval, one archive (README)
	bash scripts/gpu_full_run.sh
