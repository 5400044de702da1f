"""`manage.py create_demo_users`: three demo accounts of centre WONG2021, safe to run again."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from registry.models import Centre

USERNAMES = ["demo-clinician", "demo-reviewer", "demo-admin"]
ROLES = {"demo-clinician": "Clinician", "demo-reviewer": "Reviewer", "demo-admin": "Registry admin"}

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def development(settings):
    settings.DEBUG = True


def test_refuses_outside_development(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="development only"):
        run()
    assert not get_user_model().objects.filter(username__in=USERNAMES).exists()


def run(*args):
    out = StringIO()
    call_command("create_demo_users", *args, stdout=out)
    return out.getvalue()


def printed_passwords(output):
    lines = [line.split() for line in output.splitlines()]
    return {words[0]: words[1] for words in lines if len(words) == 2 and words[0] in USERNAMES}


def test_creates_the_centre_and_three_members_with_one_role_each():
    run()
    centre = Centre.objects.get(code="WONG2021")
    assert centre.name == "UCLA Pediatric Rheumatology (Wong et al. 2021 series)"
    assert centre.country == "US"
    for username in USERNAMES:
        user = get_user_model().objects.get(username=username)
        assert list(user.groups.values_list("name", flat=True)) == [ROLES[username]]
        assert list(user.centres.all()) == [centre]


def test_only_the_admin_is_staff_and_superuser():
    run()
    users = {u.username: u for u in get_user_model().objects.filter(username__in=USERNAMES)}
    assert users["demo-admin"].is_staff and users["demo-admin"].is_superuser
    for username in ("demo-clinician", "demo-reviewer"):
        assert not users[username].is_staff and not users[username].is_superuser


def test_prints_a_random_password_per_user_that_logs_in():
    output = run()
    passwords = printed_passwords(output)
    assert set(passwords) == set(USERNAMES)
    assert len(set(passwords.values())) == 3
    assert "demo" in output.lower()
    for username, password in passwords.items():
        assert len(password) >= 12
        assert get_user_model().objects.get(username=username).check_password(password)


def test_password_option_sets_one_password_for_all():
    output = run("--password", "synthetic-demo-pass")
    assert set(printed_passwords(output).values()) == {"synthetic-demo-pass"}
    for user in get_user_model().objects.filter(username__in=USERNAMES):
        assert user.check_password("synthetic-demo-pass")


def test_running_twice_updates_without_duplicates():
    run()
    second = printed_passwords(run())
    assert get_user_model().objects.filter(username__in=USERNAMES).count() == 3
    assert Centre.objects.filter(code="WONG2021").count() == 1
    centre = Centre.objects.get(code="WONG2021")
    assert centre.members.count() == 3
    for username, password in second.items():
        user = get_user_model().objects.get(username=username)
        assert user.check_password(password)
        assert user.groups.count() == 1


def test_existing_centre_and_groups_are_reused():
    Centre.objects.create(code="WONG2021", name="Renamed by an admin", country="US")
    Group.objects.get_or_create(name="Clinician")
    run()
    assert Centre.objects.get(code="WONG2021").name == "Renamed by an admin"
    assert Group.objects.filter(name="Clinician").count() == 1
