# The whole set-up: `make run` and `make test`. Both create .venv with pip if it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NATIVE := $(VENV)/.native
# what the compiled matcher is built from (monitor/core/native.py finds the same: the modules of
# rules/ and terms/ and the monitor modules they import)
COMPILED := $(wildcard monitor/rules/*.py monitor/terms/*.py)
NATIVE_SOURCES := setup.py monitor/core/native.py $(COMPILED) \
	$(shell sed -n 's/^[[:space:]]*from \(monitor\.[a-z_.]*\) import.*/\1/p' $(COMPILED) \
	  | grep -v '^monitor\.\(rules\|terms\)' | sort -u | sed 's|\.|/|g; s|$$|.py|')
CONFIG ?= config/monitor.yaml
# The HTML preview test (tests/digest/test_preview_chromium.py) renders a digest in this browser;
# the web app's tests (tests/web/test_app_playwright.py) drive it with Playwright.
CHROMIUM ?= /usr/bin/chromium
export CHROMIUM

.PHONY: install run demo test quick lint typecheck unit chromium clean bench bench-sources \
	bench-million native-missing

install: $(STAMP) $(NATIVE)

$(STAMP): pyproject.toml
	@echo "installing monitor and its dependencies into $(VENV) (about a minute, once)"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The matcher (monitor/rules, monitor/terms) compiled with mypyc into build/native (setup.py),
# again whenever one of its sources changes or the build is gone; both run it only while it
# matches the sources (monitor/core/native.py), plain Python otherwise. If it cannot be compiled, matching
# runs as plain Python, slower, and tests/core/test_native.py fails. (Compiled files left beside the
# sources by an older make install would shadow them: removed.)
$(NATIVE): $(STAMP) $(NATIVE_SOURCES) $(if $(wildcard build/native/monitor/rules/*.so),,native-missing)
	@rm -rf build/native monitor/rules/*.so monitor/terms/*.so monitor/rules/_native_sources.json
	@echo "compiling the keyword matcher into build/native (mypyc; under a minute)"
	@if $(BIN)/python setup.py --quiet build_ext --build-lib build/native --force; then \
	  touch $(NATIVE); else rm -rf build/native; \
	  echo "warning: monitor/rules could not be compiled (see above; it needs a C compiler and" \
	    "the Python headers); matching runs as plain Python, about 1.4 times slower" >&2; \
	fi

native-missing:

run: install
	$(BIN)/monitor run -c $(CONFIG)

# The daemon on a made-up news site served on loopback: alerts on the screen with no network
# (monitor/demo); Ctrl-C stops it and removes what it made.
demo: install
	$(BIN)/monitor demo

lint: install
	$(BIN)/ruff check monitor tests bench setup.py
	$(BIN)/ruff format --check monitor tests bench setup.py
	$(BIN)/lint-imports --no-cache

typecheck: install
	$(BIN)/mypy

unit: install
	$(BIN)/pytest -q

# Debian's chromium, installed once when missing if we are root with apt-get (as on CI). If it
# cannot be, the preview test fails with a message saying so: it is never skipped.
chromium:
	@if [ -x "$(CHROMIUM)" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing Debian's chromium for the HTML preview and web app tests"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq chromium >/dev/null \
	    || echo "error: apt-get could not install chromium; the browser tests will fail" >&2; \
	else \
	  echo "error: $(CHROMIUM) is missing and only root with apt-get can install it here;" \
	    "the browser tests will fail (install chromium, or set CHROMIUM=/path/to/chromium)" >&2; \
	fi

test: chromium lint typecheck unit

# The loop while editing: ruff, mypy (fast once its cache is warm) and the tests that need no
# PostgreSQL, no browser, no compiled matcher and no second process (markers in pyproject.toml),
# in under a minute. `make test` runs everything and is what CI runs.
QUICK := not postgres and not browser and not slow and not native
quick: $(STAMP)
	$(BIN)/ruff check monitor tests bench setup.py
	$(BIN)/ruff format --check monitor tests bench setup.py
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/pytest -q -m "$(QUICK)"

# Issue 19's mixed feeds pinned to one core then two (bench/mixed.py), then issue 7's scale
# scenarios (bench/scale.py), each beside a bare aiohttp fetch, as tables (about 15 minutes),
# then issue 25's 100,000 sources on SQLite and PostgreSQL (bench-sources, about 25 minutes a
# store). Each runs whatever the others say; the status is a failure if a goal table has one.
bench: install
	$(BIN)/python -m bench.mixed; mixed=$$?; $(BIN)/python -m bench.scale; scale=$$?; \
	  $(MAKE) --no-print-directory bench-sources; exit $$((mixed | scale | $$?))

# issue 25 alone (bench/sources.py); SOURCES_ARGS="--sources 10000 --interval 90 --minutes 2"
# keeps its request rate at a tenth of its size, in a few minutes a store
bench-sources: install
	$(BIN)/python -m bench.sources $(SOURCES_ARGS)

# issue 25's million sources over four replicas on PostgreSQL (bench/million.py): one interval of
# an hour and ten minutes more, about 75 minutes, so not in `make bench`; a quick try:
# MILLION_ARGS="--sources 20000 --interval 120 --extra 30"
bench-million: install
	$(BIN)/python -m bench.million $(MILLION_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache build
