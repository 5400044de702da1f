from django.apps import AppConfig


class SyntheticConfig(AppConfig):
    """Generated test data: the synthetic registry generator and its bulk COPY writer, outside the clinical app."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "synthetic"
    verbose_name = "Synthetic data"
