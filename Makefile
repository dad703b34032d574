# Two set-up commands (see README): `make run` and `make test`. Each builds its own venv from the
# committed lock (locks/*.txt: exact versions with hashes, made by `make lock`), so a fresh clone
# installs what the suite was last run against, not whatever was released since.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q
UV     := $(VENV)/bin/uv
# torch is an optional extra (`gpu`); the suite exercises its CPU path. pip, not uv, installs it so
# that a machine's local CPU wheel (find-links) is used where there is one.
TORCH_WHEEL ?= torch==2.13.0
# Everything the test suite exercises: every extra whose adapter has tests.
TEST_EXTRAS ?= dev,qiskit,chemistry,ibm,dwave,braket,routing,apps,service,postgres,ray,bio
RUN_EXTRAS  ?= apps,routing,service
LOCK_FLAGS  := --generate-hashes --python-version 3.11 --python-platform x86_64-unknown-linux-gnu \
               --custom-compile-command "make lock" -q
comma := ,
extras_flags = $(foreach e,$(subst $(comma), ,$(1)),--extra $(e))

.PHONY: run test test-latest lock lint typecheck bench clean

# uv itself comes from its own hashed lock; it then installs the project's lock with hashes checked.
$(VENV)/.uv:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --require-hashes -r locks/uv.txt
	touch $@

$(VENV)/.run-installed: pyproject.toml locks/run.txt $(VENV)/.uv
	$(UV) pip install --python $(PY) --require-hashes -r locks/run.txt --compile-bytecode
	$(UV) pip install --python $(PY) --no-deps -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml locks/test.txt $(VENV)/.uv
	$(PIP) install "$(TORCH_WHEEL)"
	$(UV) pip install --python $(PY) --require-hashes -r locks/test.txt --compile-bytecode
	$(UV) pip install --python $(PY) --no-deps -e .
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

# Refresh the locks on purpose: the newest versions the ranges in pyproject.toml allow, today.
lock: $(VENV)/.uv
	$(UV) pip compile pyproject.toml $(call extras_flags,$(TEST_EXTRAS)) $(LOCK_FLAGS) -o locks/test.txt
	$(UV) pip compile pyproject.toml $(call extras_flags,$(RUN_EXTRAS)) $(LOCK_FLAGS) -o locks/run.txt
	$(UV) pip compile pyproject.toml $(call extras_flags,$(TEST_EXTRAS)$(comma)bench) $(LOCK_FLAGS) \
	    --no-emit-package torch -o locks/bench.txt
	$(PY) tools/lock_without_gpu.py locks/bench.txt

# Drift on purpose: the newest releases the ranges allow, in a venv of its own, then the suite.
test-latest:
	rm -rf .venv-latest
	$(MAKE) VENV=.venv-latest .venv-latest/.uv
	.venv-latest/bin/python -m pip install -q "$(TORCH_WHEEL)"
	.venv-latest/bin/uv pip install --python .venv-latest/bin/python --upgrade -e ".[$(TEST_EXTRAS)]"
	.venv-latest/bin/uv pip freeze --python .venv-latest/bin/python > .venv-latest/freeze.txt
	.venv-latest/bin/python -m ruff check src tests benchmarks
	.venv-latest/bin/python -m mypy
	.venv-latest/bin/python -m pytest -n 2 --dist loadfile

lint: $(VENV)/.test-installed
	$(PY) -m ruff check src tests benchmarks
	$(PY) -m mypy

# torch (CPU build) is already in from TORCH_WHEEL; the bench lock holds everything else, CUDA
# wheels stripped (tools/lock_without_gpu.py), so it installs with --no-deps.
bench: $(VENV)/.test-installed
	$(UV) pip install --python $(PY) --require-hashes --no-deps -r locks/bench.txt
	$(PY) benchmarks/maxcut.py

clean:
	rm -rf $(VENV) .venv-latest .mypy_cache .ruff_cache .pytest_cache
