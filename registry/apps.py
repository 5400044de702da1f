from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


def _sync_roles(sender, apps, **kwargs):
    from .roles import sync_roles

    sync_roles(apps)


class RegistryConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "registry"
    verbose_name = "Registry (centres and roles)"

    def ready(self):
        # Roles name the clinical permissions, which exist once the cases app has migrated
        # (post_migrate runs per app in INSTALLED_APPS order), so follow that app.
        post_migrate.connect(_sync_roles, sender=apps.get_app_config("cases"), dispatch_uid="registry.sync_roles")
