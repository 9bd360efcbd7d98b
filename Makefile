# Two entry points (see README): `make learn` and `make test`. Both set up .venv first. `make lint`: ruff (the CI runs it).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
EXTRAS ?= all,dev
# Some source builds (alfworld's fast-downward) call a bare `python`: make it the venv's.
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: setup learn test lint browser clean-venv rebuild-model check-model

setup: $(VENV)/.installed

# The embedded model's runtime (llama-cpp-python) is built first, for the instructions this machine runs
# (learnact/llm/runtime_build.py probes them; never -march=native), from a wheel cached under ~/.cache/learnact/wheels
# when one was built with the same flags; `pip install -e` then finds it installed and leaves it alone.
# Then the runtime answers a short prompt of the embedded model; if it crashes (a CPU family that passes the
# probe but not ggml's use of it, e.g. AMX in some VMs), it is built again without it (remembered per machine).
$(VENV)/.installed: pyproject.toml learnact/llm/runtime_build.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -U pip
	case ',$(EXTRAS),' in *,local,*|*,all,*) $(PY) -m learnact.llm.runtime_build install --python $(PY);; esac
	$(PY) -m pip install -e '.[$(EXTRAS)]'
	case ',$(EXTRAS),' in *,local,*|*,all,*) $(PY) -m learnact.llm.runtime_build check --fix --python $(PY);; esac
	touch $@

# Compile the runtime again for this machine (after a SIGILL, or on a machine the venv was not built on),
# then run it on a short prompt of the embedded model.
rebuild-model: setup
	$(PY) -m learnact.llm.runtime_build install --python $(PY) --rebuild
	$(PY) -m learnact.llm.runtime_build check --fix --python $(PY)

check-model: setup
	$(PY) -m learnact.llm.runtime_build check --embedded

learn: setup
	$(PY) run.py --graph learn

test: setup browser
	$(PY) -m pytest -q

# The one linter (configured in pyproject.toml; ruff comes with the dev extra).
lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

# The report test drives Debian's chromium. Installed once (sudo when not root); a no-op when present
# or when LEARNACT_SKIP_BROWSER=1. Without apt-get it only warns: the browser test then says what to do.
browser:
	@if [ "$$LEARNACT_SKIP_BROWSER" = 1 ] || command -v chromium >/dev/null 2>&1; then exit 0; fi; \
	if ! command -v apt-get >/dev/null 2>&1; then echo "warning: no apt-get: install chromium yourself for the report test"; exit 0; fi; \
	SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	$$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

clean-venv:
	rm -rf $(VENV)
