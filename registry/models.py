"""Site-wide records: the treating centres that own cases, and who belongs to them."""

from django.conf import settings
from django.db import models


class CentreQuerySet(models.QuerySet):
    def get_by_natural_key(self, code):
        return self.get(code=code)


class Centre(models.Model):
    """A treating rheumatology centre. Every case belongs to exactly one."""

    code = models.CharField(max_length=16, unique=True, help_text="Short code, e.g. UCLA-PEDRHEUM.")
    name = models.CharField(max_length=200)
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2 code, e.g. US.")
    is_synthetic = models.BooleanField(
        default=False,
        help_text="Holds generated test data only; never mixed with real cases.",
    )
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="centres", blank=True)

    objects = CentreQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(code=""), name="centre_code_not_empty"),
            models.CheckConstraint(condition=~models.Q(country=""), name="centre_country_not_empty"),
        ]

    def __str__(self):
        return f"{self.code}: {self.name}"

    def natural_key(self):
        return (self.code,)
