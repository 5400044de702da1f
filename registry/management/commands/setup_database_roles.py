"""Give the application's PostgreSQL role its privileges: `manage.py setup_database_roles --app-role registry_app`.

Run as the owner of the tables (its DATABASE_URL), after `migrate`; the logic lives in
registry.database.roles.
"""

import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from registry.database.roles import PASSWORD_VARIABLE, DatabaseRoleError, grant_app_role


class Command(BaseCommand):
    help = (
        "Create the application's database role if missing and grant it exactly what the application needs: "
        "read and write on ordinary tables, only SELECT and INSERT on the audit history, SELECT on "
        "django_migrations. Run as the owner of the tables after every migrate. A new role gets LOGIN with the "
        f"password in ${PASSWORD_VARIABLE}, or NOLOGIN when it is unset."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--app-role",
            default=settings.REGISTRY_APP_DATABASE_ROLE or None,
            required=not settings.REGISTRY_APP_DATABASE_ROLE,
            help="Name of the role the application connects as (default: $REGISTRY_APP_DATABASE_ROLE).",
        )
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="Database alias (default: default).")

    def handle(self, *args, app_role, database, **options):
        try:
            grants = grant_app_role(connections[database], app_role, os.environ.get(PASSWORD_VARIABLE))
        except DatabaseRoleError as error:
            raise CommandError(str(error)) from error
        if grants.created:
            self.stdout.write(f"Created role {grants.role}.")
        self.stdout.write(
            self.style.SUCCESS(
                f"Role {grants.role}: read and write on {len(grants.read_write)} tables, SELECT and INSERT only on "
                f"{len(grants.append_only)} audit-history tables, SELECT only on {', '.join(grants.read_only)}."
            )
        )
