# Two set-up commands (see README): `make run` and `make test`. Each builds its own venv.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q
TORCH_WHEEL ?= torch==2.13.0
# Everything the test suite exercises: every extra whose adapter has tests.
TEST_EXTRAS ?= dev,qiskit,chemistry,ibm,dwave,braket,routing,apps,service,postgres,ray

.PHONY: run test lint typecheck bench clean

$(VENV)/.run-installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install -e ".[apps,routing,service]"
	touch $@

$(VENV)/.test-installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install "$(TORCH_WHEEL)"
	$(PIP) install -e ".[$(TEST_EXTRAS)]"
	touch $@ $(VENV)/.run-installed

# The main job on embedded defaults: solve the bundled examples locally (one per domain too),
# then start the platform (SQLite + local workers), print its URL and submit the examples over HTTP.
run: $(VENV)/.run-installed
	$(VENV)/bin/kakehashi demo
	$(VENV)/bin/kakehashi serve --demo

test: $(VENV)/.test-installed
	$(PY) -m ruff check src tests benchmarks
	$(PY) -m mypy
	$(PY) -m pytest -n 2 --dist loadfile

lint: $(VENV)/.test-installed
	$(PY) -m ruff check src tests benchmarks
	$(PY) -m mypy

bench: $(VENV)/.test-installed
	$(PIP) install -e ".[bench]"
	$(PY) benchmarks/maxcut.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
