# xinfang — the two commands: `make run` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEBS   := chromium fonts-wqy-microhei gettext

.PHONY: install run test clean system-packages messages

install: $(STAMP) system-packages messages

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $(STAMP)

# Debian packages: chromium (browser journeys), a CJK TrueType font (PDF documents) and gettext
# (msgfmt compiles the English translation).
system-packages:
	@missing=""; for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  echo "Installing Debian packages:$$missing"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null \
	    || echo "warning: could not install$$missing (PDF documents, browser tests and the English interface need them)"; \
	fi

# Compiled translations (*.mo) are build output, not in git. compilemessages skips a .mo that is
# newer than its .po, so re-running install recompiles only what changed.
messages: $(STAMP) system-packages
	@if command -v msgfmt >/dev/null; then $(BIN)/xinfang compilemessages --ignore=.venv; \
	else echo "warning: msgfmt (Debian package gettext) is missing: the interface is Chinese only"; fi

run: install
	$(BIN)/xinfang serve --demo

test: install
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) var build src/*.egg-info
