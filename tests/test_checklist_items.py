"""What each safety-checklist item catches, and what it deliberately leaves alone, on small
factory-built cases (case_a is complete; each test changes one thing)."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.test import override_settings
from django.urls import reverse

from cases.case_records import records_of
from cases.models import AdverseEvent, ChecklistStatement, Patient
from cases.quality.checklist import checklists
from cases.quality.rules import RULES_BY_CODE
from tests.factories import (
    AdverseEventFactory,
    AssessmentFactory,
    MedicationCourseFactory,
    MscAdministrationFactory,
    MscProductFactory,
)
from tests.roles import COMPLETE_PRODUCT_FACTS


def item(patient, name):
    return {i.item: i for i in checklists(Patient.objects.filter(pk=patient.pk))[patient.pk].items}[name]


def drop_statement(patient, name):
    ChecklistStatement.objects.get(patient=patient, item=name).delete()


def stopped_course(patient, **facts):
    """A course stopped ten days after the first MSC, with who decided and whether the team knew."""
    values = {
        "drug": "prednisone",
        "relation_to_msc": "concomitant",
        "start_age_years": None,
        "start_days_from_first_msc": -60,
        "stop_days_from_first_msc": 10,
        "reason_stopped": "msc_provider_instruction",
        "stop_decided_by": "msc_provider",
        "team_knew_before_stop": "no",
        "is_confounder": True,
        **facts,
    }
    return MedicationCourseFactory(patient=patient, **values)


def flare(patient, onset_day=30, after=(), **facts):
    values = {
        "category": "disease_flare",
        "description": "synthetic flare",
        "ctcae_grade": None,
        "flare_severity": "moderate",
        "attribution": "unlikely",
        "outcome": "recovered",
        "onset_days_from_first_msc": onset_day,
        **facts,
    }
    event = AdverseEventFactory(patient=patient, **values)
    event.preceding_withdrawals.set(after)
    return event


# An 'unknown' answers for the records it was stated about.


def test_an_unknown_is_asked_again_once_a_record_is_added_after_it(case_a):
    assert item(case_a, "stopped_therapies").complete
    stopped_course(case_a, stop_decided_by="", team_knew_before_stop="")
    result = item(case_a, "stopped_therapies")
    assert not result.complete
    assert "who decided" in result.missing_text and "state it again" in result.missing_text


def test_an_unknown_is_asked_again_once_a_record_it_covers_is_edited(case_a):
    course = case_a.medications.get()
    course.drug = "leflunomide"
    course.save()
    assert not item(case_a, "stopped_therapies").complete


def test_stating_unknown_again_covers_the_records_as_they_are_now(client, clinician, case_a):
    stopped_course(case_a, stop_decided_by="", team_knew_before_stop="")
    client.force_login(clinician)
    client.post(
        reverse("cases:checklist-statement", args=[case_a.pk]),
        {"item": "stopped_therapies", "statement": "unknown", "note": "Chart checked again."},
    )
    assert item(case_a, "stopped_therapies").complete


def test_an_unknown_stands_while_the_records_it_covers_are_unchanged(case_a):
    event = case_a.adverse_events.get()
    event.description = "synthetic headache"
    event.save()  # not a flare, not a course: the flares and stopped-therapies answers still stand
    assert item(case_a, "flares").complete and item(case_a, "stopped_therapies").complete


# Concomitant therapy.


def test_every_concomitant_systemic_course_is_marked_as_a_possible_confounder(case_a):
    drop_statement(case_a, "confounders")
    MedicationCourseFactory(patient=case_a, drug="tocilizumab", relation_to_msc="concomitant", is_confounder=True)
    assert item(case_a, "confounders").complete
    MedicationCourseFactory(patient=case_a, drug="abatacept", relation_to_msc="concomitant")
    result = item(case_a, "confounders")
    assert not result.complete and "Abatacept (concomitant with msc): given alongside MSC" in result.missing_text


def test_a_course_started_before_msc_and_still_ongoing_is_concomitant(case_a):
    drop_statement(case_a, "confounders")
    MedicationCourseFactory(patient=case_a, drug="mycophenolate", relation_to_msc="before", is_ongoing=True)
    assert "Mycophenolate mofetil" in item(case_a, "confounders").missing_text


def test_none_for_confounders_is_contradicted_by_a_concomitant_systemic_course(case_a):
    MedicationCourseFactory(patient=case_a, drug="tocilizumab", relation_to_msc="concomitant")
    result = item(case_a, "confounders")
    assert not result.complete and "stated 'none'" in result.missing_text


def test_a_local_concomitant_therapy_does_not_contradict_none_for_confounders(case_a):
    MedicationCourseFactory(
        patient=case_a, drug="triamcinolone", route="intra_articular", relation_to_msc="concomitant", is_ongoing=True
    )
    assert item(case_a, "confounders").complete


# Flares after stops.


def test_a_flare_after_a_stop_names_the_stop_it_followed(case_a):
    drop_statement(case_a, "flares")
    course = stopped_course(case_a)
    event = flare(case_a)
    result = item(case_a, "flares")
    assert not result.complete and "tick the medication(s) whose stop it followed" in result.missing_text
    assert result.link == event.get_edit_url()
    event.preceding_withdrawals.add(course)
    assert item(case_a, "flares").complete


def test_each_stop_around_msc_is_followed_up_for_flare(case_a):
    drop_statement(case_a, "flares")
    first = stopped_course(case_a)
    stopped_course(case_a, drug="tocilizumab", stop_days_from_first_msc=20)
    flare(case_a, onset_day=15, after=[first])
    result = item(case_a, "flares")
    assert not result.complete
    assert result.missing == [
        "Tocilizumab (concomitant with msc): no flare recorded after the stop, and no statement that none followed"
    ]


def test_none_for_flares_is_contradicted_by_a_flare_after_a_stop_that_names_no_stop(case_a):
    drop_statement(case_a, "flares")
    stopped_course(case_a)
    ChecklistStatement.objects.create(patient=case_a, item="flares", statement="none", note="Synthetic.")
    assert item(case_a, "flares").complete
    flare(case_a)
    assert "stated 'none'" in item(case_a, "flares").missing_text


# Stops: every course says whether it stopped; who decided only around MSC.


def test_a_course_neither_stopped_nor_ongoing_is_asked_about(case_a):
    drop_statement(case_a, "stopped_therapies")
    stopped_course(case_a)
    result = item(case_a, "stopped_therapies")
    assert not result.complete
    assert result.missing == ["Methotrexate (before msc): stopped or ongoing"]
    course = case_a.medications.get(drug="methotrexate")
    assert result.link == course.get_edit_url()
    course.is_ongoing = True
    course.save()
    assert item(case_a, "stopped_therapies").complete


def stopped_years_before(case):
    course = case.medications.get()
    course.stop_age_years, course.reason_stopped = Decimal("10.0"), "inefficacy"
    course.start_age_years = Decimal("9.0")
    course.save()
    drop_statement(case, "stopped_therapies")
    return course


def test_who_decided_is_not_asked_for_a_stop_years_before_msc(case_a):
    stopped_years_before(case_a)
    assert item(case_a, "stopped_therapies").complete


def test_who_decided_is_asked_for_a_stop_within_the_window_before_msc(case_a):
    stopped_course(case_a, stop_days_from_first_msc=-30, start_days_from_first_msc=-90, stop_decided_by="")
    drop_statement(case_a, "stopped_therapies")
    assert "who decided" in item(case_a, "stopped_therapies").missing_text


@override_settings(REGISTRY_STOP_WINDOW_DAYS_BEFORE_MSC=3650)
def test_the_window_before_msc_is_a_setting(case_a):
    stopped_years_before(case_a)
    result = item(case_a, "stopped_therapies")
    assert "who decided" in result.missing_text and "whether the team knew" in result.missing_text


# Communication with the team.


def test_communication_asks_whether_the_team_knew_before_msc(case_a):
    case_a.team_knew_before_msc = ""
    case_a.save()
    assert "whether the team knew before MSC" in item(case_a, "provider_communication").missing_text


def test_the_first_administration_can_say_whether_the_team_knew_before_msc(case_a):
    case_a.team_knew_before_msc = ""
    case_a.save()
    administration = case_a.products.get().administrations.get()
    administration.team_informed_before = "yes"
    administration.save()
    assert item(case_a, "provider_communication").complete


def test_the_case_and_its_first_administration_may_not_contradict_each_other_on_the_team_knowing(case_a):
    administration = case_a.products.get().administrations.get()
    administration.team_informed_before = "yes"
    administration.save()
    result = item(case_a, "provider_communication")
    assert not result.complete and "correct one or the other" in result.missing_text
    assert result.link == administration.get_edit_url()


# Outcomes: a before/after pair.


def test_outcomes_need_a_baseline_and_an_after_msc_value_of_the_same_measure(case_a):
    baseline = case_a.assessments.get(timepoint="before_msc")
    baseline.patient_global, baseline.patient_global_source = None, ""
    baseline.crp_mg_per_l, baseline.crp_source = Decimal("12"), "laboratory"
    baseline.save()
    result = item(case_a, "outcome_sources")
    assert not result.complete and "both a baseline (before MSC) and an after-MSC value" in result.missing_text
    AssessmentFactory(patient=case_a, timepoint="follow_up", crp_mg_per_l=Decimal("3"), crp_source="laboratory")
    assert item(case_a, "outcome_sources").complete


# Dose per kg for systemic routes only.


@pytest.mark.parametrize("route", ["intra_articular", "intraosseous", "intralesional"])
def test_a_local_injection_is_not_asked_for_a_dose_per_kg(route, case_a):
    administration = case_a.products.get().administrations.get()
    administration.route, administration.weight_kg = route, None
    administration.save()
    assert item(case_a, "administrations").complete


def test_an_intravenous_infusion_is_asked_for_a_dose_per_kg(case_a):
    administration = case_a.products.get().administrations.get()
    administration.weight_kg = None
    administration.save()
    assert item(case_a, "administrations").missing == ["administration #1: dose per kg (or weight)"]


def test_no_dose_per_kg_is_implied_for_a_local_injection(case_a):
    product = case_a.products.get()
    first = product.administrations.get()
    first.weight_kg, first.reported_dose_millions_per_kg = None, Decimal("2.0")
    first.save()
    MscAdministrationFactory(product=product, sequence=2, route="intraosseous", weight_kg=None, cells_millions=1)
    intravenous = MscAdministrationFactory(product=product, sequence=3, weight_kg=None, cells_millions=120)
    found = list(RULES_BY_CODE["dose_implied"].check(records_of(Patient.objects.filter(pk=case_a.pk))[0]))
    assert [record for record, _ in found] == [intravenous]


# Flares are graded on the disease's own scale, not CTCAE.


def test_a_flare_is_asked_for_its_severity_not_a_ctcae_grade(case_a):
    event = case_a.adverse_events.get()
    event.category, event.ctcae_grade = "disease_flare", None
    event.save()
    assert item(case_a, "adverse_events").missing == ["synthetic flu-like symptoms: flare severity"]
    event.flare_severity = "mild"
    event.save()
    assert item(case_a, "adverse_events").complete


def test_only_a_flare_has_a_flare_severity(case_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        AdverseEventFactory(patient=case_a, flare_severity="severe")
    event = AdverseEvent(patient=case_a, category="infection", flare_severity="mild", description="x")
    with pytest.raises(Exception, match="Only a disease flare"):
        event.clean()


# Preparation facts only when a certificate of analysis was obtained.


@pytest.mark.parametrize("certificate", ["verbal_claim", "no", "unknown"])
def test_preparation_facts_are_not_asked_without_a_certificate_of_analysis(certificate, case_a):
    product = case_a.products.get()
    product.certificate_of_analysis, product.passage_number, product.viability_percent = certificate, None, None
    product.isct_phenotype_confirmed = product.sterility_tested = "unknown"
    product.save()
    assert item(case_a, "administrations").complete


def test_whether_a_certificate_of_analysis_was_obtained_is_asked(case_a):
    product = case_a.products.get()
    product.certificate_of_analysis = ""
    product.save()
    assert item(case_a, "administrations").missing == [
        f"product {product.label} (administration #1): whether a certificate of analysis was obtained"
    ]


def test_a_second_product_with_a_certificate_is_asked_for_its_preparation_facts(case_a):
    facts = {**COMPLETE_PRODUCT_FACTS, "viability_percent": None}
    product = MscProductFactory(patient=case_a, **facts)
    MscAdministrationFactory(product=product, sequence=2, country="XX")
    assert "viability" in item(case_a, "administrations").missing_text


# Whether any serious adverse event occurred: the case's explicit answer, not read from the records.


@pytest.mark.parametrize("answer", ["no", "yes", "unknown"])
def test_adverse_events_ask_the_case_whether_any_serious_event_occurred(answer, case_a):
    case_a.serious_adverse_events = ""
    case_a.save()
    result = item(case_a, "adverse_events")
    assert not result.complete
    assert result.missing == ["whether any serious adverse event occurred"]
    assert (result.link, result.link_text) == (case_a.get_edit_url(), "Edit case details")
    case_a.serious_adverse_events = answer
    case_a.save()
    assert item(case_a, "adverse_events").complete


def test_the_serious_event_question_comes_first_among_an_events_gaps(case_a):
    case_a.serious_adverse_events = ""
    case_a.save()
    event = case_a.adverse_events.get()
    event.ctcae_grade = None
    event.save()
    result = item(case_a, "adverse_events")
    assert result.missing == ["whether any serious adverse event occurred", "synthetic flu-like symptoms: grade"]
    assert result.link == case_a.get_edit_url()
