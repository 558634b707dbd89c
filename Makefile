# xinfang — the two commands: `make run` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEBS   := chromium fonts-wqy-microhei

.PHONY: install run test bench demo clean system-packages

install: $(STAMP) system-packages

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $(STAMP)

# Debian packages: chromium (browser journeys) and a CJK TrueType font (PDF documents).
system-packages:
	@missing=""; for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  echo "Installing Debian packages:$$missing"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null \
	    || echo "warning: could not install$$missing (PDF documents and browser tests need them)"; \
	fi

run: install
	$(BIN)/xinfang serve --demo

test: install
	$(BIN)/python -m pytest

bench: install
	$(BIN)/xinfang bench

clean:
	rm -rf $(VENV) var build src/*.egg-info
