# orgshare.aws developer entry points. Every target installs what it needs
# itself (a local virtual environment, amazon.aws from the `ansible` wheel,
# ansible-test's offline pip shim) and reuses it on the next run.
#
#   make demo          start the emulator, seed a world, run the collection on it
#   make test          lint + sanity + units + integration (what CI runs)
#   make bench         API calls and wall time of ami_org_share for 10 and 100 AMIs
#   make lint | sanity | units | integration      one stage alone
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

test: lint sanity units integration

lint: collections
	cd $(COPY) && ansible-lint --profile production
	cd $(COPY) && antsibull-changelog lint

sanity: collections
	$(ANSIBLE_TEST) sanity --venv $(TEST_FLAGS)

units: collections
	PYTHONPATH=$(ROOT)/tests $(PY) -m pytest -q -p no:cacheprovider $(ROOT)/tests/emulator/tests
	$(ANSIBLE_TEST) units --venv --requirements $(TEST_FLAGS)

# --local: the targets run with this virtual environment's Python, which has boto3
# and the emulator's CLI (used by targets that register many images).
integration: collections
	cd $(COPY) && $(EMULATOR) run --seed --vars-file $(COPY)/tests/integration/integration_config.yml -- \
		ansible-test integration --local $(TEST_FLAGS) $(INTEGRATION_TARGETS)

# --- demo ------------------------------------------------------------------

.PHONY: demo
demo: collections
	$(EMULATOR) run --seed --world-file $(BUILD)/demo-world.json -- bash $(ROOT)/demo/demo.sh

# --- benchmarks ------------------------------------------------------------

.PHONY: bench
bench: collections
	$(EMULATOR) run --seed --world-file $(BUILD)/bench-world.json -- $(PY) $(ROOT)/benchmarks/bench.py $(BENCH_ARGS)

# --- housekeeping ----------------------------------------------------------

.PHONY: clean distclean
clean:
	rm -rf $(BUILD) tests/output

distclean: clean
	rm -rf $(VENV)
