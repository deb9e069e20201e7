# wf — two commands do everything on a fresh Debian machine: `make demo` and `make test`.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# command-that-proves-it:debian-package — only the missing ones are installed.
SYSTEM_NEEDS := Xvfb:xvfb xdotool:xdotool xterm:xterm xcalc:x11-apps xdpyinfo:x11-utils xset:x11-xserver-utils \
	weston:weston Xwayland:xwayland openbox:openbox tesseract:tesseract-ocr \
	chromium:chromium tmux:tmux cnee:xnee xmacroplay:xmacro
STAMP := $(VENV)/.installed

.PHONY: setup system venv test lint typecheck demo bench soak clean

setup: system $(STAMP)

# Install the X tools the tests and the demo drive, only when something is missing.
system:
	@SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); missing=""; \
	for t in $(SYSTEM_NEEDS); do command -v $${t%%:*} >/dev/null 2>&1 || missing="$$missing $${t#*:}"; done; \
	ls /usr/share/fonts/X11/misc/*.pcf.gz >/dev/null 2>&1 || missing="$$missing xfonts-base"; \
	$(PY) -c "import tkinter" 2>/dev/null || missing="$$missing python3-tk"; \
	$(PY) -c "import ensurepip" 2>/dev/null || missing="$$missing python3-venv"; \
	if [ -n "$$missing" ]; then \
	  echo "make setup: installing system packages:$$missing"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

$(STAMP): pyproject.toml
	[ -x $(BIN)/python ] || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip >/dev/null
	$(BIN)/python -m pip install -q -e '.[test,ray]'
	touch $(STAMP)

test: setup typecheck
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .

# mypy --strict over all product code. The code folders map onto `wf.*` through package-dir, so the checker
# reads them through a tree of symlinks shaped like the installed package.
CODE_DIRS := cli recorder replayer bundle export redact view curate scale data
typecheck: setup
	@mkdir -p build/typecheck/wf && for d in $(CODE_DIRS); do ln -sfn ../../../$$d build/typecheck/wf/$$d; done
	cd build/typecheck && ../../$(BIN)/mypy --config-file ../../pyproject.toml -p wf

demo: setup
	$(BIN)/python bench/demo.py

bench: setup
	$(BIN)/python bench/run.py

# The long soak alone (bench/soak_bench.py, SOAK_MINUTES long); fine to run in the background
# (`nohup make soak > soak.log 2>&1 &`): RSS is appended to bench/results/soak-rss.tsv as it runs.
SOAK_MINUTES ?= 120
soak: setup
	WF_BENCH_SOAK_MINUTES=$(SOAK_MINUTES) $(BIN)/python bench/run.py --soak --only soak

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
