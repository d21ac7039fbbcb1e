# Gather: `make run` serves the demo site, `make serve` serves it as production
# does, `make test` runs the suite.
# Each creates .venv and installs what it needs first; each is safe to repeat.

# The newest supported Python on the PATH (3.13, 3.12, then 3.11), unless
# PYTHON=... says which one.
SUPPORTED_PYTHONS := python3.13 python3.12 python3.11
ifeq ($(origin PYTHON),undefined)
PYTHON := $(firstword $(foreach python,$(SUPPORTED_PYTHONS),$(shell $(python) -c "" >/dev/null 2>&1 && echo $(python))))
endif
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install system-check browser-check run dev-serve serve test lint format bench loadtest clean

help:
	@echo "make run     set up, load the demo once, and serve http://127.0.0.1:8000"
	@echo "make serve   serve behind gunicorn with the production settings (DEBUG off)"
	@echo "make test    set up and run the whole test suite"
	@echo "make lint    ruff, the layer check, makemigrations --check, manage.py check"
	@echo "make format  ruff format and fix"
	@echo "make bench   run the benchmarks and print a table"
	@echo "make loadtest  load gunicorn + PostgreSQL + Redis on 127.0.0.1, then check the data"

$(PY):
	@test -n "$(PYTHON)" && command -v $(PYTHON) >/dev/null 2>&1 || { echo "Gather needs Python 3.11, 3.12 or 3.13 (none found). Set PYTHON=/path/to/python3.13."; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.txt | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $(STAMP)

install: $(STAMP) system-check

# WeasyPrint needs Pango; without HarfBuzz's subsetter it falls back to a much
# slower font subsetter. The browser tests need Debian's Chromium. Missing
# Debian packages are installed when this user may (root or sudo -n);
# otherwise the command to run is printed and make stops.
system-check: | $(PY)
	@$(PY) scripts/system_packages.py pdf

browser-check: | $(PY)
	@$(PY) scripts/system_packages.py browser

# Links in the demo's messages and calendar files point at the address served.
run dev-serve: export BASE_URL ?= http://$(HOST):$(PORT)

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo
	$(PY) manage.py ensure_admin
	@$(MAKE) --no-print-directory dev-serve

# Both servers listen on HOST:PORT. The task worker looks for new tasks every
# TASK_WORKER_INTERVAL seconds when it has none: an email or text goes out at
# most that long after the page that queued it.
HOST ?= 127.0.0.1
PORT ?= 8000
TASK_WORKER_INTERVAL ?= 5
# With REDIS_URL set, tasks wait in Redis and RQ's workers take them at once
# (no interval): make run starts one, make serve a pool of RQ_WORKERS (each
# runs every task in a fork of its own; one of them also runs RQ's scheduler
# for tasks queued to run later).
RQ_WORKERS ?= 2
RQ_WORKER := manage.py rqworker --job-class django_tasks_rq.Job --with-scheduler default
RQ_POOL = manage.py rqworker-pool --num-workers $(RQ_WORKERS) --job-class django_tasks_rq.Job default

# make run's servers: runserver (reloads on code changes, through watchfiles'
# file system events), the task worker (emails and texts appear in this
# terminal; db_worker reloads too, RQ's worker does not) and the scheduled jobs (website/scheduler.py:
# reminders, held messages and old import jobs every 10 minutes, retention and
# the coordinators' daily summary once a day), as cron would.
dev-serve:
	@echo "Serving http://$(HOST):$(PORT) (Ctrl+C stops the server, worker and scheduled jobs)"
	@if [ -n "$$REDIS_URL" ]; then $(PY) $(RQ_WORKER) & worker=$$!; \
	else $(PY) manage.py db_worker --interval $(TASK_WORKER_INTERVAL) & worker=$$!; fi; \
	$(PY) manage.py run_scheduled_jobs & jobs=$$!; \
	trap 'kill $$worker $$jobs 2>/dev/null' EXIT INT TERM; \
	$(PY) manage.py runserver $(HOST):$(PORT)

# make serve: production settings (DEBUG off) behind gunicorn, with the same
# worker and scheduled jobs. Secrets come from the environment, or else from
# .env.serve, made once with random keys (git-ignored, readable by its owner
# only). Unless the environment says otherwise: its own SQLite database
# (serve.sqlite3, apart from make run's, whose support needs are encrypted
# with the published development key), a file cache shared by every process
# (.cache/serve; with REDIS_URL set, Redis is the cache and the task queue,
# and RQ_WORKERS RQ workers replace db_worker), BASE_URL http://HOST:PORT,
# and an https redirect only when BASE_URL is https. `make serve DEMO=1`
# loads the demo content first (once).
SERVE_ENV := .env.serve
CORES := $(shell nproc 2>/dev/null || echo 1)
# 2 x cores + 1, at most 8: each worker holds its own copy of the site
# (about 100 MB) and SQLite has one writer at a time.
GUNICORN_WORKERS ?= $(shell n=$$((2 * $(CORES) + 1)); [ $$n -gt 8 ] && n=8; echo $$n)
GUNICORN_TIMEOUT ?= 30

$(SERVE_ENV): | $(PY)
	@umask 077 && $(PY) -c 'import secrets; from cryptography.fernet import Fernet; \
	print("SECRET_KEY=" + secrets.token_urlsafe(50)); \
	print("GATHER_FIELD_ENCRYPTION_KEYS=" + Fernet.generate_key().decode())' > $@.tmp && mv $@.tmp $@
	@echo "Made $@ with a new SECRET_KEY and field encryption key: keep it with the backups of serve.sqlite3, which cannot be read without it."

serve: install $(SERVE_ENV)
	@set -e; \
	while read -r line; do \
	  case "$$line" in ''|\#*) continue;; esac; name=$${line%%=*}; \
	  [ -n "$$(printenv "$$name")" ] || export "$$line"; \
	done < $(SERVE_ENV); \
	export DJANGO_SETTINGS_MODULE=website.settings.production; \
	export DATABASE_URL="$${DATABASE_URL:-sqlite:///$(CURDIR)/serve.sqlite3}"; \
	if [ -z "$$REDIS_URL" ]; then export CACHE_URL="$${CACHE_URL:-filecache://$(CURDIR)/.cache/serve}"; fi; \
	export BASE_URL="$${BASE_URL:-http://$(HOST):$(PORT)}"; \
	case "$$BASE_URL" in https:*) https=true;; *) https=false;; esac; \
	export SECURE_SSL_REDIRECT="$${SECURE_SSL_REDIRECT:-$$https}"; \
	$(PY) manage.py migrate --noinput; \
	$(PY) manage.py collectstatic --noinput --verbosity 0; \
	if [ -n "$(DEMO)" ]; then $(PY) manage.py load_demo; fi; \
	echo "Serving $$BASE_URL on $(HOST):$(PORT) with $(GUNICORN_WORKERS) gunicorn workers (Ctrl+C stops the server, worker and scheduled jobs)"; \
	if [ -n "$$REDIS_URL" ]; then $(PY) $(RQ_POOL) & worker=$$!; \
	else $(PY) manage.py db_worker --no-reload --interval $(TASK_WORKER_INTERVAL) & worker=$$!; fi; \
	$(PY) manage.py run_scheduled_jobs & jobs=$$!; \
	trap 'kill $$worker $$jobs 2>/dev/null' EXIT INT TERM; \
	$(VENV)/bin/gunicorn website.wsgi --bind $(HOST):$(PORT) \
	  --workers $(GUNICORN_WORKERS) --timeout $(GUNICORN_TIMEOUT) --no-control-socket

# The suite runs in one worker process per CPU (pytest-xdist). Tests are
# handed out in pytest-django's order, so each worker runs the transactional
# tests (which empty its database) after the others, as one process would;
# --dist loadfile would not keep that order. `make test PYTEST_WORKERS=` runs
# the suite in a single process.
PYTEST_WORKERS ?= -n auto

test: install browser-check
	$(PY) -m pytest $(PYTEST_WORKERS)

# The layer check (lint-imports, contract in pyproject.toml) fails when a
# module imports from a layer above its own, even inside a function.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) manage.py check --fail-level WARNING

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: install
	$(PY) -m tests.bench

# A mixed load (listing, search, event pages, feeds, sign-ups, drop-ins,
# cancellations, attendance) on gunicorn with PostgreSQL and Redis, all on
# 127.0.0.1, at the concurrency levels LOADTEST_CLIENTS for LOADTEST_SECONDS
# each; then checks capacities, waitlists and message tasks. Its database
# (LOADTEST_DATABASE_URL, default gather_loadtest) and Redis database
# (LOADTEST_REDIS_URL, default redis://127.0.0.1:6379/10) are its own: both
# are overwritten. tests/bench/loadtest.py lists the other settings.
loadtest: install
	$(PY) -m tests.bench.loadtest

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache staticfiles .e2e-artifacts
