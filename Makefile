# symsde: two commands for a new user, `make verify` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: verify test test-all lint bench clean

# Re-install only when the project's metadata changed.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	touch $(STAMP)

verify: $(STAMP)
	$(BIN)/symsde verify

test: $(STAMP)
	$(BIN)/python -m pytest -q

test-all: $(STAMP)
	$(BIN)/python -m pytest -q -m ''

lint: $(STAMP)
	$(BIN)/ruff check .

# Benchmarks (ratios measured in the same run; see benchmarks/README.md). Not tests.
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/bench_euler.py
	$(BIN)/python benchmarks/bench_sdeint.py
	$(BIN)/python benchmarks/bench_memory.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
