# Every target bootstraps .venv on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: run test lint fmt bench install clean model

# Real labelled appeals beside the checkout (never copied into it): the category model's corpus.
REAL_DATA ?= ../shared/data/real

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

run: $(STAMP)
	@$(BIN)/feedback-router classifier altai --if-missing --data $(REAL_DATA) \
		|| echo "category model not trained: the router runs on its keyword rules"
	$(BIN)/feedback-router run

# Retrain the router's category model (about a minute); a running worker picks it up live.
model: $(STAMP)
	$(BIN)/feedback-router classifier altai --data $(REAL_DATA)

test: $(STAMP)
	$(BIN)/pytest -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy service workers schemas

fmt: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
