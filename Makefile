# The two commands: `make run` and `make test`. Everything else is here to serve them.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# Running needs requirements.txt only; tests, lint and benchmarks add requirements-dev.txt.
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check

.DEFAULT_GOAL := help
.PHONY: help install install-run run test lint format bench admin-password clean

help:
	@echo "make run             start web, worker, beat and the Replicate simulator (embedded mode)"
	@echo "make test            run the whole test suite"
	@echo "make install         create $(VENV) with everything for development (runtime + test tools)"
	@echo "make install-run     create $(VENV) with what running needs only (what make run does)"
	@echo "make lint            ruff, migrations check, deploy check"
	@echo "make bench           run the benchmarks in bench/"
	@echo "make admin-password  set a new random password for the embedded admin"

install: $(DEV_STAMP)

install-run: $(RUN_STAMP)

$(RUN_STAMP): requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(PIP) --upgrade pip
	$(PIP) -r requirements.txt
	@touch $@

$(DEV_STAMP): $(RUN_STAMP) requirements-dev.txt
	$(PIP) -r requirements-dev.txt
	@touch $@

run: install-run
	@./scripts/run

# One test process per core (pytest-xdist); TEST_WORKERS=0 runs them in this process.
TEST_WORKERS ?= auto

test: install
	@./scripts/ensure-chromium
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=config.settings.production DJANGO_SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))') \
		ALLOWED_HOSTS=avatars.example.com $(BIN)/python manage.py check --deploy --fail-level WARNING

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Every benchmark three times; the medians go to bench/RESULTS.md. Those that need PostgreSQL
# and Redis run when DATABASE_URL and REDIS_URL are set (as .ci/run sets them).
bench: install
	$(BIN)/python -m bench --runs 3 --report bench/RESULTS.md

admin-password: install-run
	$(BIN)/python manage.py changepassword $${ADMIN_EMAIL:-admin@localhost}

clean:
	rm -rf var/static var/cache var/broker
