"""Safety over time: event rates per 100 patient-years with exact Poisson intervals, checked against values
worked out by hand from chi-square tables; strata by the first MSC; the time from a stop to a flare with a
hand-computed Kaplan-Meier curve; and the cohort page, the command and the workbook sheet that show them."""

import csv
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from cases.models import EventCategory, MscRoute, Patient, TissueSource
from cases.reports.safety import Rate, kaplan_meier, rate_rows, safety_rates, time_to_flare
from tests.factories import (
    AdverseEventFactory,
    FollowUpStatusFactory,
    MedicationCourseFactory,
    MscAdministrationFactory,
    MscProductFactory,
    MscProviderFactory,
    PatientFactory,
)
from tests.test_exports import records, rows, xlsx


def test_three_events_in_twelve_and_a_half_patient_years_are_24_per_100_with_the_exact_interval():
    # Garwood: chi2(0.025; 6 df) = 1.2373 -> 0.6187 / 12.5 = 4.949 %; chi2(0.975; 8 df) = 17.535 -> 8.767 / 12.5.
    rate = Rate("All adverse events", 3, 12.5)
    assert rate.per_100 == pytest.approx(24.0)
    lower, upper = rate.interval
    assert lower == pytest.approx(4.949, abs=0.001)
    assert upper == pytest.approx(70.138, abs=0.001)


def test_no_event_has_a_lower_bound_of_zero_and_the_upper_bound_of_one_sided_chi_square():
    # chi2(0.975; 2 df) = 7.3778 -> 3.689 / 12.5 = 29.51 per 100 patient-years.
    lower, upper = Rate("Infections", 0, 12.5).interval
    assert lower == 0
    assert upper == pytest.approx(29.511, abs=0.001)


def test_kaplan_meier_steps_down_at_each_flare_and_keeps_censored_stops_at_risk():
    # Flares at 10 and 30, censored at 20 and 40: 4 at risk at day 10 (3/4), 2 at risk at day 30 (3/4 x 1/2).
    curve = kaplan_meier([(10, True), (20, False), (30, True), (40, False)])
    assert curve == [(0, 1.0), (10, 0.75), (30, pytest.approx(0.375))]


def treated(centre, provider, tissue, route, contact_days):
    patient = PatientFactory(centre=centre)
    product = MscProductFactory(patient=patient, provider=MscProviderFactory(name=provider), tissue_source=tissue)
    MscAdministrationFactory(product=product, sequence=1, route=route)
    FollowUpStatusFactory(patient=patient, contact_days_from_first_msc=contact_days)
    return patient


def event(patient, day, category=EventCategory.FEVER_FLU_LIKE, **values):
    return AdverseEventFactory(patient=patient, onset_days_from_first_msc=day, category=category, **values)


@pytest.fixture
def cohort(centre_a):
    """Case A: 4 patient-years (1461 days), 3 events in follow-up (one serious infection, one flare), one before
    MSC, one without a time. Case B: 8 patient-years (2922 days), 1 event. Case C: no MSC, follow-up unknown."""
    a = treated(centre_a, "Synthetic clinic one", TissueSource.ADIPOSE, MscRoute.INTRAVENOUS, 1461)
    event(a, 10)
    event(a, 100, EventCategory.INFECTION, required_hospitalisation=True)
    flare = event(a, 1000, EventCategory.DISEASE_FLARE, ctcae_grade=None)
    event(a, -30)
    event(a, None)
    stopped = MedicationCourseFactory(patient=a, stop_days_from_first_msc=-10, reason_stopped="family_decision")
    flare.preceding_withdrawals.add(stopped)
    MedicationCourseFactory(patient=a, stop_days_from_first_msc=61, reason_stopped="family_decision")
    b = treated(centre_a, "Synthetic clinic two", TissueSource.UMBILICAL_CORD, MscRoute.INTRA_ARTICULAR, 2922)
    event(b, 500)
    PatientFactory(centre=centre_a)
    return {"a": a, "b": b, "flare": flare}


def by_type(group):
    return {rate.event_type: rate for rate in group.rates}


@pytest.mark.django_db
def test_cohort_rates_count_events_from_first_msc_to_last_contact_and_report_those_without_a_time(cohort):
    report = safety_rates(Patient.objects.all())
    group = report["cohort"]
    assert (group.cases, group.cases_unknown, group.patient_years) == (2, 1, 12.0)
    rates = by_type(group)
    every = rates["All adverse events"]
    assert (every.events, every.unknown_time, every.outside_follow_up) == (4, 1, 1)
    # 4 events in 12 patient-years: 33.33; chi2(0.025; 8 df) / 2 = 1.0899 and chi2(0.975; 10 df) / 2 = 10.242.
    assert every.per_100 == pytest.approx(33.333, abs=0.001)
    assert every.interval == (pytest.approx(9.082, abs=0.001), pytest.approx(85.347, abs=0.001))
    assert rates["Serious adverse events"].events == 1
    assert rates["Infections"].events == 1
    assert rates["Disease flares"].events == 1
    assert rates["Special interest: Malignancy"].events == 0


@pytest.mark.django_db
def test_strata_follow_the_provider_product_source_and_route_of_each_cases_first_msc(cohort):
    strata = {(g.dimension, g.label): g for g in safety_rates(Patient.objects.all())["strata"]}
    one = strata[("Provider", "Synthetic clinic one")]
    assert (one.cases, one.patient_years, by_type(one)["All adverse events"].events) == (1, 4.0, 3)
    assert by_type(one)["All adverse events"].per_100 == pytest.approx(75.0)
    cord = strata[("Product source", "Umbilical cord tissue")]
    # 1 event in 8 patient-years: 12.5 (0.32 to 69.65).
    rate = by_type(cord)["All adverse events"]
    assert rate.per_100 == pytest.approx(12.5)
    assert rate.interval == (pytest.approx(0.316, abs=0.001), pytest.approx(69.646, abs=0.001))
    assert by_type(strata[("Route", "Intra-articular")])["All adverse events"].events == 1
    assert strata[("Route", "No MSC recorded")].cases_unknown == 1


@pytest.mark.django_db
def test_time_to_flare_runs_from_the_stop_to_the_first_linked_flare_censored_at_the_end_of_follow_up(cohort):
    summary = time_to_flare(Patient.objects.all())
    # Stopped at day -10, flare at day 1000: 1010 days. Stopped at day 61, no flare: censored at 1461 - 61 = 1400.
    assert (summary["stops"], summary["flares"], summary["censored"], summary["unknown"]) == (2, 1, 1, 0)
    assert (summary["median_days"], summary["min_days"], summary["max_days"]) == (1010, 1010, 1010)
    assert summary["censored_days"] == [1400]
    assert summary["curve"] == [(0, 1.0), (1010, 0.5)]


@pytest.mark.django_db
def test_cohort_page_shows_the_rates_the_time_to_flare_and_the_flare_free_curve(cohort, client, clinician):
    client.force_login(clinician)
    page = client.get(reverse("cases:cohort")).content.decode()
    assert 'id="safety-rates-table"' in page
    assert "33.3" in page and "9.08 to\n        85.35" in page
    assert "Provider: Synthetic clinic two" in page
    assert "median 1010 (range\n    1010–1010)" in page
    figure = page[page.index('<svg xmlns="http://www.w3.org/2000/svg" class="figure flare-free-figure"') :]
    figure = figure[: figure.index("</svg>")]
    assert figure.count('class="step km"') == 2 and figure.count('class="mark censored"') == 1
    assert "<script" not in figure


@pytest.mark.django_db
def test_cohort_page_counts_only_the_users_centres(cohort, centre_b, client, other_clinician):
    client.force_login(other_clinician)
    page = client.get(reverse("cases:cohort")).content.decode()
    assert "Synthetic clinic one" not in page


@pytest.mark.django_db
def test_summary_table_command_prints_the_cohort_rates(cohort):
    out = StringIO()
    call_command("summary_table", "--cohort", stdout=out)
    printed = list(csv.reader(StringIO(out.getvalue())))
    assert printed[0][:3] == ["Group", "Stratum", "Event type"]
    assert printed[1] == ["Cohort", "All selected cases", "All adverse events", "2", "1", "12.00", "4"] + [
        "33.33",
        "9.08",
        "85.35",
        "1",
        "1",
    ]
    assert printed[1:] == [[str(v) for v in row] for row in rate_rows(safety_rates(Patient.objects.all()))]


@pytest.mark.django_db
def test_workbook_has_a_derived_safety_rates_sheet_described_in_the_data_dictionary(cohort, reviewer):
    workbook = xlsx(reviewer)
    sheet = records(workbook, "Safety rates")
    cohort_all = sheet[0]
    assert (cohort_all["Events"], cohort_all["Rate per 100 patient-years"], cohort_all["95% CI upper"]) == (
        4,
        33.33,
        85.35,
    )
    assert cohort_all["Patient-years"] == 12
    dictionary = [r for r in rows(workbook, "Data dictionary") if r[0] == "Safety rates"]
    assert [r[1] for r in dictionary] == rows(workbook, "Safety rates")[0]
    assert all(r[6] for r in dictionary)
