# One entry point for common tasks. `make run` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell sha1sum requirements.lock | cut -c1-12)
DEV_ENV := DEBUG=1
PORT   ?= 8000

.PHONY: install run serve test test-pg lint format messages bench clean demo-advance screenshots

$(STAMP): requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

## Set up, migrate, seed the demo (two districts, ~10,000 pupils each) and serve on http://127.0.0.1:$(PORT)
## (PORT=8001 make run for another port)
run: install
	$(DEV_ENV) $(BIN)/python manage.py migrate --noinput
	$(DEV_ENV) $(BIN)/python manage.py seed_demo
	$(DEV_ENV) $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

## The demo's clock moves on: every publicity period still running in the demo districts ends as of
## yesterday (lists due are closed; the district approves award lists in the browser). Demo districts only.
demo-advance: install
	$(DEV_ENV) $(BIN)/python manage.py demo_advance

## The test suite: SQLite by default; PostgreSQL and Redis when DATABASE_URL and REDIS_URL are set.
## It runs in one process per core (pytest-xdist; TEST_PROCESSES=0 for one process), a test module per
## process at a time so that a module's browser and data are set up once.
TEST_PROCESSES ?= auto
test: install
	$(BIN)/python -m pytest -n $(TEST_PROCESSES) --dist loadfile $(PYTEST_ARGS)

## The same suite against the local PostgreSQL and Redis.
test-pg: install
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/funding} \
	REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/0} $(BIN)/python -m pytest -n $(TEST_PROCESSES) --dist loadfile $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(DEV_ENV) $(BIN)/python manage.py makemigrations --check --dry-run
	$(DEV_ENV) $(BIN)/python manage.py check
	$(BIN)/lint-imports
	$(DEV_ENV) $(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## Regenerate and compile the Chinese message catalog.
messages: install
	$(DEV_ENV) $(BIN)/python manage.py makemessages -l zh_Hans --ignore=.venv --ignore=bench --ignore=tests
	$(DEV_ENV) $(BIN)/python manage.py compilemessages -l zh_Hans --ignore=.venv

bench: install
	$(BIN)/python bench/run.py

## docs/screenshots/<role>-<width>.png: each demo role's home page at 1280 and 390 px (SCALE=0.25 of the demo)
screenshots: install
	$(BIN)/python bench/screenshots.py

clean:
	rm -rf $(VENV) db.sqlite3* .test.sqlite3* staticfiles
