# hallgw: the few commands a person needs. `make help` lists them.
#
# Every target that runs code first runs `setup` (scripts/bootstrap.sh), which installs only
# what is missing and takes well under a second when everything is in place.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
PYTHON := $(VENV)/bin/python

.PHONY: help setup demo test check bench proto clean distclean

help: ## list the commands
	@awk 'BEGIN { FS = ":.*## " } /^[a-z]+:.*## / { printf "  make %-10s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

setup: ## install what the project needs: apt packages (as root), .venv, buf
	@bash scripts/bootstrap.sh

demo: setup ## run a virtual hall and the daemon against it (Ctrl-C stops both)
	@bash scripts/demo.sh

# pytest exits 5 when it collected no test: a run that tested nothing is a failure too.
test: setup ## run the test suite (what CI runs)
	@rc=0; $(PYTHON) -m pytest $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; fi; \
	exit $$rc

check: setup ## lint, format, types, import contracts, buf lint/breaking, proto drift
	@bash scripts/check.sh

# addopts leaves tests/bench out of the default run; a path named on the command line is
# collected all the same.
bench: setup ## run the benchmarks and show their figures
	@rc=0; $(PYTHON) -m pytest tests/bench -p no:cacheprovider -s $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make bench: no benchmarks collected in tests/bench" >&2; fi; \
	exit $$rc

proto: setup ## regenerate the gRPC code from proto/hallgw_api/v1/*.proto
	@bash scripts/gen_proto.sh

clean: ## remove caches, build output and demo state (keeps .venv and node_modules)
	rm -rf run/ build/ dist/ .mypy_cache/ .ruff_cache/ .pytest_cache/ .hypothesis/ .import_linter_cache/
	find . -path ./.venv -prune -o -path ./node_modules -prune -o -name __pycache__ -type d -print0 \
		| xargs -0 rm -rf

distclean: clean ## also remove .venv and node_modules (make setup rebuilds them)
	rm -rf $(VENV) node_modules/
