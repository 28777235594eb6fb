# simkit: set-up and common tasks. Everything runs from .venv/bin; no activation needed.
# The Python used to create .venv is found by scripts/find-python (set SIMKIT_PYTHON to choose).

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := setup

VENV  := .venv
PY    := $(VENV)/bin/python
STAMP := $(VENV)/.simkit-setup.stamp

.PHONY: setup test test-slow waer lint lock bench docs notebook-setup notebook

# Create .venv with a Python >= 3.12 (only if it does not exist yet).
$(PY):
	@py="$$(scripts/find-python)"; \
	echo "creating $(VENV) with $$py"; \
	"$$py" -m venv $(VENV)

# Install the locked dependencies (hash-checked) and simkit itself (editable).
# Re-runs only when pyproject.toml or requirements.lock changes.
$(STAMP): pyproject.toml requirements.lock | $(PY)
	$(PY) -m pip --version >/dev/null 2>&1 || $(PY) -m ensurepip --upgrade
	$(PY) -m pip install --require-hashes -r requirements.lock
	$(PY) -m pip install --no-deps -e .
	touch $@

setup: $(STAMP)

# The optional notebook extra (JupyterLab, ipywidgets, pyabc's abc-server): everything in
# requirements.lock at the same versions, plus the extra, hash-checked.
NB_STAMP := $(VENV)/.simkit-notebook.stamp
$(NB_STAMP): requirements-notebook.lock $(STAMP)
	$(PY) -m pip install --require-hashes -r requirements-notebook.lock
	touch $@

notebook-setup: $(NB_STAMP)

# JupyterLab on the notebooks (prints the URL with its token; Ctrl-C stops it). As root (containers,
# this project's machines) Jupyter needs --allow-root.
notebook: notebook-setup
	$(VENV)/bin/jupyter lab --no-browser $(if $(filter 0,$(shell id -u)),--allow-root) notebooks/

test: setup
	$(PY) -m pytest

# The slow tests only (long fuzz runs, large ensembles); not part of CI.
test-slow: setup
	$(PY) -m pytest -m slow

waer: setup
	$(VENV)/bin/simkit run scenarios/waer.yaml --runs 1000 --seed 1 --workers 2 --out results/waer

lint: setup
	$(VENV)/bin/ruff check .

# Regenerate the generated pages of docs/ (a test fails when they are stale).
docs: setup
	$(PY) -m simkit.docs

# The day loop against the retired Mesa event-list driver (identical runs), then the speed figures.
bench: setup
	$(PY) benchmarks/loop_equivalence.py
	$(PY) benchmarks/bench_run.py

# Regenerate requirements.lock (Python 3.12, Linux x86_64, runtime + dev, with hashes) after
# changing dependencies in pyproject.toml, then requirements-notebook.lock (the same plus the
# notebook extra, every shared package pinned as in requirements.lock). Uses uv; installs it into
# .venv if not found.
lock: | $(PY)
	@uv="$$(command -v uv || true)"; \
	if [ -z "$$uv" ]; then \
	  [ -x $(VENV)/bin/uv ] || $(PY) -m pip install uv; \
	  uv=$(VENV)/bin/uv; \
	fi; \
	set -x; \
	"$$uv" pip compile pyproject.toml --extra dev --python-version 3.12 \
	  --python-platform x86_64-unknown-linux-gnu --generate-hashes -o requirements.lock; \
	grep -E '^[A-Za-z0-9_.-]+==' requirements.lock | sed 's/ \\$$//' > $(VENV)/lock-pins.txt; \
	"$$uv" pip compile pyproject.toml --extra dev --extra notebook --python-version 3.12 \
	  --python-platform x86_64-unknown-linux-gnu --generate-hashes -c $(VENV)/lock-pins.txt \
	  -o requirements-notebook.lock
