"""xinfang settings: one file, configured only through the environment.

Every variable is parsed strictly: a value that cannot be understood stops start-up with a message
naming the variable, rather than silently falling back to a default.

XINFANG_DATA_DIR     where the SQLite database, uploaded files and generated documents live
                     (default: ./var under the project checkout)
DATABASE_URL         sqlite:///path/to/db.sqlite3 or postgres://user:pass@host:port/name
XINFANG_SECRET_KEY   required in production; in development a key is generated into the data dir
XINFANG_DEBUG        true/false (default false)
XINFANG_ALLOWED_HOSTS  comma-separated host names (default 127.0.0.1,localhost)
XINFANG_PDF_FONT     path to a CJK TrueType font for PDF documents (default: search known paths)
XINFANG_MAX_UPLOAD_MB  largest attachment accepted, in MiB (default 20)
XINFANG_SKIP_LEVEL_POLICY  guide_back (default: a level-skipping visit is not routed, the petitioner
                     is guided to the competent level, Art.20) or accept
XINFANG_ENV          development (default) or production: production requires XINFANG_SECRET_KEY and
                     turns on HSTS, secure cookies and the HTTPS redirect (see docs/security.md for
                     XINFANG_PROXY_SSL_HEADER, XINFANG_SSL_REDIRECT, XINFANG_HSTS_SECONDS, …)
XINFANG_DATA_KEY     key for personal data at rest (`xinfang keys generate`); required in production,
                     generated into the data dir in development. XINFANG_DATA_KEYS_OLD: earlier keys
                     (comma-separated) still read until `xinfang keys rotate` has run
XINFANG_SESSION_SECONDS / XINFANG_SESSION_IDLE_SECONDS  absolute and idle session limits
XINFANG_LOGIN_*, XINFANG_TOTP_REQUIRED_ROLES  login lockout and two-step login (docs/security.md)
XINFANG_IMPORT_STALL_SECONDS  seconds without progress after which a ledger import counts as stalled
                     and is resumed (default 120, docs/ledger.md)
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent.parent


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None


def parse_database_url(url: str) -> dict:
    """Turn DATABASE_URL into a Django DATABASES entry (sqlite and postgres only)."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        # sqlite:///relative/path and sqlite:////absolute/path, as dj-database-url spells them.
        raw = unquote(parts.path)[1:]
        if not raw:
            raise ImproperlyConfigured("DATABASE_URL for SQLite needs a file path")
        name = Path(raw)
        if not name.is_absolute():
            name = Path.cwd() / name
        return sqlite_database(name)
    if parts.scheme in {"postgres", "postgresql", "pgsql"}:
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise ImproperlyConfigured("DATABASE_URL for PostgreSQL needs a database name")
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
            # JIT compilation cost the inbox's tab counts 30–40 ms on a query that runs in 10–14 ms
            # without it; the pages' queries are short, so xinfang's connections never JIT.
            "OPTIONS": {"options": "-c jit=off"},
            # One test database per process, so parallel test runs never drop each other's.
            "TEST": {"NAME": f"test_{name}_{os.getpid()}"},
        }
    raise ImproperlyConfigured(f"DATABASE_URL scheme {parts.scheme!r} is not supported (use sqlite or postgres)")


def sqlite_database(path: Path) -> dict:
    # WAL lets readers work while one writer commits; IMMEDIATE transactions take the write lock
    # up front, so two concurrent writers queue instead of failing half-way.
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        },
        # One test database per process, so parallel test runs never share a file.
        "TEST": {"NAME": str(path.with_name(f"{path.stem}-test-{os.getpid()}.sqlite3"))},
    }


DATA_DIR = Path(os.environ.get("XINFANG_DATA_DIR") or PROJECT_DIR / "var").resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("XINFANG_DEBUG", False)

XINFANG_ENV = os.environ.get("XINFANG_ENV", "development").strip().lower() or "development"
if XINFANG_ENV not in {"development", "production"}:
    raise ImproperlyConfigured(f"XINFANG_ENV must be development or production, not {XINFANG_ENV!r}")
PRODUCTION = XINFANG_ENV == "production"

SECRET_KEY = os.environ.get("XINFANG_SECRET_KEY", "")
if PRODUCTION:
    # A key generated into the data directory is fine on one developer's machine; in production it
    # would silently differ between servers and be readable by whoever can read the data directory.
    if DEBUG:
        raise ImproperlyConfigured("XINFANG_DEBUG must be false when XINFANG_ENV=production")
    if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or SECRET_KEY.startswith("django-insecure"):
        raise ImproperlyConfigured("XINFANG_ENV=production needs XINFANG_SECRET_KEY: 50 or more random characters")
if not SECRET_KEY:
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    SECRET_KEY = key_file.read_text().strip()

# Personal data at rest (cases/crypto.py): the current key and earlier keys still accepted for reading.
DATA_KEY = os.environ.get("XINFANG_DATA_KEY", "")
DATA_KEYS_OLD = [k for k in os.environ.get("XINFANG_DATA_KEYS_OLD", "").split(",") if k.strip()]
if PRODUCTION and not DATA_KEY:
    # A generated key file would differ between servers and sit beside the data it protects.
    raise ImproperlyConfigured("XINFANG_ENV=production needs XINFANG_DATA_KEY (create one with `xinfang keys generate`)")

ALLOWED_HOSTS = [h.strip() for h in os.environ.get("XINFANG_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h.strip()]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "ninja",  # the API docs' Swagger UI is served from the package's static files (offline)
    "huey.contrib.djhuey",
    "xinfang",
    "xinfang.orgs",
    "xinfang.deadlines",
    "xinfang.cases",
    "xinfang.documents",
    "xinfang.audit",
    "xinfang.intake",
    "xinfang.handling",
    "xinfang.ledger",
    "xinfang.dedup",
    "xinfang.suggest",
    "xinfang.portal",
    "xinfang.api",
    "xinfang.accounts",
    "xinfang.supervision",
    "xinfang.mediation",
    "xinfang.analytics",
    "xinfang.coordination",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "xinfang.accounts.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "xinfang.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "xinfang.accounts.middleware.SessionPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "xinfang.urls"
WSGI_APPLICATION = "xinfang.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "xinfang.context_processors.workbench",
            ],
        },
    },
]

DATABASES = {
    "default": parse_database_url(os.environ["DATABASE_URL"])
    if os.environ.get("DATABASE_URL")
    else sqlite_database(DATA_DIR / "xinfang.sqlite3")
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "orgs.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "xinfang.accounts.validators.ComplexityValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "/media/"  # never served directly: documents go through access-checked views
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True  # serve straight from the package; collectstatic is optional

MAX_UPLOAD_MB = env_int("XINFANG_MAX_UPLOAD_MB", 20)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
XINFANG_SKIP_LEVEL_POLICY = os.environ.get("XINFANG_SKIP_LEVEL_POLICY", "guide_back")
if XINFANG_SKIP_LEVEL_POLICY not in {"guide_back", "accept"}:
    raise ImproperlyConfigured("XINFANG_SKIP_LEVEL_POLICY must be guide_back or accept")
PDF_FONT = os.environ.get("XINFANG_PDF_FONT", "")

# Citizen portal (docs/portal.md). The notifier sends the query code by SMS or e-mail (dotted path
# of a class; the default writes it to the log). Rate limits are counted in the database, so every
# process and server shares them (the client address as for logins: CLIENT_IP_HEADER).
XINFANG_NOTIFIER = os.environ.get("XINFANG_NOTIFIER", "xinfang.portal.notify.LogNotifier")
PORTAL_SUBMITS_PER_IP_DAY = env_int("XINFANG_PORTAL_SUBMITS_PER_IP_DAY", 20)
PORTAL_SUBMITS_PER_ID_DAY = env_int("XINFANG_PORTAL_SUBMITS_PER_ID_DAY", 3)
PORTAL_LOOKUPS_PER_IP_HOUR = env_int("XINFANG_PORTAL_LOOKUPS_PER_IP_HOUR", 30)
PORTAL_FAILURES_PER_CASE_DAY = env_int("XINFANG_PORTAL_FAILURES_PER_CASE_DAY", 10)

# Background jobs (huey). By default the queue is a SQLite file in the data directory and
# `xinfang serve` runs a consumer beside the web workers, so one command starts everything; at
# scale XINFANG_REDIS_URL puts the queue on Redis and `xinfang run_huey` runs on worker machines.
# XINFANG_JOBS_IMMEDIATE=1 runs each job inline when it is enqueued (the test suite does this).
REDIS_URL = os.environ.get("XINFANG_REDIS_URL", "")
HUEY = {
    "name": "xinfang",
    "huey_class": "huey.RedisHuey" if REDIS_URL else "huey.SqliteHuey",
    "immediate": env_bool("XINFANG_JOBS_IMMEDIATE", False),
    "utc": True,
    "connection": {"url": REDIS_URL} if REDIS_URL else {"filename": str(DATA_DIR / "jobs.sqlite3")},
    "consumer": {"workers": env_int("XINFANG_JOB_WORKERS", 2), "worker_type": "thread", "periodic": True},
}
# A ledger import whose heartbeat is older than this is taken as stalled (its worker died) and may
# be resumed. It must stay well above the time one batch takes (about two seconds, see
# ledger.importer.BATCH_SECONDS), or a live import could be taken by a second worker.
LEDGER_IMPORT_STALL_SECONDS = env_int("XINFANG_IMPORT_STALL_SECONDS", 120)
if LEDGER_IMPORT_STALL_SECONDS < 1:
    raise ImproperlyConfigured("XINFANG_IMPORT_STALL_SECONDS must be at least 1")

SESSION_COOKIE_HTTPONLY = True
# Absolute limit: a session ends this long after login however busy it is (also the cookie's age).
SESSION_COOKIE_AGE = env_int("XINFANG_SESSION_SECONDS", 8 * 3600)
# Idle limit: a session nobody used for this long ends (xinfang.accounts.middleware).
SESSION_IDLE_SECONDS = env_int("XINFANG_SESSION_IDLE_SECONDS", 30 * 60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Login lockout (xinfang.accounts.throttle): this many failures within the window lock the
# username (or the client address) for the lock period. Counted in the database, so every worker
# process sees the same count.
LOGIN_FAILURE_WINDOW_SECONDS = env_int("XINFANG_LOGIN_WINDOW_SECONDS", 15 * 60)
LOGIN_MAX_FAILURES_PER_USER = env_int("XINFANG_LOGIN_MAX_FAILURES", 5)
LOGIN_MAX_FAILURES_PER_IP = env_int("XINFANG_LOGIN_MAX_FAILURES_PER_IP", 30)
LOGIN_LOCKOUT_SECONDS = env_int("XINFANG_LOGIN_LOCKOUT_SECONDS", 15 * 60)
# The client address comes from REMOTE_ADDR unless a trusted reverse proxy puts it in a header
# (e.g. HTTP_X_FORWARDED_FOR); then the last address in that header is used.
CLIENT_IP_HEADER = os.environ.get("XINFANG_CLIENT_IP_HEADER", "").strip()
# Roles (and "superuser") that must use a second login step (TOTP), comma-separated; empty: optional.
TOTP_REQUIRED_ROLES = [r.strip() for r in os.environ.get("XINFANG_TOTP_REQUIRED_ROLES", "").split(",") if r.strip()]
TOTP_ISSUER = os.environ.get("XINFANG_TOTP_ISSUER", "信访工作平台")

# Content-Security-Policy sent with every response (xinfang.accounts.middleware): no inline script,
# style or handler anywhere, so an injected payload cannot run even if escaping were ever missed.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"

if PRODUCTION:
    # Behind a TLS-terminating proxy, name the header it sets (e.g. HTTP_X_FORWARDED_PROTO) so
    # Django knows the request came in over HTTPS; only do this when the proxy strips that header
    # from clients' requests.
    proxy_header = os.environ.get("XINFANG_PROXY_SSL_HEADER", "").strip()
    if proxy_header:
        SECURE_PROXY_SSL_HEADER = (proxy_header, "https")
    SECURE_SSL_REDIRECT = env_bool("XINFANG_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("XINFANG_HSTS_SECONDS", 365 * 24 * 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("XINFANG_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("XINFANG_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    SESSION_COOKIE_SAMESITE = "Lax"
    CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("XINFANG_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("XINFANG_LOG_LEVEL", "WARNING")},
}
