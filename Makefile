# Anomaly Lab — the two commands: `make app` and `make test`. Both set up .venv on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PORT   ?= 8501
# Cap BLAS/OpenMP/numba threads so background training, UMAP and the page share the cores.
THREADS ?= $(shell nproc 2>/dev/null || echo 2)
export OMP_NUM_THREADS ?= $(THREADS)
export MKL_NUM_THREADS ?= $(THREADS)
export NUMBA_NUM_THREADS ?= $(THREADS)

.PHONY: app test lint bench clean-runs

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

# Compile UMAP's kernels into .cache/numba once after installing, so a fresh clone's first
# UMAP in the app does not wait for them (about 20 s of one core otherwise).
$(VENV)/.umap: $(VENV)/.runtime
	$(PY) -m ad_core.projection --compile
	touch $@

app: $(VENV)/.runtime $(VENV)/.umap
	$(VENV)/bin/streamlit run app.py --server.fileWatcherType none --server.port $(PORT)

test: $(VENV)/.dev $(VENV)/.umap
	$(PY) -m pytest

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .

clean-runs:
	rm -rf runs
