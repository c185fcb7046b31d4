# spx-data — every target sets itself up: a fresh clone needs only python3, make and the registries.
SHELL := /bin/bash
.DELETE_ON_ERROR:
.DEFAULT_GOAL := help

PYTHON ?= python3
ROOT   := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
VENV   := $(ROOT)/.venv
NODE_LIBS := $(VENV)/bats-libs
export PATH := $(ROOT)/bin:$(VENV)/bin:$(PATH)
export BATS_LIB_PATH := $(NODE_LIBS)/node_modules

help: ## list the targets
	@grep -hE '^[a-zA-Z%/._-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 24

$(VENV)/.installed: $(ROOT)/setup.py
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '$(ROOT)[test]'
	touch $@

$(NODE_LIBS)/.installed:
	mkdir -p $(NODE_LIBS)
	npm install --silent --no-audit --no-fund --prefix $(NODE_LIBS) bats-support@0.3.0 bats-assert@2.2.4
	touch $@

install: $(VENV)/.installed ## create .venv and install spx-data into it

test: $(VENV)/.installed $(NODE_LIBS)/.installed ## run the whole test suite (pytest, then bats)
	cd $(ROOT) && $(VENV)/bin/python -m pytest -q tests
	cd $(ROOT) && bats tests/bats

test-faults: $(VENV)/.installed ## the heavy fault cases: kill -9 at 20 moments, faults alone at 30 %, the 200-line malformed-input sweep
	cd $(ROOT) && $(VENV)/bin/python -m pytest -q -m faults_heavy tests

test-py: $(VENV)/.installed ## run the pytest suite only
	cd $(ROOT) && $(VENV)/bin/python -m pytest -q tests

test-bats: $(VENV)/.installed $(NODE_LIBS)/.installed ## run the bats suite only
	cd $(ROOT) && bats tests/bats

demo: $(VENV)/.installed ## the main job on the built-in Theta Terminal simulator
	$(ROOT)/share/demo.sh

sim: $(VENV)/.installed ## run the Theta Terminal simulator in the foreground (SIM_ARGS=...)
	spx-sim $(SIM_ARGS)

bench: $(VENV)/.installed ## speed and memory benchmark (minutes); writes bench/results/
	cd $(ROOT) && $(VENV)/bin/python bench/run.py

clean: ## remove the virtualenv and caches (never data/)
	rm -rf $(VENV) .pytest_cache build *.egg-info lib/*.egg-info

# Build one day: make -j4 data/2024/01/02/spx-options-2024-01-02.parquet
# The output directory is the part of the path before YYYY/MM/DD (OUT= is not needed).
# A sealed file is up to date (no prerequisites); spx-seal only ever renames a verified file into place.
%.parquet: | $(VENV)/.installed ## build one day: make data/YYYY/MM/DD/spx-options-YYYY-MM-DD.parquet
	@name=$(notdir $*); day=$${name#spx-options-}; \
	out=$$(dirname $$(dirname $$(dirname $$(dirname $@)))); \
	SPX_DATA_PROCESSING_OUTPUTDIRECTORY="$$out" spx-data process "$$day" && test -f $@ || \
	{ echo "make: $@ was not produced (is the path {outputDir}/YYYY/MM/DD/spx-options-YYYY-MM-DD.parquet?)" >&2; exit 1; }

.PHONY: help install test test-faults test-py test-bats demo sim bench clean
