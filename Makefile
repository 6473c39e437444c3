# The two commands of the README: `make demo` and `make test`. Both bootstrap the venv.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint format serve lock clean bench browser-tools validate-deploy

$(STAMP): requirements.lock requirements-dev.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock -r requirements-dev.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/instagram-service demo

serve: $(STAMP)
	$(BIN)/instagram-service serve

# Browser tests need Debian's chromium and the pinned npm tools: installed here when missing.
browser-tools:
	./scripts/ensure-browser.sh

test: $(STAMP) browser-tools
	$(BIN)/pytest -q $(PYTEST_ARGS)

# Style, types, the layers (import-linter contracts in pyproject.toml) and no import cycle.
lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest -q -p no:cacheprovider tests/test_architecture.py

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks scripts
	$(BIN)/ruff check --fix src tests benchmarks scripts

# Re-pin every dependency after changing pyproject.toml (needs uv: pip install uv). The image
# installs requirements.lock only; the dev lock holds what the tests and lint add on top of it.
lock:
	uv pip compile pyproject.toml --python-version 3.11 -o requirements.lock
	uv pip compile pyproject.toml --extra dev --python-version 3.11 -c requirements.lock -o .dev-full.lock
	$(BIN)/python scripts/dev_lock.py .dev-full.lock requirements.lock > requirements-dev.lock
	rm .dev-full.lock

# The deploy files, checked as an operator would (kubernetes-validate, promtool, compose schema,
# nginx -t and a request through nginx); Debian's prometheus and nginx are installed if missing.
validate-deploy: $(STAMP)
	deploy/validate.sh

bench: $(STAMP)
	for b in benchmarks/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
