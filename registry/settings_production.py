"""Settings for a deployment: registry.settings plus HTTPS-only hardening.

Select with DJANGO_SETTINGS_MODULE=registry.settings_production. Needs SECRET_KEY (50+ random
characters), ALLOWED_HOSTS and DATABASE_URL from the environment. The site is assumed to run behind
a TLS-terminating reverse proxy that sets X-Forwarded-Proto; REGISTRY_TRUSTED_PROXY_COUNT (default
1) says how many proxies append to X-Forwarded-For, so that django-axes locks out the real client
address rather than the proxy's; the header is believed only from REGISTRY_TRUSTED_PROXIES (default
loopback: gunicorn binds to 127.0.0.1 or a Unix socket, never a public address; docs/deploy.md).
`python manage.py check --deploy` must report no issues.

Static files are served by WhiteNoise (a small, dependency-free WSGI middleware, so no separate
static server is needed) from compressed, content-hashed files: run `collectstatic` at deploy.
"""

import ipaddress
import os

from django.core.exceptions import ImproperlyConfigured

from .settings import *  # noqa: F403
from .settings import env_flag

if env_flag("DEBUG"):
    raise ImproperlyConfigured("DEBUG must be off in production (unset DEBUG).")
DEBUG = False

if len(SECRET_KEY) < 50 or SECRET_KEY.startswith("django-insecure"):  # noqa: F405
    raise ImproperlyConfigured("Set SECRET_KEY to a random string of 50 characters or more.")

# HTTPS only: redirect plain HTTP, trust the proxy's X-Forwarded-Proto, and tell browsers (HSTS)
# to use HTTPS for a year, on subdomains too, and that the domain may be preloaded.
SECURE_SSL_REDIRECT = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = 31536000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True

# Cookies only over HTTPS, and unreadable by scripts.
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True

# Never framed, referrer only to this site, no MIME sniffing.
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True

# collectstatic writes here and WhiteNoise serves from here; default: staticfiles/ in the project.
STATIC_ROOT = os.environ.get("STATIC_ROOT", str(STATIC_ROOT))  # noqa: F405

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Behind the proxy REMOTE_ADDR is the proxy: read the client from X-Forwarded-For (see the docstring).
REGISTRY_TRUSTED_PROXY_COUNT = int(os.environ.get("REGISTRY_TRUSTED_PROXY_COUNT", "1"))
REGISTRY_TRUSTED_PROXIES = [
    p.strip() for p in os.environ.get("REGISTRY_TRUSTED_PROXIES", "127.0.0.1,::1").split(",") if p.strip()
]
for _proxy in REGISTRY_TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"REGISTRY_TRUSTED_PROXIES: {_proxy!r} is not an IP address or network (e.g. 127.0.0.1, 10.0.0.0/24)."
        ) from None
if REGISTRY_TRUSTED_PROXY_COUNT:
    AXES_CLIENT_IP_CALLABLE = "registry.security.protections.client_ip_behind_proxy"
