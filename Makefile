# `make run` sets up and starts the dashboard on the demo data; `make test` sets up and runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test demo lint clean browser java oidc bench catalog
I18N_SOURCES := cli.py dashboard i18n kpis pages report store ui  # i18n.SOURCES

$(VENV)/.runtime: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

# The same KPIs on Spark (README, "Running on Spark"): pyspark, and the ibis compiler for Spark SQL.
$(VENV)/.spark: $(VENV)/.runtime requirements-spark.txt
	$(BIN)/pip install --quiet -r requirements-spark.txt
	touch $@

run: $(VENV)/.runtime
	$(BIN)/streamlit run app.py

# Debian's Chromium drives the browser tests: installed when missing (as root); otherwise they skip.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
		echo "chromium unavailable: browser tests will be skipped"

# Spark needs Java 17 (Debian's openjdk-17-jre-headless): installed when missing (as root); otherwise the Spark
# tests skip. Slim images lack the man folder the JRE's post-install step writes to.
java:
	@command -v java >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && mkdir -p /usr/share/man/man1 && apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null; } || \
		echo "Java unavailable: Spark tests will be skipped"

# The sign-in tests' OpenID Connect provider (tests/oidc: oidc-provider from npm, on the machine's Node.js 20),
# installed from its lock file again when that changes; without npm the sign-in tests skip.
oidc: tests/oidc/node_modules/.package-lock.json

tests/oidc/node_modules/.package-lock.json: tests/oidc/package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --prefix tests/oidc --no-audit --no-fund --loglevel=error; \
		else echo "npm unavailable: sign-in tests will be skipped"; fi

test: $(VENV)/.dev $(VENV)/.spark $(VENV)/.bench browser java oidc
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2 --dist loadfile

# Benchmarks (bench/run.py; not part of the tests): its peers (lifetimes) come from bench/requirements.txt only.
$(VENV)/.bench: $(VENV)/.dev bench/requirements.txt
	$(BIN)/pip install --quiet -r bench/requirements.txt
	touch $@

bench: $(VENV)/.bench browser
	$(BIN)/python bench/run.py $(BENCH_ARGS)

demo: $(VENV)/.runtime
	$(BIN)/python cli.py demo

lint: $(VENV)/.dev
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache tests/oidc/node_modules

# The French catalog (i18n/locale/fr/LC_MESSAGES/messages.po) updated from the msgids in the code: new ones are
# added untranslated (tests/test_i18n.py then names them), gone ones dropped. Translate, then run the tests.
catalog: $(VENV)/.runtime
	$(BIN)/pybabel extract --sort-by-file --no-wrap --add-location=file --add-comments=Translators: \
		--project="Empty Chair" --copyright-holder="Empty Chair contributors" -o i18n/messages.pot $(I18N_SOURCES)
	$(BIN)/pybabel update --no-fuzzy-matching --ignore-obsolete --no-wrap -i i18n/messages.pot \
		-d i18n/locale -l fr
	rm i18n/messages.pot
