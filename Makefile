# orgshare.aws developer entry points. Every target installs what it needs
# itself (a local virtual environment, amazon.aws from the `ansible` wheel,
# ansible-test's offline pip shim) and reuses it on the next run.
#
#   make demo          start the emulator, seed a world, run the collection on it
#   make test          lint + sanity + units + integration + ecosystem (what CI runs)
#   make bench         API calls and wall time: ami_org_share vs amazon.aws vs boto3, and the role
#   make ecosystem     execution environment, ansible-runner (AWX) and Galaxy artifact tests
#   make ee            build the execution environment image (podman; installs podman when missing)
#   make docs          lint the docs (make docs-lint alone), build the site into docs/_build/html, check it in Chromium
#   make test-compat   units + integration at the floors: ansible-core 2.17, amazon.aws 9.0.0, botocore 1.35.0
#   make lint | sanity | units | integration      one stage alone
#   make format        format the Python of the whole tree (ruff; make lint checks it)
#   make clean         drop build products (keeps the virtual environment)
#   make distclean     drop the virtual environment too

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))

# Python 3.12 from pyenv when present (the newest ansible-core needs it), else python3.
PYENV_ROOT ?= $(shell pyenv root 2>/dev/null)
PY312 := $(lastword $(sort $(wildcard $(PYENV_ROOT)/versions/3.12.*/bin/python3.12)))
BASE_PYTHON ?= $(if $(PY312),$(PY312),python3)

VENV ?= $(ROOT)/.venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYVER = $(shell $(PY) -c 'import sys; print("%d.%d" % sys.version_info[:2])')

# amazon.aws comes from this release of the `ansible` package (Galaxy is out of reach).
ANSIBLE_PACKAGE ?= 14.5.0
BUILD ?= $(ROOT)/.build
COLLECTIONS := $(BUILD)/collections
COPY := $(COLLECTIONS)/ansible_collections/orgshare/aws
AMAZON_AWS := $(COLLECTIONS)/ansible_collections/amazon/aws/MANIFEST.json

export PATH := $(VENV)/bin:$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_HOME := $(BUILD)/ansible-home
export PYTHONDONTWRITEBYTECODE := 1

EMULATOR := PYTHONPATH=$(ROOT)/tests $(PY) -m emulator
ANSIBLE_TEST := cd $(COPY) && ansible-test
TEST_FLAGS ?= --color no --python $(PYVER)

.PHONY: help
help:
	@sed -n 's/^#   //p' $(MAKEFILE_LIST)

# --- toolchain -------------------------------------------------------------

$(STAMP): tools/requirements.txt
	rm -rf $(VENV)
	$(BASE_PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r tools/requirements.txt
	touch $@

$(AMAZON_AWS): | $(STAMP)
	mkdir -p $(BUILD)/wheels
	$(PY) -m pip download --quiet --no-deps --dest $(BUILD)/wheels ansible==$(ANSIBLE_PACKAGE)
	$(PY) tools/extract_collection.py $(BUILD)/wheels/ansible-$(ANSIBLE_PACKAGE)-py3-none-any.whl amazon.aws $(COLLECTIONS)

.PHONY: venv collections
venv: $(STAMP)

# A real (not symlinked) copy of the checkout next to amazon.aws, plus the pip shim.
collections: $(STAMP) $(AMAZON_AWS)
	$(PY) tools/sync_collection.py $(ROOT) $(COPY)
	$(PY) tools/ansible_test_pip_shim.py > /dev/null

# --- checks ----------------------------------------------------------------

.PHONY: test lint sanity units integration

# Every stage, each one's wall and CPU time printed and kept in BUILD/test-timings.txt; integration, the execution environment
# (its image, then the ecosystem tests) and lint, sanity and units run side by side (tools/run_tests.sh).
test:
	bash tools/run_tests.sh $(BUILD)

lint: collections
	cd $(ROOT) && ruff format --check --diff . && ruff check .
	cd $(COPY) && ansible-lint --profile production
	cd $(COPY) && antsibull-changelog lint

.PHONY: format
format: $(STAMP)
	cd $(ROOT) && ruff format . && ruff check --fix .

# shellcheck (a Debian package) too: without it ansible-test skips its shellcheck test.
sanity: collections
	bash tools/system_packages.sh shellcheck
	$(ANSIBLE_TEST) sanity --venv $(TEST_FLAGS)

# --local: this virtual environment has what the unit tests need (tests/unit/requirements.txt, pinned here), so
# ansible-test builds no virtual environment of its own for them.
units: collections
	PYTHONPATH=$(ROOT)/tests $(PY) -m pytest -q -p no:cacheprovider $(ROOT)/tests/emulator/tests
	$(ANSIBLE_TEST) units --local $(TEST_FLAGS)

# --local: the targets run with this virtual environment's Python, which has boto3 and the emulator's CLI (used by
# targets that register many images). Without INTEGRATION_TARGETS, the targets run in INTEGRATION_LANES parallel lanes,
# each with its own emulator and copy of the collection (tools/run_integration.py): a target waits about half its time.
INTEGRATION_LANES ?= 2
integration: collections
	$(PY) tools/run_integration.py --source $(ROOT) --collections $(COLLECTIONS) --copy $(COPY) --lanes-dir $(BUILD)/lanes \
		--lanes $(INTEGRATION_LANES) --python $(PYVER) $(INTEGRATION_TARGETS)

# --- demo ------------------------------------------------------------------

.PHONY: demo
demo: collections
	$(EMULATOR) run --seed --world-file $(BUILD)/demo-world.json -- bash $(ROOT)/demo/demo.sh

# --- benchmarks ------------------------------------------------------------

.PHONY: bench
bench: collections
	$(EMULATOR) run --seed --world-file $(BUILD)/bench-world.json -- $(PY) $(ROOT)/benchmarks/bench.py $(BENCH_ARGS)

# --- execution environment -------------------------------------------------

# The image: the collection built from this checkout and amazon.aws, on a Debian base image
# made locally (tools/build_ee.py). podman, runc and mmdebstrap are installed when missing.
EE_IMAGE ?= localhost/orgshare-aws-ee:latest
EE_WORK := $(BUILD)/ee
export CONTAINERS_CONF := $(ROOT)/tools/ee/containers.conf

.PHONY: ee ee-image system-ee
system-ee:
	bash tools/system_packages.sh podman runc mmdebstrap

ee: collections system-ee ee-image

# The image alone, from the collections copy as it is (make test builds it beside the other stages).
ee-image:
	$(PY) tools/build_ee.py --collections $(COLLECTIONS) --work $(EE_WORK) --tag $(EE_IMAGE)

# --- ecosystem -------------------------------------------------------------

# The execution environment's build context (ansible-builder), the collection
# playbook run by ansible-runner as AWX runs jobs, and the Galaxy artifact.
.PHONY: ecosystem ecosystem-tests
ecosystem: collections ee ecosystem-tests

# The tests alone, on the image as it is.
ecosystem-tests:
	ORGSHARE_COLLECTIONS=$(COLLECTIONS) ORGSHARE_EE_IMAGE=$(EE_IMAGE) PYTHONPATH=$(ROOT)/tests $(PY) -m pytest -q -p no:cacheprovider $(ROOT)/tests/ecosystem

# --- documentation ---------------------------------------------------------

# antsibull-docs and Sphinx live in their own virtual environment (tools/docs-requirements.txt).
DOCS_VENV ?= $(ROOT)/.venv-docs
DOCS_STAMP := $(DOCS_VENV)/.installed
DOCS_HTML ?= $(ROOT)/docs/_build/html
DOCS_ENV := PATH=$(DOCS_VENV)/bin:$$PATH

$(DOCS_STAMP): tools/docs-requirements.txt
	rm -rf $(DOCS_VENV)
	$(BASE_PYTHON) -m venv $(DOCS_VENV)
	$(DOCS_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(DOCS_VENV)/bin/python -m pip install --quiet -r tools/docs-requirements.txt
	touch $@

DOCS_SCREENSHOTS ?= $(dir $(DOCS_HTML))screenshots

.PHONY: docs docs-lint
# Schema, markup and references of every plugin's and the role's documentation, and of the
# scenario guides (docs/docsite: labels, toctree, references to plugins and options).
docs-lint: collections $(DOCS_STAMP)
	cd $(COPY) && $(DOCS_ENV) $(DOCS_VENV)/bin/antsibull-docs lint-collection-docs --plugin-docs --check-extra-docs-refs \
		--validate-collection-refs all --disallow-unknown-collection-refs .

# The site, built offline: module, filter and role pages and the scenario guides (docs/docsite).
# First the examples the guides show are checked (tests/ecosystem/test_docs_examples.py) and the
# browser check's own tests run; then every page is opened in headless Chromium
# (tools/check_docs_site.py): no missing page, no broken link or anchor; screenshots of the index
# and of a module page go to DOCS_SCREENSHOTS.
docs: docs-lint
	PYTHONPATH=$(ROOT)/tests $(PY) -m pytest -q -p no:cacheprovider \
		$(ROOT)/tests/ecosystem/test_docs_examples.py $(ROOT)/tests/ecosystem/test_check_docs_site.py
	$(DOCS_ENV) $(DOCS_VENV)/bin/python tools/build_docs.py $(BUILD)/docsite $(DOCS_HTML)
	bash tools/system_packages.sh chromium
	$(PY) tools/check_docs_site.py $(DOCS_HTML) --collection $(ROOT) --screenshots $(DOCS_SCREENSHOTS)

# --- compatibility ---------------------------------------------------------

# The declared floors: the oldest supported ansible-core (meta/runtime.yml) at its newest patch
# release on Python 3.11, amazon.aws 9.0.0 and boto3/botocore 1.35.0, with its own virtual
# environment (tools/compat-requirements.txt) and build copy.
PY311 := $(lastword $(sort $(wildcard $(PYENV_ROOT)/versions/3.11.*/bin/python3.11)))
COMPAT_BASE_PYTHON ?= $(if $(PY311),$(PY311),python3)
COMPAT_VENV ?= $(ROOT)/.venv-compat
COMPAT_PY := $(COMPAT_VENV)/bin/python
COMPAT_STAMP := $(COMPAT_VENV)/.installed
COMPAT_PYVER = $(shell $(COMPAT_PY) -c 'import sys; print("%d.%d" % sys.version_info[:2])')
COMPAT_BUILD := $(BUILD)/compat
COMPAT_COLLECTIONS := $(COMPAT_BUILD)/collections
COMPAT_COPY := $(COMPAT_COLLECTIONS)/ansible_collections/orgshare/aws
COMPAT_AMAZON_AWS := $(COMPAT_COLLECTIONS)/ansible_collections/amazon/aws/MANIFEST.json
COMPAT_ENV := PATH=$(COMPAT_VENV)/bin:$$PATH ANSIBLE_COLLECTIONS_PATH=$(COMPAT_COLLECTIONS) ANSIBLE_HOME=$(COMPAT_BUILD)/ansible-home
COMPAT_ANSIBLE_TEST := cd $(COMPAT_COPY) && $(COMPAT_ENV) $(COMPAT_VENV)/bin/ansible-test

$(COMPAT_STAMP): tools/compat-requirements.txt
	rm -rf $(COMPAT_VENV)
	$(COMPAT_BASE_PYTHON) -m venv $(COMPAT_VENV)
	$(COMPAT_PY) -m pip install --quiet --upgrade pip
	$(COMPAT_PY) -m pip install --quiet -r tools/compat-requirements.txt
	touch $@

# amazon.aws at the collection's floor (galaxy.yml: >= 9.0.0): `ansible` 11.0.0 ships 9.0.0.
COMPAT_ANSIBLE_PACKAGE ?= 11.0.0
$(COMPAT_AMAZON_AWS): | $(COMPAT_STAMP)
	mkdir -p $(BUILD)/wheels
	$(COMPAT_PY) -m pip download --quiet --no-deps --ignore-requires-python --dest $(BUILD)/wheels ansible==$(COMPAT_ANSIBLE_PACKAGE)
	$(COMPAT_PY) tools/extract_collection.py $(BUILD)/wheels/ansible-$(COMPAT_ANSIBLE_PACKAGE)-py3-none-any.whl amazon.aws $(COMPAT_COLLECTIONS)

.PHONY: test-compat compat-collections
compat-collections: $(COMPAT_STAMP) $(COMPAT_AMAZON_AWS)
	$(COMPAT_PY) tools/sync_collection.py $(ROOT) $(COMPAT_COPY)
	cp tools/compat-constraints.txt $(COMPAT_COPY)/tests/unit/constraints.txt
	$(COMPAT_ENV) $(COMPAT_PY) tools/ansible_test_pip_shim.py > /dev/null

# The emulator stands for AWS: it runs from `make test`'s virtual environment (the same moto and
# botocore models as there), while the modules and the tests use the floors; the integration targets run in lanes.
test-compat: compat-collections $(STAMP)
	$(COMPAT_ANSIBLE_TEST) --version
	$(COMPAT_ANSIBLE_TEST) units --venv --requirements --color no --python $(COMPAT_PYVER)
	$(COMPAT_ENV) $(PY) tools/run_integration.py --source $(ROOT) --collections $(COMPAT_COLLECTIONS) --copy $(COMPAT_COPY) \
		--lanes-dir $(COMPAT_BUILD)/lanes --lanes $(INTEGRATION_LANES) --python $(COMPAT_PYVER) \
		--ansible-test $(COMPAT_VENV)/bin/ansible-test $(INTEGRATION_TARGETS)

# --- housekeeping ----------------------------------------------------------

.PHONY: clean distclean
clean:
	rm -rf $(BUILD) tests/output docs/_build

distclean: clean
	rm -rf $(VENV) $(DOCS_VENV) $(COMPAT_VENV)
