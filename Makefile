# Two commands for a fresh machine: `make run` (app with demo data on SQLite) and `make test` (whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := app:create_app

.PHONY: run test install browser db lint test-postgres bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

install: $(BIN)/.installed

# Debian's Chromium drives the browser tests; Playwright never downloads a browser.
browser:
	@command -v chromium >/dev/null 2>&1 || sh scripts/install-chromium.sh

db: install
	mkdir -p instance
	$(BIN)/flask db upgrade heads
	$(BIN)/flask demo-data --if-empty

run: db
	@test -f instance/demo-logins.txt && cat instance/demo-logins.txt || true
	@echo "Serving on http://127.0.0.1:5000 (Ctrl+C to stop)"
	$(BIN)/flask run --host 127.0.0.1 --port 5000

lint: install
	$(BIN)/ruff check .

test: install browser lint
	$(BIN)/pytest -q

# The same suite on PostgreSQL (database `test` on 127.0.0.1:5432 unless TEST_DATABASE_URL says otherwise).
test-postgres: install browser
	TEST_DATABASE_URL=$${TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test} $(BIN)/pytest -q

bench: install
	$(BIN)/python -m matching bench --size trust

clean:
	rm -rf $(VENV) instance .pytest_cache test-artifacts
