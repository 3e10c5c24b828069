# The two commands: `make run` and `make test`. Everything else is here to serve them.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install run test lint format bench admin-password clean

help:
	@echo "make run             start web, worker, beat and the Replicate simulator (embedded mode)"
	@echo "make test            run the whole test suite"
	@echo "make install         create $(VENV) and install the pinned requirements"
	@echo "make lint            ruff, migrations check, deploy check"
	@echo "make bench           run the benchmarks in bench/"
	@echo "make admin-password  set a new random password for the embedded admin"

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

run: install
	@./scripts/run

test: install
	@./scripts/ensure-chromium
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=config.settings.production DJANGO_SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))') \
		ALLOWED_HOSTS=avatars.example.com $(BIN)/python manage.py check --deploy --fail-level WARNING

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install
	$(BIN)/python -m bench

admin-password: install
	$(BIN)/python manage.py changepassword $${ADMIN_EMAIL:-admin@localhost}

clean:
	rm -rf var/static var/cache var/broker
