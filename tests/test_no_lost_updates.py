"""Optimistic locking: when two people edit the same record, the second save is refused with a
message that says what changed meanwhile, and nothing is overwritten."""

from django.test import Client
from django.urls import reverse

from cases.models import MedicationCourse
from synthetic.generator import generate
from tests.test_audit_trail import form_data


def two_sessions(*users):
    clients = []
    for user in users:
        client = Client()
        client.force_login(user)
        clients.append(client)
    return clients


def test_second_save_of_the_same_record_is_refused_with_what_changed(clinician, reviewer, case_a):
    administration = case_a.products.get().administrations.get()
    url = reverse("cases:administration-update", args=[case_a.pk, administration.pk])
    first, second = two_sessions(clinician, reviewer)
    first_form, second_form = form_data(first, url), form_data(second, url)  # both open the form

    assert first.post(url, {**first_form, "cells_millions": "120"}).status_code == 302
    response = second.post(url, {**second_form, "cells_millions": "90", "anatomical_site": "left arm"})

    assert response.status_code == 200
    message = " ".join(response.context["form"].non_field_errors())
    assert "Someone else saved this record while you were editing it" in message
    assert "clinician-a" in message and "Cells (x10^6) from 100.00 to 120.00" in message
    administration.refresh_from_db()
    assert administration.cells_millions == 120 and administration.anatomical_site == ""
    assert administration.history.count() == 2  # created, then the first edit only


def test_a_fresh_form_after_the_conflict_saves(clinician, reviewer, case_a):
    course = case_a.medications.get()
    url = reverse("cases:medication-update", args=[case_a.pk, course.pk])
    first, second = two_sessions(clinician, reviewer)
    stale = form_data(second, url)
    first.post(url, {**form_data(first, url), "frequency": "weekly"})
    assert second.post(url, {**stale, "frequency": "daily"}).status_code == 200
    assert second.post(url, {**form_data(second, url), "frequency": "daily"}).status_code == 302
    course.refresh_from_db()
    assert course.frequency == "daily"


def test_case_details_are_protected_the_same_way(clinician, reviewer, case_a):
    url = reverse("cases:patient-update", args=[case_a.pk])
    first, second = two_sessions(clinician, reviewer)
    first_form, second_form = form_data(first, url), form_data(second, url)
    first.post(url, {**first_form, "family_history": "Maternal cousin with SLE (synthetic)."})
    response = second.post(url, {**second_form, "family_history": "None."})
    assert response.status_code == 200
    case_a.refresh_from_db()
    assert case_a.family_history == "Maternal cousin with SLE (synthetic)."


def test_tampered_version_is_a_bad_request_not_an_error(client, clinician, case_a):
    course = case_a.medications.get()
    url = reverse("cases:medication-update", args=[case_a.pk, course.pk])
    client.force_login(clinician)
    client.raise_request_exception = False
    response = client.post(url, {**form_data(client, url), "version": "1"})
    assert response.status_code == 400


def test_the_conflict_lists_only_the_changes_saved_after_the_version_of_the_stale_form(clinician, reviewer, case_a):
    course = case_a.medications.get()
    course.frequency = "daily"  # a change before the form was opened: not news to its user
    course._change_reason = "Synthetic earlier correction"
    course.save()
    url = reverse("cases:medication-update", args=[case_a.pk, course.pk])
    first, second = two_sessions(clinician, reviewer)
    stale = form_data(second, url)
    first.post(url, {**form_data(first, url), "frequency": "weekly"})

    response = second.post(url, {**stale, "frequency": "monthly"})

    message = " ".join(response.context["form"].non_field_errors())
    assert "Frequency from daily to weekly" in message
    assert message.count(" changed ") == 1  # not the creation, not the earlier correction
    assert "system" not in message and "from  to" not in message


def test_a_generated_record_in_conflict_is_not_described_by_its_creation(clinician, reviewer):
    """Generated records (COPY on PostgreSQL, bulk_create elsewhere) carry in their creation history
    row the version the table holds, so a refused save lists only what was saved since."""
    centre = generate(2, seed=11, centre_code="SYN-CONFLICT").centre
    centre.members.add(clinician, reviewer)
    course = MedicationCourse.objects.filter(patient__centre=centre).first()
    creation = course.history.get()
    assert course.version == creation.version == 1
    url = reverse("cases:medication-update", args=[course.patient_id, course.pk])
    first, second = two_sessions(clinician, reviewer)
    stale = form_data(second, url)
    new_frequency = "weekly" if course.frequency != "weekly" else "monthly"
    assert first.post(url, {**form_data(first, url), "frequency": new_frequency}).status_code == 302

    response = second.post(url, {**stale, "note": "Synthetic note."})

    message = " ".join(response.context["form"].non_field_errors())
    assert "Changed meanwhile: clinician-a at" in message
    assert message.count(" changed ") == 1 and "system" not in message
