# symsde: two commands for a new user, `make verify` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
BOOK_STAMP := $(VENV)/.installed-book

.PHONY: verify test test-slow test-all mutate lint bench book book-check clean

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

# The slow tests (the mutation suite over every derivation step); CI runs them too.
test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

test-all: $(STAMP)
	$(BIN)/python -m pytest -q -m ''

# Every mutant (right sides, left sides, definitions, premises) of every step must fail.
mutate: $(STAMP)
	$(BIN)/symsde mutate

# ruff, then the layers and the absence of import circles (import-linter contracts in
# pyproject.toml: symsde never imports a lecture; no circle between siblings of symsde).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache

# Benchmarks (ratios measured in the same run; see benchmarks/README.md). Not tests.
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/bench_euler.py
	$(BIN)/python benchmarks/bench_sdeint.py
	$(BIN)/python benchmarks/bench_memory.py
	$(BIN)/python benchmarks/bench_dask.py
	$(BIN)/python benchmarks/bench_peers.py

# The book (book/): Jupyter Book 1, offline MathJax and Playwright, on top of the test install.
$(BOOK_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[book]'
	touch $(BOOK_STAMP)

# The executed HTML book in book/_build/html, from a clean state, with no network needed:
# every page runs; a warning or a failing cell fails the build.
book: $(BOOK_STAMP)
	rm -rf book/_build
	$(BIN)/python -c "import matplotlib.pyplot"  # font cache first: its notice is stderr
	$(BIN)/jupyter-book build book --warningiserror --keep-going

# Every built page in headless Chromium, offline, at 1280 px and 390 px; screenshots in
# book/_build/screenshots. Also the symsde-claim directive in real Sphinx and Jupyter Book
# builds (tests/test_sphinx.py needs the book extra, which `make test` does not install).
book-check: $(BOOK_STAMP)
	SYMSDE_BOOK_CHECK=1 $(BIN)/python -m pytest -q -m '' -p no:cacheprovider \
		tests/test_book_browser.py tests/test_sphinx.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis book/_build
