# Two commands on a fresh machine: `make run` and `make test`. Everything else follows.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
MO := $(patsubst %.po,%.mo,$(wildcard eventhub/translations/*/LC_MESSAGES/messages.po))
CHROMIUM := /usr/bin/chromium
FEED_READERS := tests/calendars/node/node_modules/.package-lock.json

.PHONY: run test lint bench soak sandbox clean translations

# The virtual environment, rebuilt when the pinned requirements change.
$(VENV)/.runtime: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

# Compiled translations: generated from the committed .po files, never committed.
%.mo: %.po $(VENV)/.runtime
	$(BIN)/pybabel -q compile -i $< -o $@

## run: create the database, load the demo conference if empty, serve on 127.0.0.1:5000
run: $(VENV)/.runtime $(MO)
	$(FLASK) eventhub init-db
	$(FLASK) eventhub seed-demo --if-empty
	$(FLASK) eventhub serve --host 127.0.0.1 --port 5000

## test: lint, then the whole suite (installs Debian's chromium for the browser tests, and the
## feed readers: ical.js from npm, Ruby's icalendar from Debian)
test: $(VENV)/.dev $(MO) $(FEED_READERS)
	test -x $(CHROMIUM) || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium) \
		|| echo "could not install chromium: the browser tests will say so"
	(command -v ruby >/dev/null && ruby -e "require 'icalendar'" 2>/dev/null) \
		|| (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y ruby ruby-icalendar) \
		|| echo "could not install ruby-icalendar: the Ruby feed reader tests will say so"
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

# ical.js, which tests/eventhub/test_feed_readers.py reads the feeds back with (no node: skipped).
$(FEED_READERS): tests/calendars/node/package.json tests/calendars/node/package-lock.json
	npm ci --prefix tests/calendars/node --no-audit --no-fund \
		|| echo "could not install ical.js: the ical.js feed reader tests will say so"

lint: $(VENV)/.dev
	$(BIN)/ruff check .

## bench: the benchmarks in bench/ (prints figures; never part of the test suite)
bench: $(VENV)/.dev
	$(BIN)/python -m bench

## soak: 10 minutes at 50 requests/s with 500 Socket.IO clients on the `make run` server
soak: $(VENV)/.dev $(MO)
	$(BIN)/python -m bench.soak --duration 600 --clients 500 --rate 50

## sandbox: serve every provider simulator on 127.0.0.1:5050 (prints the variables to export)
sandbox: $(VENV)/.runtime
	$(FLASK) eventhub sandbox --port 5050

## translations: extract UI strings and merge them into the ru/de/en catalogs (then translate)
translations: $(VENV)/.runtime
	$(BIN)/pybabel -q extract -F babel.cfg -k lazy_gettext -k _l --no-location --sort-output \
		--omit-header -o eventhub/translations/messages.pot .
	$(BIN)/pybabel -q update -i eventhub/translations/messages.pot -d eventhub/translations \
		-w 100 --ignore-obsolete --no-fuzzy-matching

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache $(MO)
