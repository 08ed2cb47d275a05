# The two quick-start commands: `make run` (install + migrate + serve on SQLite) and
# `make test` (install + lint + type-check + the whole suite on SQLite and PostgreSQL).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint openapi bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

run: $(VENV)/.installed
	ENVIRONMENT=$${ENVIRONMENT:-development} $(BIN)/alembic upgrade head
	ENVIRONMENT=$${ENVIRONMENT:-development} $(BIN)/uvicorn app.main:app --host $(HOST) --port $(PORT) --no-access-log

lint: $(VENV)/.installed
	$(BIN)/ruff check app tests migrations bench
	$(BIN)/ruff format --check app tests migrations bench
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest -n 2 --durations=5

openapi: $(VENV)/.installed
	ENVIRONMENT=test $(BIN)/python -m app.cli export-openapi openapi/openapi.json

# The benchmark (SQLite and PostgreSQL at 127.0.0.1:5432, ~15 minutes): bench/RESULTS.md.
bench: $(VENV)/.installed
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
