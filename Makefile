# Food traceability platform — `make help` lists the targets.
PYTHON ?= python3
VENV := .venv
TOOLS := .tools
UV := $(TOOLS)/bin/uv
UV_VERSION := 0.13.8
export UV_PYTHON := $(shell command -v $(PYTHON))
export UV_PYTHON_DOWNLOADS := never
export UV_LINK_MODE := copy
PYTEST := $(VENV)/bin/python -m pytest
TEST_WORKERS ?= 2

.DEFAULT_GOAL := help
.PHONY: help install install-dev system-deps run migrate seed test test-postgres test-sqlite lint format typecheck bench compose-check clean

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

system-deps: ## install the system libraries the platform needs (Debian/Ubuntu), where missing
	@bash deploy/system-deps.sh

install: $(UV) system-deps ## install the platform into .venv (locked versions), htmx, translations
	$(UV) sync --frozen --no-dev
	@bash deploy/web-assets.sh
	$(VENV)/bin/python -m shared.i18n compile

install-dev: $(UV) system-deps ## install the platform and its test tools into .venv
	@bash deploy/system-deps.sh --dev
	$(UV) sync --frozen
	@bash deploy/web-assets.sh
	$(VENV)/bin/python -m shared.i18n compile

run: install ## migrate, seed the demo province, serve everything at http://127.0.0.1:$$PORT (8000)
	$(VENV)/bin/python -m shared.cli run

migrate: install ## run every service's migrations
	$(VENV)/bin/python -m shared.cli migrate

seed: install ## load the demo province (embedded default)
	$(VENV)/bin/python -m shared.cli seed-demo

test: install-dev ## the whole suite on PostgreSQL + Redis, then the smoke run on the embedded default
	$(MAKE) --no-print-directory test-postgres
	$(MAKE) --no-print-directory test-sqlite

test-postgres: ## the suite against PostgreSQL and Redis (DATABASE_URL, REDIS_URL)
	$(PYTEST) -n $(TEST_WORKERS) --dist loadfile

test-sqlite: ## the smoke run on the embedded default (SQLite files, no broker server)
	TEST_DB=sqlite $(PYTEST) -m smoke -n $(TEST_WORKERS) --dist loadfile

lint: ## ruff and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy shared services

format: ## format the code
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: install-dev ## run the benchmarks and print their results (see bench/RESULTS.md)
	$(VENV)/bin/python -m bench.run_all

compose-check: ## validate docker-compose.yml (needs the docker client, not an engine)
	docker compose config --quiet && echo "docker-compose.yml is valid"

clean: ## remove the virtualenv, tools and local data
	rm -rf $(VENV) $(TOOLS) var
