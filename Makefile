# The two quick-start commands: `make run` (install + migrate + serve on SQLite) and
# `make test` (install + lint + type-check + the whole suite on SQLite and PostgreSQL).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint lock system-packages openapi bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Exactly the versions requirements-dev.lock pins, hashes checked (`make lock` updates it).
$(VENV)/.installed: requirements-dev.lock pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

# requirements.lock (what the service needs, for the Docker image) and requirements-dev.lock
# (that plus the tools and tests), from pyproject.toml. Pins stay unless pyproject.toml asks
# for other versions; `make lock UPGRADE=1` moves every pin to the newest release.
COMPILE = $(BIN)/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe \
	--no-emit-index-url --no-emit-find-links $(if $(UPGRADE),--upgrade)
lock: $(VENV)/.installed
	$(COMPILE) -o requirements.lock pyproject.toml
	$(COMPILE) --extra dev -c requirements.lock -o requirements-dev.lock pyproject.toml

run: $(VENV)/.installed
	ENVIRONMENT=$${ENVIRONMENT:-development} $(BIN)/alembic upgrade head
	ENVIRONMENT=$${ENVIRONMENT:-development} $(BIN)/uvicorn app.main:app --host $(HOST) --port $(PORT) --no-access-log

lint: $(VENV)/.installed
	$(BIN)/ruff check app tests migrations bench
	$(BIN)/ruff format --check app tests migrations bench
	$(BIN)/mypy
	$(BIN)/lint-imports

# System packages the suite needs: Debian's Chromium for the browser tests (Playwright never
# downloads a browser here), Pango and a font for WeasyPrint's PDFs. Installed when missing
# and running as root (CI); otherwise the command to run is printed.
SYSTEM_PACKAGES = chromium libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core
system-packages:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing" $$missing; apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	  else echo "Missing system packages: sudo apt-get install" $$missing; fi; \
	fi

test: lint system-packages
	$(BIN)/python -m pytest -n 2 --durations=5

openapi: $(VENV)/.installed
	ENVIRONMENT=test $(BIN)/python -m app.cli export-openapi openapi/openapi.json

# The benchmark (SQLite and PostgreSQL at 127.0.0.1:5432, ~15 minutes): bench/RESULTS.md.
bench: $(VENV)/.installed
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
