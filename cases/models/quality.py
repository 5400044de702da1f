"""What a case states explicitly for the safety-reporting checklist, and discrepancies that a
reviewer has looked at and accepted (the data-quality rules themselves live in cases.quality)."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from ..querysets import ClinicalQuerySet
from .common import audit_history, between, range_check
from .patient import Patient


class ChecklistItem(models.TextChoices):
    """The paper's reporting items (Wong et al. 2021, discussion) a case must answer."""

    ADMINISTRATIONS = "administrations", "MSC administrations with product and preparation facts"
    ADVERSE_EVENTS = "adverse_events", "Adverse events, or none during a stated follow-up"
    STOPPED_THERAPIES = "stopped_therapies", "Conventional therapies stopped around MSC"
    FLARES = "flares", "Disease flares after stopping therapy"
    PROVIDER_COMMUNICATION = "provider_communication", "Whether the MSC provider communicated with the team"
    CONFOUNDERS = "confounders", "Concomitant treatments that may confound the response"
    COST = "cost", "Cost to the family and how it was paid"
    OUTCOME_SOURCES = "outcome_sources", "For each outcome, reported by the family or documented by the team"


class Statement(models.TextChoices):
    NONE = "none", "None"
    UNKNOWN = "unknown", "Unknown"


class ChecklistStatement(models.Model):
    """An explicit 'none' or 'unknown' for a checklist item, so silence is never read as 'none'."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="checklist_statements")
    item = models.CharField(max_length=24, choices=ChecklistItem.choices)
    statement = models.CharField(max_length=8, choices=Statement.choices)
    follow_up_months = models.DecimalField(
        "follow-up (months)",
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=between(0, 600, "Follow-up"),
        help_text="For 'no adverse events': the follow-up over which none occurred.",
    )
    note = models.TextField(blank=True)
    stated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    stated_at = models.DateTimeField(auto_now=True)
    covers = models.TextField(
        blank=True,
        editable=False,
        help_text="The item's records (kind, id and revision) when it was stated: an 'unknown' stands only while "
        "they are unchanged, so a record added or edited later is asked about again.",
    )

    objects = ClinicalQuerySet.as_manager()
    history = audit_history()

    class Meta:
        ordering = ["patient", "item"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "item"], name="one_statement_per_checklist_item"),
            range_check("follow_up_months", 0, 600, "checklist_follow_up_between_0_and_600"),
            models.CheckConstraint(
                condition=~Q(item="adverse_events", statement="none") | Q(follow_up_months__isnull=False),
                name="no_adverse_events_needs_follow_up",
                violation_error_message="Say over how many months of follow-up no adverse event occurred.",
            ),
        ]

    def __str__(self):
        return f"{self.get_item_display()}: {self.get_statement_display()}"

    def save(self, *args, **kwargs):
        """Stating (or stating again) answers for the item's records as they are now."""
        from ..quality.statements import current_signature

        self.covers = current_signature(self.patient_id, self.item)
        super().save(*args, **kwargs)

    @property
    def case(self):
        """The case the statement belongs to: a verified (locked) case's statements are locked too."""
        return self.patient


class DiscrepancyAcknowledgement(models.Model):
    """A reviewer has looked at a data-quality discrepancy and accepted it, with the reason."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="acknowledgements")
    rule = models.CharField(max_length=40, help_text="The rule's code, e.g. dose_disagrees.")
    record_key = models.CharField(
        max_length=80,
        help_text="Which record it is about, e.g. 'cases.mscadministration:12'; blank for the case.",
        blank=True,
    )
    reason = models.TextField(help_text="Why the discrepancy stands, e.g. the passage that explains it.")
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(auto_now_add=True)

    objects = ClinicalQuerySet.as_manager()
    history = audit_history()

    class Meta:
        ordering = ["patient", "rule", "record_key"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "rule", "record_key"], name="one_acknowledgement_per_discrepancy"
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="acknowledgement_has_reason"),
        ]

    def __str__(self):
        return f"{self.rule} {self.record_key}: {self.reason[:60]}"
