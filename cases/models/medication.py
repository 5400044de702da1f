"""Conventional and complementary therapy courses, and what happened to them around MSC."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from ..querysets import ActiveManager, ClinicalQuerySet
from .common import (
    Abstracted,
    LearnedTiming,
    StartTiming,
    StopTiming,
    Versioned,
    Withdrawable,
    YesNoUnknown,
    audit_history,
    not_before,
    positive,
    positive_check,
    timing_checks,
    withdrawal_check,
)
from .patient import Patient


class DrugClass(models.TextChoices):
    NSAID = "nsaid", "NSAID"
    CONVENTIONAL_DMARD = "csdmard", "Conventional synthetic DMARD"
    BIOLOGIC = "bdmard", "Biologic DMARD"
    TARGETED_SYNTHETIC = "tsdmard", "Targeted synthetic DMARD (JAK inhibitor)"
    GLUCOCORTICOID_SYSTEMIC = "gc_systemic", "Glucocorticoid, systemic"
    GLUCOCORTICOID_LOCAL = "gc_local", "Glucocorticoid, local (intra-articular, ocular, topical)"
    ANTIMALARIAL = "antimalarial", "Antimalarial"
    BISPHOSPHONATE = "bisphosphonate", "Bisphosphonate"
    IVIG = "ivig", "Intravenous immunoglobulin"
    COMPLEMENTARY = "complementary", "Complementary or non-drug therapy"
    OTHER = "other", "Other"


class Drug(models.TextChoices):
    """Drugs and therapies named in the published series and common in paediatric rheumatology."""

    METHOTREXATE = "methotrexate", "Methotrexate"
    LEFLUNOMIDE = "leflunomide", "Leflunomide"
    AZATHIOPRINE = "azathioprine", "Azathioprine"
    MYCOPHENOLATE = "mycophenolate", "Mycophenolate mofetil"
    SULFASALAZINE = "sulfasalazine", "Sulfasalazine"
    CYCLOPHOSPHAMIDE = "cyclophosphamide", "Cyclophosphamide"
    HYDROXYCHLOROQUINE = "hydroxychloroquine", "Hydroxychloroquine"
    ABATACEPT = "abatacept", "Abatacept"
    TOCILIZUMAB = "tocilizumab", "Tocilizumab"
    RITUXIMAB = "rituximab", "Rituximab"
    BELIMUMAB = "belimumab", "Belimumab"
    ETANERCEPT = "etanercept", "Etanercept"
    ADALIMUMAB = "adalimumab", "Adalimumab"
    INFLIXIMAB = "infliximab", "Infliximab"
    ANAKINRA = "anakinra", "Anakinra"
    CANAKINUMAB = "canakinumab", "Canakinumab"
    TOFACITINIB = "tofacitinib", "Tofacitinib"
    BARICITINIB = "baricitinib", "Baricitinib"
    PREDNISONE = "prednisone", "Prednisone"
    PREDNISOLONE = "prednisolone", "Prednisolone"
    METHYLPREDNISOLONE = "methylprednisolone", "Methylprednisolone"
    TRIAMCINOLONE = "triamcinolone", "Triamcinolone"
    NAPROXEN = "naproxen", "Naproxen"
    SULINDAC = "sulindac", "Sulindac"
    MELOXICAM = "meloxicam", "Meloxicam"
    IBUPROFEN = "ibuprofen", "Ibuprofen"
    PAMIDRONATE = "pamidronate", "Pamidronate"
    IVIG = "ivig", "Intravenous immunoglobulin"
    HYPERBARIC_OXYGEN = "hyperbaric_oxygen", "Hyperbaric oxygen"
    RED_LIGHT = "red_light", "Red-light therapy"
    LYMPHATIC_DRAINAGE = "lymphatic_drainage", "Lymphatic drainage"
    PEMF = "pemf", "Pulsed electromagnetic field therapy"
    OTHER = "other", "Other"


DEFAULT_CLASS = {
    **dict.fromkeys(
        [
            Drug.METHOTREXATE,
            Drug.LEFLUNOMIDE,
            Drug.AZATHIOPRINE,
            Drug.MYCOPHENOLATE,
            Drug.SULFASALAZINE,
            Drug.CYCLOPHOSPHAMIDE,
        ],
        DrugClass.CONVENTIONAL_DMARD,
    ),
    Drug.HYDROXYCHLOROQUINE: DrugClass.ANTIMALARIAL,
    **dict.fromkeys(
        [
            Drug.ABATACEPT,
            Drug.TOCILIZUMAB,
            Drug.RITUXIMAB,
            Drug.BELIMUMAB,
            Drug.ETANERCEPT,
            Drug.ADALIMUMAB,
            Drug.INFLIXIMAB,
            Drug.ANAKINRA,
            Drug.CANAKINUMAB,
        ],
        DrugClass.BIOLOGIC,
    ),
    **dict.fromkeys([Drug.TOFACITINIB, Drug.BARICITINIB], DrugClass.TARGETED_SYNTHETIC),
    **dict.fromkeys([Drug.PREDNISONE, Drug.PREDNISOLONE, Drug.METHYLPREDNISOLONE], DrugClass.GLUCOCORTICOID_SYSTEMIC),
    Drug.TRIAMCINOLONE: DrugClass.GLUCOCORTICOID_LOCAL,
    **dict.fromkeys([Drug.NAPROXEN, Drug.SULINDAC, Drug.MELOXICAM, Drug.IBUPROFEN], DrugClass.NSAID),
    Drug.PAMIDRONATE: DrugClass.BISPHOSPHONATE,
    Drug.IVIG: DrugClass.IVIG,
    **dict.fromkeys(
        [Drug.HYPERBARIC_OXYGEN, Drug.RED_LIGHT, Drug.LYMPHATIC_DRAINAGE, Drug.PEMF], DrugClass.COMPLEMENTARY
    ),
    Drug.OTHER: DrugClass.OTHER,
}


class MedicationRoute(models.TextChoices):
    ORAL = "oral", "Oral"
    SUBCUTANEOUS = "subcutaneous", "Subcutaneous"
    INTRAVENOUS = "intravenous", "Intravenous"
    INTRAMUSCULAR = "intramuscular", "Intramuscular"
    INTRA_ARTICULAR = "intra_articular", "Intra-articular"
    OCULAR = "ocular", "Topical ocular (eye drops)"
    TOPICAL = "topical", "Topical skin"
    NOT_APPLICABLE = "not_applicable", "Not a drug (device or procedure)"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Unknown"


class DoseUnit(models.TextChoices):
    MG = "mg", "mg"
    MG_PER_KG = "mg_per_kg", "mg/kg"
    MG_PER_M2 = "mg_per_m2", "mg/m²"
    SESSION = "session", "session"
    OTHER = "other", "other"


class RelationToMsc(models.TextChoices):
    BEFORE = "before", "Before MSC"
    CONCOMITANT = "concomitant", "Concomitant with MSC"
    AFTER = "after", "After MSC"


class ReasonStopped(models.TextChoices):
    INEFFICACY = "inefficacy", "Inefficacy"
    ADVERSE_EFFECT = "adverse_effect", "Adverse effect"
    INJECTION_PAIN = "injection_pain", "Injection pain"
    REMISSION = "remission", "Remission"
    FAMILY_DECISION = "family_decision", "Family or patient decision"
    MSC_PROVIDER_INSTRUCTION = "msc_provider_instruction", "Instructed by the MSC provider"
    COST = "cost", "Cost or access"
    COURSE_COMPLETED = "course_completed", "Planned course completed"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Unknown"


class StopDecidedBy(models.TextChoices):
    RHEUMATOLOGY_TEAM = "rheumatology_team", "Rheumatology team"
    MSC_PROVIDER = "msc_provider", "MSC provider"
    FAMILY = "family", "Family"
    PATIENT = "patient", "Patient"
    OTHER_PHYSICIAN = "other_physician", "Other physician"
    UNKNOWN = "unknown", "Unknown"


class MedicationCourse(Withdrawable, Versioned, StartTiming, StopTiming, LearnedTiming, Abstracted):
    """One course of one drug or therapy; the paper's central question is which were stopped,
    by whose decision, and whether the rheumatology team knew before the stop or learned of it afterwards
    (and when): "knew" alone could not tell the two apart."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="medications")
    drug = models.CharField(max_length=24, choices=Drug.choices)
    drug_detail = models.CharField(max_length=200, blank=True, help_text="Needed when the drug is 'Other'.")
    drug_class = models.CharField(
        max_length=16,
        choices=DrugClass.choices,
        blank=True,
        help_text="Filled from the drug when left blank; choose 'local' for eye drops or joint injections.",
    )
    route = models.CharField(max_length=16, choices=MedicationRoute.choices, default=MedicationRoute.UNKNOWN)
    dose = models.DecimalField(
        max_digits=9,
        decimal_places=3,
        null=True,
        blank=True,
        validators=positive("Dose"),
        help_text="Greater than 0, in the unit chosen.",
    )
    dose_unit = models.CharField(max_length=12, choices=DoseUnit.choices, blank=True)
    frequency = models.CharField(max_length=100, blank=True, help_text="e.g. weekly, every 14 days, twice weekly.")
    relation_to_msc = models.CharField("relation to MSC", max_length=12, choices=RelationToMsc.choices)
    is_ongoing = models.BooleanField("ongoing", default=False)
    reason_stopped = models.CharField(max_length=24, choices=ReasonStopped.choices, blank=True)
    stop_decided_by = models.CharField(max_length=20, choices=StopDecidedBy.choices, blank=True)
    team_knew_before_stop = models.CharField(
        "rheumatology team knew before the stop",
        max_length=8,
        choices=YesNoUnknown.choices,
        blank=True,
        help_text="Whether the team knew of the stop before it happened.",
    )
    team_learned_after_stop = models.CharField(
        "rheumatology team learned of it afterwards",
        max_length=8,
        choices=YesNoUnknown.choices,
        blank=True,
        help_text="Whether the team learned of the stop only after it; say when below if known.",
    )
    is_confounder = models.BooleanField(
        "may confound the response to MSC",
        default=False,
        help_text="e.g. tocilizumab given alongside MSC, an intra-articular steroid after it.",
    )
    note = models.TextField(blank=True)

    objects = ActiveManager.from_queryset(ClinicalQuerySet)()
    all_objects = ClinicalQuerySet.as_manager()
    history = audit_history()

    class Meta:
        ordering = ["patient", "start_age_years", "start_days_from_first_msc", "id"]
        constraints = [
            *timing_checks("medicationcourse", "start", "stop", "learned"),
            not_before("stop", "start", "medication_stop_not_before_start", "Stop cannot be before the start."),
            positive_check("dose", "medication_dose_positive"),
            withdrawal_check("medicationcourse"),
            models.CheckConstraint(
                condition=Q(is_ongoing=False)
                | (
                    Q(reason_stopped="")
                    & Q(stop_date__isnull=True)
                    & Q(stop_age_years__isnull=True)
                    & Q(stop_days_from_first_msc__isnull=True)
                ),
                name="ongoing_course_has_no_stop",
                violation_error_message="An ongoing course cannot have a stop time or a reason for stopping.",
            ),
            models.CheckConstraint(
                condition=~Q(team_knew_before_stop="yes", team_learned_after_stop="yes"),
                name="team_knew_before_or_learned_after",
                violation_error_message="The team either knew before the stop or learned of it afterwards, not both.",
            ),
            models.CheckConstraint(
                condition=Q(team_learned_after_stop="yes")
                | (
                    Q(learned_date__isnull=True)
                    & Q(learned_age_years__isnull=True)
                    & Q(learned_days_from_first_msc__isnull=True)
                ),
                name="learning_time_only_when_learned_after",
                violation_error_message="Give when the team learned of the stop only if it learned of it afterwards.",
            ),
        ]

    def __str__(self):
        name = self.drug_detail if self.drug == Drug.OTHER else self.get_drug_display()
        return f"{name} ({self.get_relation_to_msc_display().lower()})"

    def save(self, *args, **kwargs):
        if not self.drug_class:
            self.drug_class = DEFAULT_CLASS.get(self.drug, DrugClass.OTHER)
        super().save(*args, **kwargs)

    @property
    def was_stopped(self):
        return bool(self.reason_stopped) or any(
            v is not None for v in (self.stop_date, self.stop_age_years, self.stop_days_from_first_msc)
        )

    def clean(self):
        errors = {}
        if self.drug == Drug.OTHER and not self.drug_detail:
            errors["drug_detail"] = "Say which drug when you choose 'Other'."
        for suffix, what in (("date", "date"), ("age_years", "age"), ("days_from_first_msc", "day")):
            start, stop = getattr(self, f"start_{suffix}"), getattr(self, f"stop_{suffix}")
            if start is not None and stop is not None and stop < start:
                errors[f"stop_{suffix}"] = f"Stop {what} cannot be before the start {what}."
        if self.team_knew_before_stop == "yes" and self.team_learned_after_stop == "yes":
            errors["team_learned_after_stop"] = (
                "The team either knew before the stop or learned of it afterwards, not both."
            )
        learned = (self.learned_date, self.learned_age_years, self.learned_days_from_first_msc)
        if self.team_learned_after_stop != "yes" and any(v is not None for v in learned):
            errors["learned_days_from_first_msc"] = (
                "Give when the team learned of the stop only if it learned of it afterwards."
            )
        if self.is_ongoing and self.was_stopped:
            errors["is_ongoing"] = "An ongoing course cannot have a stop time or a reason for stopping."
        if errors:
            raise ValidationError(errors)
