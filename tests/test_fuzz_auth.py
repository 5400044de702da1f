"""Every authentication entry point gets the hostile POSTs of tests/test_fuzz_forms.py.

tests/test_fuzz_forms.py fuzzes the project's own URLs; the admin's log-in and password pages, and
the second step of log-in for a user who has a device, are reached here. The project has no
password-reset page (accounts are reset by a registry admin), so there is none to fuzz.

For every example: never a 500; a user name django-axes records always fits its column (on
PostgreSQL an over-long one is a DataError); a refused request leaves the password unchanged.
"""

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.roles import PASSWORD
from tests.test_fuzz_forms import EXAMPLES, FUZZ_SETTINGS, UNKNOWN_FIELDS, hostile, read_form, scalar

USERNAME_MAX = get_user_model()._meta.get_field("username").max_length
NEW_PASSWORD = "An0ther-synthetic-pass!"

# name: (who is logged in, the URL, values that would pass, so that only the hostile ones are wrong)
ENTRY_POINTS = {
    "log-in": (None, lambda users: reverse("login"), {"username": "clinician-a", "password": PASSWORD}),
    "admin log-in": (None, lambda users: reverse("admin:login"), {"username": "clinician-a", "password": PASSWORD}),
    "password change": (
        "clinician",
        lambda users: reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    ),
    "admin password change": (
        "admin_user",
        lambda users: reverse("admin:password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    ),
    "admin sets a user's password": (
        "admin_user",
        lambda users: reverse("admin:auth_user_password_change", args=[users["clinician"].pk]),
        {"usable_password": "true", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    ),
    "two-factor enrolment": ("clinician", lambda users: reverse("two_factor_setup"), {"token": "123456"}),
    "two-factor second step": (
        "clinician_with_device",
        lambda users: reverse("two_factor_verify"),
        {"token": "123456"},
    ),
}


@pytest.fixture
def users(clinician, admin_user):
    admin_user.set_password(PASSWORD)
    admin_user.save()
    return {"clinician": clinician, "admin_user": admin_user}


def client_for(actor, users):
    client = Client(raise_request_exception=False)
    if actor == "clinician_with_device":
        TOTPDevice.objects.create(user=users["clinician"], name="Authenticator app", confirmed=True)
        actor = "clinician"
    if actor is not None:
        client.force_login(users[actor])
    return client


def recorded_user_names():
    return [
        name
        for model in (AccessAttempt, AccessFailureLog, AccessLog)
        for name in model.objects.values_list("username", flat=True)
        if name
    ]


def password_hashes():
    return dict(get_user_model().objects.values_list("pk", "password"))


@pytest.mark.parametrize("entry_point", sorted(ENTRY_POINTS))
def test_hostile_posts_to_an_authentication_page_never_cause_a_server_error(entry_point, users):
    actor, url_of, valid = ENTRY_POINTS[entry_point]
    client = client_for(actor, users)
    url = url_of(users)
    names, shown = read_form(client, url)
    base = {**shown, **valid}
    targets = list(dict.fromkeys(names + list(valid)))

    @settings(FUZZ_SETTINGS, max_examples=EXAMPLES)
    @given(
        field_picks=st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=3),
        values=st.lists(hostile, min_size=3, max_size=3),
        extra=st.dictionaries(st.sampled_from(UNKNOWN_FIELDS), scalar, max_size=2),
        address=st.integers(min_value=1, max_value=250),
    )
    def post_hostile(field_picks, values, extra, address):
        with transaction.atomic():
            data = dict(base)
            for pick, value in zip(field_picks, values, strict=False):
                data[targets[pick % len(targets)]] = value
            data.update(extra)
            before = password_hashes()
            response = client.post(url, data, REMOTE_ADDR=f"10.20.0.{address}")
            assert response.status_code < 500, f"POST {url} answered {response.status_code} with {str(data)[:500]}"
            assert all(len(name) <= USERNAME_MAX for name in recorded_user_names())
            if response.status_code != 302:
                assert password_hashes() == before, f"POST {url} was refused but changed a password"
            transaction.set_rollback(True)

    post_hostile()


@pytest.mark.parametrize("url_name", ["login", "admin:login"])
def test_an_over_long_user_name_is_refused_next_to_the_field_at_every_log_in_page(client, db, url_name):
    response = client.post(
        reverse(url_name), {"username": "u" * 300, "password": "whatever-password"}, REMOTE_ADDR="10.9.9.9"
    )
    assert response.status_code == 200
    assert f"at most {USERNAME_MAX} characters" in response.content.decode()
    # Refused before authenticate(): django-axes has nothing to record, so no varchar(255) to overflow.
    assert recorded_user_names() == []
