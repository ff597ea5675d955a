# smebot: two commands on a fresh machine (README Quickstart).
#   make run   installs everything into .venv and starts the terminal chat
#   make test  installs everything into .venv and runs lint, types, architecture and the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/smebot chat

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy rules conversations
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/python -m bench.rules
	$(BIN)/python -m bench.journey
	$(BIN)/python -m bench.telegram
	$(BIN)/python -m bench.broadcast

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
