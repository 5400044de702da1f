"""Accounts in the admin: a registry admin manages the accounts of their own centres with the three
roles only; only a superuser grants superuser or staff status or individual permissions, or touches
a superuser; every change of access is kept, append-only, with who, when, before and after."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from registry import roles
from registry.models import AccountChange, AccountField, AppendOnlyError
from tests.factories import CentreFactory
from tests.roles import PASSWORD, person

NEW_PASSWORD = "An0ther-synthetic-pass!"


@pytest.fixture
def centre_admin(centre_a):
    """A registry admin of centre A, not a superuser."""
    return person("registry-admin-a", roles.REGISTRY_ADMIN, [centre_a], is_staff=True)


@pytest.fixture
def admin_browser(client, centre_admin):
    client.force_login(centre_admin)
    return client


def change_url(user):
    return reverse("admin:auth_user_change", args=[user.pk])


def password_url(user):
    return reverse("admin:auth_user_password_change", args=[user.pk])


def role(name):
    return Group.objects.get(name=name)


def account_data(user, **changes):
    """What the account's admin page posts when saved unchanged (a registry admin's form)."""
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on" if user.is_active else "",
        "groups": [g.pk for g in user.groups.all()],
        "centres": [c.pk for c in user.centres.all()],
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v != ""}


# --- What a registry admin may not do ---------------------------------------------------------


def test_registry_admin_form_has_no_superuser_staff_or_permission_fields(admin_browser, clinician):
    page = admin_browser.get(change_url(clinician)).content.decode()
    assert 'name="is_active"' in page and 'name="groups"' in page and 'name="centres"' in page
    for field in ("is_superuser", "is_staff", "user_permissions"):
        assert f'name="{field}"' not in page, field


def test_registry_admin_cannot_grant_superuser_to_themselves(admin_browser, centre_admin):
    permission = Permission.objects.get(codename="delete_user")
    tampered = account_data(
        centre_admin,
        is_superuser="on",
        is_staff="on",
        user_permissions=[permission.pk],
        # What Django's stock user form also requires, so that only the refusal can stop the change.
        date_joined_0="2026-01-01",
        date_joined_1="00:00:00",
    )
    response = admin_browser.post(change_url(centre_admin), tampered)
    assert response.status_code == 302  # saved, without the fields a registry admin may not set
    centre_admin.refresh_from_db()
    assert not centre_admin.is_superuser
    assert not centre_admin.user_permissions.exists()
    assert not centre_admin.has_perm("auth.delete_user")


def test_registry_admin_cannot_grant_staff_or_superuser_to_an_account_of_their_centre(admin_browser, clinician):
    response = admin_browser.post(change_url(clinician), account_data(clinician, is_superuser="on", is_staff="on"))
    assert response.status_code == 302  # saved, without the fields it may not set
    clinician.refresh_from_db()
    assert not clinician.is_superuser and not clinician.is_staff


def test_registry_admin_cannot_open_or_edit_a_superuser(admin_browser, admin_user, centre_a):
    centre_a.members.add(admin_user)  # even a superuser in the admin's own centre
    assert admin_browser.get(change_url(admin_user)).status_code != 200
    admin_browser.post(change_url(admin_user), {"username": "taken-over", "is_active": "", "centres": [centre_a.pk]})
    admin_user.refresh_from_db()
    assert admin_user.username == "admin" and admin_user.is_active and admin_user.is_superuser
    listing = admin_browser.get(reverse("admin:auth_user_changelist"))
    assert admin_user not in listing.context["cl"].result_list


def test_registry_admin_cannot_change_a_superuser_s_password(admin_browser, admin_user):
    before = admin_user.password
    assert admin_browser.get(password_url(admin_user)).status_code == 404
    response = admin_browser.post(
        password_url(admin_user), {"usable_password": "true", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert response.status_code == 404
    admin_user.refresh_from_db()
    assert admin_user.password == before


def test_registry_admin_cannot_see_or_edit_users_of_another_centre(admin_browser, other_clinician, centre_a):
    listing = admin_browser.get(reverse("admin:auth_user_changelist")).content.decode()
    assert other_clinician.username not in listing
    assert admin_browser.get(change_url(other_clinician)).status_code != 200
    admin_browser.post(change_url(other_clinician), account_data(other_clinician, centres=[centre_a.pk]))
    before = other_clinician.password
    response = admin_browser.post(
        password_url(other_clinician), {"usable_password": "true", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert response.status_code == 404
    other_clinician.refresh_from_db()
    assert other_clinician.password == before
    assert list(other_clinician.centres.values_list("code", flat=True)) == ["SYN-B"]


def test_an_account_also_in_another_centre_is_not_the_registry_admin_s(admin_browser, clinician, centre_b):
    centre_b.members.add(clinician)
    assert admin_browser.get(change_url(clinician)).status_code != 200
    assert admin_browser.get(password_url(clinician)).status_code == 404


def test_registry_admin_cannot_remove_the_device_of_a_superuser_or_of_another_centre(
    admin_browser, admin_user, other_clinician
):
    devices = [TOTPDevice.objects.create(user=user, name="Authenticator app") for user in (admin_user, other_clinician)]
    listing = admin_browser.get(reverse("admin:otp_totp_totpdevice_changelist"))
    assert listing.status_code == 200 and list(listing.context["cl"].result_list) == []
    for device in devices:
        admin_browser.post(reverse("admin:otp_totp_totpdevice_delete", args=[device.pk]), {"post": "yes"})
        assert TOTPDevice.objects.filter(pk=device.pk).exists()


def test_registry_admin_can_only_assign_the_three_roles(admin_browser, clinician):
    auditors = Group.objects.create(name="Synthetic auditors")
    auditors.permissions.add(Permission.objects.get(codename="delete_user"))
    page = admin_browser.get(change_url(clinician)).content.decode()
    assert "Synthetic auditors" not in page
    response = admin_browser.post(change_url(clinician), account_data(clinician, groups=[auditors.pk]))
    assert response.status_code == 200
    assert "groups" in response.context["adminform"].form.errors
    assert list(clinician.groups.values_list("name", flat=True)) == [roles.CLINICIAN]


def test_registry_admin_can_only_give_their_own_centres(admin_browser, clinician, centre_a, centre_b):
    response = admin_browser.post(change_url(clinician), account_data(clinician, centres=[centre_a.pk, centre_b.pk]))
    assert response.status_code == 200
    assert "centres" in response.context["adminform"].form.errors
    assert list(clinician.centres.values_list("code", flat=True)) == ["SYN-A"]


def test_registry_admin_cannot_change_centre_membership_on_the_centre_page(admin_browser, centre_b, centre_admin):
    url = reverse("admin:registry_centre_change", args=[centre_b.pk])
    admin_browser.post(
        url, {"code": centre_b.code, "name": centre_b.name, "country": "US", "members": [centre_admin.pk]}
    )
    assert not centre_b.members.filter(pk=centre_admin.pk).exists()


def test_a_superuser_keeps_roles_a_registry_admin_may_not_give(admin_browser, clinician):
    auditors = Group.objects.create(name="Synthetic auditors")
    clinician.groups.add(auditors)
    response = admin_browser.post(change_url(clinician), account_data(clinician, groups=[role(roles.REVIEWER).pk]))
    assert response.status_code == 302
    assert set(clinician.groups.values_list("name", flat=True)) == {roles.REVIEWER, "Synthetic auditors"}


# --- What a registry admin may do -------------------------------------------------------------


def test_registry_admin_changes_role_and_active_flag_of_an_account_of_their_centre(admin_browser, clinician):
    response = admin_browser.post(
        change_url(clinician), account_data(clinician, groups=[role(roles.REVIEWER).pk], is_active="")
    )
    assert response.status_code == 302
    clinician.refresh_from_db()
    assert not clinician.is_active
    assert list(clinician.groups.values_list("name", flat=True)) == [roles.REVIEWER]


def test_registry_admin_sets_a_password_of_an_account_of_their_centre(admin_browser, clinician):
    response = admin_browser.post(
        password_url(clinician), {"usable_password": "true", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert response.status_code == 302
    clinician.refresh_from_db()
    assert clinician.check_password(NEW_PASSWORD)


def test_registry_admin_creates_an_account_in_their_centre(admin_browser, centre_a):
    response = admin_browser.post(
        reverse("admin:auth_user_add"),
        {
            "username": "new-clinician",
            "usable_password": "true",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
            "groups": [role(roles.CLINICIAN).pk],
            "centres": [centre_a.pk],
            "is_superuser": "on",
            "is_staff": "on",
        },
    )
    assert response.status_code == 302
    from django.contrib.auth import get_user_model

    created = get_user_model().objects.get(username="new-clinician")
    assert not created.is_superuser and not created.is_staff
    assert list(created.groups.values_list("name", flat=True)) == [roles.CLINICIAN]
    assert list(created.centres.values_list("code", flat=True)) == ["SYN-A"]
    assert admin_browser.get(response.url).status_code == 200  # the new account is theirs to edit


def test_registry_admin_must_give_a_new_account_one_of_their_centres(admin_browser, centre_b):
    data = {"username": "homeless", "usable_password": "true", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    for centres in ([], [centre_b.pk]):
        response = admin_browser.post(reverse("admin:auth_user_add"), {**data, "centres": centres})
        assert response.status_code == 200
        assert "centres" in response.context["adminform"].form.errors


# --- A superuser can still do everything ------------------------------------------------------


def test_superuser_grants_superuser_staff_and_permissions(admin_client, clinician, centre_b):
    permission = Permission.objects.get(codename="delete_user")
    page = admin_client.get(change_url(clinician)).content.decode()
    assert 'name="is_superuser"' in page and 'name="user_permissions"' in page
    data = account_data(
        clinician,
        is_superuser="on",
        is_staff="on",
        user_permissions=[permission.pk],
        centres=[*clinician.centres.values_list("pk", flat=True), centre_b.pk],
        date_joined_0="2026-01-01",
        date_joined_1="00:00:00",
    )
    response = admin_client.post(change_url(clinician), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    clinician.refresh_from_db()
    assert clinician.is_superuser and clinician.is_staff
    assert list(clinician.user_permissions.all()) == [permission]
    assert set(clinician.centres.values_list("code", flat=True)) == {"SYN-A", "SYN-B"}


def test_superuser_edits_another_superuser_and_their_password(admin_client, django_user_model):
    other = django_user_model.objects.create_superuser("other-superuser", "other@example.org", PASSWORD)
    assert admin_client.get(change_url(other)).status_code == 200
    response = admin_client.post(
        password_url(other), {"usable_password": "true", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert response.status_code == 302
    other.refresh_from_db()
    assert other.check_password(NEW_PASSWORD)


# --- The account history ----------------------------------------------------------------------


def history_of(user, after_pk=0):
    """The newest change of each field of `user`'s access (made after row `after_pk`)."""
    return {
        change.field: (change.before, change.after, change.changed_by_username)
        for change in AccountChange.objects.filter(account=user, pk__gt=after_pk).order_by("at", "pk")
    }


def test_changes_of_access_are_kept_with_who_when_before_and_after(admin_browser, centre_admin, clinician):
    centre_c = CentreFactory(code="SYN-C", name="Synthetic centre C")
    centre_c.members.add(centre_admin)
    last = AccountChange.objects.order_by("pk").last().pk  # only this save's rows below
    response = admin_browser.post(
        change_url(clinician),
        account_data(
            clinician,
            groups=[role(roles.REVIEWER).pk],
            centres=[*clinician.centres.values_list("pk", flat=True), centre_c.pk],
            is_active="",
        ),
    )
    assert response.status_code == 302
    assert history_of(clinician, last) == {
        AccountField.ROLES: ("Clinician", "Reviewer", "registry-admin-a"),
        AccountField.CENTRES: ("SYN-A", "SYN-A, SYN-C", "registry-admin-a"),
        AccountField.ACTIVE: ("yes", "no", "registry-admin-a"),
    }
    saved = AccountChange.objects.filter(pk__gt=last)
    assert saved.count() == 3  # one row per field, not one per step of the save
    assert all(change.at and change.changed_by_id == centre_admin.pk for change in saved)


def test_granting_superuser_is_kept_in_the_history(admin_client, admin_user, clinician):
    data = account_data(clinician, is_superuser="on", date_joined_0="2026-01-01", date_joined_1="00:00:00")
    assert admin_client.post(change_url(clinician), data).status_code == 302
    change = AccountChange.objects.get(account=clinician, field=AccountField.SUPERUSER)
    assert (change.before, change.after, change.changed_by) == ("no", "yes", admin_user)


def test_changes_made_outside_the_admin_are_kept_too(clinician, centre_b):
    clinician.groups.add(role(roles.REVIEWER))
    centre_b.members.add(clinician)
    clinician.is_active = False
    clinician.save()
    history = history_of(clinician)
    assert history[AccountField.ROLES] == ("Clinician", "Clinician, Reviewer", "")
    assert history[AccountField.CENTRES] == ("SYN-A", "SYN-A, SYN-B", "")
    assert history[AccountField.ACTIVE] == ("yes", "no", "")


def test_a_log_in_writes_no_history(client, clinician):
    before = AccountChange.objects.count()
    response = client.post(
        reverse("login"), {"username": clinician.username, "password": PASSWORD}, REMOTE_ADDR="10.0.0.1"
    )
    assert response.status_code == 302
    assert AccountChange.objects.count() == before


def test_registry_admin_reads_the_history_of_their_accounts_only(admin_browser, clinician, other_clinician):
    clinician.groups.add(role(roles.REVIEWER))
    other_clinician.groups.add(role(roles.REVIEWER))
    url = reverse("admin:registry_accountchange_changelist")
    listing = admin_browser.get(url)
    assert listing.status_code == 200
    shown = {change.account_username for change in listing.context["cl"].result_list}
    assert clinician.username in shown and other_clinician.username not in shown
    # The account's page links to its history.
    page = admin_browser.get(change_url(clinician)).content.decode()
    assert f"account__id__exact={clinician.pk}" in page
    only_theirs = admin_browser.get(url, {"account__id__exact": clinician.pk})
    assert {c.account_username for c in only_theirs.context["cl"].result_list} == {clinician.username}


def test_the_history_cannot_be_changed_or_deleted_in_the_admin(admin_client, clinician):
    clinician.groups.add(role(roles.REVIEWER))
    change = AccountChange.objects.filter(account=clinician).first()
    assert admin_client.get(reverse("admin:registry_accountchange_add")).status_code == 403
    assert admin_client.get(reverse("admin:registry_accountchange_delete", args=[change.pk])).status_code == 403
    url = reverse("admin:registry_accountchange_change", args=[change.pk])
    assert admin_client.get(url).status_code == 200  # readable
    assert admin_client.post(url, {"after": "Registry admin"}).status_code == 403
    change.refresh_from_db()
    assert change.after == "Clinician, Reviewer"


def test_the_history_is_append_only(clinician):
    clinician.groups.add(role(roles.REVIEWER))
    change = AccountChange.objects.filter(account=clinician).first()
    change.after = "Registry admin"
    with pytest.raises(AppendOnlyError):
        change.save()
    with pytest.raises(AppendOnlyError):
        change.delete()
    with pytest.raises(AppendOnlyError):
        AccountChange.objects.filter(pk=change.pk).update(after="Registry admin")
    with pytest.raises(AppendOnlyError):
        AccountChange.objects.filter(pk=change.pk).delete()
    assert AccountChange.objects.get(pk=change.pk).after == "Clinician, Reviewer"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL only")
@pytest.mark.parametrize("statement", ["UPDATE {table} SET after = 'X'", "DELETE FROM {table}"])
def test_the_history_is_append_only_in_postgresql(statement, clinician):
    clinician.groups.add(role(roles.REVIEWER))
    table = AccountChange._meta.db_table
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement.format(table=table))
    assert AccountChange.objects.filter(account=clinician, after="Clinician, Reviewer").exists()
