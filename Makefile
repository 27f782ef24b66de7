# Two commands on a fresh machine with python3 and make:
#   make demo   start the app on the built-in demo service (offline)
#   make test   run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint stress bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,ffmpeg]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/tikget --demo

test: $(STAMP)
	$(BIN)/ruff check tikget_tui tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

stress: $(STAMP)
	$(BIN)/python -m pytest -q -m slow tests
	$(BIN)/python bench/stress_kill.py --runs 25 --seed $${STRESS_SEED:-1}

bench: $(STAMP)
	for b in bench/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
