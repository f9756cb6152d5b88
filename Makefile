# newscrawl: `make demo` (offline demo crawl) and `make test` work on a fresh clone.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install demo test lint corpus bench bench-quick clean

$(BIN)/scrapy: requirements.txt requirements-dev.txt setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(BIN)/scrapy

install: $(BIN)/scrapy

## The main job: an offline crawl of the fixture outlets through WARC replay, with a summary.
demo: install
	NEWSCRAWL_LOG_LEVEL=WARNING $(BIN)/scrapy demo

## The test suite (what CI runs).
test: install
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check .

## Score batch extraction on ../shared/corpus with the shared scorer.
corpus: install
	$(BIN)/scrapy extract ../shared/corpus/pages.jsonl -o out/corpus/items.jsonl
	$(PYTHON) ../shared/eval/score.py ../shared/corpus/pages.jsonl out/corpus/items.jsonl --no-sites

## Benchmarks (print figures, assert nothing): full pipeline vs bare Scrapy, generic vs trafilatura, state costs.
bench: install
	$(BIN)/python bench/run.py

bench-quick: install
	$(BIN)/python bench/run.py --quick

clean:
	rm -rf out build *.egg-info .pytest_cache
