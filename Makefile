# staffsim: two commands on a fresh machine.
#   make run   create .venv, install staffsim, run the baseline scenario
#   make test  create or update .venv with test and app extras (and Debian's chromium); ruff, mypy, pytest
#   make test-fast  the same without the tests marked slow (under 90 s on 2 idle cores)
#   make app   serve the planner's browser app on http://127.0.0.1:8765/
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PYTEST_WORKERS ?= 2

.PHONY: run test test-fast pytest-fast lint typecheck pytest fuzz bench clean app chromium

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the project's dependencies change.
$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,app]'
	touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	$(BIN)/staffsim run scenarios/baseline.yaml

test: $(VENV)/.installed-test chromium lint typecheck pytest

lint: $(VENV)/.installed-test
	$(BIN)/ruff check sim tests benchmarks
	$(BIN)/ruff format --check sim tests benchmarks

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy sim

pytest: $(VENV)/.installed-test chromium
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --durations=15

test-fast: $(VENV)/.installed-test lint typecheck pytest-fast

pytest-fast: $(VENV)/.installed-test
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) -m "not slow" --durations=10

# The browser tests (tests/functional/test_app_browser.py) drive Debian's Chromium with Playwright;
# install it when missing (CI runs as root with Debian's package registry).
CHROMIUM ?= /usr/bin/chromium
chromium:
	@test -x $(CHROMIUM) || { apt-get update -q && apt-get install -y -q chromium; }

# The planner's browser app on http://127.0.0.1:8765/ (Ctrl-C stops it).
app: $(VENV)/.installed-test
	$(BIN)/staffsim app

# Hostile input at scale: 10,000 mutated scenario files through the CLI (tests/functional/test_hostile.py)
# and 1,000 generated scenarios per property (tests/validation/test_properties.py).
FUZZ_CASES ?= 10000
fuzz: $(VENV)/.installed-test
	FUZZ_CASES=$(FUZZ_CASES) STAFFSIM_HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest -n $(PYTEST_WORKERS) \
		--durations=5 -q tests/functional/test_hostile.py tests/validation/test_properties.py -k "fuzz or properties"

bench: $(VENV)/.installed-test
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python benchmarks/bench_core.py
	$(BIN)/python benchmarks/bench_more.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
