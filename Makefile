# dcgan-inversion: `make demo` runs everything on the offline demo config; `make test` runs the tests.
# CONFIG picks a config (a shipped name or a YAML path); RUN the run directory; PROTOCOL a named
# inversion protocol (authors, authors_moving, amos) run on RUN's own model and data settings.
CONFIG ?= demo
PROTOCOL ?=
RUN ?= runs/$(basename $(notdir $(CONFIG)))
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
ARGS ?=

DOCS := docs/results

.PHONY: all demo train invert figures docs bench generate test clean-venv help
all: help

help:
	@echo "make demo      train, invert and draw figures on CONFIG (default: demo)"
	@echo "make train     train (or resume) the DCGAN into RUN (default: runs/CONFIG)"
	@echo "make invert    run the inversion experiments (trains first if RUN has no generator);"
	@echo "               PROTOCOL=authors runs the paper's own protocol instead (also amos, authors_moving);"
	@echo "               ARGS=\"--image me.jpg photos/\" inverts your own images and says if G could draw them"
	@echo "make figures   render figures and tables from RUN's results"
	@echo "make docs      copy RUN's figures and tables into $(DOCS) (the README shows them)"
	@echo "make generate  write images RUN's generator draws, with their latents (ARGS=\"-n 16 --seed 0\")"
	@echo "make bench     time the inversion loops and training; writes $(DOCS)/bench.{json,md}"
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

# ARGS (--set ...) are for training and inverting; the figures of a demo take none of them.
demo: train invert
	$(MAKE) --no-print-directory figures ARGS=

# --config only when CONFIG was given: without it a new run trains the demo config and an existing
# run keeps the config it was trained with (so `make invert RUN=runs/celeba` needs no CONFIG).
CONFIG_FLAG = $(if $(filter command line environment,$(origin CONFIG)),--config $(CONFIG))

train: $(STAMP)
	$(PY) train/train.py $(CONFIG_FLAG) --run $(RUN) $(ARGS)

$(RUN)/generator.weights.h5: | $(STAMP)
	$(PY) train/train.py $(CONFIG_FLAG) --run $(RUN)

# With PROTOCOL the model and data come from RUN's saved config.
SETTINGS = $(if $(PROTOCOL),--protocol $(PROTOCOL),$(CONFIG_FLAG))

invert: $(STAMP) $(RUN)/generator.weights.h5
	$(PY) invert/invert.py $(SETTINGS) --run $(RUN) $(ARGS)

figures: $(STAMP)
	$(PY) figures/figures.py $(SETTINGS) --run $(RUN) $(ARGS)

# With PROTOCOL: that protocol's figures, tables and result JSONs (those that exist so far).
docs: figures
ifeq ($(PROTOCOL),)
	mkdir -p $(DOCS)
	cp $(RUN)/figures/figure1.png $(RUN)/figures/figure2.png $(RUN)/figures/convergence.png \
	   $(RUN)/figures/training.png $(RUN)/figures/table1.md $(RUN)/figures/table2.md $(DOCS)/
	if [ -f $(RUN)/figures/table1_protocols.md ]; then cp $(RUN)/figures/table1_protocols.md $(DOCS)/; fi
else
	mkdir -p $(DOCS)/$(PROTOCOL)
	cp $(RUN)/figures/$(PROTOCOL)/*.png $(RUN)/figures/$(PROTOCOL)/*.md $(RUN)/results/$(PROTOCOL)/*.json $(DOCS)/$(PROTOCOL)/
endif

generate: $(STAMP) $(RUN)/generator.weights.h5
	$(VENV)/bin/dcgan-generate --run $(RUN) $(ARGS)

bench: $(STAMP) $(RUN)/generator.weights.h5
	$(PY) -m dcgan_inversion.bench --run $(RUN) --out $(DOCS) $(ARGS)

test: $(STAMP)
	$(PY) -m pytest -q tests $(ARGS)

clean-venv:
	rm -rf $(VENV)
