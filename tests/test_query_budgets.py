"""Each list and case page runs a fixed number of SQL queries whatever the amount of data.

Each page is measured with 1 case and again with 50: the count must not grow with the data, and
must stay within its budget. Other pages (exports, summary table, data-quality run) add their own
budgets in their own tests.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import (
    AdverseEventFactory,
    AssessmentFactory,
    MedicationCourseFactory,
    MscAdministrationFactory,
    MscProductFactory,
    PatientFactory,
)

# Budgets, measured: each includes the queries every request makes for the session, the user, the
# two-factor check and the user's permissions (the session is no longer saved on every request:
# registry.security.protections renews its idle expiry at most once a minute, and this second request falls
# within that minute). The dashboard and case page carry the safety-reporting checklist; the list
# and dashboard count each case's administrations, events and open queries in subqueries of the
# page's own query (cases.querysets.PatientQuerySet.with_record_counts). The dashboard also lists the
# cases due consent at 18 (the cases, then their dated ages in one query) and reads every case's timed
# records once (one query per kind), shared by its overdue follow-up and its due visits (plus the visit
# schedule); the case page reads the case's consents, vital statuses, visits and
# the visit schedule; the cohort page reads every case's records once for its numbers, figures and safety
# rates. What matters most is that the count is the same with 1 case and with 50.
BUDGET = {
    "cases:dashboard": 36,
    "cases:patient-list": 9,
    "cases:patient-list-filtered": 9,
    "cases:patient-detail": 23,
    "cases:cohort": 20,
}
SIZES = (1, 50)


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


def url_for(name, case):
    if name == "cases:patient-detail":
        return reverse(name, args=[case.pk])
    if name == "cases:patient-list-filtered":
        return reverse("cases:patient-list") + "?diagnosis=sle&route=intravenous&serious_event=false&ordering=-events"
    return reverse(name)


def count_queries(client, url):
    client.get(url)  # warm the session and permission caches
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("name", sorted(BUDGET))
def test_page_runs_a_fixed_number_of_queries(name, client, clinician, centre_a):
    client.force_login(clinician)
    counts = {}
    cases = []
    for n in SIZES:
        cases += fill(centre_a, n - len(cases))
        counts[n] = count_queries(client, url_for(name, cases[-1]))
    assert counts[SIZES[0]] == counts[SIZES[-1]], f"{name}: the query count grows with the data: {counts}"
    assert counts[SIZES[-1]] <= BUDGET[name], f"{name}: {counts} queries, budget {BUDGET[name]}"
