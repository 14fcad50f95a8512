# slawatch: everything a newcomer or CI needs, from a fresh machine.
#   make run    slawatch on a demo feed (set-up included)
#   make test   the whole suite on the real Kafka, PostgreSQL and Prometheus
#   make bench  the benchmarks (figures go in docs/benchmarks.md)
#   make chaos  the crash tests with 50 kill -9s instead of 5

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install lint typecheck test test-fast run bench chaos clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

test: lint typecheck
	deploy/run-tests.sh

test-fast: install
	$(BIN)/pytest -m "not kafka and not postgres and not prometheus" -q

run: install
	deploy/run-demo.sh

chaos: install
	SLAWATCH_CHAOS_KILLS=50 deploy/run-tests.sh tests/pipeline tests/notifier -k "killed"

bench: install
	deploy/run-bench.sh

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
