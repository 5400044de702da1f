"""The checklist, the data-quality run, the summary table and the cohort page cost a fixed number of
SQL queries whatever the number of cases (1 or 50)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases.models import Patient
from cases.quality import discrepancies
from cases.quality.checklist import checklists
from cases.reports.summary import summary_table
from tests.factories import (
    AdverseEventFactory,
    AssessmentFactory,
    MedicationCourseFactory,
    MscAdministrationFactory,
    MscProductFactory,
    PatientFactory,
)

SIZES = (1, 50)
# Measured: the records of the cases in 12 queries (cases, then one per prefetched relation); the
# pages add 7 per request for the session, the user, the two-factor check and the permissions,
# the filter form (centre choices) and the case list's annotated query.
COMPUTE_BUDGET = 13
PAGE_BUDGET = {"cases:summary-table": 21, "cases:cohort": 21, "cases:data-quality": 20}


def fill(centre, n):
    for _ in range(n):
        patient = PatientFactory(centre=centre)
        product = MscProductFactory(patient=patient)
        for seq in (1, 2):
            administration = MscAdministrationFactory(product=product, sequence=seq, days_from_first_msc=seq * 30)
        AdverseEventFactory(patient=patient, administration=administration)
        MedicationCourseFactory(patient=patient)
        AssessmentFactory(patient=patient, patient_global=5, sledai2k=4)


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("compute", [discrepancies.run, checklists, summary_table])
def test_computations_run_a_fixed_number_of_queries(compute, n, centre_a, django_assert_max_num_queries):
    fill(centre_a, n)
    with django_assert_max_num_queries(COMPUTE_BUDGET):
        result = compute(Patient.objects.all())
    assert len(result if not isinstance(result, tuple) else result[1]) == n


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("name", sorted(PAGE_BUDGET))
def test_page_runs_a_fixed_number_of_queries(name, n, client, reviewer, centre_a, django_assert_max_num_queries):
    fill(centre_a, n)
    client.force_login(reviewer)
    url = reverse(name)
    client.get(url)  # warm the session and permission caches
    with django_assert_max_num_queries(PAGE_BUDGET[name]):
        response = client.get(url)
    assert response.status_code == 200


def test_one_case_and_fifty_cost_the_same(centre_a, client, reviewer):
    counts = []
    for n in SIZES:
        fill(centre_a, n if not counts else n - 1)
        client.force_login(reviewer)
        client.get(reverse("cases:data-quality"))
        with CaptureQueriesContext(connection) as queries:
            client.get(reverse("cases:data-quality"))
        counts.append(len(queries))
    assert counts[0] == counts[1]
