# Two commands on a fresh machine: `make run` and `make test`. Everything else follows.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi

.PHONY: run test lint bench sandbox clean browser

# The virtual environment, rebuilt when the pinned requirements change.
$(VENV)/.runtime: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

## run: create the database, load the demo conference if empty, serve on 127.0.0.1:5000
run: $(VENV)/.runtime
	$(FLASK) eventhub init-db
	$(FLASK) eventhub seed-demo --if-empty
	$(FLASK) eventhub serve --host 127.0.0.1 --port 5000

## test: lint, then the whole suite
test: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

lint: $(VENV)/.dev
	$(BIN)/ruff check .

## bench: the benchmarks in bench/ (prints figures; never part of the test suite)
bench: $(VENV)/.dev
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
