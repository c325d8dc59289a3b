# `make run` runs the whole job; `make test` runs every check. Both first bring .venv in line
# with uv.lock: the first time that installs everything, afterwards it does nothing.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
UV_VERSION := 0.13.8
STAMP := $(VENV)/.synced
TOOLS := .cache/tools
PROMTOOL := $(TOOLS)/usr/bin/promtool
# GitHub's published REST description, which the GitHub stand-in checks every request against
# (tests/standins/github_contract.py reads this path from GITHUB_OPENAPI_PATH).
OCTOKIT_OPENAPI := 23.0.2
OCTOKIT_OPENAPI_SHA1 := 743435033357133786d56271b48a67991a614b0a
GITHUB_OPENAPI := $(TOOLS)/octokit-openapi-$(OCTOKIT_OPENAPI)/api.github.com.json
export GITHUB_OPENAPI_PATH := $(CURDIR)/$(GITHUB_OPENAPI)

# The project's tools come first on PATH, so `dvc repro` runs stages with the locked Python.
export PATH := $(CURDIR)/$(VENV)/bin:$(CURDIR)/$(TOOLS)/usr/bin:$(PATH)
export DVC_NO_ANALYTICS := 1
export BENTOML_DO_NOT_TRACK := true
export UV_PYTHON_DOWNLOADS := never
# Caches stay inside the checkout (git-ignored), never in the user's home.
export UV_CACHE_DIR := $(CURDIR)/.cache/uv
export PRE_COMMIT_HOME := $(CURDIR)/.cache/pre-commit
export MPLCONFIGDIR := $(CURDIR)/.cache/matplotlib
export DVC_SITE_CACHE_DIR := $(CURDIR)/.cache/dvc-site

.PHONY: help setup run serve render test github-openapi lint hooks clean

help:
	@echo "make run    reproduce the pipeline from the DVC remote and show the metrics"
	@echo "make serve  build the BentoML service from the DVC-tracked model, serve it on :3000"
	@echo "make render render deploy/ (Argo workflows, RBAC, alerts) from params.yaml; commit the result"
	@echo "make test   lint (pre-commit) and run the tests"
	@echo "make hooks  install the git hooks (pre-commit, DVC checkout/push)"

$(STAMP): pyproject.toml uv.lock
	@test -x $(VENV)/bin/uv || { python3 -m venv $(VENV) && \
		$(VENV)/bin/pip install --quiet --no-cache-dir --disable-pip-version-check uv==$(UV_VERSION); }
	uv sync --frozen
	@touch $@

setup: $(STAMP)

run: setup
	python -m churn.fetch_data
	dvc pull --allow-missing
	dvc repro
	dvc push
	@python -m churn.summary

# The model and its card come from the DVC remote (`make run` put them there); the Bento store
# lives in .cache/bentoml. PORT=3001 make serve picks another port.
PORT ?= 3000
serve: setup
	dvc pull train
	@tag=$$(BENTOML_HOME=$(CURDIR)/.cache/bentoml mlgitops build) && \
		echo "serving $$tag on http://localhost:$(PORT)" && \
		BENTOML_HOME=$(CURDIR)/.cache/bentoml exec bentoml serve "$$tag" --port $(PORT)

# deploy/ holds only what this renders (a test fails when it is stale).
render: setup
	mlgitops render

lint: setup
	pre-commit run --all-files --show-diff-on-failure

# promtool checks the alert rules in deploy/ (tests/unit/test_alerts.py). It comes from
# Debian's prometheus package, unpacked into .cache/tools: no root, nothing system-wide.
$(PROMTOOL):
	rm -rf $(TOOLS)/deb && mkdir -p $(TOOLS)/deb
	cd $(TOOLS)/deb && apt-get download prometheus
	dpkg-deb -x $(TOOLS)/deb/prometheus_*.deb $(TOOLS)
	rm -rf $(TOOLS)/deb
	@touch $@

# The npm registry's own client fetches the pinned package (its sha1 checked) into .cache/tools;
# only the description is kept (13 MB of the 29 MB tarball), nothing installed system-wide.
$(GITHUB_OPENAPI):
	rm -rf $(TOOLS)/npm && mkdir -p $(TOOLS)/npm
	cd $(TOOLS)/npm && npm pack --silent --cache $(CURDIR)/.cache/npm \
	  @octokit/openapi@$(OCTOKIT_OPENAPI) >/dev/null
	echo "$(OCTOKIT_OPENAPI_SHA1)  $(TOOLS)/npm/octokit-openapi-$(OCTOKIT_OPENAPI).tgz" | sha1sum -c --quiet
	tar -xzf $(TOOLS)/npm/octokit-openapi-$(OCTOKIT_OPENAPI).tgz -C $(TOOLS)/npm \
	  package/generated/api.github.com.json
	mkdir -p $(@D) && mv $(TOOLS)/npm/package/generated/api.github.com.json $@
	rm -rf $(TOOLS)/npm
	@touch $@

github-openapi: $(GITHUB_OPENAPI)

test: lint $(PROMTOOL) $(GITHUB_OPENAPI)
	pytest

hooks: setup
	pre-commit install --hook-type pre-commit --hook-type pre-push --hook-type post-checkout

clean:
	rm -rf $(VENV) .cache .mypy_cache .ruff_cache .pytest_cache dvc_plots
