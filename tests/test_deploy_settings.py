"""registry.settings_production: `check --deploy` is clean, and the responses carry the headers.

Each check runs in a subprocess with DJANGO_SETTINGS_MODULE=registry.settings_production, as a
deployment would, with a random SECRET_KEY and ALLOWED_HOSTS=registry.example.org.
"""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HOST = "registry.example.org"


def production_env(tmp_path, **extra):
    # A clean production environment: not the test run's settings, nor the browser tests'
    # DJANGO_ALLOW_ASYNC_UNSAFE (which check --deploy rightly warns about).
    unset = {"DEBUG", "DJANGO_SETTINGS_MODULE", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.update(
        DJANGO_SETTINGS_MODULE="registry.settings_production",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS=HOST,
        DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}",
    )
    env.update(extra)
    return env


def run(args, env):
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_check_deploy_reports_no_issues(tmp_path):
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stderr + result.stdout


@pytest.mark.parametrize(
    "extra, message",
    [
        ({"DEBUG": "true"}, "DEBUG must be off"),
        ({"SECRET_KEY": "too-short"}, "SECRET_KEY"),
        ({"REGISTRY_TRUSTED_PROXIES": "127.0.0.1,nginx.internal"}, "REGISTRY_TRUSTED_PROXIES"),
    ],
)
def test_production_refuses_debug_and_weak_keys(tmp_path, extra, message):
    result = run(["manage.py", "check"], production_env(tmp_path, **extra))
    assert result.returncode != 0
    assert message in result.stderr


SCRIPT = """
import json
import django
django.setup()
from django.conf import settings
from django.test import Client

names = [
    "DEBUG", "SECURE_SSL_REDIRECT", "SECURE_PROXY_SSL_HEADER", "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY", "CSRF_COOKIE_HTTPONLY", "X_FRAME_OPTIONS", "SECURE_REFERRER_POLICY",
    "SECURE_CONTENT_TYPE_NOSNIFF", "STORAGES", "MIDDLEWARE", "AXES_CLIENT_IP_CALLABLE",
]
from django.test import override_settings

found = {name: getattr(settings, name) for name in names}
# The manifest storage needs `collectstatic` first; plain static URLs are enough for the headers.
with override_settings(STORAGES={**settings.STORAGES, "staticfiles": {
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}}):
    client = Client(HTTP_HOST="registry.example.org")
    plain = client.get("/accounts/login/")
    behind_proxy = client.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https")
print(json.dumps({
    "settings": found,
    "plain": {"status": plain.status_code, "location": plain.get("Location")},
    "https": {"status": behind_proxy.status_code, "headers": dict(behind_proxy.headers)},
}, default=str))
"""


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    result = run(["-c", SCRIPT], production_env(tmp_path_factory.mktemp("prod")))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_settings_harden_everything(production):
    s = production["settings"]
    assert s["DEBUG"] is False
    assert s["SECURE_SSL_REDIRECT"] is True
    assert s["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert s["SECURE_HSTS_SECONDS"] == 31536000
    assert s["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True and s["SECURE_HSTS_PRELOAD"] is True
    for name in ("SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "CSRF_COOKIE_HTTPONLY"):
        assert s[name] is True, name
    assert s["X_FRAME_OPTIONS"] == "DENY"
    assert s["SECURE_REFERRER_POLICY"] == "same-origin"
    assert s["SECURE_CONTENT_TYPE_NOSNIFF"] is True
    assert s["STORAGES"]["staticfiles"]["BACKEND"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    middleware = s["MIDDLEWARE"]
    assert middleware[:2] == [
        "django.middleware.security.SecurityMiddleware",
        "whitenoise.middleware.WhiteNoiseMiddleware",
    ]
    assert "csp.middleware.CSPMiddleware" in middleware
    assert middleware.index("django_otp.middleware.OTPMiddleware") == (
        middleware.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1
    )
    assert middleware[-1] == "axes.middleware.AxesMiddleware"
    assert s["AXES_CLIENT_IP_CALLABLE"] == "registry.security.protections.client_ip_behind_proxy"


def test_plain_http_is_redirected_to_https(production):
    assert production["plain"]["status"] == 301
    assert production["plain"]["location"] == f"https://{HOST}/accounts/login/"


def test_https_responses_carry_the_security_headers(production):
    assert production["https"]["status"] == 200
    headers = production["https"]["headers"]
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Content-Type-Options"] == "nosniff"
    csp = headers["Content-Security-Policy"]
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ):
        assert directive in csp
    assert "unsafe-inline" not in csp


def test_behind_a_proxy_the_client_address_is_the_one_the_proxy_saw():
    from django.test import RequestFactory, override_settings

    from registry.security.protections import client_ip_behind_proxy

    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")
    with override_settings(REGISTRY_TRUSTED_PROXY_COUNT=1, REGISTRY_TRUSTED_PROXIES=["127.0.0.1"]):
        # The left entry is whatever the client claimed; the proxy appended the real one.
        assert client_ip_behind_proxy(request) == "203.0.113.7"
    with override_settings(REGISTRY_TRUSTED_PROXY_COUNT=2, REGISTRY_TRUSTED_PROXIES=["10.0.0.0/24", "127.0.0.1"]):
        assert client_ip_behind_proxy(request) == "6.6.6.6"
    with override_settings(REGISTRY_TRUSTED_PROXY_COUNT=0):
        assert client_ip_behind_proxy(request) == "127.0.0.1"


@pytest.mark.parametrize("remote_addr", ["198.51.100.9", "10.0.1.5"])
def test_x_forwarded_for_is_ignored_when_gunicorn_is_reached_without_the_proxy(remote_addr):
    from django.test import RequestFactory, override_settings

    from registry.security.protections import client_ip_behind_proxy

    request = RequestFactory().get("/", REMOTE_ADDR=remote_addr, HTTP_X_FORWARDED_FOR="203.0.113.77")
    with override_settings(REGISTRY_TRUSTED_PROXY_COUNT=1, REGISTRY_TRUSTED_PROXIES=["127.0.0.1", "10.0.0.0/24"]):
        assert client_ip_behind_proxy(request) == remote_addr


def test_a_unix_socket_peer_is_the_proxy():
    from django.test import RequestFactory, override_settings

    from registry.security.protections import client_ip_behind_proxy

    request = RequestFactory().get("/", REMOTE_ADDR="", HTTP_X_FORWARDED_FOR="203.0.113.7")
    with override_settings(REGISTRY_TRUSTED_PROXY_COUNT=1, REGISTRY_TRUSTED_PROXIES=["127.0.0.1"]):
        assert client_ip_behind_proxy(request) == "203.0.113.7"
