"""Settings for the clinic app, read from the environment.

Every value has a safe local default, so a fresh checkout runs with no
configuration; production sets ``DJANGO_DEBUG=false`` and must then provide a
real secret key.  See README.md for the full list of variables.
"""

import sys
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

# Everything the embedded default writes (database, broker, logs, mail) lives here,
# never in the checkout root.  CLINIC_VAR_DIR moves it, e.g. for a throwaway run.
VAR_DIR = Path(env.str("CLINIC_VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# The test suite runs with DEBUG off, as production does, but needs no real secret.
TESTING = "pytest" in sys.modules

# A development key is only acceptable while DEBUG is on; production must set one.
_DEVELOPMENT_SECRET_KEY = "insecure-development-key-never-use-in-production"  # noqa: S105
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG and not TESTING:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is false "
            "(generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))')."
        )
    SECRET_KEY = _DEVELOPMENT_SECRET_KEY

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("DJANGO_SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
CLINIC_NAME = env.str("CLINIC_NAME", default="Northside Back Pain Clinic")
CLINIC_PHONE = env.str("CLINIC_PHONE", default="+44 20 7946 0000")

INSTALLED_APPS = [
    "modeltranslation",  # before the admin: clinical content per language (<app>/translation.py)
    "clinic.admin_site.ClinicAdminConfig",  # django.contrib.admin with the clinic's grouped index
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_celery_beat",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "csp",
    "simple_history",
    "phonenumber_field",
    "clinic",
    "notifications",
    "screening",
    "bookings",
    "treatments",
    "privacy",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # the docs page's Swagger UI files, served from here (no CDN: see the CSP)
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language from the language cookie, else the browser's Accept-Language.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # A logged-in person's stored language wins over the cookie and the browser's.
    "clinic.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "clinic.middleware.IdleLogoutMiddleware",
    "clinic.middleware.TwoFactorRequiredMiddleware",
    # Records who made each change to a model with history (django-simple-history).
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a flagged login attempt into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "clinic.urls"
WSGI_APPLICATION = "clinic.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "clinic.context_processors.clinic",
            ],
            # Dates in the clinic's named formats everywhere: {{ value|when:"day_time" }}.
            "builtins": ["clinic.templatetags.clinic_dates"],
        },
    },
]

# --- Database -----------------------------------------------------------------
VAR_DIR.mkdir(exist_ok=True)
DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'clinic.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one file: wait for locks instead of failing, and
    # take the write lock when a transaction starts so bookings serialise.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DJANGO_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- People -----------------------------------------------------------------
AUTH_USER_MODEL = "clinic.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# django-axes checks every login attempt first and refuses it while the account is
# locked out at that address; the model backend then checks the password.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# --- Time and language ------------------------------------------------------
LANGUAGE_CODE = "en-gb"
# English is the source language; Spanish ships complete (locale/es).
LANGUAGES = [("en-gb", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("CLINIC_TIME_ZONE", default="Europe/London")
USE_I18N = True
# The clinic reads the clock in 24 hours ("08:00"): English's own formats say "8 a.m.".
FORMAT_MODULE_PATH = ["clinic.formats"]
USE_TZ = True

# --- Static files -----------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "clinic" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Email ------------------------------------------------------------------
# EMAIL_URL examples: smtp+tls://user:password@smtp.example.org:587,
# filemail:///path/to/folder, consolemail://
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
# django-environ drops the leading slash of filemail:///absolute/path; put it back.
if globals().get("EMAIL_FILE_PATH") and not str(EMAIL_FILE_PATH).startswith("/"):  # noqa: F821
    EMAIL_FILE_PATH = "/" + str(EMAIL_FILE_PATH)  # noqa: F821
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default=f"{CLINIC_NAME} <clinic@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Phone numbers and SMS ----------------------------------------------------
# Numbers are stored in E.164 (+447700900123); one typed without a country code is read
# in the clinic's region (an ISO 3166 code: GB, IE, DE, US...).
PHONENUMBER_DEFAULT_REGION = env.str("CLINIC_PHONE_REGION", default="GB").upper()
PHONENUMBER_DB_FORMAT = "E164"
PHONENUMBER_DEFAULT_FORMAT = "INTERNATIONAL"
# Backends shaped like Django's email backends (notifications.sms): console (development),
# file (SMS_FILE_PATH), locmem (tests: notifications.sms.outbox) or twilio (production).
SMS_BACKEND = env.str(
    "SMS_BACKEND",
    default="notifications.sms.backends.locmem.SmsBackend"
    if TESTING
    else "notifications.sms.backends.console.SmsBackend",
)
SMS_FILE_PATH = env.str("SMS_FILE_PATH", default=str(VAR_DIR / "sms"))
# The sender: a number in E.164 or an alphanumeric sender id where the provider allows one.
SMS_FROM = env.str("SMS_FROM", default="")
SMS_TIMEOUT_SECONDS = env.int("SMS_TIMEOUT_SECONDS", default=15)
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
# Overridden in tests with a local fake server; a Messaging Service SID may replace SMS_FROM.
TWILIO_API_BASE_URL = env.str("TWILIO_API_BASE_URL", default="https://api.twilio.com").rstrip("/")
TWILIO_MESSAGING_SERVICE_SID = env.str("TWILIO_MESSAGING_SERVICE_SID", default="")

# --- Celery -----------------------------------------------------------------
# With REDIS_URL unset the broker is a SQLite file under var/ (clinic.sqlite_broker,
# kombu's SQLAlchemy transport): web, worker and beat run on a fresh machine with no
# server, and a message is claimed inside a write transaction, so no process reads
# one half-written (the folder transport it replaces did, and the worker crashed).
# Remote control, gossip and mingle need a fanout exchange this transport does not
# have; they are off, so nothing is written beside the checkout (the folder
# transport left a control/ folder there).
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    # kombu's Redis transport, repaired so that a worker outlives a Redis restart (clinic.redis_broker).
    CELERY_BROKER_TRANSPORT = "clinic.redis_broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
else:
    CELERY_BROKER_URL = f"sqlite:///{VAR_DIR / 'celery-broker.sqlite3'}"
    CELERY_BROKER_TRANSPORT = "clinic.sqlite_broker:Transport"
    # Wait for the file's write lock instead of failing when web, worker and beat
    # publish at once; look for new messages five times a second.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"connect_args": {"timeout": 30}, "polling_interval": 0.2}
    CELERY_RESULT_BACKEND = f"db+sqlite:///{VAR_DIR / 'celery-results.sqlite3'}"
    CELERY_WORKER_ENABLE_REMOTE_CONTROL = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- Security ---------------------------------------------------------------
# How many reverse proxies (load balancer, nginx) append to X-Forwarded-For in front
# of the app.  0 (the default) trusts only the TCP peer address (REMOTE_ADDR), so a
# client cannot pick its own address by sending the header.  With N proxies the
# client is the N-th address from the right of X-Forwarded-For.
TRUSTED_PROXY_COUNT = env.int("DJANGO_TRUSTED_PROXY_COUNT", default=0)

# Login protection (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one
# account from one address, that pair is locked out for the cool-off time; after
# CLINIC_LOGIN_ACCOUNT_FAILURE_LIMIT for one account from any addresses, the account
# is (clinic.login_lockout), so guesses spread over many addresses stay bounded.
AXES_FAILURE_LIMIT = env.int("DJANGO_LOGIN_FAILURE_LIMIT", default=5)
CLINIC_LOGIN_ACCOUNT_FAILURE_LIMIT = env.int("DJANGO_LOGIN_ACCOUNT_FAILURE_LIMIT", default=20)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("DJANGO_LOGIN_COOLOFF_MINUTES", default=30))
AXES_HANDLER = "clinic.login_lockout.AccountAndAddressLockoutHandler"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "username"]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "clinic.client_address.login_username"
AXES_CLIENT_IP_CALLABLE = "clinic.client_address.client_ip_address"
AXES_LOCKOUT_CALLABLE = "clinic.views.login_lockout_response"
AXES_SENSITIVE_PARAMETERS = ["password"]

# Two-factor authentication (django-otp): practitioners and admins must confirm each
# login with an authenticator app; patients may turn it on in their profile.
CLINIC_STAFF_2FA_REQUIRED = env.bool("CLINIC_STAFF_2FA_REQUIRED", default=True)
CLINIC_RECOVERY_CODE_COUNT = 10
# Staff enrol an authenticator only through a one-time link an admin sends; it expires
# after this many hours.
CLINIC_TWO_FACTOR_ENROLMENT_HOURS = env.int("CLINIC_TWO_FACTOR_ENROLMENT_HOURS", default=24)
# A patient the front desk registered takes up their online account with a one-time link,
# valid for this many days.
CLINIC_ACCOUNT_CLAIM_DAYS = env.int("CLINIC_ACCOUNT_CLAIM_DAYS", default=14)
OTP_TOTP_ISSUER = CLINIC_NAME
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# Staff and patients are logged out after this many minutes without a request, and
# everyone this many hours after the session began however active (0 switches each off).
CLINIC_STAFF_IDLE_MINUTES = env.int("CLINIC_STAFF_IDLE_MINUTES", default=15)
CLINIC_PATIENT_IDLE_MINUTES = env.int("CLINIC_PATIENT_IDLE_MINUTES", default=30)
CLINIC_SESSION_MAX_HOURS = env.int("CLINIC_SESSION_MAX_HOURS", default=12)
SESSION_COOKIE_AGE = (CLINIC_SESSION_MAX_HOURS or 12) * 60 * 60

# Content Security Policy (django-csp): only our own scripts, styles and images; no
# inline script or style, no framing, forms post only to this site.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}

# The care team (clinic.care_team): a membership lapses this many months after the last
# appointment booked (or after an assignment or referral); emergency access lasts these hours.
CLINIC_CARE_TEAM_MONTHS = env.int("CLINIC_CARE_TEAM_MONTHS", default=12)
CLINIC_EMERGENCY_ACCESS_HOURS = env.int("CLINIC_EMERGENCY_ACCESS_HOURS", default=24)
# Clinical records of a patient who deleted their account are kept this many years
# after their last record (health-record retention); ``manage.py privacy_retention_due``
# lists those past it, for the records officer to purge.
CLINIC_RECORD_RETENTION_YEARS = env.int("CLINIC_RECORD_RETENTION_YEARS", default=8)

# --- REST API (api/) ------------------------------------------------------------
# Personal access tokens: the longest expiry a person may choose, per kind of owner, and
# how long a staff token may lie unused before it stops working (like a staff session's
# idle logout, in days because programs call at their own pace; 0 switches it off).
CLINIC_API_PATIENT_TOKEN_MAX_DAYS = env.int("CLINIC_API_PATIENT_TOKEN_MAX_DAYS", default=365)
CLINIC_API_STAFF_TOKEN_MAX_DAYS = env.int("CLINIC_API_STAFF_TOKEN_MAX_DAYS", default=90)
CLINIC_API_STAFF_TOKEN_IDLE_DAYS = env.int("CLINIC_API_STAFF_TOKEN_IDLE_DAYS", default=14)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First, so an unauthenticated call gets a 401 with "WWW-Authenticate: Bearer".
        "api.authentication.PersonalAccessTokenAuthentication",
        "api.authentication.ClinicSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "api.permissions.TokenScopeAllows",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer", "api.problems.ProblemJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "api.problems.problem_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.PerTokenRateThrottle", "api.throttling.AnonymousRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "token": env.str("CLINIC_API_RATE", default="120/min"),
        "anonymous": env.str("CLINIC_API_ANONYMOUS_RATE", default="60/min"),
    },
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": f"{CLINIC_NAME} API",
    "DESCRIPTION": "Modalities and availability (public), the patient's own appointments, and the staff "
    "endpoints. Authenticate with 'Authorization: Bearer <personal access token>'. Errors are RFC 9457 "
    "problem details (application/problem+json).",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # One name per choice set the staff endpoints share (else drf-spectacular warns, and the deploy check fails).
    "ENUM_NAME_OVERRIDES": {
        "ModalityKindEnum": "clinic.models.Modality.Kind",
        "AdverseEventKindEnum": "treatments.models.AdverseEvent.Kind",
        "AppointmentStatusEnum": "bookings.models.Appointment.Status",
        "SessionLogStatusEnum": "treatments.models.SessionLog.Status",
        "CarePlanStatusEnum": "bookings.models.CarePlan.Status",
        "PainScoreEnum": "treatments.models.PAIN_SCORES",
    },
}

SESSION_COOKIE_HTTPONLY = True
# An expired or cookieless form gets the clinic's page that says what to do (templates/403_csrf.html).
CSRF_FAILURE_VIEW = "clinic.error_pages.csrf_failure"
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# /health/ (clinic.health): load balancers probe it over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^health/$"]
# When the outbox's oldest due message or beat's last run counts as a failure (503).
CLINIC_HEALTH_OUTBOX_MAX_DELAY_MINUTES = env.int("CLINIC_HEALTH_OUTBOX_MAX_DELAY_MINUTES", default=15)
CLINIC_HEALTH_BEAT_MAX_SILENCE_MINUTES = env.int("CLINIC_HEALTH_BEAT_MAX_SILENCE_MINUTES", default=15)
CLINIC_HEALTH_BROKER_TIMEOUT_SECONDS = env.float("CLINIC_HEALTH_BROKER_TIMEOUT_SECONDS", default=2.0)
# Webhooks (api/webhooks/): how long a receiver may take, how often and how patiently a delivery is
# retried (the wait doubles from the first, up to the cap), and whether endpoints may be plain HTTP or
# on a private network (loopback, RFC 1918, link-local): only while debugging, or in tests.
CLINIC_WEBHOOKS_TIMEOUT_SECONDS = env.float("CLINIC_WEBHOOKS_TIMEOUT_SECONDS", default=10.0)
CLINIC_WEBHOOKS_MAX_ATTEMPTS = env.int("CLINIC_WEBHOOKS_MAX_ATTEMPTS", default=10)
CLINIC_WEBHOOKS_RETRY_SECONDS = env.int("CLINIC_WEBHOOKS_RETRY_SECONDS", default=60)
CLINIC_WEBHOOKS_RETRY_MAX_SECONDS = env.int("CLINIC_WEBHOOKS_RETRY_MAX_SECONDS", default=6 * 3600)
CLINIC_WEBHOOKS_ALLOW_PRIVATE_NETWORKS = env.bool("CLINIC_WEBHOOKS_ALLOW_PRIVATE_NETWORKS", default=DEBUG)
if not DEBUG:
    # X-Forwarded-Proto is believed only from a proxy we run (DJANGO_TRUSTED_PROXY_COUNT);
    # without one, any client could claim its plain-HTTP request came over HTTPS.
    if TRUSTED_PROXY_COUNT > 0:
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)

# --- Logs and error tracking --------------------------------------------------
# DJANGO_LOG_FORMAT=json writes one JSON object per line (clinic.json_logs) for log collectors.
LOG_FORMAT = env.str("DJANGO_LOG_FORMAT", default="text")
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured(f"DJANGO_LOG_FORMAT must be 'text' or 'json', not {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "clinic.json_logs.JsonLogFormatter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", **({"formatter": "json"} if LOG_FORMAT == "json" else {})}
    },
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
}
if LOG_FORMAT == "json":
    # Celery workers would otherwise replace the root handler with their own plain-text one.
    CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# Error tracking is on when SENTRY_DSN is set; clinic.error_tracking keeps health data out of it.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    from clinic.error_tracking import sentry_init

    sentry_init(
        dsn=SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default="production"),
        release=env.str("SENTRY_RELEASE", default="") or None,
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )

# Clinical records change only through the app's services (signing, amending, audit): the
# admin shows their recorded history but never reverts a record to an old version.
SIMPLE_HISTORY_REVERT_DISABLED = True
