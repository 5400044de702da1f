"""Settings for the MSC registry, read from the environment.

DATABASE_URL picks the database (default: an SQLite file in the project, the embedded default used
by `make run`); SECRET_KEY is required unless DEBUG is on; ALLOWED_HOSTS is a comma-separated list.
A deployment runs registry.settings_production, which imports this module and adds the HTTPS-only
hardening; everything that protects the records in every environment (lock-out, Argon2, session
limits, two-factor, Content-Security-Policy) is set here so that tests exercise it.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_flag(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_flag("DEBUG", default=False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set SECRET_KEY (or DEBUG=true for a development key).")
    SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"

ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1").split(",") if h.strip()]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_filters",
    "simple_history",
    "concurrency",
    "import_export",
    # ISO 3166-1 country codes and names for every country field.
    "django_countries",
    # Lock-out after repeated failed log-ins, with every attempt recorded (AccessAttempt, AccessLog).
    "axes",
    # Optional time-based one-time passwords (TOTP) as a second factor.
    "django_otp",
    "django_otp.plugins.otp_totp",
    # Content-Security-Policy header (its app only adds system checks of the configuration).
    "csp",
    "registry",
    "cases",
    # The synthetic registry generator (generate_synthetic); it refuses centres that hold real cases.
    "synthetic",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves the static files itself (compressed, cacheable), so no separate static server is needed.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): has this session passed the second factor? Needs request.user.
    "django_otp.middleware.OTPMiddleware",
    "registry.security.protections.NoStoreMiddleware",
    "registry.security.protections.SessionTimeLimitsMiddleware",
    "registry.security.protections.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: turns a lock-out noticed during log-in into the lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "registry.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
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

WSGI_APPLICATION = "registry.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
    )
}

# django-axes' backend first: it refuses to authenticate a locked-out user name and address before
# the password is even checked; Django's ModelBackend then checks the password.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# The role the application connects as, when it is not the owner of the tables (docs/deploy.md):
# migrate, run by the owner, then grants it its privileges (registry.database.roles).
REGISTRY_APP_DATABASE_ROLE = os.environ.get("REGISTRY_APP_DATABASE_ROLE", "")

# Argon2 (memory-hard, winner of the Password Hashing Competition) for new and re-hashed passwords;
# the others only let old hashes be verified, and upgraded at the next log-in.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

FIXTURE_DIRS = [BASE_DIR / "fixtures"]

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "cases:dashboard"
LOGOUT_REDIRECT_URL = "login"

# Sessions: 30 minutes idle (the expiry moves on with use), gone when the browser closes,
# and never longer than 12 hours from log-in whatever the activity (registry.security.protections).
SESSION_COOKIE_AGE = 30 * 60
# Idle expiry is renewed at most once a minute, not saved on every request (registry.security.protections).
SESSION_SAVE_EVERY_REQUEST = False
REGISTRY_SESSION_RENEW_EVERY = timedelta(minutes=1)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
REGISTRY_SESSION_ABSOLUTE_MAX_AGE = timedelta(hours=12)

# Lock-out (django-axes): 5 failed log-ins lock that user name *from that address* for 15 minutes.
# Locking by the pair, not by user name alone, means nobody can lock a clinician out from elsewhere
# by typing their name; a success clears the count. The lock-out page does not tell whether the
# account exists. A registry admin unlocks by deleting the "access attempts" in the admin.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registry/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
# Guessing spread over many addresses: a user name also locks, from every address, after 10
# failures within 10 minutes (at most 60 guesses an hour), and only for 10 minutes after the failure
# that set it: attempts refused while locked are not counted, so nobody can keep a clinician out
# for long by typing their name (registry.security.protections.RegistryAxesHandler).
AXES_HANDLER = "registry.security.protections.RegistryAxesHandler"
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
REGISTRY_USER_NAME_FAILURE_LIMIT = 10
REGISTRY_USER_NAME_COOLOFF_TIME = timedelta(minutes=10)
# The client address is REMOTE_ADDR; behind a reverse proxy, settings_production reads it from
# X-Forwarded-For instead (REGISTRY_TRUSTED_PROXY_COUNT), and only when the request comes from
# one of REGISTRY_TRUSTED_PROXIES (addresses or networks; a Unix socket counts as trusted).
REGISTRY_TRUSTED_PROXY_COUNT = 0
REGISTRY_TRUSTED_PROXIES = ["127.0.0.1", "::1"]

# Two-factor (django-otp): the issuer shown in authenticator apps; the admin never shows secrets.
OTP_TOTP_ISSUER = "MSC registry"
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# Content-Security-Policy (django-csp): no inline script or style anywhere, nothing from other
# sites, no framing, forms post only here. Scripts and styles are files under static/.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}

# Every log-in, log-out and failed log-in goes to this logger (registry.security), never a password.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "registry.security": {"handlers": ["console"], "level": "INFO"},
        "axes": {"handlers": ["console"], "level": "WARNING"},
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Audit trail: history is read-only for everyone; reverting from the admin is switched off.
SIMPLE_HISTORY_REVERT_DISABLED = True
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

# The safety checklist asks who decided a stop and whether the team knew only for stops from this
# many days before the first MSC onwards (stops years earlier are history, not the MSC story).
REGISTRY_STOP_WINDOW_DAYS_BEFORE_MSC = int(os.environ.get("REGISTRY_STOP_WINDOW_DAYS_BEFORE_MSC", "183"))
