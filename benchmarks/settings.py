"""Settings of ``make bench`` (``manage.py bench`` and ``generate_clinic``), of the benchmark's worker
processes and of the gunicorn it starts: the project's own, with what a benchmark on one machine
needs changed.

- the ``benchmarks`` app installed, for its commands (the clinic's own settings leave it out, so a
  production deployment carries no command that creates and drops databases);
- static files without a collectstatic manifest, and no redirect to HTTPS (there is no proxy);
- staff pages without the second factor (the benchmark logs in with ``force_login``);
- mail kept in memory (``locmem``), never sent;
- without Redis, Celery runs tasks inline instead of writing to the development broker folder;
- logging only warnings, so the tables stay readable.
"""

import warnings

from clinic.settings import *  # noqa: F403
from clinic.settings import INSTALLED_APPS, REDIS_URL, STORAGES

# WhiteNoise warns that collectstatic has not run; the benchmark serves no static files.
warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)

INSTALLED_APPS = [*INSTALLED_APPS, "benchmarks"]
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
SECURE_SSL_REDIRECT = False
CLINIC_STAFF_2FA_REQUIRED = False
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
