# dcgan-inversion: `make demo` runs the paper's experiments on a real trained CelebA-like DCGAN; `make test`
# runs the tests.
# CONFIG picks a config (a shipped name or a YAML path); RUN the run directory (default: make demo's
# runs/celeba_demo; runs/CONFIG where CONFIG is given, and for make train); PROTOCOL a named inversion
# protocol (authors, authors_moving, amos) run on RUN's own model and data settings.
CONFIG ?= demo
PROTOCOL ?=
# RUN: runs/<CONFIG> where CONFIG is given (make train's default too: runs/demo), else make demo's run.
CONFIG_RUN = runs/$(basename $(notdir $(CONFIG)))
RUN ?= $(if $(filter command line environment,$(origin CONFIG)),$(CONFIG_RUN),runs/celeba_demo)
# $(call run_or,DEFAULT): RUN where it was given (command line or environment), else DEFAULT; for the
# targets whose own default run is not make demo's.
run_or = $(if $(filter command line environment,$(origin RUN)),$(RUN),$(1))
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
ARGS ?=

DOCS := docs/results
# make publish: the demo's results are what the README shows; any other run's go beside them, in
# docs/results/runs/<run name>/ (make publish RUN=runs/amos: docs/results/runs/amos/).
RUN_DOCS = $(if $(filter demo,$(notdir $(RUN))),$(DOCS),$(DOCS)/runs/$(notdir $(RUN)))
CHECKPOINT ?=
PRETRAINED ?=
IMAGES ?=
MASK ?= center

.PHONY: all demo train encoder invert complete figures refigure docs notebook publish publish-check bench generate import test clean-venv help
all: help

help:
	@echo "make demo      a real trained 64 px CelebA-like DCGAN (generateme, fetched with pip) through the paper's"
	@echo "               experiments and figures, into runs/celeba_demo; PRETRAINED=gan-face-generate RUN=runs/face_demo"
	@echo "               the other face generator; CONFIG=demo (or celeba) trains that config's DCGAN first"
	@echo "make train     train (or resume) the DCGAN into RUN (default: runs/CONFIG)"
	@echo "make encoder   train RUN's encoder E(x) -> z, a start for ARGS=\"--set invert.start=encoder\""
	@echo "make invert    run the inversion experiments on RUN's generator (made by make demo, train or import);"
	@echo "               PROTOCOL=authors runs the paper's own protocol instead (also amos, authors_moving);"
	@echo "               ARGS=\"--image me.jpg photos/\" inverts your own images and says if G could draw them"
	@echo "make complete  IMAGES=photos/ MASK=center|left|random|grid|lowres|full|mask.png: Amos's image"
	@echo "               completion on RUN (ours; ARGS=\"--method amos\" for his loss and Adam)"
	@echo "make figures   render figures and tables from RUN's results"
	@echo "make refigure  re-render the published figures and tables from docs/results (no run needed)"
	@echo "make docs      render README.md and docs/*.md from docs/templates/ and the results in $(DOCS)"
	@echo "make notebook  execute examples/tour.ipynb on make demo's run and keep its outputs"
	@echo "make publish   copy RUN's figures and tables into $(DOCS) (the demo's: the README shows them;"
	@echo "               another run's go to $(DOCS)/runs/<run name>/), then make docs; FORCE=1 to replace published ones"
	@echo "make import    CHECKPOINT=dcgan-completion.tensorflow/checkpoint RUN=runs/amos: a TF1 DCGAN checkpoint"
	@echo "               (Amos's CelebA model, carpedm20's), a PyTorch file (zip or legacy, state dict or whole model,"
	@echo "               safetensors; DCGAN or MLP; ARGS=\"--labels N\" for a conditional one) or a Keras file"
	@echo "               as a run every other target accepts; PRETRAINED=gan-face-generate or generateme fetches a"
	@echo "               trained 64 px colour face DCGAN with pip instead (pinned, checked, cached)"
	@echo "make generate  write images RUN's generator draws, with their latents (ARGS=\"-n 16 --seed 0\")"
	@echo "make bench     time the inversion loops and training (steps to precision on RUN, default runs/demo);"
	@echo "               writes runs/bench/bench.{json,md} beside the committed $(DOCS)/bench.json (BENCH_OUT=$(DOCS) replaces it)"
	@echo "make test      run the test suite"
	@echo "Every target takes ARGS=\"...\" (passed to its command: --set section.key=value, --experiment, ...);"
	@echo "CONFIG= only where given: an existing run keeps the config it was trained with."

# The virtualenv is (re)built whenever setup.py or a lock file changes; it installs the exact
# versions in constraints.txt (the ones the committed results were made with) and constraints-test.txt.
$(STAMP): setup.py constraints.txt constraints-test.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -c constraints-test.txt -e ".[test]"
	touch $@


# --config only when CONFIG was given: without it a new run trains the demo config and an existing
# run keeps the config it was trained with (so `make invert RUN=runs/celeba` needs no CONFIG).
CONFIG_FLAG = $(if $(filter command line environment,$(origin CONFIG)),--config $(CONFIG))

# make demo: a real trained CelebA-like DCGAN (generateme, fetched with pip: pinned, checked, cached)
# imported into runs/celeba_demo, then the paper's experiments and figures on it (the minutes are in
# docs/results/runs/celeba_demo/*.json); PRETRAINED=gan-face-generate imports the other face generator.
# make demo CONFIG=demo (or celeba, or a YAML file): train that config's DCGAN into RUN first instead.
# ARGS (--set ...) are for training and inverting; the figures of a demo take none of them.
DEMO_PRETRAINED = $(or $(PRETRAINED),generateme)
IMPORT_DEMO = $(VENV)/bin/dcgan-import --pretrained $(DEMO_PRETRAINED) --config face_demo --run $(RUN)
ifeq ($(CONFIG_FLAG),)
demo: $(STAMP) $(RUN)/generator.weights.h5
	$(MAKE) --no-print-directory invert
else
demo: train invert
endif
	$(MAKE) --no-print-directory figures ARGS=

# make train without RUN trains into runs/<CONFIG> (runs/demo), never into make demo's imported run.
TRAIN_RUN = $(call run_or,$(CONFIG_RUN))
train: $(STAMP)
	$(PY) train/train.py $(CONFIG_FLAG) --run $(TRAIN_RUN) $(ARGS)

# An amortised start for invert.start=encoder: E(x) -> z trained on RUN's own generated images.
encoder: $(STAMP)
	$(NEED_GENERATOR)
	$(PY) train/train.py --run $(RUN) --encoder $(ARGS)

# make demo's run without a generator: the real face generator imported into it (make demo CONFIG=...
# trains instead). Only make demo, make train and make import make a generator: every other target
# given a run without one stops with one line (NEED_GENERATOR) and creates nothing.
$(RUN)/generator.weights.h5: | $(STAMP)
	$(IMPORT_DEMO)

NEED_GENERATOR = @test -f $(RUN)/generator.weights.h5 || { echo "error: $(RUN) holds no generator: make one with \
make demo, make train RUN=$(RUN) or make import CHECKPOINT=... RUN=$(RUN)" >&2; exit 2; }

# With PROTOCOL the model and data come from RUN's saved config.
SETTINGS = $(if $(PROTOCOL),--protocol $(PROTOCOL),$(CONFIG_FLAG))

invert: $(STAMP)
	$(NEED_GENERATOR)
	$(PY) invert/invert.py $(SETTINGS) --run $(RUN) $(ARGS)

# Amos's image completion: IMAGES (files or folders) under MASK; ARGS="--method amos" for his loss.
complete: $(STAMP)
	$(if $(IMAGES),,$(error IMAGES is not set: make complete IMAGES="photos/" MASK=center))
	$(NEED_GENERATOR)
	$(PY) invert/invert.py --run $(RUN) --complete $(IMAGES) --mask $(MASK) $(ARGS)

figures: $(STAMP)
	$(PY) figures/figures.py $(SETTINGS) --run $(RUN) $(ARGS)

# make refigure: every published figure and table re-rendered from the results in docs/results/
# (no experiment runs again), each protocol's folder and each other run's (docs/results/runs/) too,
# then the pages.
refigure: $(STAMP)
	for run in $(DOCS) $(wildcard $(DOCS)/runs/*); do \
	  $(PY) figures/figures.py --published $$run; \
	  for protocol in $(notdir $(basename $(wildcard dcgan_inversion/configs/protocols/*.yaml))); do \
	    if [ -d $$run/$$protocol ]; then $(PY) figures/figures.py --published $$run --protocol $$protocol; fi; done; done
	$(PY) -m dcgan_inversion.pages

# make notebook: examples/tour.ipynb executed on make demo's run (runs/celeba_demo) and written back with its
# outputs, as the repository shows it (a test fails when the committed outputs are stale or missing).
notebook: $(STAMP)
	$(NEED_GENERATOR)
	$(PY) -m dcgan_inversion.pages.notebook examples/tour.ipynb

# make docs: README.md and docs/*.md rendered from docs/templates/ and the results in docs/results/.
docs: $(STAMP)
	$(PY) -m dcgan_inversion.pages

# make publish: RUN's figures, tables and results (JSON and NPZ) into docs/results/, then the pages
# rendered anew; those that exist so far (a run of some experiments: ARGS="--only table2" for its figures).
# With PROTOCOL: that protocol's.
# A published folder that already holds results is replaced only with FORCE=1 (which says what it replaces).
PUBLISH_DIR = $(RUN_DOCS)$(if $(PROTOCOL),/$(PROTOCOL))
publish-check:
	@if [ -n "$$(ls -A $(PUBLISH_DIR) 2>/dev/null)" ] && [ "$(FORCE)" != 1 ]; then echo "error: $(PUBLISH_DIR) \
holds published results: make publish RUN=$(RUN)$(if $(PROTOCOL), PROTOCOL=$(PROTOCOL)) FORCE=1 replaces them" >&2; exit 2; fi
	@if [ -n "$$(ls -A $(PUBLISH_DIR) 2>/dev/null)" ]; then echo "replacing what $(PUBLISH_DIR) holds of $(RUN)'s \
results: $$(ls $(PUBLISH_DIR) | tr '\n' ' ')"; fi

publish: publish-check figures
ifeq ($(PROTOCOL),)
	mkdir -p $(RUN_DOCS)
	for drawn in figure1.png figure2.png convergence.png table1.md table2.md training.png table1_protocols.md \
	  curvature.png curvature.md completion.png completion.md edits.png; do \
	  if [ -f $(RUN)/figures/$$drawn ]; then cp $(RUN)/figures/$$drawn $(RUN_DOCS)/; fi; done
	if [ -f $(RUN)/imported.json ]; then cp $(RUN)/imported.json $(RUN)/config.yaml $(RUN_DOCS)/; fi
	for result in $(RUN)/results/*.json $(RUN)/results/*.npz; do if [ -f $$result ]; then cp $$result $(RUN_DOCS)/; fi; done
else
	mkdir -p $(RUN_DOCS)/$(PROTOCOL)
	cp $(RUN)/figures/$(PROTOCOL)/*.png $(RUN)/figures/$(PROTOCOL)/*.md $(RUN)/results/$(PROTOCOL)/*.json $(RUN_DOCS)/$(PROTOCOL)/
	for arrays in $(RUN)/results/$(PROTOCOL)/*.npz; do if [ -f $$arrays ]; then cp $$arrays $(RUN_DOCS)/$(PROTOCOL)/; fi; done
endif
	$(PY) -m dcgan_inversion.pages

import: $(STAMP)
	$(if $(CHECKPOINT)$(PRETRAINED),,$(error CHECKPOINT is not set: make import CHECKPOINT=path/to/checkpoint RUN=runs/amos, or PRETRAINED=gan-face-generate))
	$(VENV)/bin/dcgan-import $(if $(PRETRAINED),--pretrained $(PRETRAINED),$(CHECKPOINT)) --run $(call run_or,runs/imported) $(ARGS)

generate: $(STAMP)
	$(NEED_GENERATOR)
	$(VENV)/bin/dcgan-generate --run $(RUN) $(ARGS)

# make bench without RUN measures steps to precision on the demo run (make train makes it). It writes
# this machine's numbers to BENCH_OUT (runs/bench) and prints them beside the committed ones;
# BENCH_OUT=docs/results replaces the committed benchmark (a maintainer's step).
BENCH_RUN = $(call run_or,runs/demo)
BENCH_OUT ?= runs/bench
bench: $(STAMP)
	@test -f $(BENCH_RUN)/generator.weights.h5 || { echo "error: $(BENCH_RUN) holds no generator: make train \
RUN=$(BENCH_RUN) first (or make bench RUN=a run with one)" >&2; exit 2; }
	$(PY) -m dcgan_inversion.bench --run $(BENCH_RUN) --out $(BENCH_OUT) --compare $(DOCS)/bench.json $(ARGS)

# The suite runs on every core up to 4 (pytest-xdist); ARGS="-n 0" runs it in one process.
test: $(STAMP)
	$(PY) -m pytest -q -n auto --maxprocesses=4 tests $(ARGS)

clean-venv:
	rm -rf $(VENV)
