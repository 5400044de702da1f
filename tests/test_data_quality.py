"""The data-quality rules: for each, one case that triggers it and one that does not; the reviewer's
acknowledgement; check_data_quality on synthetic cases and on the published series."""

from collections import Counter
from datetime import timedelta
from decimal import Decimal as D
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from cases.models import DiscrepancyAcknowledgement, Patient
from cases.quality import discrepancies
from cases.quality.rules import RULES, RULES_BY_CODE
from tests.factories import (
    AdverseEventFactory,
    AssessmentFactory,
    FollowUpStatusFactory,
    MedicationCourseFactory,
    MscAdministrationFactory,
    MscProductFactory,
    PatientFactory,
    PreviousDiagnosisFactory,
    VisitFactory,
)
from tests.test_audit_trail import form_data

FIXTURE_DIR = Path(__file__).resolve().parent.parent / "fixtures"


def found(patient, code):
    results = discrepancies.run(Patient.objects.filter(pk=patient.pk))
    return [d for d in next(iter(results.values())) if d.rule.code == code]


def clean_case(centre):
    """A case no rule objects to: known source, doses that add up, a follow-up after MSC."""
    patient = PatientFactory(centre=centre, age_at_onset_years=D("10"), age_at_diagnosis_years=D("10.5"))
    product = MscProductFactory(patient=patient, tissue_source="umbilical_cord", donor_type="allogeneic")
    MscAdministrationFactory(product=product, sequence=1, age_years=D("13"), reported_dose_millions_per_kg=D("2"))
    MscAdministrationFactory(product=product, sequence=2, days_from_first_msc=30, age_years=None)
    AssessmentFactory(patient=patient, age_years=D("12.9"))
    AssessmentFactory(patient=patient, age_years=None, days_from_first_msc=90, timepoint="after_msc")
    return patient


def first_admin(patient):
    return patient.products.get().administrations.get(sequence=1)


def trigger_dose_disagrees(p):
    a = first_admin(p)
    a.reported_dose_millions_per_kg = D("2.3")  # cells 100 / 50 kg = 2.0: 15 % off
    a.save()


def trigger_dose_implied(p):
    product = p.products.get()
    MscAdministrationFactory(
        product=product,
        sequence=3,
        days_from_first_msc=40,
        age_years=None,
        cells_millions=D("60"),
        weight_kg=None,
        reported_dose_millions_per_kg=D("1.2"),
    )
    MscAdministrationFactory(
        product=product, sequence=4, days_from_first_msc=50, age_years=None, cells_millions=D("200"), weight_kg=None
    )


def trigger_stop_before_start(p):
    # Start at age 12.5 (day about -183); stop recorded as day -400: before the start.
    MedicationCourseFactory(patient=p, stop_days_from_first_msc=-400, reason_stopped="inefficacy")


def trigger_attributed_event_before_msc(p):
    AdverseEventFactory(patient=p, attribution="possible", onset_days_from_first_msc=-10)


def trigger_no_follow_up(p):
    MscAdministrationFactory(product=p.products.get(), sequence=3, days_from_first_msc=120, age_years=None)


def trigger_product_source_unknown(p):
    product = p.products.get()
    product.donor_type = "unknown"
    product.save()


def trigger_age_offset_mismatch(p):
    AssessmentFactory(patient=p, age_years=D("16"), days_from_first_msc=365, timepoint="after_msc")


def trigger_ages_out_of_order(p):
    PreviousDiagnosisFactory(patient=p, age_years=D("8"))  # onset at 10


def trigger_administrations_out_of_order(p):
    a = p.products.get().administrations.get(sequence=2)
    a.days_from_first_msc = -30
    a.save()


def trigger_duplicate_administration(p):
    MscAdministrationFactory(product=p.products.get(), sequence=3, days_from_first_msc=30, age_years=None)


def trigger_time_unknown(p):
    AdverseEventFactory(patient=p, onset_days_from_first_msc=None)


def trigger_event_before_its_administration(p):
    AdverseEventFactory(
        patient=p, administration=p.products.get().administrations.get(sequence=2), onset_days_from_first_msc=5
    )


def trigger_jadas_above_maximum(p):
    AssessmentFactory(
        patient=p, age_years=None, days_from_first_msc=90, timepoint="after_msc", jadas=D("45"), jadas_variant="jadas10"
    )


def trigger_grade_contradicts_seriousness(p):
    AdverseEventFactory(patient=p, onset_days_from_first_msc=5, ctcae_grade=4, life_threatening=False)


def trigger_implausible_systemic_dose(p):
    # 600 x10^6 cells / 50 kg = 12 x10^6/kg, intravenous.
    MscAdministrationFactory(
        product=p.products.get(), sequence=3, days_from_first_msc=60, age_years=None, cells_millions=D("600")
    )


def trigger_adult_at_first_msc(p):
    a = first_admin(p)
    a.age_years = D("18")
    a.save()


def trigger_recovered_without_duration(p):
    AdverseEventFactory(patient=p, onset_days_from_first_msc=3, outcome="recovered", duration_days=None)


def trigger_total_cost_below_administrations(p):
    for a in p.products.get().administrations.all():
        a.cost_amount, a.cost_currency = D("8000"), "USD"
        a.save()
    p.total_cost_amount, p.total_cost_currency = D("10000"), "USD"
    p.save()


def trigger_stop_known_without_provider_contact(p):
    p.provider_communicated_with_team = "no"
    p.save()
    MedicationCourseFactory(
        patient=p,
        stop_days_from_first_msc=-10,
        reason_stopped="msc_provider_instruction",
        stop_decided_by="msc_provider",
        team_knew_before_stop="yes",
    )


def trigger_last_contact_over_a_year(p):
    FollowUpStatusFactory(patient=p, contact_date=timezone.localdate() - timedelta(days=400))


def trigger_serious_events_contradicted(p):
    p.serious_adverse_events = "no"
    p.save()
    AdverseEventFactory(
        patient=p, onset_days_from_first_msc=10, category="infection", ctcae_grade=3, required_hospitalisation=True
    )


def trigger_seriousness_unknown(p):
    AdverseEventFactory(patient=p, onset_days_from_first_msc=2, seriousness="unknown")


def trigger_visit_outside_window(p):
    VisitFactory(patient=p, visit_days_from_first_msc=60)  # the 1-month window closes on day 44


TRIGGERS = {
    f.__name__.removeprefix("trigger_"): f
    for f in [
        trigger_dose_disagrees,
        trigger_dose_implied,
        trigger_stop_before_start,
        trigger_attributed_event_before_msc,
        trigger_no_follow_up,
        trigger_product_source_unknown,
        trigger_age_offset_mismatch,
        trigger_ages_out_of_order,
        trigger_administrations_out_of_order,
        trigger_duplicate_administration,
        trigger_time_unknown,
        trigger_event_before_its_administration,
        trigger_jadas_above_maximum,
        trigger_grade_contradicts_seriousness,
        trigger_implausible_systemic_dose,
        trigger_adult_at_first_msc,
        trigger_recovered_without_duration,
        trigger_total_cost_below_administrations,
        trigger_stop_known_without_provider_contact,
        trigger_last_contact_over_a_year,
        trigger_serious_events_contradicted,
        trigger_seriousness_unknown,
        trigger_visit_outside_window,
    ]
}


def test_every_rule_has_a_test_and_is_documented():
    assert set(TRIGGERS) == set(RULES_BY_CODE)
    doc = (Path(__file__).resolve().parent.parent / "docs" / "data-quality.md").read_text()
    for rule in RULES:
        assert f"`{rule.code}`" in doc and rule.title in doc


def test_a_clean_case_has_no_discrepancy(centre):
    patient = clean_case(centre)
    assert next(iter(discrepancies.run(Patient.objects.filter(pk=patient.pk)).values())) == []


@pytest.mark.parametrize("code", sorted(TRIGGERS))
def test_each_rule_triggers_on_its_case_only(code, centre):
    other = clean_case(centre)
    patient = clean_case(centre)
    TRIGGERS[code](patient)
    hits = found(patient, code)
    assert hits, code
    assert not found(other, code)
    d = hits[0]
    assert d.message and d.rule.explanation
    assert d.link.startswith(f"/cases/{patient.pk}/")


def test_stop_before_start_compares_across_units(centre):
    """Start given as an age, stop as days from MSC: the database cannot compare them, the rule can."""
    patient = clean_case(centre)
    MedicationCourseFactory(patient=patient, start_age_years=D("12.9"), stop_days_from_first_msc=10)
    assert not found(patient, "stop_before_start")


def test_after_msc_assessment_without_a_time_counts_as_a_follow_up(centre):
    patient = PatientFactory(centre=centre)
    MscAdministrationFactory(product=MscProductFactory(patient=patient), age_years=D("13"))
    AssessmentFactory(patient=patient, age_years=D("12.9"))
    assert found(patient, "no_follow_up")
    AssessmentFactory(patient=patient, age_years=None, timepoint="after_msc")
    assert not found(patient, "no_follow_up")


def test_baseline_assessment_without_a_time_is_not_a_follow_up(centre):
    patient = PatientFactory(centre=centre)
    MscAdministrationFactory(product=MscProductFactory(patient=patient), age_years=D("13"))
    AssessmentFactory(patient=patient, age_years=None, timepoint="before_msc")
    assert found(patient, "no_follow_up")


def test_check_data_quality_prints_one_line_each_and_fails_while_unacknowledged(centre):
    patient = clean_case(centre)
    trigger_dose_disagrees(patient)
    out = StringIO()
    with pytest.raises(CommandError) as error:
        call_command("check_data_quality", stdout=out, stderr=StringIO())
    assert error.value.returncode == 1
    lines = out.getvalue().splitlines()
    key = f"cases.mscadministration:{first_admin(patient).pk}"
    assert lines == [f"{patient.study_id}  dose_disagrees  {key}  " + found(patient, "dose_disagrees")[0].message]
    DiscrepancyAcknowledgement.objects.create(
        patient=patient, rule="dose_disagrees", record_key=key, reason="Weight from the clinic letter, a week earlier."
    )
    out = StringIO()
    call_command("check_data_quality", stdout=out, stderr=StringIO())
    assert out.getvalue().strip().endswith("[acknowledged: Weight from the clinic letter, a week earlier.]")


def test_reviewer_acknowledges_a_discrepancy_with_a_reason(client, reviewer, clinician, case_a):
    administration = case_a.products.get().administrations.get()
    administration.reported_dose_millions_per_kg = D("5")
    administration.save()
    key = f"cases.mscadministration:{administration.pk}"
    url = reverse("cases:discrepancy-acknowledge", args=[case_a.pk]) + f"?rule=dose_disagrees&record={key}"
    client.force_login(clinician)
    assert client.get(url).status_code == 403
    client.force_login(reviewer)
    assert client.get(url).status_code == 200
    post = {"rule": "dose_disagrees", "record": key, "reason": " "}
    assert client.post(url, post).status_code == 400
    response = client.post(url, {**post, "reason": "Reported dose is the provider's, weight is ours."})
    assert response.status_code == 302
    ack = DiscrepancyAcknowledgement.objects.get(patient=case_a)
    assert ack.acknowledged_by == reviewer and ack.history.first().history_user == reviewer
    page = client.get(reverse("cases:case-data-quality", args=[case_a.pk])).content.decode()
    assert "provider&#x27;s, weight is ours" in page
    listing = client.get(reverse("cases:data-quality")).content.decode()
    assert "dose_disagrees" not in listing  # the list shows what is still unacknowledged


def test_saving_a_record_lists_the_new_discrepancies(client, clinician, case_a):
    administration = case_a.products.get().administrations.get()
    client.force_login(clinician)
    url = reverse("cases:administration-update", args=[case_a.pk, administration.pk])
    response = client.post(url, {**form_data(client, url), "reported_dose_millions_per_kg": "3"}, follow=True)
    page = response.content.decode()
    assert "Data-quality check found 1 new discrepancy" in page, page[:3000]


@pytest.fixture
def published_series(db, settings):
    settings.FIXTURE_DIRS = [*getattr(settings, "FIXTURE_DIRS", []), FIXTURE_DIR]
    call_command("load_published_series", stdout=StringIO())


def test_published_series_discrepancies_are_all_acknowledged_with_their_passage(published_series):
    out = StringIO()
    call_command("check_data_quality", stdout=out, stderr=StringIO())  # exits 0: nothing unacknowledged
    lines = out.getvalue().splitlines()
    assert all("[acknowledged: Case " in line for line in lines)
    assert Counter(line.split("  ")[1] for line in lines) == {
        "dose_implied": 4,  # case 1's intravenous transfusions: cells, no dose per kg
        "recovered_without_duration": 1,  # case 1's "transient scleritis"
    }
    assert any("≈ 7.1 × 10^6/kg" in line and "6.5" in line for line in lines)  # above the discussion's range
    assert DiscrepancyAcknowledgement.history.count() == 5  # initial history, as for every loaded record


def test_published_series_checklists_are_complete(published_series):
    from cases.quality.checklist import checklists

    results = checklists(Patient.objects.filter(centre__code="WONG2021"))
    assert [str(c) for c in results.values()] == ["8/8", "8/8", "8/8"]
    for c in results.values():
        for item in c.items:
            if item.statement is not None:
                assert item.statement.note.startswith(("Case ", "Discussion"))


def test_an_event_recorded_before_seriousness_was_asked_is_flagged_as_unanswered(centre):
    patient = clean_case(centre)
    AdverseEventFactory(patient=patient, description="synthetic rash", seriousness="")
    assert [d.message for d in found(patient, "seriousness_unknown")] == ["'synthetic rash': seriousness not answered"]
