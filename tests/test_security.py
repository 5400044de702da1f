"""Log-in lock-out (django-axes), the security log, passwords (Argon2, length) and sessions.

Lock-out tests go through the real log-in form: the test client's login() calls authenticate()
without a request, which django-axes cannot see; force_login is used where log-in is not the
subject.
"""

import logging
import re
import time
from datetime import timedelta
from pathlib import Path

import pytest
from axes.models import AccessAttempt, AccessLog
from django.contrib.auth.hashers import make_password
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from registry import settings as base_settings
from registry.security.protections import LOGIN_TIME_SESSION_KEY, RENEWED_AT_SESSION_KEY
from tests.roles import PASSWORD

LOGIN_URL = "/accounts/login/"
LOCK_MESSAGE = "Too many failed log-in attempts. Try again in 15 minutes, or ask a registry admin to unlock you."
HERE, ELSEWHERE = "10.0.0.1", "10.0.0.2"


def log_in(client, username, password, address=HERE, **headers):
    return client.post(LOGIN_URL, {"username": username, "password": password}, REMOTE_ADDR=address, **headers)


def fail_five_times(client, username, address=HERE):
    responses = [log_in(client, username, "wrong-password-000", address) for _ in range(5)]
    # The first four show the form again; the fifth failure locks.
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 429]
    return responses[-1]


# --- Lock-out ----------------------------------------------------------------------------------


def test_five_failures_lock_out_even_the_right_password(client, clinician):
    fail_five_times(client, clinician.username)
    response = log_in(client, clinician.username, PASSWORD)
    assert response.status_code == 429
    assert LOCK_MESSAGE in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert AccessAttempt.objects.get(username=clinician.username, ip_address=HERE).failures_since_start >= 5


def test_lock_out_page_is_the_same_for_an_unknown_user_name(client, clinician):
    fail_five_times(client, clinician.username)
    existing = log_in(client, clinician.username, PASSWORD)
    fail_five_times(client, "no-such-person")
    unknown = log_in(client, "no-such-person", PASSWORD)
    assert unknown.status_code == existing.status_code == 429
    assert LOCK_MESSAGE in unknown.content.decode()
    assert unknown.content == existing.content
    assert clinician.username.encode() not in existing.content


def test_the_same_user_from_another_address_can_still_log_in(client, clinician):
    fail_five_times(client, clinician.username, address=HERE)
    response = log_in(client, clinician.username, PASSWORD, address=ELSEWHERE)
    assert response.status_code == 302
    assert response.url == reverse("cases:dashboard")


def test_the_lock_lifts_after_fifteen_minutes(client, clinician):
    fail_five_times(client, clinician.username)
    assert log_in(client, clinician.username, PASSWORD).status_code == 429
    attempt = AccessAttempt.objects.get(username=clinician.username)
    attempt.attempt_time -= timedelta(minutes=15, seconds=1)
    attempt.save()
    response = log_in(client, clinician.username, PASSWORD)
    assert response.status_code == 302
    # A success clears the count (AXES_RESET_ON_SUCCESS).
    assert not AccessAttempt.objects.filter(username=clinician.username).exists()


def test_fourteen_minutes_later_it_is_still_locked(client, clinician):
    fail_five_times(client, clinician.username)
    AccessAttempt.objects.filter(username=clinician.username).update(
        attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=14)
    )
    assert log_in(client, clinician.username, PASSWORD).status_code == 429


def test_a_success_resets_the_count(client, clinician):
    for _ in range(4):
        log_in(client, clinician.username, "wrong-password-000")
    assert log_in(client, clinician.username, PASSWORD).status_code == 302
    client.post(reverse("logout"))
    for _ in range(4):
        assert log_in(client, clinician.username, "wrong-password-000").status_code == 200
    assert log_in(client, clinician.username, PASSWORD).status_code == 302


def test_lock_out_settings():
    assert base_settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert base_settings.AUTHENTICATION_BACKENDS[1] == "django.contrib.auth.backends.ModelBackend"
    assert base_settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"
    assert base_settings.AXES_FAILURE_LIMIT == 5
    assert base_settings.AXES_COOLOFF_TIME == timedelta(minutes=15)
    assert base_settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert base_settings.AXES_RESET_ON_SUCCESS is True
    assert base_settings.AXES_HANDLER == "registry.security.protections.RegistryAxesHandler"
    assert base_settings.AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT is False
    assert base_settings.REGISTRY_USER_NAME_FAILURE_LIMIT == 10
    assert base_settings.REGISTRY_USER_NAME_COOLOFF_TIME == timedelta(minutes=10)


# --- A ceiling per user name across addresses -------------------------------------------------


def fail_from_many_addresses(client, username, count, first=1, **headers):
    return [
        log_in(client, username, "wrong-password-000", address=f"198.51.100.{first + n}", **headers).status_code
        for n in range(count)
    ]


def test_ten_failures_from_ten_addresses_lock_the_user_name_everywhere(client, clinician):
    assert fail_from_many_addresses(client, clinician.username, 10) == [200] * 9 + [429]
    response = log_in(client, clinician.username, PASSWORD, address=ELSEWHERE)
    assert response.status_code == 429
    assert LOCK_MESSAGE in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_nine_failures_from_nine_addresses_do_not_lock_the_user_name(client, clinician):
    assert fail_from_many_addresses(client, clinician.username, 9) == [200] * 9
    assert log_in(client, clinician.username, PASSWORD, address=ELSEWHERE).status_code == 302


def test_the_user_name_lock_is_the_same_page_for_an_unknown_user_name(client, clinician):
    fail_from_many_addresses(client, clinician.username, 10)
    fail_from_many_addresses(client, "no-such-person", 10, first=100)
    existing = log_in(client, clinician.username, PASSWORD, address=ELSEWHERE)
    unknown = log_in(client, "no-such-person", PASSWORD, address=ELSEWHERE)
    assert unknown.status_code == existing.status_code == 429
    assert unknown.content == existing.content


@override_settings(
    AXES_CLIENT_IP_CALLABLE="registry.security.protections.client_ip_behind_proxy", REGISTRY_TRUSTED_PROXY_COUNT=1
)
def test_a_fresh_x_forwarded_for_per_attempt_through_the_proxy_still_locks_the_user_name(client, clinician):
    statuses = [
        log_in(
            client, clinician.username, "wrong-password-000", "127.0.0.1", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}"
        ).status_code
        for n in range(10)
    ]
    assert statuses == [200] * 9 + [429]
    assert AccessAttempt.objects.filter(username=clinician.username).count() == 10  # ten "addresses"
    response = log_in(client, clinician.username, PASSWORD, "127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.200")
    assert response.status_code == 429


@override_settings(
    AXES_CLIENT_IP_CALLABLE="registry.security.protections.client_ip_behind_proxy", REGISTRY_TRUSTED_PROXY_COUNT=1
)
def test_a_fresh_x_forwarded_for_sent_straight_to_gunicorn_is_ignored(client, clinician):
    statuses = [
        log_in(
            client, clinician.username, "wrong-password-000", HERE, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}"
        ).status_code
        for n in range(5)
    ]
    assert statuses == [200, 200, 200, 200, 429]  # the per-address lock, on the real address
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {HERE}


def test_a_stranger_cannot_keep_a_clinician_locked_beyond_the_cool_off(client, clinician):
    fail_from_many_addresses(client, clinician.username, 10)
    # Carrying on while locked is refused and not counted: the lock is not stretched.
    assert fail_from_many_addresses(client, clinician.username, 20, first=50) == [429] * 20
    assert sum(AccessAttempt.objects.values_list("failures_since_start", flat=True)) == 10
    assert log_in(client, clinician.username, PASSWORD, address=ELSEWHERE).status_code == 429
    for attempt in AccessAttempt.objects.all():
        attempt.attempt_time -= timedelta(minutes=10, seconds=1)
        attempt.save()
    response = log_in(client, clinician.username, PASSWORD, address=ELSEWHERE)
    assert response.status_code == 302


def test_nine_minutes_later_the_user_name_is_still_locked(client, clinician):
    fail_from_many_addresses(client, clinician.username, 10)
    for attempt in AccessAttempt.objects.all():
        attempt.attempt_time -= timedelta(minutes=9)
        attempt.save()
    assert log_in(client, clinician.username, PASSWORD, address=ELSEWHERE).status_code == 429


def test_a_registry_admin_unlocks_a_user_name_by_deleting_its_attempts(client, clinician):
    fail_from_many_addresses(client, clinician.username, 10)
    AccessAttempt.objects.filter(username=clinician.username).delete()
    assert log_in(client, clinician.username, PASSWORD, address=ELSEWHERE).status_code == 302


# --- The security log --------------------------------------------------------------------------


def test_every_attempt_is_logged_and_never_the_password(client, clinician, caplog):
    with caplog.at_level(logging.INFO, logger="registry.security"):
        log_in(client, clinician.username, "wrong-password-000")
        log_in(client, "no-such-person", "another-wrong-one")
        log_in(client, clinician.username, PASSWORD)
        client.post(reverse("logout"))
    messages = [r.getMessage() for r in caplog.records if r.name == "registry.security"]
    assert messages == [
        f"log-in failed: user={clinician.username} address={HERE}",
        f"log-in failed: user=no-such-person address={HERE}",
        f"log-in succeeded: user={clinician.username} address={HERE}",
        f"log-out: user={clinician.username} address=127.0.0.1",
    ]
    everything = caplog.text
    for secret in (PASSWORD, "wrong-password-000", "another-wrong-one"):
        assert secret not in everything
    # django-axes keeps its own records in the database: failures, and each log-in and log-out.
    assert AccessAttempt.objects.filter(username="no-such-person").exists()
    access = AccessLog.objects.get(username=clinician.username)
    assert access.ip_address == HERE
    assert access.logout_time is not None


# --- Passwords ---------------------------------------------------------------------------------


def test_argon2_hashes_new_passwords():
    assert base_settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    with override_settings(PASSWORD_HASHERS=base_settings.PASSWORD_HASHERS):
        assert make_password("synthetic-password-123").startswith("argon2$")


def test_change_password_refuses_eleven_characters(client, clinician):
    client.force_login(clinician)
    new = "Kq7#vRm2Lp9"
    assert len(new) == 11
    response = client.post(
        reverse("password_change"), {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
    )
    assert response.status_code == 200
    assert "at least 12 characters" in response.content.decode()
    clinician.refresh_from_db()
    assert clinician.check_password(PASSWORD)

    longer = new + "x"
    response = client.post(
        reverse("password_change"), {"old_password": PASSWORD, "new_password1": longer, "new_password2": longer}
    )
    assert response.status_code == 302
    clinician.refresh_from_db()
    assert clinician.check_password(longer)


# --- Sessions ----------------------------------------------------------------------------------


def test_sessions_expire_after_thirty_idle_minutes_and_at_browser_close(client, clinician, settings):
    assert settings.SESSION_COOKIE_AGE == 1800
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
    client.force_login(clinician)
    response = client.get(reverse("cases:dashboard"))
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["max-age"] == "" and cookie["expires"] == ""  # a browser-session cookie
    session = Session.objects.get(session_key=client.session.session_key)
    remaining = session.expire_date.timestamp() - time.time()
    assert 1790 < remaining <= 1800  # renewed by this request, 30 minutes from now


def test_use_renews_the_idle_expiry_at_most_once_a_minute(client, clinician):
    client.force_login(clinician)
    client.get(reverse("cases:dashboard"))
    key = client.session.session_key
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("cases:dashboard")).status_code == 200
    assert not [q for q in queries.captured_queries if "UPDATE" in q["sql"] and "django_session" in q["sql"]]
    # A minute later the next request moves the expiry on: 30 minutes from now again.
    session = client.session
    session[RENEWED_AT_SESSION_KEY] = time.time() - 61
    session.save()
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() + timedelta(minutes=5))
    assert client.get(reverse("cases:dashboard")).status_code == 200
    remaining = Session.objects.get(session_key=key).expire_date.timestamp() - time.time()
    assert 1790 < remaining <= 1800


def test_idle_session_has_expired_after_thirty_minutes(client, clinician):
    client.force_login(clinician)
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=Session.objects.get().expire_date - timedelta(minutes=30, seconds=1)
    )
    response = client.get(reverse("cases:dashboard"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_sessions_end_twelve_hours_after_log_in_however_active(client, clinician, caplog):
    client.force_login(clinician)
    assert client.get(reverse("cases:dashboard")).status_code == 200
    key = client.session.session_key
    session = client.session
    assert time.time() - session[LOGIN_TIME_SESSION_KEY] < 60
    session[LOGIN_TIME_SESSION_KEY] = time.time() - 11 * 3600 - 3500
    session.save()
    assert client.get(reverse("cases:dashboard")).status_code == 200  # 11 h 58 min: still fine
    session = client.session
    session[LOGIN_TIME_SESSION_KEY] = time.time() - 12 * 3600 - 1
    session.save()
    with caplog.at_level(logging.INFO, logger="registry.security"):
        response = client.get(reverse("cases:dashboard"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert not Session.objects.filter(session_key=key).exists()
    assert "session ended after the absolute limit" in caplog.text
    assert client.get(reverse("cases:dashboard")).status_code == 302


def test_log_out_deletes_the_session_on_the_server(client, clinician):
    client.force_login(clinician)
    key = client.session.session_key
    assert Session.objects.filter(session_key=key).exists()
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert not Session.objects.filter(session_key=key).exists()
    # The old cookie is worth nothing now.
    client.cookies["sessionid"] = key
    assert client.get(reverse("cases:dashboard")).status_code == 302


def test_authenticated_pages_are_never_stored(client, clinician, case_a):
    client.force_login(clinician)
    for url in (reverse("cases:dashboard"), reverse("cases:patient-detail", args=[case_a.pk])):
        response = client.get(url)
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"], url


# --- Content-Security-Policy and the other headers ---------------------------------------------

EXPECTED_CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}


def parse_csp(header):
    return dict(part.strip().split(" ", 1) for part in header.split(";") if part.strip())


def test_every_page_carries_the_content_security_policy(client, clinician, case_a):
    assert parse_csp(client.get(LOGIN_URL)["Content-Security-Policy"]) == EXPECTED_CSP
    client.force_login(clinician)
    response = client.get(reverse("cases:patient-detail", args=[case_a.pk]))
    assert parse_csp(response["Content-Security-Policy"]) == EXPECTED_CSP
    assert "unsafe-inline" not in response["Content-Security-Policy"]


def test_other_security_headers(client, clinician):
    client.force_login(clinician)
    response = client.get(reverse("cases:dashboard"))
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


@pytest.mark.parametrize("path", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_templates_have_no_inline_script_or_style(path):
    """The CSP blocks inline script, event handlers and style attributes: none may be written."""
    text = path.read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), "inline <script>"
    assert not re.search(r"\sstyle\s*=", text), "style attribute"
    assert not re.search(r"<style\b", text), "<style> element"
    assert not re.search(r"\son[a-z]+\s*=", text), "event handler attribute"
    assert "javascript:" not in text


def test_rendered_pages_have_no_inline_script_or_style(client, clinician, case_a):
    client.force_login(clinician)
    for url in (
        reverse("cases:dashboard"),
        reverse("cases:patient-detail", args=[case_a.pk]),
        reverse("cases:patient-update", args=[case_a.pk]),
        reverse("two_factor_setup"),
    ):
        html = client.get(url).content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), url
        assert not re.search(r"\sstyle\s*=", html), url


def test_admin_audit_history_pages_have_no_inline_style_and_need_no_unsafe_inline(admin_client, case_a):
    """simple-history's admin pages (the list of a record's history rows, and one row) render without
    style attributes, so the CSP's style-src 'self' leaves them looking as intended."""
    course = case_a.medications.get()
    course.frequency = "weekly"
    course._change_reason = "Synthetic correction"
    course.save()
    pages = []
    for record in (case_a, course, case_a.products.get(), case_a.products.get().provider):
        name = f"admin:{record._meta.app_label}_{record._meta.model_name}"
        pages += [
            reverse(f"{name}_history", args=[record.pk]),
            reverse(f"{name}_simple_history", args=[record.pk, record.history.latest("history_date").pk]),
        ]
    for url in pages:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert not re.search(r"\sstyle\s*=", html), url
        assert not re.search(r"<style\b", html), url
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), url
        assert parse_csp(response["Content-Security-Policy"]) == EXPECTED_CSP
        assert "unsafe-inline" not in response["Content-Security-Policy"]
    history_list = admin_client.get(pages[2]).content.decode()
    assert "Synthetic correction" in history_list and 'class="paginator"' in history_list
    assert "css/admin_history.css" in history_list


def test_an_over_long_user_name_is_refused_by_the_form_not_the_database(client, db):
    response = client.post(
        "/accounts/login/", {"username": "u" * 400, "password": "whatever-password"}, REMOTE_ADDR="10.9.9.9"
    )
    assert response.status_code == 200
    assert "at most 150 characters" in response.content.decode()
