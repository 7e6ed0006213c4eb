# Everything a fresh machine with only Python 3.11+ needs: `make run`, `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two stamps: the app's runtime requirements (make run), and those plus tests and tooling.
RUNTIME_INSTALLED := $(VENV)/.installed-runtime
DEV_INSTALLED := $(VENV)/.installed-dev
PORT ?= 8000

.PHONY: install install-dev run test lint format messages bench check-deploy backup restore clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is needed") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)

$(RUNTIME_INSTALLED): requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(RUNTIME_INSTALLED)

$(DEV_INSTALLED): requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(DEV_INSTALLED) $(RUNTIME_INSTALLED)

install: $(RUNTIME_INSTALLED)

install-dev: $(DEV_INSTALLED)

# Local defaults for trying the app: debug pages, emails as files under var/mail (or
# $CLINIC_VAR_DIR/mail), and staff two-factor off so the demo practitioners can log in
# without an authenticator app.
run: install
	DJANGO_DEBUG=$${DJANGO_DEBUG:-true} \
	EMAIL_URL=$${EMAIL_URL:-filemail://$${CLINIC_VAR_DIR:-$(CURDIR)/var}/mail} \
	CLINIC_STAFF_2FA_REQUIRED=$${CLINIC_STAFF_2FA_REQUIRED:-false} \
	DJANGO_SITE_URL=$${DJANGO_SITE_URL:-http://127.0.0.1:$(PORT)} \
		$(BIN)/python manage.py runlocal --port $(PORT)

test: install-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	DJANGO_DEBUG=true $(BIN)/python manage.py makemigrations --check --dry-run

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The translation catalogues (README "Languages"): collect every marked string into
# locale/<lang>/LC_MESSAGES/django.po, then compile the .mo Django reads. LANGS=es by default.
LANGS ?= es
messages: install-dev
	DJANGO_DEBUG=true $(BIN)/python manage.py makemessages $(foreach lang,$(LANGS),-l $(lang)) --no-location --no-obsolete \
		-i ".venv/*" -i "var/*" -i "tests/*" -i "benchmarks/*"
	DJANGO_DEBUG=true $(BIN)/python manage.py compilemessages $(foreach lang,$(LANGS),-l $(lang)) -i ".venv" -i "var"
	@for lang in $(LANGS); do printf '%s: ' $$lang; msgfmt --statistics -o /dev/null locale/$$lang/LC_MESSAGES/django.po; done

# The benchmarks app is installed only by its own settings, never by the clinic's.
bench: install-dev
	DJANGO_SETTINGS_MODULE=benchmarks.settings DJANGO_SECRET_KEY=$${DJANGO_SECRET_KEY:-bench-only-secret-never-used-to-serve} \
		$(BIN)/python manage.py bench $(BENCH_ARGS)

check-deploy: install
	DJANGO_DEBUG=false DJANGO_SECRET_KEY=$${DJANGO_SECRET_KEY:-check-deploy-only-$$(date +%s)-not-a-real-secret-0123456789abcdef} \
		DJANGO_ALLOWED_HOSTS=clinic.example.org $(BIN)/python manage.py check --deploy --fail-level WARNING

# Backups of the configured database (DATABASE_URL, or the SQLite file under var/): a new
# file under var/backups/ unless FILE= names one. The secret key is not used by either.
backup: install
	DJANGO_SECRET_KEY=$${DJANGO_SECRET_KEY:-backup-only-secret-never-used-to-serve} \
		$(BIN)/python manage.py backup $(if $(FILE),--output "$(FILE)")

# Replaces everything in the database with the backup: stop web, worker and beat first.
restore: install
	@test -n "$(FILE)" || { echo "Usage: make restore FILE=var/backups/clinic-....sqlite3 (or .pgdump)"; exit 2; }
	DJANGO_SECRET_KEY=$${DJANGO_SECRET_KEY:-backup-only-secret-never-used-to-serve} \
		$(BIN)/python manage.py restore "$(FILE)"
	DJANGO_SECRET_KEY=$${DJANGO_SECRET_KEY:-backup-only-secret-never-used-to-serve} \
		$(BIN)/python manage.py migrate --no-input

clean:
	rm -rf $(VENV) var
