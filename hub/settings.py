"""Settings for the hub: one module, every value from the environment.

HUB_ENV selects the profile: `development` (default, what `make run` uses),
`test` (the test suite) or `production` (what docker-compose runs). Production
refuses to start with an insecure secret or no allowed hosts.
"""

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from hub.lib import embedded_redis
from hub.lib.redis_conf import Sentinels, broker_transport_options, broker_url, channel_layer_host
from hub.lib.env import envbool, envfloat, envint, envlist, envstr

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(envstr("HUB_VAR_DIR", str(BASE_DIR / "var")))

HUB_ENV = envstr("HUB_ENV", "development")
if HUB_ENV not in {"development", "test", "production"}:
    raise ImproperlyConfigured(f"HUB_ENV must be development, test or production, got {HUB_ENV!r}")
PRODUCTION = HUB_ENV == "production"
DEBUG = envbool("DEBUG", default=False)

_DEV_SECRET = "insecure-development-secret-do-not-use-in-production"
SECRET_KEY = envstr("SECRET_KEY", "" if PRODUCTION else _DEV_SECRET)
if PRODUCTION:
    if not SECRET_KEY or SECRET_KEY == _DEV_SECRET or SECRET_KEY.startswith("django-insecure") or len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set to a long random value in production "
            "(50+ characters, e.g. `python -c 'import secrets; print(secrets.token_urlsafe(64))'`)."
        )
    if DEBUG:
        raise ImproperlyConfigured("DEBUG must be off in production.")

HOST = envstr("HOST", "127.0.0.1")
PORT = envint("PORT", 8000)
PUBLIC_BASE_URL = envstr("PUBLIC_BASE_URL", f"http://{'localhost' if HOST in ('127.0.0.1', '0.0.0.0') else HOST}:{PORT}").rstrip("/")
_public = urlparse(PUBLIC_BASE_URL)
if _public.scheme not in ("http", "https") or not _public.hostname:
    raise ImproperlyConfigured(f"PUBLIC_BASE_URL must be an absolute http(s) URL, got {PUBLIC_BASE_URL!r}")

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", [] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]", "testserver"])
if _public.hostname not in ALLOWED_HOSTS and "*" not in ALLOWED_HOSTS:
    ALLOWED_HOSTS.append(_public.hostname)
if PRODUCTION and not envlist("ALLOWED_HOSTS"):
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set in production.")
CSRF_TRUSTED_ORIGINS = [f"{_public.scheme}://{_public.netloc}"] + envlist("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "daphne",
    "hub.admin_site.HubAdminConfig",  # django.contrib.admin, superusers only
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "ninja",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "csp",
    "hub",
    "hub.retention",
    "hub.ehr",
    "hub.knowledge",
    "hub.training",
    "hub.qa",
    "channels_app",
    "channels_app.webchat",
    "console",
    "kpi",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "hub.lib.authguard.IdleLogoffMiddleware",
    "hub.lib.authguard.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last: a lock-out answers before any view runs.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "hub.urls"
ASGI_APPLICATION = "hub.asgi.application"
WSGI_APPLICATION = None

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
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
# DATABASE_URL selects PostgreSQL (production, CI). Unset: SQLite in WAL mode,
# so `make run` works on a machine with nothing installed.
DATABASE_URL = envstr("DATABASE_URL")
if DATABASE_URL:
    _db = dj_database_url.parse(DATABASE_URL)
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    _db = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(VAR_DIR / "hub.sqlite3")}
if _db["ENGINE"] == "django.db.backends.postgresql":
    # Under ASGI a new connection per request costs ~10 ms; psycopg's pool
    # removes that (CONN_MAX_AGE does not help with ASGI's threads).
    _db["OPTIONS"] = {
        "pool": {
            "min_size": envint("DB_POOL_MIN", 2),
            "max_size": envint("DB_POOL_MAX", 20),
            "timeout": envfloat("DB_POOL_TIMEOUT", 10.0),
        },
    }
    _db["CONN_MAX_AGE"] = 0
elif _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["OPTIONS"] = {
        # WAL lets the web process read while a worker writes; IMMEDIATE
        # takes the write lock at BEGIN so two writers queue instead of
        # deadlocking on a lock upgrade.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
_db["TEST"] = {"NAME": envstr("TEST_DATABASE_NAME") or (
    str(VAR_DIR / "test.sqlite3") if _db["ENGINE"].endswith("sqlite3") else "test_hub"
)}
_db["ATOMIC_REQUESTS"] = False
# Django's own backends, with realtime stream entries written at COMMIT (hub/db).
_db["ENGINE"] = {"django.db.backends.postgresql": "hub.db.backends.postgresql",
                 "django.db.backends.sqlite3": "hub.db.backends.sqlite3"}.get(_db["ENGINE"], _db["ENGINE"])
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: channel layer, Celery broker, cache ------------------------------
REDIS_URL = envstr("REDIS_URL") or embedded_redis.discover()
# Failover with Redis Sentinel (hub.lib.redis_conf, docs/deployment.md).
REDIS_SENTINEL = Sentinels.from_env(envstr("REDIS_SENTINELS"), envstr("REDIS_SENTINEL_MASTER"),
                                    envstr("REDIS_SENTINEL_PASSWORD"))
CHANNEL_LAYER_PREFIX = envstr("CHANNEL_LAYER_PREFIX", "hubtest" if HUB_ENV == "test" else "hub")
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "hub.lib.channel_layer.RedisChannelLayer",
        "CONFIG": {
            "hosts": [channel_layer_host(REDIS_URL, envint("REDIS_LAYER_MAX_CONNECTIONS", 1000), REDIS_SENTINEL)],
            "prefix": CHANNEL_LAYER_PREFIX,
            "capacity": 1000,
            "expiry": 60,
            "group_expiry": 86400,
        },
    }
}
CACHES = {
    "default": {
        # Django's Redis cache, one client per pool (hub/lib/cache.py).
        "BACKEND": "hub.lib.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": envstr("CACHE_KEY_PREFIX", "hubtest" if HUB_ENV == "test" else "hub"),
        "OPTIONS": {"pool_class": "hub.lib.redis_conf.SentinelPool"} if REDIS_SENTINEL else {},
    }
}

CELERY_BROKER_URL = envstr("CELERY_BROKER_URL") or broker_url(REDIS_URL, REDIS_SENTINEL)
CELERY_TASK_ALWAYS_EAGER = envbool("CELERY_TASK_ALWAYS_EAGER", HUB_ENV == "test")
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": envint("CELERY_VISIBILITY_TIMEOUT", 3600),
                                   **broker_transport_options(REDIS_SENTINEL)}
CELERY_TASK_DEFAULT_QUEUE = envstr("CELERY_QUEUE", "hub")
# Deliveries, attachment fetches and call pick-ups are taken from the broker
# before sweeps, offers and rollups (hub.celery, docs/deployment.md).
CELERY_TASK_ROUTES = ["hub.celery.route_urgent_first"]
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Beat's frequent tasks expire after their own interval: under load a sweep
# that could not start in time is replaced by the next, never queued behind it.
SLA_SWEEP_SECONDS = envfloat("SLA_SWEEP_SECONDS", 0.5)
KPI_REFRESH_SECONDS = envfloat("KPI_REFRESH_SECONDS", 1.0)


def _every(task: str, seconds: float) -> dict:
    return {"task": task, "schedule": seconds, "options": {"expires": seconds}}


CELERY_BEAT_SCHEDULE: dict = {
    "sweep-outbound": _every("hub.tasks.sweep_outbound", 30.0),
    "wake-snoozed": _every("hub.tasks.wake_snoozed", 30.0),
    # SLA warnings and breaches fire from this sweep, at most this late.
    "sweep-sla": _every("hub.tasks.sweep_sla", SLA_SWEEP_SECONDS),
    "sweep-offers": _every("hub.tasks.sweep_offers", 5.0),
    # Presence of people whose server process died with their sockets open.
    "sweep-presence": _every("hub.tasks.sweep_presence", 15.0),
    # KPI facts follow the timeline, and wallboards are pushed, this often.
    "kpi-refresh": _every("kpi.tasks.refresh", KPI_REFRESH_SECONDS),
}
# --- Retention (docs/retention.md): purge every practice by its policy, daily.
from celery.schedules import crontab  # noqa: E402

CELERY_BEAT_SCHEDULE["retention-purge"] = {
    "task": "hub.retention.tasks.purge_expired",
    "schedule": crontab(hour=envint("RETENTION_PURGE_HOUR_UTC", 3), minute=envint("RETENTION_PURGE_MINUTE", 15)),
}
# --- end retention

# --- Auth, sessions, security -----------------------------------------------
LOGIN_URL = "console:login"
LOGIN_REDIRECT_URL = "console:home"
LOGOUT_REDIRECT_URL = "console:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "hub.lib.passwords.NoPersonalInfoValidator"},
]
# An API token that checked out is remembered this long per server process
# (hub.api.auth): a revocation elsewhere reaches this process within it.
API_TOKEN_CACHE_SECONDS = envfloat("API_TOKEN_CACHE_SECONDS", 5.0)
# django-axes runs first: a locked-out account is refused before its
# password is even checked. Lock-out is per account (an office's agents
# share one NAT address; locking the address would lock the whole office).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=envfloat("LOGIN_LOCKOUT_MINUTES", 15.0))
AXES_LOCKOUT_PARAMETERS = ["username"]
# axes warns that per-account lock-out alone lets an attacker try many
# accounts from one address: the login view also throttles each address
# (LOGIN_ATTEMPTS_PER_IP per 15 minutes), generously enough for an office.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
LOGIN_ATTEMPTS_PER_IP = envint("LOGIN_ATTEMPTS_PER_IP", 100)
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "console.auth_views.lockout"
AXES_VERBOSE = False
AXES_SENSITIVE_PARAMETERS = ["password", "otp_token"]
# Automatic logoff: a staff session with no activity for this long is
# signed out and its sockets closed (hub.lib.sessions). 0 turns it off.
IDLE_LOGOFF_MINUTES = envfloat("IDLE_LOGOFF_MINUTES", 15.0)
# Two-factor sign-in (TOTP): anyone may turn it on; these roles must
# (agent, supervisor, admin, superuser). Production defaults to practice
# admins and superusers.
OTP_REQUIRED_ROLES = envlist("OTP_REQUIRED_ROLES", ["admin", "superuser"] if PRODUCTION else [])
if set(OTP_REQUIRED_ROLES) - {"agent", "supervisor", "admin", "superuser"}:
    raise ImproperlyConfigured("OTP_REQUIRED_ROLES lists agent, supervisor, admin or superuser, comma-separated.")
OTP_TOTP_ISSUER = envstr("OTP_TOTP_ISSUER", "Patient messaging hub")
# Sessions live in the database with a cache in front: sockets check their
# session every heartbeat without a query each time.
# (hub.lib.session_store is Django's cached_db store; it also treats a
# malformed session cookie as no session instead of querying with it.)
SESSION_ENGINE = "hub.lib.session_store"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = envint("SESSION_COOKIE_AGE", 12 * 3600)
SESSION_COOKIE_SECURE = PRODUCTION or _public.scheme == "https"
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# --- I18N and static files ----------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
# Chart.js, from npm (package.json; `make run` and `make test` install it),
# served as /static/vendor/chartjs/ for the KPI dashboard.
STATICFILES_DIRS = [("vendor/chartjs", BASE_DIR / "node_modules" / "chart.js" / "dist")]
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION
MEDIA_ROOT = Path(envstr("MEDIA_ROOT", str(VAR_DIR / "media")))

# --- The hub's own settings ---------------------------------------------------
TWILIO_ACCOUNT_SID = envstr("TWILIO_ACCOUNT_SID")
TWILIO_AUTH_TOKEN = envstr("TWILIO_AUTH_TOKEN")
# Without Twilio credentials the hub runs its channels against a sandbox
# that records messages and plays Twilio's status callbacks back through
# the real webhooks, signed with this token.
TWILIO_SANDBOX_AUTH_TOKEN = envstr("TWILIO_SANDBOX_AUTH_TOKEN", "sandbox-auth-token")
TWILIO_API_BASE_URL = envstr("TWILIO_API_BASE_URL")  # e.g. a local contract server in tests
TWILIO_TIMEOUT_SECONDS = envfloat("TWILIO_TIMEOUT_SECONDS", 10.0)
SMS_BACKEND = envstr("SMS_BACKEND", "twilio" if TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN else "sandbox")
if SMS_BACKEND not in ("twilio", "sandbox"):
    raise ImproperlyConfigured(f"SMS_BACKEND must be twilio or sandbox, got {SMS_BACKEND!r}")
VOICE_BACKEND = envstr("VOICE_BACKEND", "twilio" if TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN else "sandbox")
if VOICE_BACKEND not in ("twilio", "sandbox"):
    raise ImproperlyConfigured(f"VOICE_BACKEND must be twilio or sandbox, got {VOICE_BACKEND!r}")
VOICE_HOLD_MUSIC_URL = envstr("VOICE_HOLD_MUSIC_URL", "http://com.twilio.sounds.music.s3.amazonaws.com/MARKOVICHAMP-Borghestral.mp3")
VOICE_VOICEMAIL_MAX_SECONDS = envint("VOICE_VOICEMAIL_MAX_SECONDS", 180)
RECORDING_MAX_BYTES = envint("RECORDING_MAX_BYTES", 20 * 1024 * 1024)
SHORT_ABANDON_SECONDS = envint("SHORT_ABANDON_SECONDS", 5)
# KPI definitions (docs/kpi.md). Service level: the share answered within
# these seconds, against the target share.
KPI = {
    "service_level_seconds": {"voice": envint("KPI_SL_VOICE_SECONDS", 20),
                              "messages": envint("KPI_SL_MESSAGE_SECONDS", 120)},
    "service_level_target": envfloat("KPI_SL_TARGET", 0.8),
    "fcr_days": envint("KPI_FCR_DAYS", 7),
    "training_minimum": envint("KPI_TRAINING_MINIMUM", 5),
    # Conversations an agent works at once, for message staffing (Erlang C
    # assumes one at a time).
    "message_concurrency": envint("KPI_MESSAGE_CONCURRENCY", 3),
    "forecast_weeks": envint("KPI_FORECAST_WEEKS", 4),
}
# A chat visitor whose widget has not pinged for WIDGET_ALIVE_SECONDS, checked
# VISITOR_LEFT_AFTER_SECONDS after their socket closed, has left the chat.
WIDGET_ALIVE_SECONDS = envint("WIDGET_ALIVE_SECONDS", 45)
VISITOR_LEFT_AFTER_SECONDS = envint("VISITOR_LEFT_AFTER_SECONDS", 60)
SANDBOX_STATUS_DELAYS = [envfloat("SANDBOX_SENT_AFTER", 0.4), envfloat("SANDBOX_DELIVERED_AFTER", 1.2)]
WIDGET_LIMITS = {
    "connects_per_ip": envint("WIDGET_CONNECTS_PER_IP", 60),
    "messages_per_visitor": envint("WIDGET_MESSAGES_PER_VISITOR", 20),
    "messages_per_ip": envint("WIDGET_MESSAGES_PER_IP", 120),
}
ATTACHMENT_MAX_BYTES = envint("ATTACHMENT_MAX_BYTES", 5 * 1024 * 1024)
ATTACHMENT_TYPES = envlist("ATTACHMENT_TYPES", [
    "image/jpeg", "image/png", "image/gif", "image/webp", "image/heic", "application/pdf",
])
DEFAULT_PHONE_REGION = envstr("DEFAULT_PHONE_REGION", "US")
# Threads per web process for Django's HTTP requests; more requests than
# this wait their turn on the event loop (hub/lib/lanes.py). 0: one new
# thread per request, unbounded (Django's default).
HTTP_THREADS = envint("HTTP_THREADS", 8)
HEARTBEAT_SECONDS = envfloat("HEARTBEAT_SECONDS", 15.0)
CONSOLE_IDLE_MINUTES = envfloat("CONSOLE_IDLE_MINUTES", 10.0)  # then presence turns "away"
OUTBOUND_MAX_ATTEMPTS = envint("OUTBOUND_MAX_ATTEMPTS", 6)
# How long an attempt whose outcome is unknown belongs to the worker that
# made it; after that another worker reconciles it with the provider.
OUTBOUND_ATTEMPT_LEASE_SECONDS = envfloat("OUTBOUND_ATTEMPT_LEASE_SECONDS", 60.0)
REPLAY_LIMIT = envint("REPLAY_LIMIT", 5000)
# A console entry that arrives ahead of the one before it waits this long
# for it (a reordering between processes) before the gap is read from the
# database (a lost message).
GAP_WAIT_SECONDS = envfloat("GAP_WAIT_SECONDS", 0.25)

if HUB_ENV == "test":
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # No patient data in logs: every handler redacts (hub.lib.logredact,
    # docs/hardening.md). Celery's worker and beat use this configuration
    # too (hub.celery), so their lines pass the same filters.
    "filters": {
        "redact_phi": {"()": "hub.lib.logredact.RedactPHI"},
        # The sweeps that run every few seconds log nothing on success.
        "quiet_housekeeping": {
            "()": "hub.lib.logredact.QuietHousekeeping",
            "tasks": ["hub.tasks.sweep_sla", "hub.tasks.sweep_offers", "hub.tasks.sweep_presence", "kpi.tasks.refresh"]
                     + envlist("LOG_QUIET_TASKS"),
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain",
                             "filters": ["quiet_housekeeping", "redact_phi"]}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "daphne": {"level": "WARNING"},
        # django-axes logs every sign-in at INFO; the audit trail has them.
        # Lock-outs are warnings and still appear.
        "axes": {"level": "WARNING"},
        # httpx logs every request's URL at INFO; EHR searches carry names
        # and dates of birth in theirs (hub.ehr.fhir).
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        # Django's defaults would add a DEBUG-only console handler and an
        # AdminEmailHandler (error mails carry local variables): everything
        # goes to the handler above instead.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

# --- Content-Security-Policy (django-csp; docs/hardening.md) ------------------
# Every page loads only the hub's own scripts, styles, pictures and sockets,
# and none may be framed. The widget's demo page is covered too: the widget
# styles its shadow root with a constructed stylesheet, which needs no
# 'unsafe-inline'. Attachments answer with their own, stricter policy.
from csp.constants import NONE, SELF  # noqa: E402

_socket_origin = f"{'wss' if _public.scheme == 'https' else 'ws'}://{_public.netloc}"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:"],
        "media-src": [SELF, "blob:"],
        "font-src": [SELF],
        # Some browsers do not count ws(s) of the same host as 'self'.
        "connect-src": [SELF, _socket_origin],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "report-uri": envstr("CSP_REPORT_URI") or None,
    },
}

# EHR integration (docs/ehr.md). Each practice's FHIR server is set in the
# admin (EhrConnection); EHR_DEMO_URL is the embedded demo EHR that
# `make run` starts, used by connections without a base URL.
EHR_DEMO_URL = envstr("EHR_DEMO_URL", "").rstrip("/")
EHR_CACHE_SECONDS = envint("EHR_CACHE_SECONDS", 60)
EHR_BREAKER_SECONDS = envint("EHR_BREAKER_SECONDS", 15)
EHR_CODE_MINUTES = envint("EHR_CODE_MINUTES", 10)
EHR_MAX_FAILED_CHECKS = envint("EHR_MAX_FAILED_CHECKS", 5)
