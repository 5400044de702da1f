"""The registry case: a de-identified child with refractory rheumatic disease who received MSC."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse

from registry.models import Centre

from ..querysets import ActiveManager, ClinicalQuerySet, PatientQuerySet
from .common import (
    Abstracted,
    Currency,
    PointTiming,
    TestResult,
    Versioned,
    Withdrawable,
    YesNoUnknown,
    audit_history,
    between,
    non_negative,
    positive_check,
    range_check,
    timing_checks,
    withdrawal_check,
    yes_no_unknown,
)


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Unknown"


class Diagnosis(models.TextChoices):
    SLE = "sle", "Systemic lupus erythematosus (SLE)"
    MCTD = "mctd", "Mixed connective tissue disease (MCTD)"
    JIA = "jia", "Juvenile idiopathic arthritis (JIA)"
    UCTD = "uctd", "Undifferentiated connective tissue disease (UCTD)"
    JDM = "jdm", "Juvenile dermatomyositis"
    SSC = "ssc", "Systemic sclerosis"
    VASCULITIS = "vasculitis", "Vasculitis"
    OTHER = "other", "Other"


class JiaCategory(models.TextChoices):
    """ILAR classification of JIA."""

    SYSTEMIC = "systemic", "Systemic arthritis"
    OLIGO_PERSISTENT = "oligo_persistent", "Oligoarthritis, persistent"
    OLIGO_EXTENDED = "oligo_extended", "Oligoarthritis, extended"
    POLY_RF_NEGATIVE = "poly_rf_negative", "Polyarthritis, RF negative"
    POLY_RF_POSITIVE = "poly_rf_positive", "Polyarthritis, RF positive"
    PSORIATIC = "psoriatic", "Psoriatic arthritis"
    ENTHESITIS = "enthesitis", "Enthesitis-related arthritis"
    UNDIFFERENTIATED = "undifferentiated", "Undifferentiated arthritis"
    NOT_STATED = "not_stated", "Not stated"


class ClassificationCriteria(models.TextChoices):
    ACR_1997 = "acr_1997", "ACR 1997 revised (SLE)"
    SLICC_2012 = "slicc_2012", "SLICC 2012 (SLE)"
    EULAR_ACR_2019 = "eular_acr_2019", "EULAR/ACR 2019 (SLE)"
    ILAR = "ilar", "ILAR (JIA)"
    KASUKAWA = "kasukawa", "Kasukawa (MCTD)"
    ACR_EULAR_2013_SSC = "acr_eular_2013_ssc", "ACR/EULAR 2013 (systemic sclerosis)"
    NONE = "none", "None met"
    NOT_STATED = "not_stated", "Not stated"


class AnaPattern(models.TextChoices):
    SPECKLED = "speckled", "Speckled"
    HOMOGENEOUS = "homogeneous", "Homogeneous"
    NUCLEOLAR = "nucleolar", "Nucleolar"
    CENTROMERE = "centromere", "Centromere"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Unknown"


class TitreComparator(models.TextChoices):
    EQUAL = "eq", "="
    GREATER = "gt", ">"
    RANGE = "range", "range (to upper titre)"


class MscDecision(models.TextChoices):
    REFERRED_BY_TEAM = "referred_by_team", "Referred by the rheumatology team"
    FAMILY_DECISION = "family_decision", "Family's own decision"
    AGAINST_MEDICAL_ADVICE = "against_medical_advice", "Against medical advice"
    CLINICAL_TRIAL = "clinical_trial", "Enrolled in a clinical trial"
    UNKNOWN = "unknown", "Unknown"


class FundingSource(models.Model):
    """How a family paid (savings, sold car, re-mortgage...): a short vocabulary kept as rows so a
    case can tick several, as a REDCap checkbox field would."""

    code = models.CharField(max_length=32, primary_key=True)
    label = models.CharField(max_length=100)

    class Meta:
        ordering = ["label"]

    def __str__(self):
        return self.label


class ReviewStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted for review"
    VERIFIED = "verified", "Verified (locked)"


FUNDING_SOURCES = [
    ("savings", "Savings"),
    ("sold_property_or_car", "Sold property or car"),
    ("remortgage", "Re-mortgaged home"),
    ("loan", "Loan"),
    ("crowdfunding", "Crowdfunding"),
    ("insurance", "Insurance"),
    ("out_of_pocket_unspecified", "Out of pocket, means not stated"),
]


def seed_funding_sources(apps, **kwargs):
    """Called by migration 0002 and after every migrate or flush (see CasesConfig.ready)."""
    FundingSource = apps.get_model("cases", "FundingSource")
    for code, label in FUNDING_SOURCES:
        FundingSource.objects.update_or_create(code=code, defaults={"label": label})


class Patient(Withdrawable, Versioned, Abstracted):
    """A registry case. De-identified by design: no names, record numbers or dates of birth."""

    centre = models.ForeignKey(Centre, on_delete=models.PROTECT, related_name="patients")
    study_id = models.CharField(
        "study ID",
        max_length=20,
        help_text="Registry number, unique within the centre. Never a name or hospital number.",
    )
    sex = models.CharField(max_length=8, choices=Sex.choices, default=Sex.UNKNOWN)
    review_status = models.CharField(max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The clinician who entered the case; data queries go to them by default.",
    )

    diagnosis = models.CharField(
        "current diagnosis",
        max_length=12,
        choices=Diagnosis.choices,
        help_text="The diagnosis now; earlier diagnoses are kept as previous diagnoses.",
    )
    diagnosis_detail = models.CharField(max_length=200, blank=True, help_text="Needed when the diagnosis is 'Other'.")
    jia_category = models.CharField(
        "JIA category (ILAR)",
        max_length=20,
        choices=JiaCategory.choices,
        blank=True,
        help_text="Only for JIA.",
    )
    classification_criteria = models.CharField(
        max_length=20, choices=ClassificationCriteria.choices, default=ClassificationCriteria.NOT_STATED
    )
    criteria_items = models.TextField(
        "criteria items met", blank=True, help_text="e.g. malar rash, discoid rash, arthritis, ANA, haematological."
    )
    age_at_onset_years = models.DecimalField(
        "age at onset (years)",
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=between(0, 21, "Age at onset"),
        help_text="0-21 years.",
    )
    age_at_diagnosis_years = models.DecimalField(
        "age at current diagnosis (years)",
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=between(0, 30, "Age at diagnosis"),
        help_text="0-30 years.",
    )
    age_at_first_msc_years = models.DecimalField(
        "age at first MSC (years)",
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=between(0, 30, "Age at first MSC"),
        help_text="0-30 years. Needed only when no record gives it: the first MSC administration's age, or "
        "another record's age with its date or time from the first MSC.",
    )
    age_at_last_follow_up_years = models.DecimalField(
        "age at last follow-up (years)",
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=between(0, 30, "Age at last follow-up"),
        help_text="0-30 years.",
    )
    family_history = models.TextField(blank=True, help_text="Autoimmune disease in relatives.")

    # Serology at diagnosis (later titres are recorded on assessments).
    ana_titre = models.PositiveIntegerField(
        "ANA titre (1:x)",
        null=True,
        blank=True,
        validators=between(1, 100000, "ANA titre"),
        help_text="The denominator: 160 for 1:160.",
    )
    ana_titre_comparator = models.CharField(
        "ANA titre qualifier", max_length=5, choices=TitreComparator.choices, default=TitreComparator.EQUAL
    )
    ana_pattern = models.CharField("ANA pattern", max_length=12, choices=AnaPattern.choices, blank=True)
    anti_dsdna = models.CharField("anti-dsDNA", max_length=10, choices=TestResult.choices, default=TestResult.UNKNOWN)
    anti_ena = models.CharField("ENA", max_length=10, choices=TestResult.choices, default=TestResult.UNKNOWN)
    anti_rnp = models.CharField("anti-RNP", max_length=10, choices=TestResult.choices, default=TestResult.UNKNOWN)
    rheumatoid_factor = models.CharField("RF", max_length=10, choices=TestResult.choices, default=TestResult.UNKNOWN)
    anti_ccp = models.CharField("anti-CCP", max_length=10, choices=TestResult.choices, default=TestResult.UNKNOWN)
    hla_b27 = models.CharField("HLA-B27", max_length=10, choices=TestResult.choices, default=TestResult.UNKNOWN)

    # How the family came to MSC, and who knew.
    msc_decision = models.CharField(
        "how the MSC decision was made", max_length=24, choices=MscDecision.choices, default=MscDecision.UNKNOWN
    )
    team_knew_before_msc = models.CharField(
        "rheumatology team knew before MSC", max_length=8, choices=YesNoUnknown.choices, blank=True, default=""
    )
    team_counselled_against = models.CharField(
        "team counselled against MSC", max_length=8, choices=YesNoUnknown.choices, blank=True, default=""
    )
    provider_communicated_with_team = models.CharField(
        "MSC provider communicated with the team",
        max_length=8,
        choices=YesNoUnknown.choices,
        blank=True,
        default="",
    )
    conventional_therapy_refused_after_msc = models.CharField(
        "conventional therapy refused after MSC",
        max_length=8,
        choices=YesNoUnknown.choices,
        blank=True,
        default="",
    )
    communication_notes = models.TextField(blank=True)

    serious_adverse_events = yes_no_unknown(
        "any serious adverse event after MSC",
        help_text="Serious as ICH E2A defines it: death, life-threatening, hospitalisation, disability, congenital "
        "anomaly or medically important; the events of special interest after cell therapy (infection, "
        "thromboembolism, ectopic tissue, malignancy) count when they are serious.",
    )

    # What it cost the family, overall (per-administration costs sit on each administration).
    total_cost_amount = models.DecimalField(
        "total cost to the family",
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=non_negative("Total cost"),
        help_text="All MSC treatment, travel included, if known.",
    )
    total_cost_currency = models.CharField(max_length=3, choices=Currency.choices, blank=True)
    total_cost_estimated = models.BooleanField(default=False)
    paid_out_of_pocket = models.CharField(
        "paid out of pocket by the family", max_length=8, choices=YesNoUnknown.choices, blank=True, default=""
    )
    funding_sources = models.ManyToManyField(
        FundingSource, blank=True, related_name="patients", help_text="How the family paid; tick all that apply."
    )
    cost_notes = models.TextField(blank=True)

    objects = ActiveManager.from_queryset(PatientQuerySet)()
    all_objects = PatientQuerySet.as_manager()
    history = audit_history(m2m_fields=[funding_sources])

    class Meta:
        ordering = ["centre__code", "study_id"]
        permissions = [
            ("submit_patient", "Can submit a case for review"),
            ("verify_patient", "Can verify a case (electronic signature)"),
            ("unlock_patient", "Can unlock a verified case"),
            ("export_registry", "Can export registry data"),
            ("export_identifiable", "Can export identifiable data (dates, free text)"),
            ("import_registry", "Can import spreadsheets"),
            ("see_all_centres", "Can see the cases of every centre"),
            ("view_history", "Can read the audit history of a case"),
            ("restore_withdrawn", "Can see and restore withdrawn records"),
        ]
        # The case list's default order (study ID first) reads the first page from this index instead
        # of sorting every case.
        # The number of cases a user sees (list pages, dashboard) is counted from the second, without
        # reading the table (once VACUUM has set the visibility map).
        indexes = [
            models.Index(fields=["study_id"], name="patient_study_id"),
            models.Index(fields=["centre"], condition=Q(withdrawn_at__isnull=True), name="patient_active_by_centre"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["centre", "study_id"],
                name="study_id_unique_per_centre",
                violation_error_message="This study ID is already used in this centre.",
            ),
            models.CheckConstraint(
                condition=~Q(study_id=""), name="study_id_not_empty", violation_error_message="Give a study ID."
            ),
            range_check("age_at_onset_years", 0, 21, "age_at_onset_between_0_and_21"),
            range_check("age_at_diagnosis_years", 0, 30, "age_at_diagnosis_between_0_and_30"),
            range_check("age_at_first_msc_years", 0, 30, "age_at_first_msc_between_0_and_30"),
            range_check("age_at_last_follow_up_years", 0, 30, "age_at_follow_up_between_0_and_30"),
            positive_check("total_cost_amount", "total_cost_not_negative", strictly=False),
            range_check("ana_titre", 1, 100000, "ana_titre_between_1_and_100000"),
            withdrawal_check("patient"),
            models.CheckConstraint(
                condition=Q(total_cost_amount__isnull=True) | ~Q(total_cost_currency=""),
                name="total_cost_has_currency",
                violation_error_message="Give the currency of the total cost.",
            ),
            models.CheckConstraint(
                condition=Q(jia_category="") | Q(diagnosis=Diagnosis.JIA),
                name="jia_category_only_for_jia",
                violation_error_message="A JIA category only applies to a diagnosis of JIA.",
            ),
            models.CheckConstraint(
                condition=Q(age_at_onset_years__isnull=True)
                | Q(age_at_diagnosis_years__isnull=True)
                | Q(age_at_diagnosis_years__gte=models.F("age_at_onset_years")),
                name="diagnosis_not_before_onset",
                violation_error_message="Age at diagnosis cannot be before age at onset.",
            ),
        ]

    def __str__(self):
        return f"{self.study_id} ({self.get_diagnosis_display()})"

    def get_absolute_url(self):
        return reverse("cases:patient-detail", args=[self.pk])

    def natural_key(self):
        return (self.centre.code, self.study_id)

    natural_key.dependencies = ["registry.centre"]

    def clean(self):
        errors = {}
        if self.jia_category and self.diagnosis != Diagnosis.JIA:
            errors["jia_category"] = "A JIA category only applies to a diagnosis of JIA."
        if self.diagnosis == Diagnosis.OTHER and not self.diagnosis_detail:
            errors["diagnosis_detail"] = "Say which diagnosis when you choose 'Other'."
        if (
            self.age_at_onset_years is not None
            and self.age_at_diagnosis_years is not None
            and self.age_at_diagnosis_years < self.age_at_onset_years
        ):
            errors["age_at_diagnosis_years"] = "Age at diagnosis cannot be before age at onset."
        if self.total_cost_amount is not None and not self.total_cost_currency:
            errors["total_cost_currency"] = "Give the currency of the total cost."
        if errors:
            raise ValidationError(errors)

    @property
    def is_locked(self):
        return self.review_status == ReviewStatus.VERIFIED

    @property
    def is_draft(self):
        return self.review_status == ReviewStatus.DRAFT

    @property
    def age_at_first_msc(self):
        """The age at the first MSC administration and where it comes from (`cases.timing.AgeAtFirstMsc`),
        or None. Reads the case's administrations and assessments, prefetched when there are many cases."""
        from ..timing import Moment, age_at_first_msc, first_msc

        administrations = [a for product in self.products.all() for a in product.administrations.all()]
        others = [(f"MSC administration #{a.sequence}", Moment.of(a)) for a in administrations]
        others += [(f"the assessment '{a.get_timepoint_display()}'", Moment.of(a)) for a in self.assessments.all()]
        return age_at_first_msc(first_msc(administrations), self.age_at_first_msc_years, others)

    @property
    def ana_titre_display(self):
        if self.ana_titre is None:
            return ""
        prefix = ">" if self.ana_titre_comparator == TitreComparator.GREATER else ""
        return f"{prefix}1:{self.ana_titre}"


class PreviousDiagnosis(Withdrawable, Versioned, PointTiming, Abstracted):
    """How the diagnosis evolved (case 1: idiopathic scleritis, then UCTD, then SLE)."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="previous_diagnoses")
    diagnosis = models.CharField(max_length=12, choices=Diagnosis.choices)
    diagnosis_detail = models.CharField(max_length=200, blank=True)
    note = models.TextField(blank=True, help_text="What led to the diagnosis and why it changed.")

    objects = ActiveManager.from_queryset(ClinicalQuerySet)()
    all_objects = ClinicalQuerySet.as_manager()
    history = audit_history()

    class Meta:
        ordering = ["patient", "age_years", "id"]
        verbose_name_plural = "previous diagnoses"
        constraints = [*timing_checks("previousdiagnosis", ""), withdrawal_check("previousdiagnosis")]

    def __str__(self):
        return f"{self.get_diagnosis_display()} {self.diagnosis_detail}".strip()
