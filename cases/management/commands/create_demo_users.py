"""Create or update the three demo accounts of the published-series centre, one per role.

Safe to run again: existing accounts are updated (role, centre, password), never duplicated.
"""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from registry.models import Centre
from registry.roles import CLINICIAN, REGISTRY_ADMIN, REVIEWER

CENTRE_CODE = "WONG2021"
CENTRE_DEFAULTS = {"name": "UCLA Pediatric Rheumatology (Wong et al. 2021 series)", "country": "US"}

# username -> (role group, is_staff and is_superuser)
DEMO_USERS = {
    "demo-clinician": (CLINICIAN, False),
    "demo-reviewer": (REVIEWER, False),
    "demo-admin": (REGISTRY_ADMIN, True),
}


class Command(BaseCommand):
    help = "Create or update the demo accounts (clinician, reviewer, admin) of centre WONG2021 and print passwords."

    def add_arguments(self, parser):
        parser.add_argument(
            "--password",
            help="One password for all three accounts; by default each gets a new random password.",
        )

    @transaction.atomic
    def handle(self, *args, password=None, **options):
        if not settings.DEBUG:
            # A demo superuser with a printed password has no place on a server holding real data.
            raise CommandError("Demo accounts are for development only: run with DEBUG=true (make run does).")
        centre, _ = Centre.objects.get_or_create(code=CENTRE_CODE, defaults=CENTRE_DEFAULTS)
        User = get_user_model()
        credentials = []
        for username, (role, is_admin) in DEMO_USERS.items():
            user, _ = User.objects.get_or_create(username=username)
            user.is_active = True
            user.is_staff = is_admin
            user.is_superuser = is_admin
            user_password = password or secrets.token_urlsafe(12)  # 16 characters
            user.set_password(user_password)
            user.save()
            # Demo accounts hold exactly one role, so a re-run also undoes a role changed by hand.
            group, _ = Group.objects.get_or_create(name=role)
            user.groups.set([group])
            centre.members.add(user)
            credentials.append((username, user_password))

        width = max(len(username) for username, _ in credentials)
        self.stdout.write(f"Demo accounts for centre {centre.code} ({centre.name}).")
        self.stdout.write(self.style.WARNING("These are DEMO accounts: never use them with real patient data."))
        for username, user_password in credentials:
            self.stdout.write(f"{username.ljust(width)}  {user_password}")
