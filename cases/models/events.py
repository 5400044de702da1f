"""Adverse events and disease flares, graded by CTCAE and classified as ICH E2A/E2B ask."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from ..querysets import ActiveManager, ClinicalQuerySet
from .common import (
    Abstracted,
    OnsetTiming,
    Versioned,
    Withdrawable,
    audit_history,
    between,
    non_negative,
    positive_check,
    range_check,
    timing_checks,
    withdrawal_check,
)
from .medication import MedicationCourse
from .msc import MscAdministration
from .patient import Patient


class EventCategory(models.TextChoices):
    INFUSION_REACTION = "infusion_reaction", "Infusion reaction"
    LOCAL_PAIN = "local_pain", "Local pain at injection site"
    FEVER_FLU_LIKE = "fever_flu_like", "Fever or flu-like illness"
    FATIGUE = "fatigue", "Fatigue"
    INFECTION = "infection", "Infection"
    THROMBOEMBOLISM = "thromboembolism", "Thromboembolism"
    ECTOPIC_TISSUE = "ectopic_tissue", "Ectopic tissue formation"
    MALIGNANCY = "malignancy", "Malignancy"
    MAS = "mas", "Macrophage activation syndrome"
    DISEASE_FLARE = "disease_flare", "Disease flare"
    DEATH = "death", "Death"
    OTHER = "other", "Other"


class Attribution(models.TextChoices):
    UNRELATED = "unrelated", "Unrelated"
    UNLIKELY = "unlikely", "Unlikely"
    POSSIBLE = "possible", "Possible"
    PROBABLE = "probable", "Probable"
    DEFINITE = "definite", "Definite"
    NOT_ASSESSED = "not_assessed", "Not assessed"


class Seriousness(models.TextChoices):
    """ICH E2A seriousness, answered explicitly: unticked criteria alone do not say 'not serious'."""

    SERIOUS = "serious", "Serious"
    NOT_SERIOUS = "not_serious", "Not serious"
    UNKNOWN = "unknown", "Unknown"


class Expectedness(models.TextChoices):
    """Whether the event is listed in the reference safety information the reviewer compares it with."""

    EXPECTED = "expected", "Expected"
    UNEXPECTED = "unexpected", "Unexpected"
    UNKNOWN = "unknown", "Unknown"


class AttributedBy(models.TextChoices):
    RHEUMATOLOGY_TEAM = "rheumatology_team", "Rheumatology team"
    MSC_PROVIDER = "msc_provider", "MSC provider"
    FAMILY = "family", "Patient or family"
    NOBODY = "nobody", "Not attributed"


class ActionTaken(models.TextChoices):
    """ICH E2B action taken with the suspect product."""

    WITHDRAWN = "withdrawn", "MSC withdrawn"
    DOSE_REDUCED = "dose_reduced", "Dose reduced"
    NOT_CHANGED = "not_changed", "Not changed"
    NOT_APPLICABLE = "not_applicable", "Not applicable"
    UNKNOWN = "unknown", "Unknown"


class Outcome(models.TextChoices):
    """ICH E2B outcome."""

    RECOVERED = "recovered", "Recovered/resolved"
    RECOVERING = "recovering", "Recovering/resolving"
    NOT_RECOVERED = "not_recovered", "Not recovered/not resolved"
    SEQUELAE = "sequelae", "Recovered with sequelae"
    FATAL = "fatal", "Fatal"
    UNKNOWN = "unknown", "Unknown"


class ReportedBy(models.TextChoices):
    FAMILY = "family", "Patient or parent"
    RHEUMATOLOGY_TEAM = "rheumatology_team", "Rheumatology team"
    MSC_PROVIDER = "msc_provider", "MSC provider"


class FlareSeverity(models.TextChoices):
    """A flare is graded on the disease's own flare scale, summarised as mild, moderate or severe (not CTCAE)."""

    MILD = "mild", "Mild"
    MODERATE = "moderate", "Moderate"
    SEVERE = "severe", "Severe"
    UNKNOWN = "unknown", "Unknown"


#: Any ICH E2A seriousness criterion ticked.
SERIOUS_CONDITION = (
    Q(resulted_in_death=True)
    | Q(life_threatening=True)
    | Q(required_hospitalisation=True)
    | Q(persistent_disability=True)
    | Q(congenital_anomaly=True)
    | Q(medically_important=True)
)


class AdverseEventQuerySet(ClinicalQuerySet):
    def serious(self):
        return self.filter(AdverseEvent.SERIOUS_CONDITION)


class AdverseEvent(Withdrawable, Versioned, OnsetTiming, Abstracted):
    """An adverse event or a disease flare. A flare links to the withdrawals that preceded it."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="adverse_events")
    administration = models.ForeignKey(
        MscAdministration,
        # PROTECT, not SET_NULL: a cascading update would change the event without an audit row.
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="adverse_events",
        help_text="The MSC administration it followed, if any.",
    )
    description = models.CharField(max_length=300, help_text="As reported, e.g. 'flu-like symptoms'.")
    category = models.CharField(max_length=20, choices=EventCategory.choices)
    ctcae_grade = models.PositiveSmallIntegerField(
        "CTCAE grade",
        null=True,
        blank=True,
        validators=between(1, 5, "CTCAE grade"),
        help_text="1 mild, 2 moderate, 3 severe, 4 life-threatening, 5 death; blank if not graded.",
    )
    flare_severity = models.CharField(
        "flare severity",
        max_length=8,
        choices=FlareSeverity.choices,
        blank=True,
        help_text="For a disease flare: mild, moderate or severe on the disease's own flare scale.",
    )
    seriousness = models.CharField(
        max_length=12,
        choices=Seriousness.choices,
        blank=True,
        help_text="ICH E2A: serious when a criterion below is met; 'Unknown' when the source does not say. "
        "Blank only on records entered before the question was asked: a case cannot be submitted with it.",
    )
    # ICH E2A seriousness criteria: the event is serious when any one is met.
    resulted_in_death = models.BooleanField(default=False)
    life_threatening = models.BooleanField(default=False)
    required_hospitalisation = models.BooleanField("required or prolonged hospitalisation", default=False)
    persistent_disability = models.BooleanField("persistent or significant disability", default=False)
    congenital_anomaly = models.BooleanField(default=False)
    medically_important = models.BooleanField("other medically important event", default=False)
    attribution = models.CharField(
        "attribution to MSC", max_length=16, choices=Attribution.choices, default=Attribution.NOT_ASSESSED
    )
    attribution_to_withdrawal = models.CharField(
        "attribution to stopping conventional therapy",
        max_length=16,
        choices=Attribution.choices,
        default=Attribution.NOT_ASSESSED,
        help_text="Separately from the MSC: whether stopping a conventional medication caused it (e.g. a flare).",
    )
    expectedness = models.CharField(
        max_length=12,
        choices=Expectedness.choices,
        blank=True,
        help_text="Against the reference safety information named below.",
    )
    expectedness_reference = models.CharField(
        "expectedness judged against",
        max_length=300,
        blank=True,
        help_text="e.g. 'no reference safety information: unlicensed product', or the product's brochure.",
    )
    attributed_by = models.CharField(max_length=20, choices=AttributedBy.choices, default=AttributedBy.NOBODY)
    attribution_note = models.TextField(blank=True, help_text="e.g. provider called it a Herxheimer reaction.")
    action_taken = models.CharField(max_length=16, choices=ActionTaken.choices, default=ActionTaken.UNKNOWN)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.UNKNOWN)
    duration_days = models.PositiveIntegerField(
        "duration (days)",
        null=True,
        blank=True,
        validators=non_negative("Duration"),
        help_text="Days until resolution, if resolved.",
    )
    treatment = models.CharField(max_length=300, blank=True, help_text="Blank when none was given.")
    reported_by = models.CharField(max_length=20, choices=ReportedBy.choices)
    preceding_withdrawals = models.ManyToManyField(
        MedicationCourse,
        blank=True,
        related_name="flares_after_withdrawal",
        help_text="For a flare: the medications whose withdrawal preceded it.",
    )

    objects = ActiveManager.from_queryset(AdverseEventQuerySet)()
    all_objects = AdverseEventQuerySet.as_manager()
    history = audit_history(m2m_fields=[preceding_withdrawals])

    SERIOUS_CONDITION = SERIOUS_CONDITION

    class Meta:
        ordering = ["patient", "onset_days_from_first_msc", "id"]
        constraints = [
            *timing_checks("adverseevent", "onset"),
            withdrawal_check("adverseevent"),
            range_check("ctcae_grade", 1, 5, "ctcae_grade_between_1_and_5"),
            positive_check("duration_days", "duration_not_negative", strictly=False),
            models.CheckConstraint(
                condition=~Q(ctcae_grade=5) | (Q(outcome="fatal") & Q(resulted_in_death=True)),
                name="grade_5_is_fatal",
                violation_error_message="A grade 5 event is a death: outcome fatal and 'resulted in death' ticked.",
            ),
            models.CheckConstraint(
                condition=Q(flare_severity="") | Q(category="disease_flare"),
                name="flare_severity_only_for_flares",
                violation_error_message="Only a disease flare has a flare severity.",
            ),
            models.CheckConstraint(
                condition=Q(resulted_in_death=False) | Q(outcome="fatal"),
                name="death_has_fatal_outcome",
                violation_error_message="An event that resulted in death must have the outcome 'fatal'.",
            ),
            models.CheckConstraint(
                condition=~Q(seriousness="serious") | SERIOUS_CONDITION,
                name="serious_names_its_criteria",
                violation_error_message="A serious event names its ICH E2A criteria: tick at least one.",
            ),
            models.CheckConstraint(
                condition=Q(seriousness="serious") | ~SERIOUS_CONDITION,
                name="criteria_only_when_serious",
                violation_error_message="An event meeting an ICH E2A criterion is serious: answer 'Serious'.",
            ),
        ]

    def __str__(self):
        grade = f" (grade {self.ctcae_grade})" if self.ctcae_grade else ""
        return f"{self.description}{grade}"

    @property
    def is_serious(self):
        return any(
            (
                self.resulted_in_death,
                self.life_threatening,
                self.required_hospitalisation,
                self.persistent_disability,
                self.congenital_anomaly,
                self.medically_important,
            )
        )

    @property
    def is_flare(self):
        return self.category == EventCategory.DISEASE_FLARE

    def clean(self):
        errors = {}
        if self.ctcae_grade == 5 and not (self.outcome == Outcome.FATAL and self.resulted_in_death):
            errors["ctcae_grade"] = "Grade 5 means death: set the outcome to fatal and tick 'resulted in death'."
        elif self.resulted_in_death and self.outcome != Outcome.FATAL:
            errors["outcome"] = "An event that resulted in death must have the outcome 'fatal'."
        if self._state.adding and not self.seriousness:
            errors["seriousness"] = "Answer whether the event is serious: serious, not serious or unknown."
        elif self.seriousness == Seriousness.SERIOUS and not self.is_serious:
            errors["seriousness"] = "A serious event names its ICH E2A criteria: tick at least one below."
        elif self.is_serious and self.seriousness != Seriousness.SERIOUS:
            errors["seriousness"] = "A criterion below is ticked, so the event is serious: answer 'Serious'."
        if self.flare_severity and self.category != EventCategory.DISEASE_FLARE:
            errors["flare_severity"] = "Only a disease flare has a flare severity: clear it or choose 'Disease flare'."
        if self.administration_id and self.patient_id and self.administration.product.patient_id != self.patient_id:
            errors["administration"] = "This administration belongs to another case."
        if errors:
            raise ValidationError(errors)
