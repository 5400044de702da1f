"""Vital status and the end of follow-up: the last contact derived from the records unless stated,
follow-up in years per case and for the cohort, the overdue list of the dashboard, the data-quality
rule on an old last contact, and the rules a vital status keeps in the form and the database."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from cases.case_records import cohort_follow_up, records_of
from cases.forms import FollowUpStatusForm
from cases.models import FollowUpStatus, Patient
from cases.quality import discrepancies
from cases.quality.rules import RULES
from cases.reports.cohort import cohort_numbers
from cases.reports.follow_up import overdue_by_centre
from tests.factories import (
    AssessmentFactory,
    FollowUpStatusFactory,
    MscAdministrationFactory,
    MscProductFactory,
    PatientFactory,
)

TODAY = date(2026, 6, 1)


def treated(centre, **first_msc):
    patient = PatientFactory(centre=centre)
    MscAdministrationFactory(product=MscProductFactory(patient=patient), sequence=1, **first_msc)
    return patient


@pytest.fixture
def cohort(centre_a):
    """Four cases whose follow-up is worked out by hand in the tests below."""
    dated = treated(centre_a, date=date(2020, 1, 1))
    AssessmentFactory(patient=dated, timepoint="follow_up", date=date(2022, 1, 1), age_years=None)  # 731 days
    by_age = treated(centre_a, age_years=Decimal("10.0"))
    FollowUpStatusFactory(patient=by_age, contact_age_years=Decimal("11.5"))  # 1.5 years: 547.875 -> 548 days
    died = treated(centre_a)
    FollowUpStatusFactory(patient=died, status="died", death_days_from_first_msc=365, cause_of_death="synthetic sepsis")
    untreated = PatientFactory(centre=centre_a)
    AssessmentFactory(patient=untreated)
    return {"dated": dated, "by_age": by_age, "died": died, "untreated": untreated}


def follow_up(patient):
    return records_of(Patient.objects.filter(pk=patient.pk))[0]


@pytest.mark.django_db
def test_follow_up_runs_from_the_first_msc_to_the_last_contact_or_death(cohort):
    assert follow_up(cohort["dated"]).follow_up_days == 731
    assert follow_up(cohort["dated"]).follow_up_years == Decimal("2.00")
    assert follow_up(cohort["by_age"]).follow_up_days == 548
    assert follow_up(cohort["by_age"]).follow_up_years == Decimal("1.50")
    assert follow_up(cohort["died"]).follow_up_days == 365
    assert follow_up(cohort["died"]).follow_up_years == Decimal("1.00")
    assert follow_up(cohort["untreated"]).follow_up_years is None


@pytest.mark.django_db
def test_cohort_follow_up_is_the_sum_in_patient_years_over_the_cases_with_a_known_follow_up(cohort, client, clinician):
    # (731 + 548 + 365) / 365.25 = 4.501 patient-years; the untreated case has no first MSC to count from.
    expected = {"patient_years": Decimal("4.5"), "cases_known": 3, "cases_unknown": 1}
    assert cohort_follow_up(records_of(Patient.objects.all())) == expected
    assert cohort_numbers(Patient.objects.all())["follow_up"] == expected
    client.force_login(clinician)
    page = client.get(reverse("cases:cohort")).content.decode()
    assert "4.5 patient-years from first MSC to last" in page
    assert "over 3 of 4 cases" in page


@pytest.mark.django_db
def test_last_contact_is_the_latest_record_unless_a_vital_status_states_it(centre_a):
    patient = treated(centre_a, days_from_first_msc=0, age_years=Decimal("13.0"))
    AssessmentFactory(patient=patient, timepoint="after_msc", days_from_first_msc=200, age_years=None)
    AssessmentFactory(patient=patient, timepoint="after_msc", days_from_first_msc=90, age_years=None)
    derived = follow_up(patient).last_contact
    assert derived.days == 200
    assert derived.source.startswith("latest record: assessment")

    FollowUpStatusFactory(patient=patient, contact_days_from_first_msc=400)
    stated = follow_up(patient).last_contact
    assert (stated.days, stated.source) == (400, "last contact stated on the vital status")


@pytest.mark.django_db
def test_the_age_at_last_follow_up_stated_on_the_case_counts_as_a_contact(centre_a):
    patient = treated(centre_a, age_years=Decimal("15.0"))
    patient.age_at_last_follow_up_years = Decimal("17.0")
    patient.save()
    contact = follow_up(patient).last_contact
    assert contact.source == "age at last follow-up"
    assert contact.days == 731  # 2 years × 365.25 = 730.5 days, rounded half up
    assert follow_up(patient).follow_up_years == Decimal("2.00")


@pytest.mark.django_db
def test_the_latest_vital_status_is_the_current_one(centre_a):
    patient = treated(centre_a, age_years=Decimal("13.0"))
    FollowUpStatusFactory(patient=patient, status="transferred", contact_age_years=Decimal("18.0"))
    FollowUpStatusFactory(patient=patient, status="alive", contact_age_years=Decimal("15.0"))
    records = follow_up(patient)
    assert [s.status for s in records.statuses] == ["alive", "transferred"]
    assert records.vital_status.status == "transferred"
    assert not records.follow_up_open


@pytest.mark.django_db
def test_dashboard_lists_cases_without_contact_for_a_year_per_centre_and_counts_unknown_dates(
    centre_a, client, clinician
):
    today = timezone.localdate()
    old = treated(centre_a, date=today - timedelta(days=800))
    AssessmentFactory(patient=old, date=today - timedelta(days=400), age_years=None)
    recent = treated(centre_a, date=today - timedelta(days=800))
    FollowUpStatusFactory(patient=recent, contact_date=today - timedelta(days=30))
    died = treated(centre_a, date=today - timedelta(days=800))
    FollowUpStatusFactory(patient=died, status="died", death_date=today - timedelta(days=700))
    treated(centre_a, age_years=Decimal("13.0"))  # offsets and ages only: no date to count from

    [summary] = overdue_by_centre(Patient.objects.all(), today)
    assert summary.centre == centre_a
    assert summary.overdue == [(old, today - timedelta(days=400), 400)]
    assert summary.unknown == 1

    client.force_login(clinician)
    page = client.get(reverse("cases:dashboard")).content.decode()
    last = (today - timedelta(days=400)).isoformat()
    assert f"{old.study_id}</a>:\n        last contact {last} (400 days ago)" in page
    assert recent.study_id not in page.split('id="overdue-follow-up"')[1].split("</section>")[0]
    assert "1\n        case with the date of last contact unknown" in page


@pytest.mark.django_db
def test_dashboard_overdue_list_shows_only_the_users_centres(centre_a, centre_b, other_clinician):
    today = timezone.localdate()
    treated(centre_a, date=today - timedelta(days=800))
    assert overdue_by_centre(Patient.objects.visible_to(other_clinician), today) == []


def found(patient, code):
    results = discrepancies.run(Patient.objects.filter(pk=patient.pk))
    return [d for d in next(iter(results.values())) if d.rule.code == code]


@pytest.mark.django_db
def test_last_contact_more_than_a_year_ago_is_a_discrepancy_of_a_case_still_followed(centre_a):
    today = timezone.localdate()
    old = treated(centre_a, date=today - timedelta(days=500))
    status = FollowUpStatusFactory(patient=old, contact_date=today - timedelta(days=366))
    recent = treated(centre_a, date=today - timedelta(days=500))
    FollowUpStatusFactory(patient=recent, contact_date=today - timedelta(days=364))
    lost = treated(centre_a, date=today - timedelta(days=900))
    FollowUpStatusFactory(patient=lost, status="lost", lost_reason="synthetic: moved away")
    undated = treated(centre_a, age_years=Decimal("13.0"))

    [hit] = found(old, "last_contact_over_a_year")
    assert hit.record == status and "366 days ago" in hit.message
    assert not found(recent, "last_contact_over_a_year")
    assert not found(lost, "last_contact_over_a_year")
    assert not found(undated, "last_contact_over_a_year")


def test_the_follow_up_rule_is_registered_and_documented():
    from pathlib import Path

    rule = next(r for r in RULES if r.code == "last_contact_over_a_year")
    doc = (Path(__file__).resolve().parent.parent / "docs" / "data-quality.md").read_text()
    assert "`last_contact_over_a_year`" in doc and rule.title in doc


@pytest.mark.django_db
@pytest.mark.parametrize(
    "status, values",
    [
        ("alive", {"cause_of_death": "synthetic"}),
        ("alive", {"death_days_from_first_msc": 10, "death_offset_unit": "days"}),
        ("lost", {"death_relation_to_msc": "possible"}),
        ("alive", {"lost_reason": "synthetic: moved"}),
        ("died", {"lost_reason": "synthetic: moved"}),
    ],
)
def test_death_and_loss_details_are_refused_by_the_database_unless_they_apply(centre_a, status, values):
    patient = PatientFactory(centre=centre_a)
    with pytest.raises(IntegrityError), transaction.atomic():
        FollowUpStatus.objects.create(patient=patient, status=status, **values)


@pytest.mark.django_db
def test_the_form_says_next_to_the_field_when_death_or_loss_details_do_not_apply(centre_a):
    patient = PatientFactory(centre=centre_a)
    data = {
        "status": "alive",
        "cause_of_death": "synthetic",
        "lost_reason": "synthetic: moved",
        "abstracted_from": "synthetic",
        "contact_precision": "unknown",
        "death_precision": "unknown",
    }
    form = FollowUpStatusForm(data=data, patient=patient)
    assert not form.is_valid()
    assert form.errors["cause_of_death"] == ["Give a cause of death only when the patient died."]
    assert form.errors["lost_reason"] == ["Give a reason only when the patient was lost to follow-up."]
    assert not FollowUpStatus.objects.exists()


@pytest.mark.django_db
def test_a_clinician_records_a_death_from_the_case_page_and_sees_it_there(client, clinician, case_a):
    client.force_login(clinician)
    data = {
        "status": "died",
        "death_age_years": "15.0",
        "death_precision": "year",
        "contact_precision": "unknown",
        "cause_of_death": "synthetic cause",
        "death_relation_to_msc": "unlikely",
        "abstracted_from": "synthetic",
        "change_reason": "synthetic entry",
    }
    response = client.post(reverse("cases:vital-status-create", args=[case_a.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    status = FollowUpStatus.objects.get(patient=case_a, status="died")
    assert status.history.count() == 1
    page = client.get(case_a.get_absolute_url()).content.decode()
    assert f'id="vital-status-{status.pk}"' in page and "synthetic cause" in page
    assert "Last contact:\n  age 15 (death stated on the vital status)" in page


@pytest.mark.django_db
def test_the_data_dictionary_describes_the_vital_status_sheet_and_keeps_dates_to_the_identifiable_variant(
    registry_admin,
):
    from cases.spreadsheets import ExportOptions
    from cases.spreadsheets.workbook import dictionary_rows

    def rows(identifiable):
        options = ExportOptions(user=registry_admin, identifiable=identifiable, include_free_text=identifiable)
        return {row[1]: row for row in dictionary_rows(options) if row[0] == "Vital status"}

    full, deidentified = rows(True), rows(False)
    assert full["Vital status"][5].startswith("Alive at last contact")
    assert full["Last contact date"][7] == "identifiable variant only"
    assert "Last contact date" not in deidentified and "Death date" not in deidentified
    assert "Age at death (years)" in deidentified and "Relation of the death to MSC" in deidentified
    assert "Cause of death" not in deidentified  # free text: only when asked for
