# Gather: `make run` serves the demo site, `make test` runs the suite.
# Both create .venv and install what they need first; both are safe to repeat.

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
.PHONY: help install system-check browser-check run serve test lint format bench clean

help:
	@echo "make run     set up, load the demo once, and serve http://127.0.0.1:8000"
	@echo "make test    set up and run the whole test suite"
	@echo "make lint    ruff, the layer check, makemigrations --check, manage.py check"
	@echo "make format  ruff format and fix"
	@echo "make bench   run the benchmarks and print a table"

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

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo
	$(PY) manage.py ensure_admin
	@$(MAKE) --no-print-directory serve

# The web server, the task worker (emails and texts appear in this terminal),
# and a loop that every 10 minutes queues session reminders, sends messages
# held by quiet hours or due a new try (printed here too), and clears old
# import jobs, and once a day (the first pass after the date changes) anonymises
# what the retention period says must go and emails the coordinators' daily
# summary, as cron would.
serve:
	@echo "Serving http://127.0.0.1:8000 (Ctrl+C stops the server, worker and reminders)"
	@$(PY) manage.py db_worker & worker=$$!; \
	( day=; while :; do $(PY) manage.py send_reminders >/dev/null; $(PY) manage.py send_due_messages; $(PY) manage.py purge_import_jobs >/dev/null; \
	  today=$$(date +%F); if [ "$$today" != "$$day" ]; then $(PY) manage.py apply_retention >/dev/null && $(PY) manage.py send_staff_digest >/dev/null && day=$$today; fi; \
	  sleep 600; done ) & reminders=$$!; \
	trap 'kill $$worker $$reminders 2>/dev/null' EXIT INT TERM; \
	$(PY) manage.py runserver 127.0.0.1:8000

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

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache staticfiles .e2e-artifacts
