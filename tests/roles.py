"""Fixtures for people in each role: a clinician and a reviewer of centre A, a clinician of
centre B, and a registry admin; plus a draft case of centre A with one record of each kind."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group

from cases.models import ChecklistStatement
from registry import roles
from tests.factories import (
    AdverseEventFactory,
    AssessmentFactory,
    CentreFactory,
    ConsentFactory,
    FollowUpStatusFactory,
    MedicationCourseFactory,
    MscAdministrationFactory,
    MscProductFactory,
    PatientFactory,
    PreviousDiagnosisFactory,
    UserFactory,
    VisitFactory,
)

PASSWORD = "synthetic-password-123"

# What a case, a product and an adverse event state so that their checklist items are complete.
COMPLETE_CASE_FACTS = {
    "provider_communicated_with_team": "no",
    "team_knew_before_msc": "no",
    "serious_adverse_events": "no",
}
COMPLETE_PRODUCT_FACTS = {
    "tissue_source": "umbilical_cord",
    "donor_type": "allogeneic_unrelated",
    "certificate_of_analysis": "yes",
    "passage_number": 3,
    "viability_percent": 95,
    "isct_phenotype_confirmed": "yes",
    "sterility_tested": "yes",
}
COMPLETE_EVENT_FACTS = {
    "attribution": "possible",
    "attributed_by": "rheumatology_team",
    "outcome": "recovered",
    "duration_days": 3,
}


def state_unknown(patient, *items):
    for item in items:
        ChecklistStatement.objects.create(patient=patient, item=item, statement="unknown", note="Synthetic.")


def state_none(patient, *items, follow_up_months=None):
    for item in items:
        ChecklistStatement.objects.create(
            patient=patient, item=item, statement="none", follow_up_months=follow_up_months, note="Synthetic."
        )


def complete_checklist(patient):
    """State 'unknown' for every checklist item a factory-built case leaves open."""
    from cases.quality.checklist import checklists

    result = checklists(type(patient).objects.filter(pk=patient.pk))[patient.pk]
    state_unknown(patient, *(i.item for i in result.missing if i.statement is None))
    return patient


def person(username, role, centres=(), **extra):
    user = UserFactory(username=username, centres=list(centres), **extra)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def centre_a(db):
    return CentreFactory(code="SYN-A", name="Synthetic centre A")


@pytest.fixture
def centre_b(db):
    return CentreFactory(code="SYN-B", name="Synthetic centre B")


@pytest.fixture
def clinician(centre_a):
    return person("clinician-a", roles.CLINICIAN, [centre_a])


@pytest.fixture
def other_clinician(centre_b):
    return person("clinician-b", roles.CLINICIAN, [centre_b])


@pytest.fixture
def reviewer(centre_a):
    return person("reviewer-a", roles.REVIEWER, [centre_a])


@pytest.fixture
def registry_admin(db):
    return person("registry-admin", roles.REGISTRY_ADMIN, is_staff=True)


@pytest.fixture
def case_a(centre_a, clinician):
    """A draft case of centre A entered by the clinician, with one record of each kind (two
    assessments: a baseline and one after MSC), and a
    complete safety-reporting checklist (so it can be submitted): values where the records hold
    them, an explicit 'unknown' or 'none' for the rest."""
    patient = PatientFactory(centre=centre_a, study_id="SYN-A-0001", created_by=clinician, **COMPLETE_CASE_FACTS)
    product = MscProductFactory(patient=patient, **COMPLETE_PRODUCT_FACTS)
    administration = MscAdministrationFactory(product=product, country="XX")
    PreviousDiagnosisFactory(patient=patient, age_years=Decimal("12.2"))
    MedicationCourseFactory(patient=patient)
    AdverseEventFactory(
        patient=patient, administration=administration, onset_days_from_first_msc=1, **COMPLETE_EVENT_FACTS
    )
    AssessmentFactory(
        patient=patient, timepoint="before_msc", patient_global=9, patient_global_source="family_reported"
    )
    AssessmentFactory(
        patient=patient,
        timepoint="after_msc",
        age_years=Decimal("13.5"),
        patient_global=7,
        patient_global_source="family_reported",
    )
    ConsentFactory(patient=patient)
    FollowUpStatusFactory(patient=patient, contact_age_years=Decimal("14.0"))
    VisitFactory(patient=patient)
    state_unknown(patient, "stopped_therapies", "flares", "cost")
    state_none(patient, "confounders")
    return patient
