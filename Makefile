# Every target sets up .venv on first use and re-installs when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test slow bench lint clean

# the demo needs hmrec alone; the tests also need the dev tools and the serve and spark extras
BASE_STAMP := $(VENV)/.installed-base

$(BASE_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(BASE_STAMP)

$(STAMP): $(BASE_STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,serve,spark]'
	touch $(STAMP)

demo: $(BASE_STAMP)
	$(BIN)/hmrec demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

# the tests marked slow (excluded from `make test`)
slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

# make bench BENCH_ARGS="--scale small" runs the benchmarks on a smaller generated data set (default: full)
bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py $(BENCH_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build src/*.egg-info
