"""The consent checks: whether a case has a consent basis (asked before it is submitted and shown on
the case page), and which cases need consent at the age of majority (due work on the dashboard).

The basis itself is defined with the Consent model (cases.models.consent)."""

from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from ..models import Assessment, Consent, ConsentKind, MedicationCourse, MscAdministration, Patient, PreviousDiagnosis
from ..models.consent import AGE_OF_MAJORITY, BASIS_KINDS, WithdrawalScope, age_today, reaches_majority_within

NO_BASIS = (
    "No consent basis is recorded. Add the parents' permission, the patient's consent at 18, the journal's "
    "consent for publication or the ethics board's waiver, covering registry data, before submitting."
)


def consent_basis_missing(patient):
    """NO_BASIS when the case has no consent basis, else ''. Reads `patient.consents`, so a page that
    prefetched them asks nothing more."""
    for consent in patient.consents.all():
        fully_withdrawn = consent.is_consent_withdrawn and consent.withdrawal_scope == WithdrawalScope.ALL
        if consent.kind in BASIS_KINDS and consent.covers_registry_data and not fully_withdrawn:
            return ""
    return NO_BASIS


#: The records whose date and age, together, tell the patient's age on that date.
DATED_AGES = (
    (MscAdministration, "product__patient_id", "date", "age_years"),
    (Assessment, "patient_id", "date", "age_years"),
    (PreviousDiagnosis, "patient_id", "date", "age_years"),
    (MedicationCourse, "patient_id", "start_date", "start_age_years"),
    (MedicationCourse, "patient_id", "stop_date", "stop_age_years"),
)


@dataclass
class MajorityDue:
    patient: Patient
    age: Decimal | None  # today, derived; None = unknown

    @property
    def age_text(self):
        return "unknown" if self.age is None else f"{self.age} years"

    @property
    def is_adult(self):
        return self.age is not None and self.age >= AGE_OF_MAJORITY


def consent_at_majority_due(cases, within_days=365, today=None):
    """The cases (a Patient queryset) without a consent-at-majority record whose patient is 18, or will
    be within `within_days`, by the age derived from the registry's dated records; then, apart, the
    number of such cases whose age today cannot be derived. Two queries, whatever the number of cases."""
    today = today or timezone.localdate()
    waiting = cases.exclude(consents__in=Consent.objects.filter(kind=ConsentKind.CONSENT_AT_MAJORITY)).order_by()
    ids = waiting.values("pk")
    dated = {}
    parts = [
        model.objects.filter(**{f"{patient_field}__in": ids, f"{date_field}__isnull": False})
        .filter(**{f"{age_field}__isnull": False})
        .values_list(patient_field, date_field, age_field)
        .order_by()
        for model, patient_field, date_field, age_field in DATED_AGES
    ]
    for patient_id, day, age in parts[0].union(*parts[1:], all=True):  # one query for every kind
        dated.setdefault(patient_id, []).append((day, age))
    due, unknown = [], 0
    for patient in waiting.select_related("centre"):
        age = age_today(dated.get(patient.pk, []), today)
        if age is None:
            unknown += 1
        elif reaches_majority_within(age, within_days):
            due.append(MajorityDue(patient, age))
    due.sort(key=lambda item: (-item.age, item.patient.study_id))
    return due, unknown
