# rhabdo -- two commands on a fresh machine:
#   make demo   set up (core only) and assess the bundled example case
#   make test   set up everything (Python extras, system packages) and run every check
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEMO_CASE ?= examples/local-relapse-paratesticular.yaml

.PHONY: demo test lint typecheck pytest bench clean system setup

$(VENV)/.core-installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.all-installed: pyproject.toml $(VENV)/.core-installed
	$(BIN)/pip install -q -e '.[all,dev]'
	touch $@

setup: $(VENV)/.all-installed system

system:
	bash scripts/setup-system.sh

demo: $(VENV)/.core-installed
	$(BIN)/rhabdo assess $(DEMO_CASE)

lint: $(VENV)/.all-installed
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(VENV)/.all-installed
	$(BIN)/mypy

pytest: setup
	$(BIN)/pytest -q -p no:cacheprovider

test: lint typecheck pytest

bench: setup
	@for b in benchmarks/[!_]*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
