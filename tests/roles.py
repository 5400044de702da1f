"""Fixtures for people in each role: a clinician and a reviewer of centre A, a clinician of
centre B, and a registry admin; plus a draft case of centre A with one record of each kind."""

import pytest
from django.contrib.auth.models import Group

from registry import roles
from tests.factories import (
    AdverseEventFactory,
    AssessmentFactory,
    CentreFactory,
    MedicationCourseFactory,
    MscAdministrationFactory,
    MscProductFactory,
    PatientFactory,
    PreviousDiagnosisFactory,
    UserFactory,
)

PASSWORD = "synthetic-password-123"


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
    """A draft case of centre A entered by the clinician, with one record of each kind."""
    patient = PatientFactory(centre=centre_a, study_id="SYN-A-0001", created_by=clinician)
    product = MscProductFactory(patient=patient)
    administration = MscAdministrationFactory(product=product)
    PreviousDiagnosisFactory(patient=patient)
    MedicationCourseFactory(patient=patient)
    AdverseEventFactory(patient=patient, administration=administration)
    AssessmentFactory(patient=patient)
    return patient
