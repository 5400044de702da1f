"""Vital status and the end of follow-up: what became of each case, and when it was last seen."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from ..querysets import ActiveManager, ClinicalQuerySet
from .common import (
    Abstracted,
    ContactTiming,
    DeathTiming,
    Versioned,
    Withdrawable,
    audit_history,
    timing_checks,
    withdrawal_check,
)
from .events import Attribution
from .patient import Patient


class VitalStatus(models.TextChoices):
    ALIVE = "alive", "Alive at last contact"
    DIED = "died", "Died"
    LOST = "lost", "Lost to follow-up"
    CONSENT_WITHDRAWN = "consent_withdrawn", "Consent withdrawn"
    TRANSFERRED = "transferred", "Transferred to adult care"


DEATH_FIELDS = ("death_date", "death_age_years", "death_days_from_first_msc")


class FollowUpStatus(Withdrawable, Versioned, ContactTiming, DeathTiming, Abstracted):
    """A case's vital status as known at one contact.

    A case keeps a small history of these rather than one status overwritten in place: a case is
    'alive at last contact' at the two-year visit and 'transferred to adult care' later, and both
    readings stay on the record (each with its source). The latest one (by time of contact, then
    by entry) is the case's current status; an earlier one is never edited to say what happened
    afterwards. The time of last contact is optional: when it is not stated, it is derived from the
    case's latest dated record (see cases.case_records.CaseRecords.last_contact).
    """

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="follow_up_statuses")
    status = models.CharField("vital status", max_length=20, choices=VitalStatus.choices)
    cause_of_death = models.TextField(blank=True, help_text="Only when the patient died.")
    death_relation_to_msc = models.CharField(
        "relation of the death to MSC",
        max_length=16,
        choices=Attribution.choices,
        blank=True,
        help_text="Only when the patient died: how likely the MSC treatment caused the death.",
    )
    lost_reason = models.TextField(
        "reason lost to follow-up",
        blank=True,
        help_text="Only when lost to follow-up, e.g. 'family moved abroad', 'stopped attending'.",
    )
    note = models.TextField(blank=True)

    objects = ActiveManager.from_queryset(ClinicalQuerySet)()
    all_objects = ClinicalQuerySet.as_manager()
    history = audit_history()

    class Meta:
        verbose_name = "vital status"
        verbose_name_plural = "vital statuses"
        ordering = ["patient", "contact_date", "contact_age_years", "contact_days_from_first_msc", "id"]
        constraints = [
            *timing_checks("followupstatus", "contact", "death"),
            withdrawal_check("followupstatus"),
            models.CheckConstraint(
                condition=Q(status=VitalStatus.DIED)
                | (
                    Q(cause_of_death="")
                    & Q(death_relation_to_msc="")
                    & Q(death_date__isnull=True)
                    & Q(death_age_years__isnull=True)
                    & Q(death_days_from_first_msc__isnull=True)
                ),
                name="followupstatus_death_fields_only_when_died",
                violation_error_message="Give the time, cause and relation of a death only when the patient died.",
            ),
            models.CheckConstraint(
                condition=Q(status=VitalStatus.LOST) | Q(lost_reason=""),
                name="followupstatus_lost_reason_only_when_lost",
                violation_error_message="Give a reason for loss to follow-up only when the patient was lost.",
            ),
        ]

    def __str__(self):
        return self.get_status_display()

    @property
    def died(self):
        return self.status == VitalStatus.DIED

    def clean(self):
        errors = {}
        if not self.died:
            if any(getattr(self, name) is not None for name in DEATH_FIELDS):
                errors["death_days_from_first_msc"] = "Give the time of death only when the patient died."
            if self.cause_of_death:
                errors["cause_of_death"] = "Give a cause of death only when the patient died."
            if self.death_relation_to_msc:
                errors["death_relation_to_msc"] = "Give the relation to MSC only when the patient died."
        if self.status != VitalStatus.LOST and self.lost_reason:
            errors["lost_reason"] = "Give a reason only when the patient was lost to follow-up."
        if errors:
            raise ValidationError(errors)
