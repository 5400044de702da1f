"""Follow-up: what became of each case and when it was last seen (vital status), and the scheduled
visits after the first MSC with their schedule."""

from decimal import ROUND_HALF_UP

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from ..querysets import ActiveManager, ClinicalQuerySet
from .assessment import Assessment
from .common import (
    DAYS_PER_MONTH,
    Abstracted,
    ContactTiming,
    DeathTiming,
    Versioned,
    Withdrawable,
    YesNoUnknown,
    audit_history,
    between,
    positive,
    positive_check,
    range_check,
    timing,
    timing_checks,
    withdrawal_check,
    yes_no_unknown,
)
from .events import AdverseEvent, Attribution
from .medication import MedicationCourse
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


VisitTiming = timing("visit", "visit")


class VisitDefinition(models.Model):
    """One visit of the follow-up schedule, timed from the first MSC administration, with its window.

    The schedule is data, kept by registry admins in the Django admin. The seeded rows (baseline, 1, 3,
    6 and 12 months, then yearly to 5 years; windows of 14 days at 1 month, 30 days from 3 to 12 months
    and 60 days for the yearly visits) are registry defaults, not taken from a standard. Yearly visits
    after the fifth year are added as rows too: a visit always points to a stored definition, so that
    its target and window stay what they were when it was recorded.
    """

    code = models.CharField(max_length=12, unique=True, help_text="Short code, e.g. 'M1', 'Y2'.")
    label = models.CharField(max_length=60, help_text="As clinicians read it, e.g. '1 month after first MSC'.")
    target_months = models.DecimalField(
        "target (months after the first MSC)",
        max_digits=5,
        decimal_places=1,
        validators=between(0, 600, "Target months"),
    )
    window_before_days = models.PositiveSmallIntegerField("window before the target (days)", default=0)
    window_after_days = models.PositiveSmallIntegerField("window after the target (days)", default=0)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "target_months", "code"]
        constraints = [
            range_check("target_months", 0, 600, "visitdefinition_target_between_0_and_600_months"),
        ]

    def __str__(self):
        return self.label

    @property
    def target_days(self):
        """The target in days from the first MSC (months of 30.4375 days, as every offset in months)."""
        return int((self.target_months * DAYS_PER_MONTH).to_integral_value(ROUND_HALF_UP))

    def window(self):
        """(first day, last day) of the window, in days from the first MSC."""
        return self.target_days - self.window_before_days, self.target_days + self.window_after_days


class VisitStatus(models.TextChoices):
    DONE = "done", "Done"
    MISSED = "missed", "Missed"
    NOT_YET_DUE = "not_yet_due", "Not yet due"


#: The events of special interest after cell therapy that each visit screens for: (field, question).
SPECIAL_INTEREST = (
    ("esi_infection", "Infection"),
    ("esi_thromboembolism", "Thromboembolism"),
    ("esi_infusion_reaction", "Infusion or local reaction"),
    ("esi_malignancy", "Malignancy"),
    ("esi_ectopic_tissue", "Ectopic tissue formation"),
    ("esi_hospitalisation", "Hospitalisation"),
    ("esi_new_autoimmunity", "New autoimmune disease"),
)
SCREEN_FIELDS = tuple(name for name, _ in SPECIAL_INTEREST)


def screen_question(label):
    return yes_no_unknown(f"since the last visit: {label.lower()}")


class Visit(Withdrawable, Versioned, VisitTiming, Abstracted):
    """A scheduled follow-up visit of a case: when it happened (or that it was missed), the weight, the
    assessments taken at it, the therapies current at it, and the screen for events of special interest.

    The therapies are a snapshot as links to the case's medication courses: those continuing and those
    stopped since the last visit (who decided a stop is the course's own `stop_decided_by`). Links rather
    than a copy, so a course corrected later is read the same everywhere. The screen's answers start
    blank and are required on a done visit; 'Unknown' is an answer, never a default. A 'Yes' needs a
    linked adverse-event record (the form refuses it otherwise); the database leaves blanks allowed so a
    visit not yet done, or imported before its screen, can be stored.
    """

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="visits")
    definition = models.ForeignKey(
        VisitDefinition, on_delete=models.PROTECT, related_name="visits", verbose_name="scheduled visit"
    )
    status = models.CharField(max_length=12, choices=VisitStatus.choices)
    weight_kg = models.DecimalField(
        "weight (kg)", max_digits=5, decimal_places=1, null=True, blank=True, validators=positive("Weight")
    )
    assessments = models.ManyToManyField(
        Assessment, blank=True, related_name="visits", help_text="The assessments taken at this visit."
    )
    courses_continuing = models.ManyToManyField(
        MedicationCourse, blank=True, related_name="visits_continuing", verbose_name="therapies continuing"
    )
    courses_stopped_since_last = models.ManyToManyField(
        MedicationCourse,
        blank=True,
        related_name="visits_stopped",
        verbose_name="therapies stopped since the last visit",
        help_text="Who decided each stop is recorded on the medication course.",
    )
    adverse_events = models.ManyToManyField(
        AdverseEvent,
        blank=True,
        related_name="visits",
        verbose_name="adverse events found at this visit",
        help_text="Every 'Yes' in the screen needs its adverse-event record linked here.",
    )
    esi_infection = screen_question("Infection")
    esi_thromboembolism = screen_question("Thromboembolism")
    esi_infusion_reaction = screen_question("Infusion or local reaction")
    esi_malignancy = screen_question("Malignancy")
    esi_ectopic_tissue = screen_question("Ectopic tissue formation")
    esi_hospitalisation = screen_question("Hospitalisation")
    esi_new_autoimmunity = screen_question("New autoimmune disease")
    note = models.TextField(blank=True)

    objects = ActiveManager.from_queryset(ClinicalQuerySet)()
    all_objects = ClinicalQuerySet.as_manager()
    history = audit_history(m2m_fields=[assessments, courses_continuing, courses_stopped_since_last, adverse_events])

    class Meta:
        ordering = ["patient", "definition__order", "definition__target_months", "id"]
        constraints = [
            *timing_checks("visit", "visit"),
            withdrawal_check("visit"),
            positive_check("weight_kg", "visit_weight_positive"),
            models.CheckConstraint(
                condition=Q(status=VisitStatus.DONE)
                | (Q(weight_kg__isnull=True) & Q(**{name: "" for name in SCREEN_FIELDS})),
                name="visit_findings_only_when_done",
                violation_error_message="Give a weight and screen answers only for a visit that was done.",
            ),
            models.UniqueConstraint(
                fields=["patient", "definition"],
                condition=Q(withdrawn_at__isnull=True),
                name="visit_one_per_scheduled_visit",
                violation_error_message="This case already has a record of this scheduled visit.",
            ),
        ]

    def __str__(self):
        return f"{self.definition} ({self.get_status_display().lower()})"

    @property
    def done(self):
        return self.status == VisitStatus.DONE

    def screen(self):
        """[(question, answer label)] of the events of special interest."""
        return [(label, getattr(self, f"get_{name}_display")() or "not answered") for name, label in SPECIAL_INTEREST]

    def screened_yes(self):
        return [label for name, label in SPECIAL_INTEREST if getattr(self, name) == YesNoUnknown.YES]

    def clean(self):
        errors = {}
        if self.done:
            for name, label in SPECIAL_INTEREST:
                if not getattr(self, name):
                    errors[name] = f"Answer '{label}' for a visit that was done (Yes, No or Unknown)."
        else:
            if self.weight_kg is not None:
                errors["weight_kg"] = "Give a weight only for a visit that was done."
            for name, _ in SPECIAL_INTEREST:
                if getattr(self, name):
                    errors[name] = "Answer the screen only for a visit that was done."
        if errors:
            raise ValidationError(errors)


#: The registry's default schedule (not from a standard): code, label, months from the first MSC,
#: window before and after the target in days. Registry admins change it in the admin.
DEFAULT_VISIT_SCHEDULE = [
    ("BASELINE", "Baseline (first MSC)", 0, 14, 0),
    ("M1", "1 month", 1, 14, 14),
    ("M3", "3 months", 3, 30, 30),
    ("M6", "6 months", 6, 30, 30),
    ("M12", "12 months", 12, 30, 30),
    ("Y2", "2 years", 24, 60, 60),
    ("Y3", "3 years", 36, 60, 60),
    ("Y4", "4 years", 48, 60, 60),
    ("Y5", "5 years", 60, 60, 60),
]


def seed_visit_schedule(apps, **kwargs):
    """The default schedule where there is none: by migration 0020 and after every migrate or flush
    (CasesConfig.ready), so transactional tests find it. A schedule an admin has edited is left as it is."""
    try:
        VisitDefinition = apps.get_model("cases", "VisitDefinition")
    except LookupError:  # migrated back to before the schedule existed
        return
    if VisitDefinition.objects.exists():
        return
    for order, (code, label, months, before, after) in enumerate(DEFAULT_VISIT_SCHEDULE):
        VisitDefinition.objects.create(
            code=code,
            label=label,
            target_months=months,
            window_before_days=before,
            window_after_days=after,
            order=order,
        )
