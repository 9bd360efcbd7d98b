# Two entry points (see README): `make learn` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
EXTRAS ?= all,dev
# Some source builds (alfworld's fast-downward) call a bare `python`: make it the venv's.
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: setup learn test clean-venv

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -U pip
	CMAKE_ARGS="-DLLAVA_BUILD=OFF" $(PY) -m pip install -e '.[$(EXTRAS)]'
	touch $@

learn: setup
	$(PY) run.py --graph learn

test: setup
	$(PY) -m pytest -q

clean-venv:
	rm -rf $(VENV)
