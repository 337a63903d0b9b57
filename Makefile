# callops: `make run` to set up and run the brief's sample day, `make sample` for a week more, `make test` to test (`make test-fast`: no processes or browser), `make dev` for the UI (`dg dev`).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export DAGSTER_HOME := $(CURDIR)/.dagster_home
export CALLOPS_DATA_DIR ?= $(CURDIR)/data
SAMPLE_START ?= 2025-04-21
SAMPLE_DAYS ?= 7
# The brief's own day, shipped with the package; `make run` lands it when nothing is landed.
SAMPLE_FILES := $(addprefix callops_dagster/sample/assignment-2025-04-28/,call_logs.csv agent_roster.csv disposition_summary.csv)
PORT ?= 3000
# `dg`, Dagster's command line (pyproject.toml's [tool.dg]), as from the activated venv: without
# VIRTUAL_ENV it warns that the project's .venv is not the active one.
DG := VIRTUAL_ENV=$(CURDIR)/$(VENV) $(BIN)/dg

.PHONY: install run sample test test-fast dev bench clean
.PHONY: browser screenshot

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,cluster]'
	touch $@

install: $(BIN)/.installed

# A generated week before the brief's day, for the trend check and the UI; never overwrites a landed day.
sample: install
	$(BIN)/callops mock --start $(SAMPLE_START) --days $(SAMPLE_DAYS)

# The brief's day when nothing is landed yet (printing its message), else every landed day.
run: install
	@if [ -z "$$(ls -A '$(CALLOPS_DATA_DIR)/landing' 2>/dev/null)" ]; then \
		$(BIN)/callops run $(SAMPLE_FILES); \
	else \
		$(BIN)/callops run; \
	fi

# Test files spread over three workers (`--dist loadfile`: a file's module fixtures are built once;
# `--no-loadscope-reorder`: in conftest.py's order, the longest files first);
# most slow tests wait on whole processes, so three beat two on a two-core machine.
PYTEST_WORKERS ?= 3
test: install browser
	$(BIN)/lint-imports
	$(DG) check defs
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder

# Everything but the slow and UI tests (whole processes, live servers, the browser): under a minute.
test-fast: install
	$(BIN)/lint-imports
	$(DG) check defs
	$(BIN)/python -m pytest -m "not slow and not ui"

# The UI and the daemon (Dagster 1.13's `dg dev`; `dagster dev` still works the same).
dev: install
	$(DG) dev -h 127.0.0.1 -p $(PORT)

# Benchmark: writes benchmarks/RESULTS.md (BENCH_SIZES=100k,1M BENCH_REPEATS=3 ... to shorten).
$(BIN)/.bench-installed: $(BIN)/.installed
	$(BIN)/pip install --quiet -e '.[bench]'
	touch $@

bench: $(BIN)/.bench-installed
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf '$(CALLOPS_DATA_DIR)/warehouse' '$(CALLOPS_DATA_DIR)/reports'

# Headless Chromium for the UI tests (Debian's package; Playwright drives it, never downloads one).
CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@if [ ! -x '$(CHROMIUM)' ]; then \
		echo "Installing Debian's chromium for the UI tests"; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	fi

# Refresh docs/img/lineage.png from the UI test's screenshot of the asset graph.
screenshot: install browser
	UPDATE_DOCS_SCREENSHOT=1 $(BIN)/python -m pytest -q -p no:logging callops_dagster_tests/ui/test_browser.py -k asset_graph_page
