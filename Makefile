# xinfang — the two commands: `make run` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEBS   := chromium fonts-wqy-microhei gettext

.PHONY: install run test bench clean system-packages messages

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

# Benchmarks write into their own databases (var/bench/ and PostgreSQL's xinfang_bench), never
# into the working data. Figures that depend on the engine are measured on both.
BENCH_PG ?= postgres://postgres@127.0.0.1:5432/xinfang_bench
bench: install
	XINFANG_DATA_DIR=$(CURDIR)/var/bench $(BIN)/xinfang bench $(BENCH_ARGS)
	@if pg_isready -q -h 127.0.0.1 -p 5432; then \
	  createdb -h 127.0.0.1 -U postgres xinfang_bench 2>/dev/null || true; \
	  DATABASE_URL=$(BENCH_PG) $(BIN)/xinfang bench --database-only $(BENCH_ARGS); \
	else echo "PostgreSQL is not running on 127.0.0.1:5432: PostgreSQL figures skipped"; fi

clean:
	rm -rf $(VENV) var build src/*.egg-info
