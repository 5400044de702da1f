"""The safety-reporting checklist: each item is complete with a value or an explicit none/unknown,
and a case cannot be submitted while an item is missing."""

import pytest
from django.urls import reverse

from cases import workflow
from cases.models import ChecklistStatement, Patient
from cases.quality.checklist import checklists
from tests.factories import AdverseEventFactory, MedicationCourseFactory, PatientFactory
from tests.roles import complete_checklist


def items(patient):
    result = checklists(Patient.objects.filter(pk=patient.pk))[patient.pk]
    return {i.item: i for i in result.items}


def statement(patient, item):
    return ChecklistStatement.objects.get(patient=patient, item=item)


def test_case_a_is_complete(case_a):
    assert all(i.complete for i in items(case_a).values())


# For each item: what makes case_a's item incomplete, and the words that say what is missing.
def break_administrations(case):
    product = case.products.get()
    product.viability_percent = None
    product.save()
    return "viability"


def break_adverse_events(case):
    event = case.adverse_events.get()
    event.ctcae_grade = None
    event.save()
    return "grade"


def break_stopped_therapies(case):
    statement(case, "stopped_therapies").delete()
    return "no stopped therapy recorded"


def break_flares(case):
    statement(case, "flares").delete()
    return "no disease flare recorded"


def break_provider_communication(case):
    case.provider_communicated_with_team = ""
    case.save()
    return "communicated"


def break_confounders(case):
    statement(case, "confounders").delete()
    return "confounder"


def break_cost(case):
    statement(case, "cost").delete()
    return "the cost to the family"


def break_outcome_sources(case):
    assessment = case.assessments.get(timepoint="after_msc")
    assessment.patient_global_source = ""
    assessment.save()
    return "who observed patient global"


BREAKS = {
    f.__name__.removeprefix("break_"): f
    for f in [
        break_administrations,
        break_adverse_events,
        break_stopped_therapies,
        break_flares,
        break_provider_communication,
        break_confounders,
        break_cost,
        break_outcome_sources,
    ]
}


@pytest.mark.parametrize("item", sorted(BREAKS))
def test_each_item_is_missing_until_stated(item, case_a, clinician):
    words = BREAKS[item](case_a)
    found = items(case_a)
    assert not found[item].complete
    assert words in found[item].missing_text
    assert found[item].link  # a form that fills it
    assert [i for i, r in found.items() if not r.complete] == [item]
    with pytest.raises(workflow.WorkflowError, match="checklist is not complete"):
        workflow.submit(Patient.objects.get(pk=case_a.pk), clinician)


@pytest.mark.parametrize("item", sorted(BREAKS))
def test_an_explicit_unknown_completes_each_item(item, case_a, clinician):
    BREAKS[item](case_a)
    ChecklistStatement.objects.update_or_create(
        patient=case_a, item=item, defaults={"statement": "unknown", "note": "Not in the chart."}
    )
    assert items(case_a)[item].complete
    workflow.submit(Patient.objects.get(pk=case_a.pk), clinician)


def test_records_complete_items_without_statements(case_a):
    for s in ChecklistStatement.objects.filter(patient=case_a):
        s.delete()
    course = case_a.medications.get()
    course.stop_age_years, course.reason_stopped = course.start_age_years, "family_decision"
    course.stop_decided_by, course.is_confounder = "family", True
    course.team_knew_before_stop, course.team_learned_after_stop = "unknown", "unknown"
    course.save()
    flare = AdverseEventFactory(
        patient=case_a,
        category="disease_flare",
        ctcae_grade=None,
        flare_severity="moderate",
        attribution="unlikely",
        outcome="recovered",
        onset_days_from_first_msc=30,
        description="synthetic flare",
    )
    flare.preceding_withdrawals.add(course)
    case_a.total_cost_amount, case_a.total_cost_currency, case_a.paid_out_of_pocket = 20000, "USD", "yes"
    case_a.save()
    assert all(i.complete for i in items(case_a).values())


def test_none_for_adverse_events_needs_the_follow_up(client, clinician, centre_a):
    patient = PatientFactory(centre=centre_a, created_by=clinician)
    client.force_login(clinician)
    url = reverse("cases:checklist-statement", args=[patient.pk])
    response = client.post(url, {"item": "adverse_events", "statement": "none", "note": "Chart reviewed."})
    assert response.status_code == 400
    assert "months of follow-up" in response.content.decode()
    response = client.post(
        url, {"item": "adverse_events", "statement": "none", "follow_up_months": "24", "note": "Chart reviewed."}
    )
    assert response.status_code == 302
    assert items(patient)["adverse_events"].complete
    assert statement(patient, "adverse_events").history.count() == 1


def test_none_contradicted_by_records_is_not_complete(case_a):
    ChecklistStatement.objects.create(patient=case_a, item="adverse_events", statement="none", follow_up_months=12)
    result = items(case_a)["adverse_events"]
    assert not result.complete and "stated 'none'" in result.missing_text


def test_the_statement_form_edits_the_existing_statement(client, clinician, case_a):
    client.force_login(clinician)
    url = reverse("cases:checklist-statement", args=[case_a.pk])
    assert client.get(url + "?item=cost").status_code == 200
    client.post(url, {"item": "cost", "statement": "none", "note": "Paid by a trial sponsor."})
    assert statement(case_a, "cost").statement == "none"
    assert ChecklistStatement.objects.filter(patient=case_a, item="cost").count() == 1


def test_case_page_shows_what_is_missing_with_a_link(client, clinician, centre_a):
    patient = PatientFactory(centre=centre_a, created_by=clinician)
    client.force_login(clinician)
    page = client.get(reverse("cases:patient-detail", args=[patient.pk])).content.decode()
    assert "Safety-reporting checklist: 0/8 complete" in page
    assert "no MSC administration recorded" in page
    assert reverse("cases:administration-create", args=[patient.pk]) in page
    assert reverse("cases:checklist-statement", args=[patient.pk]) + "?item=cost" in page


def test_dashboard_shows_completeness_per_case(client, clinician, case_a):
    patient = PatientFactory(centre=case_a.centre, created_by=clinician)
    complete_checklist(patient)
    MedicationCourseFactory(patient=PatientFactory(centre=case_a.centre))
    client.force_login(clinician)
    page = client.get(reverse("cases:dashboard")).content.decode()
    assert "8/8" in page and "0/8" in page


def test_submitting_an_incomplete_case_lists_the_missing_items(client, clinician, centre_a):
    patient = PatientFactory(centre=centre_a, created_by=clinician)
    client.force_login(clinician)
    response = client.post(reverse("cases:patient-submit", args=[patient.pk]), follow=True)
    page = response.content.decode()
    assert "checklist is not complete" in page and "Cost to the family" in page
    patient.refresh_from_db()
    assert patient.review_status == "draft"


def test_submitting_an_incomplete_case_returns_to_the_case_page_with_the_missing_items(client, clinician, centre_a):
    patient = PatientFactory(centre=centre_a, created_by=clinician)
    client.force_login(clinician)
    response = client.post(reverse("cases:patient-submit", args=[patient.pk]))
    assert response.status_code == 302 and response.url == reverse("cases:patient-detail", args=[patient.pk])


def test_missing_product_facts_link_to_the_products_form_not_the_administrations(case_a):
    product = case_a.products.get()
    product.viability_percent, product.sterility_tested = None, "unknown"
    product.save()
    item = items(case_a)["administrations"]
    assert item.link == reverse("cases:product-update", args=[case_a.pk, product.pk])
    assert item.link_text == f"Complete product {product.label}"
    assert item.missing == [f"product {product.label} (administration #1): viability, sterility"]


def test_missing_administration_facts_link_to_the_administrations_form(case_a):
    administration = case_a.products.get().administrations.get()
    administration.cells_millions = None
    administration.save()
    item = items(case_a)["administrations"]
    assert item.link == reverse("cases:administration-update", args=[case_a.pk, administration.pk])
    assert item.link_text == "Complete administration #1"
    assert item.missing == ["administration #1: cells, dose per kg (or weight)"]


def test_a_clinician_answers_whether_any_serious_adverse_event_occurred_on_the_case_form(client, clinician, case_a):
    from tests.test_audit_trail import form_data

    case_a.serious_adverse_events = ""
    case_a.save()
    client.force_login(clinician)
    page = client.get(reverse("cases:patient-detail", args=[case_a.pk])).content.decode()
    assert "whether any serious adverse event occurred" in page
    url = reverse("cases:patient-update", args=[case_a.pk])
    assert url in page  # the checklist links to the case's form
    data = form_data(client, url)
    response = client.post(url, {**data, "serious_adverse_events": "maybe"})
    assert response.status_code == 200
    assert response.context["form"].errors["serious_adverse_events"]
    case_a.refresh_from_db()
    assert case_a.serious_adverse_events == ""

    assert client.post(url, {**data, "serious_adverse_events": "no"}).status_code == 302
    case_a.refresh_from_db()
    assert case_a.serious_adverse_events == "no"
    assert case_a.history.first().serious_adverse_events == "no"
    assert items(case_a)["adverse_events"].complete
    page = client.get(reverse("cases:patient-detail", args=[case_a.pk])).content.decode()
    assert "Any serious adverse event after MSC" in page
    assert "whether any serious adverse event occurred" not in page
