"""Each list and case page runs a fixed number of SQL queries whatever the amount of data."""

import pytest
from django.urls import reverse

from tests.factories import (
    AdverseEventFactory,
    AssessmentFactory,
    MedicationCourseFactory,
    MscAdministrationFactory,
    MscProductFactory,
    PatientFactory,
)

# Measured: 14, 12 and 20 queries with 1 case and with 30. Each includes 7 per request for the
# session (read, and the save that slides the idle timeout), the user, the two-factor check and
# the user's permissions.
BUDGET = {"cases:dashboard": 14, "cases:patient-list": 12, "cases:patient-detail": 20}


def fill(centre, n):
    cases = []
    for _ in range(n):
        patient = PatientFactory(centre=centre)
        product = MscProductFactory(patient=patient)
        for seq in (1, 2):
            administration = MscAdministrationFactory(product=product, sequence=seq)
        AdverseEventFactory(patient=patient, administration=administration)
        MedicationCourseFactory(patient=patient)
        AssessmentFactory(patient=patient)
        cases.append(patient)
    return cases


@pytest.mark.parametrize("n", [1, 30])
@pytest.mark.parametrize("name", sorted(BUDGET))
def test_page_runs_a_fixed_number_of_queries(name, n, client, clinician, centre_a, django_assert_max_num_queries):
    cases = fill(centre_a, n)
    client.force_login(clinician)
    url = reverse(name, args=[cases[-1].pk]) if name == "cases:patient-detail" else reverse(name)
    client.get(url)  # warm the session and permission caches
    with django_assert_max_num_queries(BUDGET[name]):
        assert client.get(url).status_code == 200
