"""Site-wide records: the treating centres that own cases, who belongs to them, the security
policy, and the append-only history of changes to accounts."""

from django.conf import settings
from django.db import models
from django.utils import timezone
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


class AppendOnlyError(RuntimeError):
    """An attempt to change or delete a row of an append-only history."""


class AccountChangeQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("The account history is append-only: its rows cannot be changed.")

    def delete(self):
        raise AppendOnlyError("The account history is append-only: its rows cannot be deleted.")

    def visible_to(self, user):
        """A superuser sees every change; a registry admin, those of the accounts they manage."""
        from .accounts.changes import manageable_users

        if user.is_superuser:
            return self
        return self.filter(account_id__in=manageable_users(user).values("pk"))


class AccountField(models.TextChoices):
    """What an account change is about."""

    ROLES = "roles", "Roles"
    CENTRES = "centres", "Centres"
    ACTIVE = "active", "Active"
    STAFF = "staff", "Staff status (admin site)"
    SUPERUSER = "superuser", "Superuser status"
    PERMISSIONS = "permissions", "Individual permissions"


class AccountChange(models.Model):
    """One change to what an account may do or see: roles, centres, active, staff, superuser status
    or individual permissions; who made it, when, and the value before and after.

    Written by registry.accounts.changes for every such change, whichever way it is made (the admin, a
    command, the shell). Append-only: rows are never changed or deleted (and on PostgreSQL a
    trigger refuses it, registry.database.append_only). The accounts are referenced without a database
    constraint, and their user names copied, so the history outlives a deleted account.
    """

    #: The application's database role may only read and add rows (registry.database.roles).
    append_only_history = True

    at = models.DateTimeField("when", default=timezone.now, db_index=True)
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    account_username = models.CharField("account", max_length=150)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    changed_by_username = models.CharField(
        "changed by", max_length=150, blank=True, help_text="Empty when made by a command, not a person."
    )
    field = models.CharField("what changed", max_length=20, choices=AccountField.choices)
    before = models.TextField(blank=True)
    after = models.TextField(blank=True)

    objects = AccountChangeQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(field__in=AccountField.values),
                name="account_change_field_known",
            ),
            models.CheckConstraint(
                condition=~models.Q(before=models.F("after")), name="account_change_changes_something"
            ),
        ]
        indexes = [models.Index(fields=["account", "at"], name="account_change_account_at")]

    def __str__(self):
        return f"{self.account_username}: {self.get_field_display()} {self.before} → {self.after}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("The account history is append-only: its rows cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("The account history is append-only: its rows cannot be deleted.")
