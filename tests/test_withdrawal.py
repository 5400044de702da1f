"""Submitted records are never hard-deleted: withdrawn with a reason, hidden, restorable, audited."""

from django.urls import reverse

from cases import workflow
from cases.models import MedicationCourse, Patient


def test_withdrawn_case_is_hidden_from_lists_and_pages(client, clinician, case_a):
    workflow.submit(case_a, clinician)
    client.force_login(clinician)
    response = client.post(reverse("cases:patient-delete", args=[case_a.pk]), {"reason": "Duplicate of SYN-A-0002."})
    assert response.status_code == 302
    assert Patient.all_objects.filter(pk=case_a.pk).exists()
    assert case_a.study_id not in client.get(reverse("cases:patient-list")).content.decode()
    assert client.get(reverse("cases:patient-detail", args=[case_a.pk])).status_code == 404


def test_admin_sees_withdrawn_records_and_restores_them_with_the_change_audited(
    client, clinician, registry_admin, case_a
):
    workflow.submit(case_a, clinician)
    course = case_a.medications.get()
    course.withdraw(clinician, "Entered twice.")
    client.force_login(registry_admin)
    page = client.get(reverse("cases:withdrawn-list")).content.decode()
    assert "Entered twice." in page and case_a.study_id in page
    url = reverse("cases:withdrawn-restore", args=["medicationcourse", course.pk])
    assert client.post(url, {"reason": ""}).status_code == 200  # a reason is required
    assert client.post(url, {"reason": "Not a duplicate after all."}).status_code == 302
    assert MedicationCourse.objects.filter(pk=course.pk).exists()
    reasons = list(course.history.values_list("history_change_reason", flat=True))
    assert reasons[:2] == ["Restored by registry-admin: Not a duplicate after all.", "Withdrawn: Entered twice."]


def test_draft_records_are_really_deleted(client, clinician, case_a):
    course = case_a.medications.get()
    client.force_login(clinician)
    client.post(reverse("cases:medication-delete", args=[case_a.pk, course.pk]))
    assert not MedicationCourse.all_objects.filter(pk=course.pk).exists()
    assert course.history.latest("history_date").history_type == "-"


def test_admin_cannot_hard_delete_a_submitted_record(admin_client, clinician, case_a):
    workflow.submit(case_a, clinician)
    course = case_a.medications.get()
    response = admin_client.post(reverse("admin:cases_medicationcourse_delete", args=[course.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert MedicationCourse.objects.filter(pk=course.pk).exists()


def test_withdrawal_needs_a_reason_in_the_database(case_a):
    import pytest
    from django.db import IntegrityError, transaction
    from django.utils import timezone

    course = case_a.medications.get()
    course.withdrawn_at = timezone.now()
    with pytest.raises(IntegrityError), transaction.atomic():
        course.save()
