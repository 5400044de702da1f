"""Site-wide records: the treating centres that own cases, and who belongs to them."""

from django.conf import settings
from django.db import models
from django_countries.fields import CountryField

from .countries import CountriesOrUnknown


class CentreQuerySet(models.QuerySet):
    def get_by_natural_key(self, code):
        return self.get(code=code)


class Centre(models.Model):
    """A treating rheumatology centre. Every case belongs to exactly one."""

    code = models.CharField(max_length=16, unique=True, help_text="Short code, e.g. UCLA-PEDRHEUM.")
    name = models.CharField(max_length=200)
    country = CountryField(countries=CountriesOrUnknown, help_text="Unknown only for a synthetic centre.")
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


class SecurityPolicy(models.Model):
    """Site-wide security switches, one row (pk 1), edited in the admin by registry admins.

    Two-factor authentication (django-otp TOTP) is optional per user unless require_two_factor is
    on; then a user without a confirmed device can reach only the enrolment page and log-out.
    """

    SINGLETON_PK = 1

    require_two_factor = models.BooleanField(
        "require two-factor authentication",
        default=False,
        help_text=(
            "Every account must use an authenticator app: after log-in, a user without one is sent to "
            "enrol and can reach nothing else."
        ),
    )

    class Meta:
        verbose_name = "security policy"
        verbose_name_plural = "security policy"

    def __str__(self):
        return "Security policy"

    def save(self, *args, **kwargs):
        self.pk = self.SINGLETON_PK
        super().save(*args, **kwargs)

    @classmethod
    def load(cls):
        policy, _ = cls.objects.get_or_create(pk=cls.SINGLETON_PK)
        return policy
