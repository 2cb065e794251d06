VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test lint demo serve bench clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/mypy src
	$(VENV)/bin/lint-imports

test: lint
	$(PY) -m pytest -q

demo: $(STAMP)
	$(VENV)/bin/cwmcp demo

serve: $(STAMP)
	$(VENV)/bin/cwmcp serve

bench: $(STAMP)
	$(PY) bench/auth_overhead.py
	$(PY) bench/credentials.py
	$(PY) bench/server.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
