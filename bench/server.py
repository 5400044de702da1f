"""Start the app under gunicorn with the production settings, and log in to it over loopback.

Shared by the benchmark (bench/run.py) and the suite's gunicorn smoke test. The production settings
redirect plain HTTP, so every request says it came through a TLS proxy (X-Forwarded-Proto: https),
and cookies are Secure, so cookies are kept by hand rather than by a cookie jar (which would not
send Secure cookies over plain http).
"""

import http.client
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROXY_HEADERS = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "127.0.0.1"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url(db):
    """A DATABASE_URL from a Django DATABASES entry."""
    user = urllib.parse.quote(db.get("USER") or "")
    password = urllib.parse.quote(db.get("PASSWORD") or "")
    auth = f"{user}:{password}@" if password else f"{user}@" if user else ""
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def production_env(database_url, static_root, **extra):
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "DJANGO_SETTINGS_MODULE")}
    env.update(
        DJANGO_SETTINGS_MODULE="registry.settings_production",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=database_url,
        STATIC_ROOT=str(static_root),
        **extra,
    )
    return env


def manage(env, *args):
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True)


class Gunicorn:
    """`with Gunicorn(env, workers=2) as server:` runs collectstatic, starts, waits, stops."""

    def __init__(self, env, workers=2, port=None, log=None):
        self.env, self.workers, self.port = env, workers, port or free_port()
        self.log = log
        self.process = None

    def __enter__(self):
        manage(self.env, "collectstatic", "--noinput", "-v0")
        log = open(self.log, "w") if self.log else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "registry.wsgi:application",
                f"--workers={self.workers}",
                f"--bind=127.0.0.1:{self.port}",
                "--worker-class=sync",
                "--timeout=60",
                "--log-level=warning",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode} (log: {self.log})")
            try:
                status, _, _ = request(self.port, "GET", "/accounts/login/")
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        self.__exit__()
        raise RuntimeError("gunicorn did not answer within 60 s")

    def __exit__(self, *exc):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    @property
    def pids(self):
        """The master and its workers (for CPU accounting)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        workers = [int(p) for p in children.read_text().split()] if children.exists() else []
        return [self.process.pid, *workers]


def request(port, method, path, headers=None, body=None, cookies=None):
    """(status, headers as a list of pairs, body bytes) of one request through the pretend proxy."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        all_headers = {"Host": f"127.0.0.1:{port}", **PROXY_HEADERS, **(headers or {})}
        if cookies:
            all_headers["Cookie"] = cookie_header(cookies)
        connection.request(method, path, body=body, headers=all_headers)
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        connection.close()


def cookie_header(cookies):
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def set_cookies(headers, cookies):
    for name, value in headers:
        if name.lower() == "set-cookie":
            key, _, rest = value.partition("=")
            cookies[key.strip()] = rest.split(";", 1)[0]
    return cookies


def log_in(port, username, password):
    """Log in through the form, as a browser would (CSRF cookie and token). Returns the cookies."""
    status, headers, body = request(port, "GET", "/accounts/login/")
    assert status == 200, status
    cookies = set_cookies(headers, {})
    token = cookies["csrftoken"]
    origin = f"https://127.0.0.1:{port}"
    form = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": username, "password": password})
    status, headers, body = request(
        port,
        "POST",
        "/accounts/login/",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": origin,
            "Referer": f"{origin}/accounts/login/",
        },
        body=form,
        cookies=cookies,
    )
    if status != 302:
        raise RuntimeError(f"log-in as {username} answered {status}: {body[:500]!r}")
    return set_cookies(headers, cookies)


def argon2_hash(password):
    """A password hash the production settings accept (the test settings use a fast hasher)."""
    from django.contrib.auth.hashers import Argon2PasswordHasher

    hasher = Argon2PasswordHasher()
    return hasher.encode(password, hasher.salt())
