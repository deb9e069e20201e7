# wf — two commands do everything on a fresh Debian machine: `make demo` and `make test`.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
APT_PACKAGES := xvfb xdotool xterm x11-apps x11-utils x11-xserver-utils xfonts-base python3-tk chromium tmux
STAMP := $(VENV)/.installed

.PHONY: setup system venv test lint demo bench soak clean

setup: system $(STAMP)

# Install the X tools the tests and the demo drive, only when something is missing.
system:
	@missing=""; \
	for t in Xvfb:xvfb xdotool:xdotool xterm:xterm xcalc:x11-apps xdpyinfo:x11-utils xset:x11-xserver-utils; do \
	  command -v $${t%%:*} >/dev/null 2>&1 || missing="$$missing $${t#*:}"; done; \
	[ -e /usr/share/fonts/X11/misc/fixed.alias ] || [ -e /usr/share/fonts/X11/misc/fonts.alias ] || missing="$$missing xfonts-base"; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi; \
	$(PY) -c "import tkinter" 2>/dev/null || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get install -y -qq python3-tk >/dev/null; }

$(STAMP): pyproject.toml
	[ -x $(BIN)/python ] || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip >/dev/null
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

test: setup
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .

demo: setup
	$(BIN)/python bench/demo.py

bench: setup
	$(BIN)/python bench/run.py

soak: setup
	$(BIN)/python bench/run.py --soak

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
