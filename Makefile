# The two commands a new user needs: `make run` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-test.txt | cksum | cut -d' ' -f1)
CHROMIUM ?= /usr/bin/chromium
PORT ?= 8000

.PHONY: run test lint venv bench

venv: $(STAMP)

$(STAMP): requirements.txt requirements-test.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
	rm -f $(VENV)/.installed-*
	touch $@

run: $(STAMP)
	DEBUG=true $(PY) manage.py migrate --noinput
	DEBUG=true $(PY) manage.py load_published_series
	DEBUG=true $(PY) manage.py create_demo_users
	DEBUG=true $(PY) manage.py runserver 127.0.0.1:$(PORT)

# pytest exits 5 when it collects nothing; that is a failure of the suite here, not a pass.
# Browser tests need Debian's chromium: without it they are skipped, loudly, except under CI.
test: $(STAMP)
	@if [ -x "$(CHROMIUM)" ]; then \
		$(PY) -m pytest $(PYTEST_ARGS); \
	elif [ "$$CI" = "true" ]; then \
		echo "ERROR: $(CHROMIUM) is missing; CI must run the browser tests (apt-get install chromium)." >&2; exit 1; \
	else \
		echo "*** Chromium not found at $(CHROMIUM): SKIPPING the browser tests (tests/browser). ***"; \
		echo "*** Install it with 'apt-get install chromium' to run the whole suite.             ***"; \
		$(PY) -m pytest --ignore=tests/browser $(PYTEST_ARGS); \
	fi; status=$$?; \
	if [ $$status -eq 5 ]; then echo "ERROR: pytest collected no tests." >&2; exit 1; fi; exit $$status

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# The benchmark (not part of `make test`): PostgreSQL at BENCH_ADMIN_URL (default postgres@127.0.0.1),
# wrk installed; writes docs/performance.md. BENCH_ARGS e.g. "--patients 1000 --duration 5".
bench: $(STAMP)
	$(PY) bench/run.py $(BENCH_ARGS)
