"""Consent: on what basis a case's data are held, shared and followed up, and its withdrawal."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from ..querysets import ActiveManager, ClinicalQuerySet
from .common import DAYS_PER_YEAR, Abstracted, Versioned, Withdrawable, audit_history, withdrawal_check
from .patient import Patient

AGE_OF_MAJORITY = 18


class ConsentKind(models.TextChoices):
    PARENTAL_PERMISSION = "parental_permission", "Parental permission"
    CHILD_ASSENT = "child_assent", "Child's assent"
    CONSENT_AT_MAJORITY = "consent_at_majority", "Consent at the age of majority (18)"
    PUBLICATION_CONSENT = "publication_consent", "Journal's consent for publication (published case)"
    WAIVER = "waiver", "Ethics-board waiver of consent"


#: The kinds that can stand as the case's consent basis on their own: a child's assent accompanies a
#: parent's permission, it never replaces it.
BASIS_KINDS = (
    ConsentKind.PARENTAL_PERMISSION,
    ConsentKind.CONSENT_AT_MAJORITY,
    ConsentKind.PUBLICATION_CONSENT,
    ConsentKind.WAIVER,
)


class WithdrawalScope(models.TextChoices):
    ALL = "all", "All further use of the case's data (no new exports)"
    SHARING = "sharing", "Sharing of de-identified data (no new exports)"
    CONTACT = "contact", "Being contacted for follow-up only"


#: The withdrawals after which the case's data no longer enter new exports.
EXPORT_STOPPING = (WithdrawalScope.ALL, WithdrawalScope.SHARING)


class ConsentQuerySet(ClinicalQuerySet):
    def bases(self):
        """Records that are a consent basis: a basis kind, covering registry data, not withdrawn in full."""
        return self.filter(kind__in=BASIS_KINDS, covers_registry_data=True).exclude(
            consent_withdrawn_on__isnull=False, withdrawal_scope=WithdrawalScope.ALL
        )

    def stopping_exports(self, today=None):
        """Withdrawals in force today that keep the case's data out of new exports."""
        today = today or timezone.localdate()
        return self.filter(consent_withdrawn_on__lte=today, withdrawal_scope__in=EXPORT_STOPPING)


class Consent(Withdrawable, Versioned, Abstracted):
    """One consent (or its stand-in) for a case, with what it covers and its withdrawal.

    A case's *consent basis* is at least one record, not withdrawn as an entry, of kind parental
    permission, consent at majority, publication consent or ethics-board waiver, that covers registry
    data and has not been withdrawn for all use: without one a case cannot be submitted. A child's
    assent alone is not a basis (a parent's permission is needed with it). A withdrawal of all use or
    of sharing keeps the case's data out of every export made from the withdrawal date on; the
    records and their audit history are kept. A record withdrawn *as an entry* (entered in error) is
    a different thing: it is hidden like any withdrawn record.
    """

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="consents")
    kind = models.CharField(max_length=20, choices=ConsentKind.choices)
    date = models.DateField("date given", null=True, blank=True, help_text="Exported in the identifiable variant only.")
    form_version = models.CharField(
        max_length=50, blank=True, help_text="Version of the consent or assent form signed, e.g. 'v2.1 2024-03'."
    )
    covers_registry_data = models.BooleanField("covers registry data", default=True)
    covers_sharing = models.BooleanField("covers sharing de-identified data", default=False)
    covers_contact = models.BooleanField("covers being contacted for follow-up", default=False)
    consent_withdrawn_on = models.DateField(
        "consent withdrawn on",
        null=True,
        blank=True,
        help_text="The date the family or patient withdrew this consent; exports made from then on leave "
        "the case out if the withdrawal covers sharing.",
    )
    withdrawal_scope = models.CharField(
        "what the withdrawal covers", max_length=8, choices=WithdrawalScope.choices, blank=True
    )
    note = models.TextField(blank=True)

    objects = ActiveManager.from_queryset(ConsentQuerySet)()
    all_objects = ConsentQuerySet.as_manager()
    history = audit_history()

    class Meta:
        ordering = ["patient", "kind", "id"]
        constraints = [
            withdrawal_check("consent"),
            models.CheckConstraint(
                condition=Q(consent_withdrawn_on__isnull=True, withdrawal_scope="")
                | (Q(consent_withdrawn_on__isnull=False) & ~Q(withdrawal_scope="")),
                name="consent_withdrawal_scope_only_with_date",
                violation_error_message="Give both the date consent was withdrawn and what the withdrawal covers.",
            ),
            models.CheckConstraint(
                condition=Q(date__isnull=True)
                | Q(consent_withdrawn_on__isnull=True)
                | Q(consent_withdrawn_on__gte=models.F("date")),
                name="consent_withdrawal_not_before_consent",
                violation_error_message="Consent cannot be withdrawn before it was given.",
            ),
            models.CheckConstraint(
                condition=Q(covers_registry_data=True) | Q(covers_sharing=True) | Q(covers_contact=True),
                name="consent_covers_something",
                violation_error_message="Tick at least one thing the consent covers.",
            ),
        ]

    def __str__(self):
        return self.get_kind_display()

    @property
    def is_consent_withdrawn(self):
        return self.consent_withdrawn_on is not None

    def clean(self):
        errors = {}
        if (self.consent_withdrawn_on is None) != (not self.withdrawal_scope):
            field = "withdrawal_scope" if self.consent_withdrawn_on else "consent_withdrawn_on"
            errors[field] = "Give both the date consent was withdrawn and what the withdrawal covers."
        if self.date and self.consent_withdrawn_on and self.consent_withdrawn_on < self.date:
            errors["consent_withdrawn_on"] = "Consent cannot be withdrawn before it was given."
        if self.consent_withdrawn_on and self.consent_withdrawn_on > timezone.localdate():
            errors["consent_withdrawn_on"] = "Record a withdrawal once it has happened (the date is in the future)."
        if not (self.covers_registry_data or self.covers_sharing or self.covers_contact):
            errors["covers_registry_data"] = "Tick at least one thing the consent covers."
        if errors:
            raise ValidationError(errors)


def age_today(dated_ages, today=None):
    """The patient's age today from (date, age in years) pairs of the case's records: the latest dated
    age plus the time since. None when no record has both a date and an age (never guessed)."""
    known = [(day, age) for day, age in dated_ages if day is not None and age is not None]
    if not known:
        return None
    day, age = max(known, key=lambda pair: pair[0])
    today = today or timezone.localdate()
    return (Decimal(age) + Decimal((today - day).days) / DAYS_PER_YEAR).quantize(Decimal("0.1"))


def reaches_majority_within(age, days=365):
    """Whether a patient of this age (years, today) is 18 or will be within `days`."""
    return age is not None and age + Decimal(days) / DAYS_PER_YEAR >= AGE_OF_MAJORITY
