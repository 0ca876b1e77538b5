# ServiceRW tasks. `pip install rust-just` puts `just` on PATH.
set shell := ["bash", "-euo", "pipefail", "-c"]

venv := ".venv"
py := venv + "/bin/python"
bin := venv + "/bin"

# Run the app with sample data (embedded PostgreSQL unless DATABASE_URL is set).
demo *ARGS: setup
    {{bin}}/servicerw demo {{ARGS}}

# Lint, unit/integration tests (tests/test_fuzz.py: 2,000 generated requests, no 5xx), then the Playwright end-to-end run.
test: setup browser services tools
    {{bin}}/ruff check src tests e2e bench
    {{bin}}/ruff format --check src tests e2e bench
    {{py}} -m pytest tests
    {{py}} -m pytest e2e

# Create the virtualenv and install the project with its locked dependencies (requirements-dev.lock: dev and
# demo extras, hashes checked; idempotent).
setup:
    #!/usr/bin/env bash
    set -euo pipefail
    if [ ! -x {{py}} ]; then python3 -m venv {{venv}}; fi
    stamp={{venv}}/.installed-$(cat pyproject.toml requirements-dev.lock | sha1sum | cut -c1-12)
    if [ ! -f "$stamp" ]; then
        {{py}} -m pip install --quiet --upgrade pip
        {{py}} -m pip install --quiet --require-hashes -r requirements-dev.lock
        {{py}} -m pip install --quiet --no-deps -e .
        rm -f {{venv}}/.installed-* && touch "$stamp"
    fi

# Pin every dependency for Python 3.11-3.13 on every platform, with hashes: requirements.lock (the production
# image: no dev, no demo) and requirements-dev.lock (`just setup`). Run it after changing pyproject.toml.
lock: setup
    {{bin}}/uv pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes --quiet -o requirements.lock
    {{bin}}/uv pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes --extra dev --extra demo --quiet -o requirements-dev.lock

# The fast tests (no server, browser or database) on Python 3.12 and 3.13 too, each in its own virtualenv
# (.venv-3.12, .venv-3.13; pyenv's interpreters when present, else python3.12/python3.13 on PATH).
test-pythons *ARGS: setup
    #!/usr/bin/env bash
    set -euo pipefail
    for version in 3.12 3.13; do
        python=$(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/$version.*/bin/python3 2>/dev/null | sort -V | tail -1 || true)
        python=${python:-$(command -v python$version || true)}
        if [ -z "$python" ]; then echo "no Python $version (pyenv install $version)" >&2; exit 1; fi
        venv=.venv-$version
        stamp=$venv/.installed-$(cat pyproject.toml requirements-dev.lock | sha1sum | cut -c1-12)
        if [ ! -f "$stamp" ]; then
            rm -rf "$venv" && "$python" -m venv "$venv"
            "$venv/bin/python" -m pip install --quiet --upgrade pip
            "$venv/bin/python" -m pip install --quiet --require-hashes -r requirements-dev.lock
            "$venv/bin/python" -m pip install --quiet --no-deps -e .
            touch "$stamp"
        fi
        echo "== Python $("$venv/bin/python" -c 'import platform; print(platform.python_version())')"
        "$venv/bin/python" -m pytest -q -p no:randomly {{ARGS}} \
            tests/test_deploy.py tests/test_architecture.py tests/test_media_processing.py tests/test_typed_results.py
    done

# Debian's Chromium for Playwright (Playwright cannot download browsers here).
browser:
    #!/usr/bin/env bash
    set -euo pipefail
    if ! command -v chromium >/dev/null; then
        if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
        $SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium >/dev/null
    fi

# The page checks' npm tools, pinned in tools/package-lock.json (`npm ci`, skipped while node_modules matches
# the lock): the Nu Html Checker (vnu-jar, run on Debian's JRE: its own Java download is skipped with the
# install scripts), axe-core (e2e/test_checks.py) and Lighthouse (`just bench-lighthouse`).
tools:
    #!/usr/bin/env bash
    set -euo pipefail
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    missing=""
    command -v java >/dev/null || missing="$missing default-jre-headless"
    command -v node >/dev/null && command -v npm >/dev/null || missing="$missing nodejs npm"
    if [ -n "$missing" ]; then
        $SUDO apt-get update -qq && $SUDO apt-get install -y -qq $missing >/dev/null
    fi
    stamp=tools/node_modules/.installed-$(cat tools/package.json tools/package-lock.json | sha1sum | cut -c1-12)
    if [ ! -f "$stamp" ]; then
        npm ci --prefix tools --ignore-scripts --no-audit --no-fund --loglevel=error
        touch "$stamp"
    fi

# A Valkey-protocol server binary for the tests (each run starts its own); Debian ships redis-server.
# PgBouncer: tests/test_capacity.py starts its own in front of the test database.
services:
    #!/usr/bin/env bash
    set -euo pipefail
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    if ! command -v valkey-server >/dev/null && ! command -v redis-server >/dev/null; then
        $SUDO apt-get update -qq && $SUDO apt-get install -y -qq redis-server >/dev/null
    fi
    if [ ! -x /usr/sbin/pgbouncer ]; then
        $SUDO apt-get update -qq && $SUDO apt-get install -y -qq pgbouncer >/dev/null
    fi

# Apply migrations to DATABASE_URL.
migrate: setup
    {{bin}}/servicerw migrate

# Load the full synthetic dataset into DATABASE_URL (20,000 businesses by default).
seed BUSINESSES="20000": setup
    {{bin}}/servicerw seed --businesses {{BUSINESSES}}

# Benchmark home and profile pages against a running server (see README).
bench-pages URL="http://127.0.0.1:8000" *ARGS: setup
    {{py}} bench/pages.py --url {{URL}} {{ARGS}}

# Search benchmark: >= 200 queries, cached and uncached (needs DATABASE_URL and VALKEY_URL of the server).
bench-search URL="http://127.0.0.1:8000" *ARGS: setup
    {{py}} bench/search.py --url {{URL}} {{ARGS}}

# The search service's own SQL on DATABASE_URL for broad words, prefixes, browse and deep pages:
# service time (median of 5) and EXPLAIN (ANALYZE, BUFFERS) of each statement (VERBOSE=1: whole plans).
bench-search-plans: setup
    {{py}} bench/search_plans.py

# The photo pipeline on a 12-megapixel JPEG, on one core: CPU and wall time per image, bytes per variant.
bench-images *ARGS: setup
    taskset -c 0 {{py}} bench/images.py {{ARGS}}

# Owner dashboard statistics on DATABASE_URL (full seed volume): query, charts and page times, sizes.
bench-dashboard *ARGS: setup
    {{py}} bench/dashboard.py {{ARGS}}

# The public API against the pages it mirrors (starts its own server on DATABASE_URL): `NAME p95 N ms` per kind.
bench-api *ARGS: setup
    {{py}} bench/api.py {{ARGS}}

# Operators' statistics pages on DATABASE_URL (full seed volume): prints `NAME p95 N ms` per page.
bench-admin *ARGS: setup
    {{py}} bench/admin.py {{ARGS}}

# Load: paced users (default 5,000, thinking 10 s) or `--flood --connections N` on a page mix of DATABASE_URL;
# `--start` runs `servicerw serve --workers 2` and a redis-server of its own (see README "Load").
bench-load *ARGS: setup services
    {{py}} bench/load.py {{ARGS}}

# Real-user vitals beacons against a running server (raise its RUM_LIMIT_PER_MINUTE): `just bench-rum URL`.
bench-rum *ARGS: setup
    {{py}} bench/rum.py {{ARGS}}

# The email outbox worker: 10,000 queued emails to an SMTP sink on its own database (servicerw_bench_mail).
bench-mail *ARGS: setup
    {{py}} bench/mail.py {{ARGS}}

# SMS alerts: the alert's cost in the inquiry's transaction, and SMS sent to a fake Pindo.
bench-sms *ARGS: setup
    {{py}} bench/sms.py {{ARGS}}

# Faults under steady traffic (Valkey/S3 killed and frozen, database connections cut, worker SIGKILLed,
# mail provider failing), on services and a database of its own: 5xx, losses, recovery per fault.
chaos *ARGS: setup services
    {{py}} bench/chaos.py {{ARGS}}

# Lighthouse mobile (simulated Slow 4G, 4x CPU, Debian's Chromium) on home, a search and a profile: the four
# scores and LCP per page. Starts its own server on DATABASE_URL (the bench database) unless `--url URL`.
bench-lighthouse *ARGS: setup tools browser
    {{py}} bench/lighthouse.py {{ARGS}}

# EXPLAIN ANALYZE of the plan's hot queries on DATABASE_URL.
bench-explain: setup
    {{py}} bench/explain.py

# Extract translatable strings and update the rw/en/fr catalogs.
i18n-update: setup
    {{bin}}/pybabel extract -F babel.cfg -o src/servicerw/locale/messages.pot --no-location --omit-header .
    {{bin}}/pybabel update -i src/servicerw/locale/messages.pot -d src/servicerw/locale -D messages --no-fuzzy-matching

fmt: setup
    {{bin}}/ruff format src tests e2e bench
    {{bin}}/ruff check --fix src tests e2e bench
