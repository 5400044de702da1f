"""MSC providers, products and administrations, split as in the CIBMTR product and infusion forms."""

import unicodedata
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.signals import pre_save
from django.dispatch import receiver
from django.urls import reverse
from django_countries.fields import CountryField

from registry.countries import CountriesOrUnknown

from ..querysets import ActiveManager, ClinicalQuerySet
from .common import (
    Abstracted,
    Currency,
    PointTiming,
    Versioned,
    Withdrawable,
    YesNoUnknown,
    audit_history,
    between,
    non_negative,
    plain_number,
    positive,
    positive_check,
    range_check,
    timing_checks,
    withdrawal_check,
)
from .patient import Patient

DOSE_DISAGREEMENT_TOLERANCE = Decimal("0.10")


class ProviderKind(models.TextChoices):
    COMMERCIAL_CLINIC = "commercial_clinic", "Commercial clinic"
    ACADEMIC_CENTRE = "academic_centre", "Academic centre"
    CLINICAL_TRIAL = "clinical_trial", "Clinical trial"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Unknown"


def normalised(name):
    """A provider's name as duplicates are compared: case folded, accents stripped, spaces collapsed
    ("Clínica  REGENERA" and "clinica regenera" are one provider)."""
    decomposed = unicodedata.normalize("NFKD", str(name).casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


class MscProviderQuerySet(models.QuerySet):
    def get_by_natural_key(self, name, country):
        return self.get(name=name, country=country)

    def same_as(self, name, country):
        """The providers a new one named `name` in `country` would duplicate."""
        return self.filter(normalised_name=normalised(name), country=country)


class MscProvider(Versioned, Abstracted):
    """The clinic or company that prepared or gave the cells, shared across cases so that
    administrations and adverse events can be counted per provider."""

    name = models.CharField(max_length=200, help_text="As the family or the provider names it.")
    country = CountryField(countries=CountriesOrUnknown, help_text="Where it is based; Unknown if not stated.")
    kind = models.CharField(max_length=20, choices=ProviderKind.choices, default=ProviderKind.UNKNOWN)
    note = models.TextField(blank=True)
    normalised_name = models.CharField(
        max_length=200, editable=False, default="", help_text="The name as duplicates are compared (`normalised`)."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, editable=False, related_name="+"
    )

    objects = MscProviderQuerySet.as_manager()
    history = audit_history()

    class Meta:
        ordering = ["name"]
        verbose_name = "MSC provider"
        constraints = [
            models.UniqueConstraint(
                fields=["normalised_name", "country"],
                name="provider_unique_name_per_country",
                violation_error_message="A provider with this name already exists in this country.",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.country})"

    def get_absolute_url(self):
        """Providers are shared by every centre's products and kept by registry admins in the admin."""
        return reverse("admin:cases_mscprovider_change", args=[self.pk])

    def natural_key(self):
        return (self.name, self.country)

    def products_in_history(self):
        """Products whose audit history names this provider, deleted or re-assigned ones included.

        Their history rows keep the provider's id and nothing else, so deleting the provider would
        leave what the records said unreadable: such a provider is kept, like one a product still
        names (PROTECT)."""
        rows = MscProduct.history.filter(provider_id=self.pk).order_by("id", "-history_date", "-history_id")
        latest = {}
        for row in rows.only("id", "label"):
            latest.setdefault(row.id, row)
        return list(latest.values())

    def delete(self, *args, **kwargs):
        named = self.products_in_history()
        if named:
            raise models.ProtectedError(
                f"MSC provider {self} cannot be deleted: the records of {len(named)} MSC product(s) name it.", named
            )
        return super().delete(*args, **kwargs)

    def clean(self):
        # The unique constraint reads normalised_name, which no form shows (so Django skips it):
        # the same rule is checked here, with its message next to the name.
        if self.name and self.country:
            existing = MscProvider.objects.same_as(self.name, self.country).exclude(pk=self.pk).first()
            if existing is not None:
                raise ValidationError({"name": self.duplicate_message(existing)}, code="duplicate_provider")

    @staticmethod
    def duplicate_message(existing):
        return f"A provider named {existing.name} in {existing.country.name} already exists: choose it from the list."


@receiver(pre_save, sender=MscProvider)
def set_normalised_name(sender, instance, **kwargs):
    """On every save, loaddata's raw saves included (they bypass save())."""
    instance.normalised_name = normalised(instance.name)


class TissueSource(models.TextChoices):
    ADIPOSE = "adipose", "Adipose tissue"
    BONE_MARROW = "bone_marrow", "Bone marrow"
    UMBILICAL_CORD = "umbilical_cord", "Umbilical cord tissue"
    WHARTONS_JELLY = "whartons_jelly", "Wharton's jelly"
    PLACENTA = "placenta", "Placenta"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Unknown"


class DonorType(models.TextChoices):
    AUTOLOGOUS = "autologous", "Autologous"
    ALLOGENEIC_RELATED = "allogeneic_related", "Allogeneic, related donor"
    ALLOGENEIC_UNRELATED = "allogeneic_unrelated", "Allogeneic, unrelated donor"
    ALLOGENEIC = "allogeneic", "Allogeneic, donor relation not stated"
    UNKNOWN = "unknown", "Unknown"


class Storage(models.TextChoices):
    FRESH = "fresh", "Fresh"
    CRYOPRESERVED = "cryopreserved", "Cryopreserved"
    UNKNOWN = "unknown", "Unknown"


class RegulatoryStatus(models.TextChoices):
    APPROVED = "approved", "Approved product"
    CLINICAL_TRIAL = "clinical_trial", "Clinical trial"
    UNREGULATED_COMMERCIAL = "unregulated_commercial", "Unregulated commercial"
    UNKNOWN = "unknown", "Unknown"


class CertificateOfAnalysis(models.TextChoices):
    """Whether one was obtained: passage, viability, phenotype and sterility are asked only if so."""

    YES = "yes", "Yes, a certificate was obtained"
    VERBAL_CLAIM = "verbal_claim", "Verbal claim only"
    NO = "no", "No"
    UNKNOWN = "unknown", "Unknown"


class MscProduct(Withdrawable, Versioned, Abstracted):
    """A cell product as prepared; its administrations are recorded separately."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="products")
    label = models.CharField(max_length=100, help_text="How the case refers to it, e.g. 'adipose MSC, 1st course'.")
    provider = models.ForeignKey(MscProvider, on_delete=models.PROTECT, null=True, blank=True, related_name="products")
    tissue_source = models.CharField(max_length=16, choices=TissueSource.choices, default=TissueSource.UNKNOWN)
    donor_type = models.CharField(max_length=24, choices=DonorType.choices, default=DonorType.UNKNOWN)
    harvest_procedure = models.CharField(
        max_length=200, blank=True, help_text="e.g. liposuction; cord after caesarean birth."
    )
    preparation_country = CountryField(
        "country of preparation",
        countries=CountriesOrUnknown,
        blank=True,
        help_text="Unknown if the source does not say.",
    )
    passage_number = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=between(0, 50, "Passage number"), help_text="0-50; blank if not stated."
    )
    viability_percent = models.DecimalField(
        "viability (%)",
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=between(0, 100, "Viability"),
        help_text="0-100 %.",
    )
    certificate_of_analysis = models.CharField(
        max_length=12, choices=CertificateOfAnalysis.choices, blank=True, help_text=CertificateOfAnalysis.__doc__
    )
    isct_phenotype_confirmed = models.CharField(
        "ISCT phenotype (CD73/CD90/CD105) confirmed",
        max_length=8,
        choices=YesNoUnknown.choices,
        default=YesNoUnknown.UNKNOWN,
    )
    sterility_tested = models.CharField(max_length=8, choices=YesNoUnknown.choices, default=YesNoUnknown.UNKNOWN)
    storage = models.CharField(
        "fresh or cryopreserved", max_length=16, choices=Storage.choices, default=Storage.UNKNOWN
    )
    regulatory_status = models.CharField(
        max_length=24, choices=RegulatoryStatus.choices, default=RegulatoryStatus.UNKNOWN
    )
    provider_claims = models.TextField(blank=True, help_text="What the provider says of the product, unverified.")

    objects = ActiveManager.from_queryset(ClinicalQuerySet)()
    all_objects = ClinicalQuerySet.as_manager()
    history = audit_history()

    class Meta:
        ordering = ["patient", "id"]
        verbose_name = "MSC product"
        constraints = [
            range_check("viability_percent", 0, 100, "viability_between_0_and_100"),
            withdrawal_check("mscproduct"),
            range_check("passage_number", 0, 50, "passage_between_0_and_50"),
        ]

    def __str__(self):
        return f"{self.label}: {self.get_donor_type_display().lower()} {self.get_tissue_source_display().lower()}"


class MscRoute(models.TextChoices):
    INTRAVENOUS = "intravenous", "Intravenous"
    INTRA_ARTICULAR = "intra_articular", "Intra-articular"
    INTRAOSSEOUS = "intraosseous", "Intraosseous"
    INTRALESIONAL = "intralesional", "Intralesional"
    INTRANASAL = "intranasal", "Intranasal"
    LYMPH_NODE = "lymph_node", "Lymph node"
    INTRAMUSCULAR = "intramuscular", "Intramuscular"
    INTRATHECAL = "intrathecal", "Intrathecal"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Unknown"


# Injections into a joint, a bone or a lesion are dosed in total cells, not per kg of body weight.
LOCAL_ROUTES = frozenset({MscRoute.INTRA_ARTICULAR, MscRoute.INTRAOSSEOUS, MscRoute.INTRALESIONAL})


class PaidBy(models.TextChoices):
    FAMILY = "family", "Family, out of pocket"
    INSURANCE = "insurance", "Insurance"
    CHARITY = "charity", "Charity or crowdfunding"
    TRIAL_SPONSOR = "trial_sponsor", "Trial sponsor"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Unknown"


def dose_per_kg(cells_millions, weight_kg):
    """Dose in 10^6 cells/kg, to three decimals: the single place this is computed."""
    if cells_millions is None or not weight_kg:
        return None
    return (Decimal(cells_millions) / Decimal(weight_kg)).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)


def dose_per_kg_text(dose):
    """Dose per kg as clinicians and the paper write it: one decimal ('2.0', '3.3'). A dose so small
    that one decimal would show 0.0 keeps two significant digits ('0.034'). static/js/dose.js
    writes the live preview the same way."""
    if dose is None:
        return ""
    dose = Decimal(dose)
    shown = dose.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    if shown == 0 and dose != 0:
        digits = dose.adjusted() - 1  # two significant digits: 0.034 -> exponent -3
        shown = dose.quantize(Decimal(1).scaleb(digits), rounding=ROUND_HALF_UP)
    return f"{shown:f}"


class MscAdministrationQuerySet(ClinicalQuerySet):
    centre_path = "product__patient__centre"
    case_path = "product__patient"


class MscAdministration(Withdrawable, Versioned, PointTiming, Abstracted):
    """One infusion or injection. Dose per kg is computed from cells and weight when both are known;
    a dose the source reports is kept as reported, and a disagreement is shown, never resolved."""

    product = models.ForeignKey(MscProduct, on_delete=models.PROTECT, related_name="administrations")
    sequence = models.PositiveSmallIntegerField(
        "number",
        validators=between(1, 100, "Administration number"),
        help_text="1 for the first administration of the case, 2 for the next...",
    )
    route = models.CharField(max_length=16, choices=MscRoute.choices)
    anatomical_site = models.CharField(max_length=200, blank=True, help_text="e.g. both femoral heads, left elbow.")
    cells_millions = models.DecimalField(
        "cells (x10^6)",
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=positive("Cells"),
        help_text="Total cells given, in millions; greater than 0.",
    )
    volume_ml = models.DecimalField(
        "volume (mL)", max_digits=7, decimal_places=2, null=True, blank=True, validators=positive("Volume")
    )
    weight_kg = models.DecimalField(
        "patient weight (kg)",
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=between(1, 250, "Weight"),
        help_text="1-250 kg, on the day.",
    )
    reported_dose_millions_per_kg = models.DecimalField(
        "reported dose (x10^6 cells/kg)",
        max_digits=7,
        decimal_places=3,
        null=True,
        blank=True,
        validators=positive("Reported dose"),
        help_text="As the source states it; greater than 0.",
    )
    clinic_name = models.CharField(max_length=200, blank=True, help_text="Where it was given, if not the provider.")
    country = CountryField(
        "country", countries=CountriesOrUnknown, blank=True, help_text="Where it was given; Unknown if not stated."
    )
    cost_amount = models.DecimalField(
        "cost", max_digits=12, decimal_places=2, null=True, blank=True, validators=non_negative("Cost")
    )
    cost_currency = models.CharField(max_length=3, choices=Currency.choices, blank=True)
    paid_by = models.CharField(max_length=16, choices=PaidBy.choices, default=PaidBy.UNKNOWN)
    team_informed_before = models.CharField(
        "rheumatology team informed before", max_length=8, choices=YesNoUnknown.choices, default=YesNoUnknown.UNKNOWN
    )
    note = models.TextField(blank=True)

    objects = ActiveManager.from_queryset(MscAdministrationQuerySet)()
    all_objects = MscAdministrationQuerySet.as_manager()
    history = audit_history()

    class Meta:
        ordering = ["product__patient", "sequence"]
        verbose_name = "MSC administration"
        constraints = [
            *timing_checks("mscadministration", ""),
            withdrawal_check("mscadministration"),
            positive_check("cells_millions", "cells_positive"),
            positive_check("volume_ml", "volume_positive"),
            positive_check("reported_dose_millions_per_kg", "reported_dose_positive"),
            positive_check("cost_amount", "administration_cost_not_negative", strictly=False),
            range_check("weight_kg", 1, 250, "weight_between_1_and_250"),
            range_check("sequence", 1, 100, "sequence_between_1_and_100"),
            models.CheckConstraint(
                condition=Q(cost_amount__isnull=True) | ~Q(cost_currency=""),
                name="cost_has_currency",
                violation_error_message="Give the currency of the cost.",
            ),
        ]

    def __str__(self):
        cells = f", {plain_number(self.cells_millions)}x10^6 cells" if self.cells_millions is not None else ""
        return f"#{self.sequence} {self.get_route_display().lower()}{cells}"

    @property
    def patient(self):
        return self.product.patient

    @property
    def computed_dose_millions_per_kg(self):
        return dose_per_kg(self.cells_millions, self.weight_kg)

    @property
    def dose_millions_per_kg(self):
        """The dose to report: computed when possible, otherwise as the source reported it."""
        computed = self.computed_dose_millions_per_kg
        return computed if computed is not None else self.reported_dose_millions_per_kg

    @property
    def dosed_per_kg(self):
        """Whether a dose per kg is expected: systemic routes only; a local injection is dosed in total cells."""
        return self.route not in LOCAL_ROUTES

    @property
    def dose_disagrees(self):
        """True when a reported dose and cells / weight differ by more than 10 %."""
        computed, reported = self.computed_dose_millions_per_kg, self.reported_dose_millions_per_kg
        if computed is None or reported is None:
            return False
        return abs(computed - reported) > DOSE_DISAGREEMENT_TOLERANCE * reported

    def clean(self):
        errors = {}
        if self.cost_amount is not None and not self.cost_currency:
            errors["cost_currency"] = "Give the currency of the cost."
        if errors:
            raise ValidationError(errors)
