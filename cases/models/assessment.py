"""Disease activity at a point in time, with who observed each value."""

from django.db import models

from ..querysets import ActiveManager, ClinicalQuerySet
from .common import (
    Abstracted,
    PointTiming,
    ValueSource,
    Versioned,
    Withdrawable,
    audit_history,
    between,
    range_check,
    timing_checks,
    withdrawal_check,
)
from .patient import AnaPattern, Patient, TitreComparator


class Timepoint(models.TextChoices):
    BEFORE_MSC = "before_msc", "Before MSC (baseline)"
    AFTER_MSC = "after_msc", "After MSC"
    FOLLOW_UP = "follow_up", "Latest follow-up"
    OTHER = "other", "Other"


class JadasVariant(models.TextChoices):
    JADAS10 = "jadas10", "JADAS-10"
    JADAS27 = "jadas27", "JADAS-27"
    JADAS71 = "jadas71", "JADAS-71"
    CJADAS10 = "cjadas10", "cJADAS-10 (clinical, no ESR)"
    UNSPECIFIED = "unspecified", "Not specified by the source"


def source_field(what):
    return models.CharField(
        f"{what}: source",
        max_length=20,
        choices=ValueSource.choices,
        blank=True,
        help_text="Reported by the family, documented by the team, or measured by a laboratory.",
    )


def score_field(verbose, low, high, what, digits=4, places=1):
    return models.DecimalField(
        verbose,
        max_digits=digits,
        decimal_places=places,
        null=True,
        blank=True,
        validators=between(low, high, what),
        help_text=f"{low}-{high}.",
    )


class Assessment(Withdrawable, Versioned, PointTiming, Abstracted):
    """One assessment. Each score carries its source: the paper's benefit was 'reported rather than
    documented', and a reader must be able to tell the two apart."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="assessments")
    timepoint = models.CharField(max_length=12, choices=Timepoint.choices, default=Timepoint.OTHER)

    patient_global = score_field("patient/parent global assessment (0-10)", 0, 10, "Patient global assessment", 3)
    patient_global_source = source_field("patient global")
    physician_global = score_field("physician global assessment (0-10)", 0, 10, "Physician global assessment", 3)
    physician_global_source = source_field("physician global")
    sledai2k = models.PositiveSmallIntegerField(
        "SLEDAI-2K", null=True, blank=True, validators=between(0, 105, "SLEDAI-2K"), help_text="0-105."
    )
    sledai2k_source = source_field("SLEDAI-2K")
    jadas = score_field("JADAS score", 0, 101, "JADAS")
    jadas_variant = models.CharField("JADAS variant", max_length=12, choices=JadasVariant.choices, blank=True)
    jadas_source = source_field("JADAS")
    mrss = score_field("modified Rodnan skin score", 0, 51, "Modified Rodnan skin score")
    mrss_source = source_field("mRSS")
    esr_mm_per_h = models.PositiveSmallIntegerField(
        "ESR (mm/h)", null=True, blank=True, validators=between(0, 200, "ESR"), help_text="0-200 mm/h."
    )
    esr_normal = models.BooleanField("ESR normal", null=True, blank=True, help_text="When only 'normalised' is known.")
    esr_source = source_field("ESR")
    crp_mg_per_l = models.DecimalField(
        "CRP (mg/L)", max_digits=6, decimal_places=1, null=True, blank=True, validators=between(0, 1000, "CRP")
    )
    crp_source = source_field("CRP")
    ck_u_per_l = models.PositiveIntegerField(
        "CK (U/L)", null=True, blank=True, validators=between(0, 500000, "CK"), help_text="Creatine kinase, U/L."
    )
    ck_source = source_field("CK")
    ana_titre = models.PositiveIntegerField(
        "ANA titre (1:x)", null=True, blank=True, validators=between(1, 100000, "ANA titre")
    )
    ana_titre_comparator = models.CharField(
        "ANA titre qualifier", max_length=5, choices=TitreComparator.choices, default=TitreComparator.EQUAL
    )
    ana_titre_upper = models.PositiveIntegerField(
        "ANA titre upper (1:x)",
        null=True,
        blank=True,
        validators=between(1, 100000, "ANA titre upper"),
        help_text="For a range such as 1:80-160.",
    )
    ana_pattern = models.CharField("ANA pattern", max_length=12, choices=AnaPattern.choices, blank=True)
    ana_source = source_field("ANA")
    dlco_percent_predicted = score_field("DLCO (% predicted)", 0, 200, "DLCO", 5)
    dlco_source = source_field("DLCO")
    bmi = score_field("BMI (kg/m²)", 5, 80, "BMI")
    bmi_source = source_field("BMI")
    imaging_findings = models.TextField(blank=True)
    imaging_source = source_field("imaging")
    clinical_findings = models.TextField(blank=True, help_text="e.g. resolution of myositis and arthritis.")

    objects = ActiveManager.from_queryset(ClinicalQuerySet)()
    all_objects = ClinicalQuerySet.as_manager()
    history = audit_history()

    class Meta:
        ordering = ["patient", "days_from_first_msc", "age_years", "id"]
        constraints = [
            *timing_checks("assessment", ""),
            withdrawal_check("assessment"),
            range_check("patient_global", 0, 10, "patient_global_between_0_and_10"),
            range_check("physician_global", 0, 10, "physician_global_between_0_and_10"),
            range_check("sledai2k", 0, 105, "sledai2k_between_0_and_105"),
            range_check("jadas", 0, 101, "jadas_between_0_and_101"),
            range_check("mrss", 0, 51, "mrss_between_0_and_51"),
            range_check("esr_mm_per_h", 0, 200, "esr_between_0_and_200"),
            range_check("crp_mg_per_l", 0, 1000, "crp_between_0_and_1000"),
            range_check("dlco_percent_predicted", 0, 200, "dlco_between_0_and_200"),
            range_check("bmi", 5, 80, "bmi_between_5_and_80"),
            range_check("ana_titre", 1, 100000, "assessment_ana_titre_between_1_and_100000"),
            range_check("ana_titre_upper", 1, 100000, "assessment_ana_titre_upper_between_1_and_100000"),
            range_check("ck_u_per_l", 0, 500000, "ck_between_0_and_500000"),
            models.CheckConstraint(
                condition=models.Q(ana_titre_upper__isnull=True)
                | models.Q(ana_titre__isnull=False, ana_titre_upper__gte=models.F("ana_titre")),
                name="ana_titre_upper_not_below_lower",
                violation_error_message="The upper ANA titre must be at least the lower one.",
            ),
        ]

    def __str__(self):
        return f"{self.get_timepoint_display()} assessment"

    def clean(self):
        from django.core.exceptions import ValidationError

        errors = {}
        if self.ana_titre_upper is not None and (self.ana_titre is None or self.ana_titre_upper < self.ana_titre):
            errors["ana_titre_upper"] = "The upper ANA titre must be at least the lower one."
        if self.jadas is not None and not self.jadas_variant:
            errors["jadas_variant"] = "Say which JADAS variant the score is."
        if errors:
            raise ValidationError(errors)
