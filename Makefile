# One entry point: `make run` starts the stack locally, `make test` is the whole CI gate.
SHELL := /bin/bash
PYTHON ?= python3.13
VENV := .venv
PY := $(VENV)/bin/python
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
CHECKOV_VENV := .venv-checkov
DOCS_VENV := .venv-docs
TEMPLATES := template.yaml deploy/api-gateway-account.yaml
export AWS_DEFAULT_REGION ?= us-east-1
export SAM_CLI_TELEMETRY := 0
# mkdocs-material prints a banner about MkDocs 2.0 on every build unless told not to.
export NO_MKDOCS_2_WARNING := 1
# The layer's bytecode is written by the runtime's CPython (layers/shared/Makefile).
export BYTECODE_PYTHON := $(CURDIR)/$(PY)

.PHONY: test run install lint types unit template docs docs-build format bench clean import-catalog community

$(VENV)/.installed: requirements-dev.txt layers/shared/requirements.txt layers/print/requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

$(SAM_VENV)/.installed: requirements-sam.txt
	test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install -q --disable-pip-version-check -r requirements-sam.txt
	touch $@

$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install -q --disable-pip-version-check -r requirements-checkov.txt
	touch $@

# The TypeScript client's tools (openapi-typescript, openapi-fetch, tsc) from their lockfile,
# for tests/e2e/test_generated_clients.py; the tests themselves install nothing.
CLIENT_TOOLS := .local/clients/typescript
$(CLIENT_TOOLS)/.installed: clients/typescript/package.json clients/typescript/package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing: install Node.js 20 and npm (.ci/run does it)" >&2; exit 1; }
	mkdir -p $(CLIENT_TOOLS)
	cp $^ $(CLIENT_TOOLS)/
	cd $(CLIENT_TOOLS) && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@

$(DOCS_VENV)/.installed: requirements-docs.txt
	test -x $(DOCS_VENV)/bin/python || $(PYTHON) -m venv $(DOCS_VENV)
	$(DOCS_VENV)/bin/python -m pip install -q --disable-pip-version-check -r requirements-docs.txt
	touch $@

install: $(VENV)/.installed $(SAM_VENV)/.installed $(CHECKOV_VENV)/.installed $(DOCS_VENV)/.installed

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

types: $(VENV)/.installed
	$(VENV)/bin/mypy layers/shared/barcode_service layers/shared/compile_bytecode.py functions local scripts bench

unit: $(VENV)/.installed $(DOCS_VENV)/.installed $(CLIENT_TOOLS)/.installed
	$(PY) -m pytest --cov --cov-report=term

# checkov: every failure it still finds is suppressed in the template with its reason;
# --skip-download keeps it offline. The linters run again on a copy with SnapStart on
# (they take no parameter overrides); SNAPSTART_TEMPLATE is that copy.
SNAPSTART_TEMPLATE := .aws-sam/template-snapstart.yaml
template: $(VENV)/.installed $(SAM_VENV)/.installed $(CHECKOV_VENV)/.installed
	$(PY) -m scripts.template_variant $(SNAPSTART_TEMPLATE) SnapStart=PublishedVersions
	$(VENV)/bin/cfn-lint $(TEMPLATES) $(SNAPSTART_TEMPLATE)
	$(CHECKOV_VENV)/bin/checkov --framework cloudformation --compact --quiet --skip-download \
		$(foreach t,$(TEMPLATES) $(SNAPSTART_TEMPLATE),-f $(t))
	$(SAM) validate --lint --template template.yaml
	$(SAM) validate --lint --template $(SNAPSTART_TEMPLATE)
	$(SAM) build --template template.yaml --parallel

# The docs site: --strict fails on a broken link, anchor or include.
docs-build: $(DOCS_VENV)/.installed
	$(DOCS_VENV)/bin/mkdocs build --strict --quiet

# `make docs`: the site on http://127.0.0.1:8000, rebuilt on every save.
docs: $(DOCS_VENV)/.installed
	$(DOCS_VENV)/bin/mkdocs serve

test: lint types docs-build unit template

run: $(VENV)/.installed
	$(PY) -m local.stack

# `make import-catalog FILE=catalog.csv`: catalog overrides into the running `make run` stack.
import-catalog: $(VENV)/.installed
	$(PY) -m scripts.import_catalog --local $(FILE)

# `make community ARGS="list"`, `ARGS="approve 0012345678905"`, `ARGS="export --format json"`:
# the community catalog of the running `make run` stack (scripts/community.py).
community: $(VENV)/.installed
	$(PY) -m scripts.community --local $(ARGS)

# `make bench BENCH_ARGS=--hog`: the same with a CPU hog on one core beside it.
bench: $(VENV)/.installed $(SAM_VENV)/.installed
	$(PY) -m bench $(BENCH_ARGS)

format: $(VENV)/.installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache .coverage
