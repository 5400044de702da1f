"""The rules about scores, safety reporting, doses, eligibility, cost and who knew
(cases.quality.safety_rules): where each one fires, and the correct cases next to it where it must not.
tests/test_data_quality.py proves that each fires on a case built to trigger it and not on a clean one."""

from decimal import Decimal as D

import pytest

from tests.factories import (
    AdverseEventFactory,
    AssessmentFactory,
    MedicationCourseFactory,
    MscAdministrationFactory,
    MscProductFactory,
    PatientFactory,
)
from tests.test_data_quality import clean_case, first_admin, found


@pytest.mark.parametrize(
    "variant, score, fires",
    [
        ("jadas10", "40", False),
        ("jadas10", "40.5", True),
        ("cjadas10", "30", False),
        ("cjadas10", "31", True),
        ("jadas27", "57", False),
        ("jadas27", "58", True),
        ("jadas71", "101", False),
        ("unspecified", "60", False),
    ],
)
def test_jadas_is_checked_against_its_own_variants_maximum(variant, score, fires, centre):
    patient = clean_case(centre)
    AssessmentFactory(patient=patient, age_years=D("13.5"), jadas=D(score), jadas_variant=variant)
    assert bool(found(patient, "jadas_above_maximum")) is fires


@pytest.mark.parametrize(
    "event, fires",
    [
        ({"ctcae_grade": 4, "life_threatening": True}, False),
        ({"ctcae_grade": 4, "life_threatening": False}, True),
        ({"ctcae_grade": 1, "required_hospitalisation": True}, True),
        ({"ctcae_grade": 2, "required_hospitalisation": True}, False),
        ({"ctcae_grade": 3, "resulted_in_death": True, "outcome": "fatal"}, True),
        ({"ctcae_grade": 5, "resulted_in_death": True, "outcome": "fatal"}, False),
        ({"ctcae_grade": None, "required_hospitalisation": True}, False),
    ],
)
def test_ctcae_grade_is_checked_against_the_seriousness_criteria(event, fires, centre):
    patient = clean_case(centre)
    AdverseEventFactory(patient=patient, onset_days_from_first_msc=5, **event)
    assert bool(found(patient, "grade_contradicts_seriousness")) is fires


def test_disease_flares_are_not_held_to_ctcae(centre):
    patient = clean_case(centre)
    AdverseEventFactory(
        patient=patient,
        category="disease_flare",
        onset_days_from_first_msc=40,
        ctcae_grade=4,
        required_hospitalisation=True,
    )
    assert not found(patient, "grade_contradicts_seriousness")


@pytest.mark.parametrize(
    "administration, fires",
    [
        ({"route": "intravenous", "cells_millions": D("500")}, False),  # 10 x10^6/kg: the limit itself
        ({"route": "intravenous", "cells_millions": D("510")}, True),
        ({"route": "intravenous", "weight_kg": None, "reported_dose_millions_per_kg": D("12")}, True),
        ({"route": "intravenous", "cells_millions": D("100"), "reported_dose_millions_per_kg": D("15")}, True),
        ({"route": "intra_articular", "cells_millions": D("900")}, False),
        ({"route": "intraosseous", "weight_kg": None, "reported_dose_millions_per_kg": D("20")}, False),
        ({"route": "unknown", "cells_millions": D("900")}, False),
    ],
)
def test_only_systemic_doses_are_held_to_ten_million_cells_per_kg(administration, fires, centre):
    patient = clean_case(centre)
    MscAdministrationFactory(
        product=patient.products.get(), sequence=3, days_from_first_msc=60, age_years=None, **administration
    )
    assert bool(found(patient, "implausible_systemic_dose")) is fires


def test_age_at_first_msc_is_read_as_the_case_page_reads_it(centre):
    patient = clean_case(centre)
    first = first_admin(patient)
    first.age_years = D("17.9")
    first.save()
    assert not found(patient, "adult_at_first_msc")

    stated = PatientFactory(centre=centre, age_at_first_msc_years=D("18.5"))
    MscAdministrationFactory(product=MscProductFactory(patient=stated), age_years=None, days_from_first_msc=0)
    [hit] = found(stated, "adult_at_first_msc")
    assert hit.record is None and "18.5" in hit.message and "stated on the case" in hit.message

    unknown = PatientFactory(centre=centre)
    MscAdministrationFactory(product=MscProductFactory(patient=unknown), age_years=None, days_from_first_msc=0)
    assert not found(unknown, "adult_at_first_msc")


@pytest.mark.parametrize(
    "outcome, duration, fires",
    [
        ("recovered", 3, False),
        ("recovered", None, True),
        ("sequelae", None, True),
        ("recovering", None, False),
        ("not_recovered", None, False),
        ("unknown", None, False),
    ],
)
def test_a_resolved_event_needs_its_time_to_resolution(outcome, duration, fires, centre):
    patient = clean_case(centre)
    AdverseEventFactory(patient=patient, onset_days_from_first_msc=3, outcome=outcome, duration_days=duration)
    assert bool(found(patient, "recovered_without_duration")) is fires


def priced(patient, *costs, total, currency="USD", estimated=False):
    """Costs in (amount, currency) on the case's administrations, and the case's total."""
    for a, (amount, cost_currency) in zip(patient.products.get().administrations.all(), costs, strict=False):
        a.cost_amount, a.cost_currency = D(amount), cost_currency
        a.save()
    patient.total_cost_amount, patient.total_cost_currency = D(total), currency
    patient.total_cost_estimated = estimated
    patient.save()
    return found(patient, "total_cost_below_administrations")


def test_a_total_may_exceed_the_administrations_but_not_fall_short(centre):
    assert not priced(clean_case(centre), ("8000", "USD"), ("8000", "USD"), total="25000")  # travel included
    assert not priced(clean_case(centre), ("8000", "USD"), ("8000", "USD"), total="16000")
    assert not priced(clean_case(centre), ("8000", "USD"), ("8000", "USD"), total="15900")  # rounding, within 1 %
    assert priced(clean_case(centre), ("8000", "USD"), ("8000", "USD"), total="15000")
    assert not priced(clean_case(centre), ("8000", "USD"), ("8000", "USD"), total="15000", estimated=True)
    assert priced(clean_case(centre), ("8000", "USD"), ("8000", "USD"), total="14000", estimated=True)


def test_costs_in_another_currency_are_not_compared(centre):
    assert not priced(clean_case(centre), ("8000", "EUR"), ("8000", "EUR"), total="1000")
    assert not priced(clean_case(centre), ("8000", "XXX"), ("8000", "XXX"), total="1000", currency="XXX")
    [hit] = priced(clean_case(centre), ("8000", "USD"), ("8000", "EUR"), total="5000")
    assert "add up to 8000 USD" in hit.message and "1 cost(s) in another currency not compared" in hit.message


@pytest.mark.parametrize(
    "communicated, course, fires",
    [
        ("no", {"stop_decided_by": "family", "team_knew_before_stop": "yes"}, True),
        ("no", {"stop_decided_by": "", "team_knew_before_stop": "yes"}, True),
        ("no", {"stop_decided_by": "rheumatology_team", "team_knew_before_stop": "yes"}, False),
        ("no", {"stop_decided_by": "msc_provider", "team_knew_before_stop": "no"}, False),
        ("no", {"stop_decided_by": "msc_provider", "team_knew_before_stop": "unknown"}, False),
        ("yes", {"stop_decided_by": "msc_provider", "team_knew_before_stop": "yes"}, False),
        ("unknown", {"stop_decided_by": "msc_provider", "team_knew_before_stop": "yes"}, False),
        ("", {"stop_decided_by": "msc_provider", "team_knew_before_stop": "yes"}, False),
    ],
)
def test_a_stop_known_to_the_team_contradicts_a_provider_who_never_communicated(communicated, course, fires, centre):
    patient = clean_case(centre)
    patient.provider_communicated_with_team = communicated
    patient.save()
    MedicationCourseFactory(patient=patient, stop_days_from_first_msc=-10, reason_stopped="inefficacy", **course)
    assert bool(found(patient, "stop_known_without_provider_contact")) is fires


def test_an_ongoing_course_is_no_stop(centre):
    patient = clean_case(centre)
    patient.provider_communicated_with_team = "no"
    patient.save()
    MedicationCourseFactory(patient=patient, is_ongoing=True, team_knew_before_stop="yes")
    assert not found(patient, "stop_known_without_provider_contact")


SERIOUS_INFECTION = {"category": "infection", "ctcae_grade": 3, "required_hospitalisation": True}


@pytest.mark.parametrize(
    "answer, event, fires",
    [
        ("no", {**SERIOUS_INFECTION, "onset_days_from_first_msc": 10}, True),
        ("no", {"category": "malignancy", "ctcae_grade": 3, "medically_important": True}, True),  # onset unknown
        ("no", {"category": "disease_flare", "flare_severity": "severe", "required_hospitalisation": True}, True),
        ("no", {**SERIOUS_INFECTION, "onset_days_from_first_msc": -30}, False),  # before the first MSC
        ("no", {"category": "infection", "ctcae_grade": 2, "onset_days_from_first_msc": 10}, False),  # not serious
        ("yes", {**SERIOUS_INFECTION, "onset_days_from_first_msc": 10}, False),
        ("unknown", {**SERIOUS_INFECTION, "onset_days_from_first_msc": 10}, False),
        ("", {**SERIOUS_INFECTION, "onset_days_from_first_msc": 10}, False),
    ],
)
def test_a_serious_event_after_msc_contradicts_a_case_saying_none_occurred(answer, event, fires, centre):
    patient = clean_case(centre)
    patient.serious_adverse_events = answer
    patient.save()
    AdverseEventFactory(patient=patient, ctcae_grade=event.pop("ctcae_grade", None), **event)
    assert bool(found(patient, "serious_events_contradicted")) is fires
