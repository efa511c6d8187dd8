# Two commands take a fresh clone to a green test run and a built book:
#   make test   # notebooks as tests + tests/ (pytest); ends with "N passed, N failed"
#   make book   # the website, every chapter executed, into book/_build/html
# Both create .venv and install what is missing on first use (Python 3.11+ and pip needed).
# make pdf: the book as one PDF (XeLaTeX; the TeX packages are installed as root or named).
# Other targets: make lab (JupyterLab on nbs/), make bench (speed vs PyTorch/Keras/scikit-learn),
# make export, make torch, make tex, make check, make clean.

SHELL  := /bin/bash
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# Which extras of setup.py to install (dev, book, compare, browser, lab; `all` is every one).
EXTRAS ?= all
# Test flags (settings.ini tst_flags = slow torch) whose cells are run by `make test` and
# executed by `make book`. `auto` = `torch` when PyTorch is importable, never `slow`.
# Examples: make test FLAGS="slow torch"; make book FLAGS=none.
FLAGS  ?= auto
TOC    ?= _toc.yml
STAMP  := $(VENV)/.mlp-installed
# Executed notebooks, shared by make book and make pdf (book/_config.yml `execute:`).
NBCACHE := book/_build/.jupyter_cache
PDF     := book/_build/latex/mlp-book.pdf

# The package under test is this checkout's, whatever the venv was installed from.
export PYTHONPATH := $(CURDIR)$(if $(PYTHONPATH),:$(PYTHONPATH))
# Local copies of the datasets (build machines have no internet): ../shared/data when present.
SHARED_DATA := $(abspath $(CURDIR)/../shared/data)
ifneq ($(wildcard $(SHARED_DATA)/.),)
export MLP_DATA ?= $(SHARED_DATA)
export SCIKIT_LEARN_DATA ?= $(SHARED_DATA)/scikit_learn_data
endif
# Do not set MPLBACKEND here: a kernel started with MPLBACKEND=Agg shows no figures (ipykernel
# picks the inline backend only when it is unset), and the book would lose every plot.

RESOLVE_FLAGS = $$(case "$(FLAGS)" in \
    auto) $(BIN)/python -c 'import torch' >/dev/null 2>&1 && echo torch ;; \
    none) ;; \
    *) echo "$(FLAGS)" ;; esac)

.PHONY: test book pdf tex lab bench export venv torch check clean help

help:
	@sed -n '1,7p' Makefile | sed 's/^# \{0,1\}//'

venv: $(STAMP)

# Re-installs when setup.py or settings.ini change (pins, extras, version).
$(STAMP): setup.py settings.ini
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed; found " + sys.version.split()[0] + ". Run make PYTHON=python3.11 ...")'
	@test -x $(BIN)/python || { echo "creating $(VENV)"; $(PYTHON) -m venv $(VENV); }
	@echo "installing mlp (editable) with extras [$(EXTRAS)] into $(VENV) ..."
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[$(EXTRAS)]"
	@touch $@

# nbs/ -> mlp/: the package is written from the notebooks.
export: $(STAMP)
	$(BIN)/nbdev_export

test: export
	MLP_FLAGS="$(RESOLVE_FLAGS)" $(BIN)/python tools/run_tests.py

# The site. The executed-notebook cache is emptied first, so every chapter runs on every site
# build (the cache cannot see mlp/ changes); the build fills it, and tools/exec_cache.py records
# what it was filled from, so that make pdf can reuse it.
book: export
	$(BIN)/python tools/gen_api_index.py
	@echo "executing every chapter and building the site (flags: $(RESOLVE_FLAGS)) ..."
	rm -rf $(NBCACHE)
	MLP_FLAGS="$(RESOLVE_FLAGS)" $(BIN)/jupyter-book build . --config book/_config.yml \
	    --toc $(TOC) --path-output book --builder html --all -W --keep-going
	@MLP_FLAGS="$(RESOLVE_FLAGS)" $(BIN)/python tools/exec_cache.py save
	@echo "site: $(CURDIR)/book/_build/html/index.html ($$(du -sh book/_build/html | cut -f1))"

# The PDF edition, through Sphinx's LaTeX builder and XeLaTeX (latexmk), into $(PDF), and
# copied into the site (book/_build/html/mlp-book.pdf, linked from its sidebar) when the site
# exists. Chapters are not executed a second time after make book: the notebooks executed by it
# are reused from the cache while tools/exec_cache.py finds nothing changed (mlp/, any file but
# the notebooks, the flags, the installed packages); otherwise the cache is emptied and every
# chapter runs (a notebook edited since make book runs again either way). Needs `make tex`.
pdf: export tex
	$(BIN)/python tools/gen_api_index.py
	@MLP_FLAGS="$(RESOLVE_FLAGS)" $(BIN)/python tools/exec_cache.py check || rm -rf $(NBCACHE)
	@echo "building the PDF (flags: $(RESOLVE_FLAGS)) ..."
	rm -rf book/_build/latex
	MLP_FLAGS="$(RESOLVE_FLAGS)" LATEXMKOPTS="-f -interaction=nonstopmode" \
	    $(BIN)/jupyter-book build . --config book/_config.yml \
	    --toc $(TOC) --path-output book --builder pdflatex --all -W --keep-going
	@test -s $(PDF) || { echo "no PDF was written (see book/_build/latex/mlp-book.log)"; exit 1; }
	@MLP_FLAGS="$(RESOLVE_FLAGS)" $(BIN)/python tools/exec_cache.py save
	@if [ -d book/_build/html ]; then cp $(PDF) book/_build/html/; echo "copied into the site: book/_build/html/mlp-book.pdf"; fi
	@echo "PDF: $(CURDIR)/$(PDF) ($$(du -h $(PDF) | cut -f1))"

# TeX tools and fonts for make pdf, from Debian packages (tools/need_tex.sh --list names them):
# installed with apt-get when missing and running as root; otherwise the apt-get line is printed.
tex:
	@tools/need_tex.sh

# JupyterLab on nbs/, kernel from .venv (import mlp works; re-run `make export` and restart
# the kernel after editing an exported cell).
# LAB_ARGS="--no-browser --port 8899" for a remote machine; as root Jupyter needs --allow-root.
LAB_ARGS ?=
lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=nbs $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

# PyTorch for the `torch` cells (chapters 19 to 21). A CPU wheel; not in `all` because of its size.
torch: $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check torch==2.13.0

# Seconds per epoch of the MNIST network against PyTorch eager, Keras and scikit-learn, and the
# matrix-product floor, at 1 and 2 threads (chapter A5 shows the table). Writes
# benchmarks/results.json and benchmarks/results.md. A few minutes on a quiet 2-core machine;
# BENCH_ARGS=--quick for a smoke test; BENCH_ARGS="--runs 3 --max-load 1.0" for the medians of
# three whole runs, each started below that load average. Peers that are missing are skipped.
bench: $(STAMP)
	$(MAKE) torch || echo "note: PyTorch could not be installed; its rows are skipped"
	$(BIN)/python benchmarks/bench.py $(BENCH_ARGS)

# What CI checks besides the tests: mlp/ is what the notebooks export, notebooks are clean.
# Both are checked (and reported) even when the first fails.
check: $(STAMP)
	@ok=1; $(BIN)/nbdev_export; \
	if git diff --quiet HEAD -- mlp && test -z "$$(git status --porcelain -- mlp)"; then \
	  echo "ok: mlp/ is what nbdev_export writes from nbs/"; \
	else ok=0; echo "FAIL: mlp/ differs from what nbdev_export writes; run make export and commit mlp/:"; \
	  git status --short -- mlp; fi; \
	$(BIN)/nbdev_clean; \
	if git diff --quiet HEAD -- nbs && test -z "$$(git status --porcelain -- nbs)"; then \
	  echo "ok: notebooks are clean"; \
	else ok=0; echo "FAIL: notebooks are not clean; run .venv/bin/nbdev_clean and commit nbs/:"; \
	  git status --short -- nbs; fi; \
	test $$ok = 1

clean:
	rm -rf book/_build book/api.md
