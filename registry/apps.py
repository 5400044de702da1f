from django.apps import AppConfig
from django.apps import apps as global_apps
from django.db.models.signals import post_migrate


def _sync_roles(sender, **kwargs):  # `flush` sends post_migrate without `apps`
    from django.contrib.auth.management import create_permissions

    from .roles import sync_roles

    # The roles name permissions of apps that migrate after this one (axes, django-otp).
    for app_config in global_apps.get_app_configs():
        create_permissions(app_config, verbosity=0)
    sync_roles(global_apps)


def _grant_app_role(sender, using="default", **kwargs):
    import os

    from django.conf import settings
    from django.db import connections

    from .database.roles import PASSWORD_VARIABLE, grant_app_role

    if settings.REGISTRY_APP_DATABASE_ROLE and connections[using].vendor == "postgresql":
        grant_app_role(connections[using], settings.REGISTRY_APP_DATABASE_ROLE, os.environ.get(PASSWORD_VARIABLE))


def _protect_account_history(sender, using="default", **kwargs):
    from django.db import connections

    from .database.append_only import protect_history_tables
    from .models import AccountChange

    protect_history_tables(connections[using], [AccountChange._meta.db_table])


class RegistryConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "registry"
    verbose_name = "Registry (centres and roles)"

    def ready(self):
        # Connects the security log to Django's log-in signals (registry.security.protections).
        # Every change to an account's roles, centres and status goes to the account history.
        from .accounts import changes
        from .security import protections  # noqa: F401

        changes.connect()
        post_migrate.connect(_protect_account_history, sender=self, dispatch_uid="registry.protect_account_history")

        # Roles name the clinical permissions, which exist once the cases app has migrated
        # (post_migrate runs per app in INSTALLED_APPS order), so follow that app.
        post_migrate.connect(
            _sync_roles, sender=global_apps.get_app_config("cases"), dispatch_uid="registry.sync_roles"
        )
        # After every migrate the application's role gets its privileges on new tables too.
        post_migrate.connect(
            _grant_app_role, sender=global_apps.get_app_config("cases"), dispatch_uid="registry.grant_app_role"
        )
