"""Scheduled follow-up visits: the schedule's windows worked out by hand from a dated first MSC, the
dashboard's due and overdue visits per centre, the screen for events of special interest (answered on a
done visit, a 'Yes' with its adverse event), the database's refusals and the outside-window rule."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from cases.case_records import records_of
from cases.forms import VisitForm
from cases.models import Patient, Visit, VisitDefinition
from cases.models.follow_up import SCREEN_FIELDS
from cases.quality import discrepancies
from cases.reports.visits import SCHEDULE_PREFETCHES, VisitState, due_by_centre, schedule
from tests.factories import (
    AdverseEventFactory,
    MscAdministrationFactory,
    MscProductFactory,
    PatientFactory,
    VisitFactory,
)


def treated(centre, **first_msc):
    patient = PatientFactory(centre=centre)
    MscAdministrationFactory(product=MscProductFactory(patient=patient), sequence=1, **first_msc)
    return patient


def states(patient, today):
    [case] = records_of(Patient.objects.filter(pk=patient.pk), SCHEDULE_PREFETCHES)
    return {s.definition.code: s for s in schedule(case, VisitDefinition.objects.all(), today)}


@pytest.mark.django_db
def test_the_seeded_schedule_runs_from_baseline_to_five_years():
    codes = list(VisitDefinition.objects.values_list("code", flat=True))
    assert codes == ["BASELINE", "M1", "M3", "M6", "M12", "Y2", "Y3", "Y4", "Y5"]
    assert VisitDefinition.objects.get(code="M1").window() == (16, 44)  # 30.4375 days -> 30, +/- 14


@pytest.mark.django_db
def test_visit_windows_are_dated_from_the_first_msc_and_say_due_overdue_upcoming_or_done(centre_a):
    patient = treated(centre_a, date=date(2024, 1, 1))
    VisitFactory(patient=patient, definition=VisitDefinition.objects.get(code="BASELINE"), visit_days_from_first_msc=0)
    found = states(patient, today=date(2024, 2, 10))
    assert found["BASELINE"].state == VisitState.DONE
    m1 = found["M1"]  # days 16 to 44: 17 January to 14 February
    assert (m1.opens, m1.closes, m1.state) == (date(2024, 1, 17), date(2024, 2, 14), VisitState.DUE)
    assert found["M3"].state == VisitState.UPCOMING  # 3 months = day 91, window from day 61 (2 March)
    assert states(patient, today=date(2024, 2, 15))["M1"].state == VisitState.OVERDUE


@pytest.mark.django_db
def test_without_a_dated_first_msc_the_schedule_is_unknown_never_guessed(centre_a):
    patient = treated(centre_a, age_years=Decimal("12.0"))
    found = states(patient, today=date(2024, 2, 10))
    assert {s.state for s in found.values()} == {VisitState.UNKNOWN}
    assert all(s.opens is None for s in found.values())


@pytest.mark.django_db
def test_dashboard_lists_due_and_overdue_visits_per_centre_and_counts_cases_without_a_dated_first_msc(
    centre_a, client, clinician
):
    today = timezone.localdate()
    patient = treated(centre_a, date=today - timedelta(days=30))
    VisitFactory(patient=patient, definition=VisitDefinition.objects.get(code="BASELINE"), visit_days_from_first_msc=0)
    treated(centre_a, age_years=Decimal("12.0"))

    [summary] = due_by_centre(Patient.objects.all(), today)
    assert [(p, s.definition.code, s.state) for p, s in summary.outstanding] == [(patient, "M1", VisitState.DUE)]
    assert summary.unknown == 1

    client.force_login(clinician)
    section = client.get(reverse("cases:dashboard")).content.decode().split('id="visits-due"')[1].split("</section>")[0]
    assert f"{patient.study_id}</a>:\n        1 month due" in section
    assert "1\n        case not scheduled: the first MSC has no date" in section


def visit_data(**changes):
    data = {
        "definition": str(VisitDefinition.objects.get(code="M1").pk),
        "status": "done",
        "visit_days_from_first_msc": "30",
        "visit_offset_unit": "days",
        "visit_precision": "day",
        "weight_kg": "40",
        "abstracted_from": "synthetic",
        **dict.fromkeys(SCREEN_FIELDS, "no"),
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


@pytest.mark.django_db
def test_a_done_visit_with_an_unanswered_screen_question_is_refused_and_nothing_is_saved(centre_a):
    patient = treated(centre_a, date=date(2024, 1, 1))
    form = VisitForm(data=visit_data(esi_malignancy=None), patient=patient)
    assert not form.is_valid()
    assert form.errors["esi_malignancy"] == ["Answer 'Malignancy' for a visit that was done (Yes, No or Unknown)."]
    assert form.fields["esi_malignancy"].choices[0] == ("", "---------")  # no answer preset
    assert not Visit.objects.exists()


@pytest.mark.django_db
def test_a_yes_in_the_screen_needs_a_linked_adverse_event(centre_a):
    patient = treated(centre_a, date=date(2024, 1, 1))
    form = VisitForm(data=visit_data(esi_infection="yes"), patient=patient)
    assert not form.is_valid()
    assert "use 'Add adverse event' on the case page" in form.errors["adverse_events"][0]

    event = AdverseEventFactory(patient=patient, onset_days_from_first_msc=20, category="infection")
    other_case_event = AdverseEventFactory(patient=treated(centre_a))
    form = VisitForm(data=visit_data(esi_infection="yes", adverse_events=[str(other_case_event.pk)]), patient=patient)
    assert not form.is_valid()  # only the case's own events can be linked
    form = VisitForm(data=visit_data(esi_infection="yes", adverse_events=[str(event.pk)]), patient=patient)
    assert form.is_valid(), form.errors
    visit = form.save()
    assert list(visit.adverse_events.all()) == [event]


@pytest.mark.django_db
def test_a_missed_visit_takes_no_weight_or_screen_answers_and_a_second_record_of_one_visit_is_refused(centre_a):
    patient = treated(centre_a, date=date(2024, 1, 1))
    form = VisitForm(data=visit_data(status="missed"), patient=patient)
    assert not form.is_valid()
    assert form.errors["weight_kg"] == ["Give a weight only for a visit that was done."]
    VisitFactory(patient=patient)
    form = VisitForm(data=visit_data(), patient=patient)
    assert not form.is_valid()
    assert "already has a record of this scheduled visit" in form.errors["definition"][0]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "values",
    [{"weight_kg": Decimal("0")}, {"status": "missed"}, {"status": "not_yet_due", "weight_kg": None}],
)
def test_the_database_refuses_a_weight_not_above_zero_and_findings_on_a_visit_not_done(centre_a, values):
    patient = treated(centre_a)
    with pytest.raises(IntegrityError), transaction.atomic():
        VisitFactory(patient=patient, **values)


@pytest.mark.django_db
def test_the_database_refuses_two_records_of_one_scheduled_visit(centre_a):
    patient = treated(centre_a)
    VisitFactory(patient=patient)
    with pytest.raises(IntegrityError), transaction.atomic():
        VisitFactory(patient=patient)


@pytest.mark.django_db
def test_a_visit_done_outside_its_window_is_a_discrepancy_and_one_inside_is_not(centre_a):
    patient = treated(centre_a, date=date(2024, 1, 1))
    inside = VisitFactory(patient=patient, visit_days_from_first_msc=44)
    late = VisitFactory(
        patient=patient,
        definition=VisitDefinition.objects.get(code="M3"),
        visit_date=date(2024, 7, 1),
        visit_days_from_first_msc=None,
    )
    results = discrepancies.run(Patient.objects.filter(pk=patient.pk))
    found = [d for d in next(iter(results.values())) if d.rule.code == "visit_outside_window"]
    assert [d.record for d in found] == [late]
    assert "day 182 from first MSC, 61 days after the window closes (days 61 to 121)" in found[0].message
    assert inside.pk != late.pk


@pytest.mark.django_db
def test_a_clinician_records_a_visit_from_the_case_page_and_sees_it_there(client, clinician, case_a):
    client.force_login(clinician)
    m3 = VisitDefinition.objects.get(code="M3")
    data = visit_data(definition=str(m3.pk), visit_days_from_first_msc="91", esi_hospitalisation="unknown")
    response = client.post(reverse("cases:visit-create", args=[case_a.pk]), data)
    assert response.status_code == 302
    page = client.get(reverse("cases:patient-detail", args=[case_a.pk])).content.decode()
    visit = Visit.objects.get(patient=case_a, definition=m3)
    assert f'id="visit-{visit.pk}"' in page and "3 months" in page
    assert visit.esi_hospitalisation == "unknown"


@pytest.mark.django_db
def test_synthetic_cases_get_visits_within_their_follow_up_with_every_done_screen_answered():
    from synthetic.generator import generate

    generate(10, seed=7, centre_code="SYN-V1")
    visits = list(Visit.objects.filter(patient__centre__code="SYN-V1"))
    assert visits and {v.status for v in visits} <= {"done", "missed"}
    for visit in visits:
        visit.full_clean()  # a done visit answers every question; a missed one carries no findings
        assert "yes" not in {getattr(visit, name) for name in SCREEN_FIELDS}
