# Two commands on a fresh clone:
#   make demo   set up .venv and open the bot in the local chat (SQLite, no token needed)
#   make test   set up .venv and run the whole test suite (PostgreSQL tests too when
#               CASEBOT_TEST_DATABASE_URL is set, e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

# make test-night: the suite at 03:00 and at 23:30 America/Chicago (quiet hours, the day's end)
.PHONY: demo run test test-night lint typecheck corpus bench clean

$(BIN)/casebot: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,voice]'
	@touch $@

demo: $(BIN)/casebot
	$(BIN)/casebot run

run: demo

lint: $(BIN)/casebot
	$(BIN)/ruff check .
	$(BIN)/mypy

corpus: $(BIN)/casebot
	$(BIN)/casebot parse --corpus ../shared/corpus/messages.jsonl

test: $(BIN)/casebot lint
	$(BIN)/pytest -q -n auto

test-night: $(BIN)/casebot
	$(BIN)/pytest -q -n auto --clock-at 03:00
	$(BIN)/pytest -q -n auto --clock-at 23:30

bench: $(BIN)/casebot
	$(BIN)/python benchmarks/bench_parse.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
