from django.apps import AppConfig
from django.apps import apps as global_apps
from django.db.models.signals import post_migrate


def _seed_vocabularies(sender, apps=global_apps, **kwargs):
    # `flush` sends post_migrate without `apps`.
    from .models.follow_up import seed_visit_schedule
    from .models.patient import seed_funding_sources

    seed_funding_sources(apps)
    seed_visit_schedule(apps)


def _protect_history(sender, using="default", **kwargs):
    from django.db import connections

    from .audit import history_tables, protect_history_tables

    protect_history_tables(connections[using], history_tables(global_apps))


class CasesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "cases"
    verbose_name = "Clinical records"

    def ready(self):
        # Vocabulary rows must survive the database flushes of transactional (browser) tests.
        post_migrate.connect(_seed_vocabularies, sender=self, dispatch_uid="cases.seed_vocabularies")
        post_migrate.connect(_protect_history, sender=self, dispatch_uid="cases.protect_history")
