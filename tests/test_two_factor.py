"""Optional two-factor authentication (django-otp TOTP), and the policy that makes it compulsory.

Tokens are computed as an authenticator app would, with django_otp.oath.totp.
"""

import logging
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from registry.models import SecurityPolicy
from tests.roles import PASSWORD

LOGIN_URL = "/accounts/login/"


def token_for(device):
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def wrong_token(device):
    return f"{(int(token_for(device)) + 1) % 1_000_000:06d}"


def wait_out_throttling(device):
    """django-otp slows guessing: after a wrong code the next is refused for 1 s, then 2, 4..."""
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=timezone.now() - timedelta(minutes=5))
    device.refresh_from_db()


def log_in(client, user):
    response = client.post(LOGIN_URL, {"username": user.username, "password": PASSWORD}, REMOTE_ADDR="10.0.0.1")
    assert response.status_code == 302
    return response


@pytest.fixture
def device(clinician):
    return TOTPDevice.objects.create(user=clinician, name="Authenticator app", confirmed=True)


# --- Enrolment ---------------------------------------------------------------------------------


def test_a_user_enrols_with_a_qr_code_and_a_token(client, clinician, caplog):
    client.force_login(clinician)
    response = client.get(reverse("two_factor_setup"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Two-factor authentication" in html
    pending = TOTPDevice.objects.get(user=clinician, confirmed=False)
    # The secret as text (base32, in groups of four) and as an inline SVG QR code, drawn on the server.
    assert response.context["secret"].replace(" ", "") in pending.config_url
    assert response.context["secret"] in html
    assert "<svg" in html and 'class="segno"' in html
    assert " style=" not in html

    # The page is stable on reload: same pending device, same secret.
    assert client.get(reverse("two_factor_setup")).context["secret"] == response.context["secret"]

    response = client.post(reverse("two_factor_setup"), {"token": wrong_token(pending)})
    assert response.status_code == 200
    assert "not right" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=clinician, confirmed=True).exists()

    wait_out_throttling(pending)
    with caplog.at_level(logging.INFO, logger="registry.security"):
        response = client.post(reverse("two_factor_setup"), {"token": token_for(pending)})
    assert response.status_code == 302
    assert response.url == reverse("cases:dashboard")
    assert TOTPDevice.objects.get(user=clinician).confirmed
    assert f"two-factor turned on: user={clinician.username}" in caplog.text
    # This session has just proved the second factor: no second step now.
    assert client.get(reverse("cases:dashboard")).status_code == 200
    assert "is <strong>on</strong>" in client.get(reverse("two_factor_setup")).content.decode()


def test_a_token_must_be_six_digits(client, clinician):
    client.force_login(clinician)
    client.get(reverse("two_factor_setup"))
    for bad in ("12345", "1234567", "abcdef", ""):
        response = client.post(reverse("two_factor_setup"), {"token": bad})
        assert response.status_code == 200
        assert response.context["form"].errors, bad


# --- The second step of log-in -----------------------------------------------------------------


def test_with_a_device_the_password_alone_reaches_nothing(client, clinician, device, case_a):
    log_in(client, clinician)
    for url in (
        reverse("cases:dashboard"),
        reverse("cases:patient-list"),
        reverse("cases:patient-detail", args=[case_a.pk]),
        reverse("password_change"),
        reverse("two_factor_setup"),  # so nobody with only the password can add a device of their own
        reverse("admin:index"),
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("two_factor_verify")), url
    response = client.get(reverse("two_factor_verify"))
    assert response.status_code == 200
    assert "Two-factor code" in response.content.decode()


def test_with_a_device_the_token_opens_the_site(client, clinician, device, case_a, caplog):
    log_in(client, clinician)
    detail = reverse("cases:patient-detail", args=[case_a.pk])
    response = client.get(detail)
    verify_url = response.url
    assert verify_url == f"{reverse('two_factor_verify')}?next=%2Fcases%2F{case_a.pk}%2F"

    with caplog.at_level(logging.INFO, logger="registry.security"):
        response = client.post(verify_url, {"token": wrong_token(device), "next": detail})
    assert response.status_code == 200
    assert "not right" in response.content.decode()
    assert "second factor failed" in caplog.text
    assert client.get(detail).status_code == 302

    # At once, even the right code is refused: django-otp throttles guessing.
    response = client.post(verify_url, {"token": token_for(device), "next": detail})
    assert response.status_code == 200
    assert "Too many wrong codes" in response.content.decode()

    wait_out_throttling(device)
    response = client.post(verify_url, {"token": token_for(device), "next": detail})
    assert response.status_code == 302
    assert response.url == detail
    assert client.get(detail).status_code == 200
    assert client.get(reverse("cases:dashboard")).status_code == 200


def test_a_token_cannot_be_used_twice(client, clinician, device):
    log_in(client, clinician)
    token = token_for(device)
    assert client.post(reverse("two_factor_verify"), {"token": token}).status_code == 302
    client.post(reverse("logout"))
    log_in(client, clinician)
    response = client.post(reverse("two_factor_verify"), {"token": token})
    assert response.status_code == 200
    assert client.get(reverse("cases:dashboard")).status_code == 302


def test_the_second_step_does_not_redirect_elsewhere(client, clinician, device):
    log_in(client, clinician)
    response = client.post(reverse("two_factor_verify"), {"token": token_for(device), "next": "https://evil.example/"})
    assert response.status_code == 302
    assert response.url == reverse("cases:dashboard")


def test_log_out_is_allowed_before_the_second_step(client, clinician, device):
    log_in(client, clinician)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response.url == reverse("login")
    assert "_auth_user_id" not in client.session


def test_a_verified_user_may_turn_two_factor_off(client, clinician, device):
    log_in(client, clinician)
    client.post(reverse("two_factor_verify"), {"token": token_for(device)})
    device.refresh_from_db()
    device.last_t -= 1  # the app's next code: a code is accepted once
    device.save()
    response = client.post(reverse("two_factor_setup"), {"off-token": token_for(device)})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=clinician).exists()


# --- Two-factor for everyone -------------------------------------------------------------------


@pytest.fixture
def required():
    policy = SecurityPolicy.load()
    policy.require_two_factor = True
    policy.save()
    return policy


def test_when_required_a_user_without_a_device_must_enrol_first(client, clinician, required, case_a):
    log_in(client, clinician)
    for url in (
        reverse("cases:dashboard"),
        reverse("cases:patient-detail", args=[case_a.pk]),
        reverse("password_change"),
        reverse("admin:index"),
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url == reverse("two_factor_setup"), url
    response = client.get(reverse("two_factor_setup"))
    assert response.status_code == 200
    assert "requires two-factor authentication" in response.content.decode()

    pending = TOTPDevice.objects.get(user=clinician)
    assert client.post(reverse("two_factor_setup"), {"token": token_for(pending)}).status_code == 302
    assert client.get(reverse("cases:dashboard")).status_code == 200


def test_when_required_it_cannot_be_turned_off(client, clinician, device, required):
    log_in(client, clinician)
    client.post(reverse("two_factor_verify"), {"token": token_for(device)})
    device.refresh_from_db()
    device.last_t -= 1
    device.save()
    response = client.post(reverse("two_factor_setup"), {"off-token": token_for(device)})
    assert response.status_code == 200
    assert "cannot be turned off" in response.content.decode()
    assert TOTPDevice.objects.filter(user=clinician, confirmed=True).exists()


def test_when_required_log_out_still_works(client, clinician, required):
    log_in(client, clinician)
    assert client.post(reverse("logout")).status_code == 302
    assert "_auth_user_id" not in client.session


def test_without_the_policy_two_factor_is_optional(client, clinician):
    log_in(client, clinician)
    assert client.get(reverse("cases:dashboard")).status_code == 200


# --- The policy in the admin -------------------------------------------------------------------


def test_a_registry_admin_requires_two_factor_in_the_admin(client, registry_admin):
    client.force_login(registry_admin)
    policy = SecurityPolicy.load()
    url = reverse("admin:registry_securitypolicy_change", args=[policy.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"require_two_factor": "on"})
    assert response.status_code == 302
    assert SecurityPolicy.load().require_two_factor
    # From now on the admin too must enrol before anything else.
    assert client.get(reverse("admin:index")).url == reverse("two_factor_setup")


def test_only_one_policy_row_and_it_cannot_be_deleted(admin_client):
    policy = SecurityPolicy.load()
    assert admin_client.get(reverse("admin:registry_securitypolicy_add")).status_code == 403
    assert admin_client.get(reverse("admin:registry_securitypolicy_delete", args=[policy.pk])).status_code == 403
    SecurityPolicy(require_two_factor=True).save()
    assert SecurityPolicy.objects.count() == 1


def test_clinicians_and_reviewers_cannot_change_the_policy(client, clinician, reviewer):
    policy = SecurityPolicy.load()
    url = reverse("admin:registry_securitypolicy_change", args=[policy.pk])
    for user in (clinician, reviewer):
        user.is_staff = True  # even with admin access, the role does not allow it
        user.save()
        client.force_login(user)
        assert client.post(url, {"require_two_factor": "on"}).status_code == 403
    assert not SecurityPolicy.load().require_two_factor


def test_a_registry_admin_unlocks_a_locked_out_user(client, clinician, registry_admin):
    from axes.models import AccessAttempt

    for _ in range(5):
        client.post(
            LOGIN_URL, {"username": clinician.username, "password": "wrong-password-000"}, REMOTE_ADDR="10.0.0.1"
        )
    attempt = AccessAttempt.objects.get(username=clinician.username)
    admin = client.__class__()
    admin.force_login(registry_admin)
    assert admin.get(reverse("admin:axes_accessattempt_changelist")).status_code == 200
    response = admin.post(reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"})
    assert response.status_code == 302
    log_in(client, clinician)


def test_a_registry_admin_removes_a_lost_device(client, clinician, device, registry_admin, centre_a):
    centre_a.members.add(registry_admin)  # the clinician's account is theirs to manage
    client.force_login(registry_admin)
    response = client.post(reverse("admin:otp_totp_totpdevice_delete", args=[device.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
