# Two entry points (see README): `make learn` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
EXTRAS ?= all,dev
# Some source builds (alfworld's fast-downward) call a bare `python`: make it the venv's.
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: setup learn test browser clean-venv

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -U pip
	CMAKE_ARGS="-DLLAVA_BUILD=OFF" $(PY) -m pip install -e '.[$(EXTRAS)]'
	touch $@

learn: setup
	$(PY) run.py --graph learn

test: setup browser
	$(PY) -m pytest -q

# The report test drives Debian's chromium. Installed once (sudo when not root); a no-op when present
# or when LEARNACT_SKIP_BROWSER=1. Without apt-get it only warns: the browser test then says what to do.
browser:
	@if [ "$$LEARNACT_SKIP_BROWSER" = 1 ] || command -v chromium >/dev/null 2>&1; then exit 0; fi; \
	if ! command -v apt-get >/dev/null 2>&1; then echo "warning: no apt-get: install chromium yourself for the report test"; exit 0; fi; \
	SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	$$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

clean-venv:
	rm -rf $(VENV)
