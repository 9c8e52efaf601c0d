# webjudge: two commands from a fresh machine.
#   make evaluate   run the judge on the shipped suite
#   make test       run the test suite
# Both install what is missing first (Debian packages, a virtualenv with the project),
# and do nothing more when everything is already there.
SHELL := /bin/bash
VENV ?= .venv
WORKERS ?= 2
PY := $(VENV)/bin/python
STAMP := $(VENV)/.webjudge-installed
APT_PACKAGES := chromium tesseract-ocr fonts-dejavu-core fonts-liberation
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PYTEST_ARGS ?=
# The suite runs in TEST_WORKERS pytest-xdist processes, a whole test file at a time (module
# fixtures built once; the corpus's session fixtures in one process). 0: in this process.
TEST_WORKERS ?= 2

.PHONY: setup system libs test evaluate tasks clean-venv

setup: system $(STAMP) libs

system:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v tesseract >/dev/null 2>&1 || missing="$$missing tesseract-ocr"; \
	[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing="$$missing fonts-dejavu-core"; \
	[ -d /usr/share/fonts/truetype/liberation ] || missing="$$missing fonts-liberation"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

$(STAMP): pyproject.toml
	@[ -x $(PY) ] || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip 2>&1 | grep -v "is ignored" || true
	$(PY) -m pip install -q -e '.[dreamsim,dev,ray]' 2>&1 | grep -vE "is ignored|^\s*$$" || true
	$(PY) -c "import judge, agents, metrics, playwright, dreamsim, torchvision, av, cv2, langgraph, ray, xdist"
	touch $(STAMP)

# The offline library mirror (judge/libraries.lock.json): fetched from the npm registry once,
# hash-verified; later runs only verify the cache (~1 s). Nothing downloads at judge or test time.
libs: $(STAMP)
	@$(VENV)/bin/judge libs sync

test: setup
	$(VENV)/bin/pytest -q -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

evaluate: setup
	$(VENV)/bin/judge tasks validate tasks/
	$(VENV)/bin/judge evaluate tasks/ --model reference --out runs/reference --workers $(WORKERS)

# Re-record every shipped task from its reference page (authoring; not needed to run).
tasks: setup
	@for d in tasks/animation/*/; do \
	  id=$$(basename $$d); dur=$$($(PY) -c "import json;print(json.load(open('$$d/meta.json')).get('duration_s',4))"); \
	  $(VENV)/bin/judge tasks record --family animation --page $$d/reference.html --out $$d --duration $$dur --meta $$d/meta.json || exit 1; \
	done
	@for d in tasks/interactive/*/; do \
	  $(VENV)/bin/judge tasks record --family interactive --page $$d/reference.html --actions $$d/actions.json --out $$d --meta $$d/meta.json || exit 1; \
	done

clean-venv:
	rm -rf $(VENV)
