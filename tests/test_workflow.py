"""The review workflow: Draft -> Submitted -> Verified, the electronic signature, unlocking,
and data queries, through the pages a clinician, a reviewer and an admin use."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from cases import workflow
from cases.models import (
    SIGNATURE_MEANING,
    DataQuery,
    DiscrepancyAcknowledgement,
    Patient,
    QueryStatus,
    ReviewAction,
    ReviewStatus,
)
from tests.roles import PASSWORD


def detail(case):
    return reverse("cases:patient-detail", args=[case.pk])


def submit(client, user, case):
    client.force_login(user)
    return client.post(reverse("cases:patient-submit", args=[case.pk]))


def test_clinician_submits_a_draft_case(client, clinician, case_a):
    response = submit(client, clinician, case_a)
    assert response.status_code == 302
    case_a.refresh_from_db()
    assert case_a.review_status == ReviewStatus.SUBMITTED
    assert case_a.review_events.get().action == ReviewAction.SUBMITTED


def test_reviewer_verifies_with_password_and_signature_is_shown(client, clinician, reviewer, case_a):
    submit(client, clinician, case_a)
    client.force_login(reviewer)
    response = client.post(reverse("cases:patient-verify", args=[case_a.pk]), {"password": PASSWORD})
    assert response.status_code == 302
    case_a.refresh_from_db()
    assert case_a.review_status == ReviewStatus.VERIFIED
    signature = workflow.current_signature(case_a)
    assert signature.user == reviewer and signature.meaning == SIGNATURE_MEANING
    page = client.get(detail(case_a)).content.decode()
    assert "Verified and signed" in page and "reviewer-a" in page and SIGNATURE_MEANING in page


def test_wrong_password_does_not_verify(client, clinician, reviewer, case_a):
    submit(client, clinician, case_a)
    client.force_login(reviewer)
    response = client.post(reverse("cases:patient-verify", args=[case_a.pk]), {"password": "not-my-password"})
    assert response.status_code == 400
    assert "password is not correct" in response.content.decode()
    case_a.refresh_from_db()
    assert case_a.review_status == ReviewStatus.SUBMITTED


def test_case_with_open_query_cannot_be_verified(client, clinician, reviewer, case_a):
    submit(client, clinician, case_a)
    workflow.raise_query(case_a, reviewer, "ANA titre at baseline?")
    client.force_login(reviewer)
    response = client.post(reverse("cases:patient-verify", args=[case_a.pk]), {"password": PASSWORD})
    assert response.status_code == 400
    assert "Close every data query" in response.content.decode()
    case_a.refresh_from_db()
    assert case_a.review_status == ReviewStatus.SUBMITTED


def test_query_is_answered_closed_and_reopened(client, clinician, reviewer, case_a):
    query = workflow.raise_query(case_a, reviewer, "ANA titre at baseline?")
    client.force_login(clinician)
    client.post(reverse("cases:query-answer", args=[case_a.pk, query.pk]), {"text": "1:640 speckled."})
    query.refresh_from_db()
    assert query.status == QueryStatus.ANSWERED
    client.force_login(reviewer)
    client.post(reverse("cases:query-close", args=[case_a.pk, query.pk]), {"text": ""})
    query.refresh_from_db()
    assert query.status == QueryStatus.CLOSED
    client.post(reverse("cases:query-reopen", args=[case_a.pk, query.pk]), {"text": "Which date?"})
    query.refresh_from_db()
    assert query.status == QueryStatus.OPEN
    assert [m.kind for m in query.messages.all()] == ["answer", "close", "reopen"]


def test_empty_answer_is_refused(client, clinician, reviewer, case_a):
    query = workflow.raise_query(case_a, reviewer, "ANA titre at baseline?")
    client.force_login(clinician)
    response = client.post(reverse("cases:query-answer", args=[case_a.pk, query.pk]), {"text": ""}, follow=True)
    assert "This field is required" in response.content.decode()
    query.refresh_from_db()
    assert query.status == QueryStatus.OPEN and not query.messages.exists()


def test_query_on_a_single_record(client, reviewer, case_a):
    administration = case_a.products.get().administrations.get()
    client.force_login(reviewer)
    response = client.post(
        reverse("cases:query-create", args=[case_a.pk]),
        {"record": f"cases.mscadministration:{administration.pk}", "question": "Weight on the day?"},
    )
    assert response.status_code == 302
    query = DataQuery.objects.get()
    assert query.record == administration and query.record_label == str(administration)


def test_open_queries_show_on_dashboard_of_the_clinician(client, clinician, reviewer, case_a):
    workflow.raise_query(case_a, reviewer, "ANA titre at baseline?")
    client.force_login(clinician)
    page = client.get(reverse("cases:dashboard")).content.decode()
    assert "ANA titre at baseline?" in page


@pytest.fixture
def verified_case(client, clinician, reviewer, case_a):
    workflow.submit(case_a, clinician)
    workflow.verify(case_a, reviewer, PASSWORD)
    return case_a


def test_verified_case_is_locked_for_clinician_and_reviewer(client, clinician, reviewer, verified_case):
    medication = verified_case.medications.get()
    for user in (clinician, reviewer):
        client.force_login(user)
        assert client.get(reverse("cases:patient-update", args=[verified_case.pk])).status_code == 403
        assert client.get(reverse("cases:medication-create", args=[verified_case.pk])).status_code == 403
        url = reverse("cases:medication-update", args=[verified_case.pk, medication.pk])
        assert client.post(url, {"drug": "naproxen"}).status_code == 403
    medication.refresh_from_db()
    assert medication.drug == "methotrexate"
    page = client.get(detail(verified_case)).content.decode()
    assert "Edit case details" not in page and "Add medication" not in page


def test_admin_unlocks_with_reason_and_signature_is_void(client, registry_admin, verified_case):
    signature = workflow.current_signature(verified_case)
    client.force_login(registry_admin)
    response = client.post(reverse("cases:patient-unlock", args=[verified_case.pk]), {"reason": ""})
    assert response.status_code == 400
    response = client.post(
        reverse("cases:patient-unlock", args=[verified_case.pk]), {"reason": "ESR value corrected from source."}
    )
    assert response.status_code == 302
    verified_case.refresh_from_db()
    signature.refresh_from_db()
    assert verified_case.review_status == ReviewStatus.SUBMITTED
    assert signature.voided_by.reason == "ESR value corrected from source."
    assert workflow.current_signature(verified_case) is None
    assert "signature voided" in client.get(detail(verified_case)).content.decode()


def test_records_of_a_submitted_case_are_withdrawn_with_a_reason_not_deleted(client, clinician, case_a):
    medication = case_a.medications.get()
    url = reverse("cases:medication-delete", args=[case_a.pk, medication.pk])
    workflow.submit(case_a, clinician)
    client.force_login(clinician)
    response = client.post(url, {"reason": ""})
    assert response.status_code == 200 and "This field is required" in response.content.decode()
    assert case_a.medications.exists()
    response = client.post(url, {"reason": "Entered twice."})
    assert response.status_code == 302
    assert not case_a.medications.exists()  # hidden from the case and its lists
    withdrawn = type(medication).all_objects.get(pk=medication.pk)
    assert withdrawn.withdrawal_reason == "Entered twice." and withdrawn.withdrawn_by == clinician
    assert withdrawn.history.first().history_change_reason == "Withdrawn: Entered twice."


def test_verified_case_records_can_be_neither_deleted_nor_withdrawn(client, clinician, reviewer, case_a):
    medication = case_a.medications.get()
    workflow.submit(case_a, clinician)
    workflow.verify(case_a, reviewer, PASSWORD)
    client.force_login(clinician)
    response = client.post(reverse("cases:medication-delete", args=[case_a.pk, medication.pk]), {"reason": "x"})
    assert response.status_code == 403
    assert case_a.medications.exists()


def test_draft_record_delete_removes_it(client, clinician, case_a):
    medication = case_a.medications.get()
    client.force_login(clinician)
    response = client.post(reverse("cases:medication-delete", args=[case_a.pk, medication.pk]))
    assert response.status_code == 302
    assert not case_a.medications.exists()


def test_case_list_hides_other_centres_cases(client, other_clinician, clinician, case_a):
    client.force_login(other_clinician)
    assert case_a.study_id not in client.get(reverse("cases:patient-list")).content.decode()
    assert case_a.study_id not in client.get(reverse("cases:dashboard")).content.decode()
    client.force_login(clinician)
    assert case_a.study_id in client.get(reverse("cases:patient-list")).content.decode()


def test_form_choices_never_offer_another_centres_records(client, clinician, other_clinician, case_a, centre_b):
    from tests.factories import MscProductFactory, PatientFactory

    other_case = PatientFactory(centre=centre_b, study_id="SYN-B-0001")
    other_product = MscProductFactory(patient=other_case, label="centre B product")
    client.force_login(clinician)
    page = client.get(reverse("cases:administration-create", args=[case_a.pk])).content.decode()
    assert "centre B product" not in page
    create_page = client.get(reverse("cases:patient-create")).content.decode()
    assert "SYN-B" not in create_page
    assert other_product.pk


# Open data-quality discrepancies: confirmed when submitting, settled before verifying.


def disagreeing_dose(case):
    """Give the case one discrepancy: a reported dose three times cells / weight."""
    administration = case.products.get().administrations.get()
    administration.reported_dose_millions_per_kg = administration.computed_dose_millions_per_kg * 3
    administration.save()
    return administration


def acknowledge(case, reviewer, administration):
    return DiscrepancyAcknowledgement.objects.create(
        patient=case,
        rule="dose_disagrees",
        record_key=f"cases.mscadministration:{administration.pk}",
        reason="The source reports the dose per kg of the first of two weighings.",
        acknowledged_by=reviewer,
    )


def test_case_with_an_unacknowledged_discrepancy_cannot_be_verified(clinician, reviewer, case_a):
    workflow.submit(case_a, clinician)
    disagreeing_dose(case_a)
    with pytest.raises(workflow.WorkflowError, match="1 data-quality discrepancy not yet acknowledged"):
        workflow.verify(case_a, reviewer, PASSWORD)
    case_a.refresh_from_db()
    assert case_a.review_status == ReviewStatus.SUBMITTED
    assert not case_a.review_events.filter(action=ReviewAction.VERIFIED).exists()


def test_case_verifies_once_its_discrepancy_is_acknowledged_with_a_reason(clinician, reviewer, case_a):
    workflow.submit(case_a, clinician)
    acknowledge(case_a, reviewer, disagreeing_dose(case_a))
    workflow.verify(case_a, reviewer, PASSWORD)
    case_a.refresh_from_db()
    assert case_a.review_status == ReviewStatus.VERIFIED


def test_case_verifies_once_the_record_is_corrected(clinician, reviewer, case_a):
    workflow.submit(case_a, clinician)
    administration = disagreeing_dose(case_a)
    administration.reported_dose_millions_per_kg = administration.computed_dose_millions_per_kg
    administration.save()
    workflow.verify(case_a, reviewer, PASSWORD)
    case_a.refresh_from_db()
    assert case_a.review_status == ReviewStatus.VERIFIED


def test_verify_page_lists_each_open_discrepancy_with_links_and_refuses_to_sign(client, clinician, reviewer, case_a):
    workflow.submit(case_a, clinician)
    administration = disagreeing_dose(case_a)
    client.force_login(reviewer)
    url = reverse("cases:patient-verify", args=[case_a.pk])
    page = client.get(url).content.decode()
    assert "Open data-quality discrepancies: 1" in page
    assert "Reported dose disagrees with cells and weight" in page
    assert reverse("cases:administration-update", args=[case_a.pk, administration.pk]) in page
    acknowledge_url = reverse("cases:discrepancy-acknowledge", args=[case_a.pk])
    assert f"{acknowledge_url}?rule=dose_disagrees&amp;record=cases.mscadministration:{administration.pk}" in page

    response = client.post(url, {"password": PASSWORD})
    assert response.status_code == 400
    assert "acknowledge the discrepancy with a reason, before verifying the case" in response.content.decode()
    case_a.refresh_from_db()
    assert case_a.review_status == ReviewStatus.SUBMITTED


def test_submitted_case_page_warns_that_open_discrepancies_stop_verification(client, clinician, reviewer, case_a):
    workflow.submit(case_a, clinician)
    disagreeing_dose(case_a)
    client.force_login(reviewer)
    page = client.get(detail(case_a)).content.decode()
    assert "1 data-quality discrepancy not acknowledged: the case cannot be verified" in page


def test_submitting_with_open_discrepancies_needs_an_explicit_confirmation(clinician, case_a):
    disagreeing_dose(case_a)
    with pytest.raises(workflow.WorkflowError, match="confirm that you submit the case with them"):
        workflow.submit(case_a, clinician)
    case_a.refresh_from_db()
    assert case_a.review_status == ReviewStatus.DRAFT
    workflow.submit(case_a, clinician, open_discrepancies_confirmed=True)
    case_a.refresh_from_db()
    assert case_a.review_status == ReviewStatus.SUBMITTED


def test_submit_button_asks_to_confirm_the_open_discrepancies_and_lists_them_when_unticked(client, clinician, case_a):
    administration = disagreeing_dose(case_a)
    client.force_login(clinician)
    page = client.get(detail(case_a)).content.decode()
    assert 'name="open_discrepancies_confirmed"' in page
    assert "I have seen the 1 open data-quality discrepancy" in page

    response = submit(client, clinician, case_a)
    assert response.status_code == 400
    page = response.content.decode()
    assert "confirm that you submit the case with them" in page
    assert "Open data-quality discrepancies: 1" in page
    assert reverse("cases:administration-update", args=[case_a.pk, administration.pk]) in page
    assert 'name="open_discrepancies_confirmed"' in page
    case_a.refresh_from_db()
    assert case_a.review_status == ReviewStatus.DRAFT

    response = client.post(reverse("cases:patient-submit", args=[case_a.pk]), {"open_discrepancies_confirmed": "on"})
    assert response.status_code == 302
    case_a.refresh_from_db()
    assert case_a.review_status == ReviewStatus.SUBMITTED


def test_case_without_discrepancies_is_submitted_without_a_confirmation_box(client, clinician, case_a):
    client.force_login(clinician)
    assert 'name="open_discrepancies_confirmed"' not in client.get(detail(case_a)).content.decode()


@pytest.fixture
def published_series(db):
    call_command("load_published_series", stdout=StringIO())
    return Patient.objects.filter(centre__code="WONG2021")


def test_published_series_whose_discrepancies_are_acknowledged_is_submitted_and_verified(
    registry_admin, published_series
):
    assert DiscrepancyAcknowledgement.objects.filter(patient__in=published_series).exists()
    for case in published_series:
        workflow.submit(case, registry_admin)
        workflow.verify(case, registry_admin, PASSWORD)
    assert {c.review_status for c in published_series.all()} == {ReviewStatus.VERIFIED}


def test_a_case_with_an_event_of_unanswered_seriousness_cannot_be_submitted(clinician, case_a):
    event = case_a.adverse_events.get()
    event.seriousness = ""  # an event recorded before the question was asked
    event.save()
    with pytest.raises(workflow.WorkflowError, match=rf"{event.description[:40]}: seriousness \(serious, not serious"):
        workflow.submit(case_a, clinician)
    case_a.refresh_from_db()
    assert case_a.review_status == ReviewStatus.DRAFT
    event.seriousness = "unknown"
    event.save()
    workflow.submit(case_a, clinician, open_discrepancies_confirmed=True)
    case_a.refresh_from_db()
    assert case_a.review_status == ReviewStatus.SUBMITTED
