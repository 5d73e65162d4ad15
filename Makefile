# The two commands: `make run` (the system on its embedded default) and `make test`.
PORT ?= 8000
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test venv lint clean

run: venv
	@scripts/run.sh $(PORT)

test:
	@scripts/test.sh

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-test.txt
	@test -x $(PY) || python3 -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check -r requirements-test.txt
	@touch $@

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/bandit -q -c pyproject.toml -r conac registry review billing badges rdap

clean:
	rm -rf $(VENV) var/staticfiles .pytest_cache
