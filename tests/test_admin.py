"""The admin answers for every registered model, and a whole case can be reviewed on one page."""

import pytest
from django.contrib import admin
from django.db.models import ProtectedError
from django.urls import reverse

from cases.models import DataQuery, MscProvider, QueryMessageKind, ReviewAction, ReviewEvent
from tests.factories import (
    AdverseEventFactory,
    AssessmentFactory,
    MedicationCourseFactory,
    MscAdministrationFactory,
    MscProductFactory,
    MscProviderFactory,
    PatientFactory,
    PreviousDiagnosisFactory,
    UserFactory,
)

REGISTERED = sorted(f"{model._meta.app_label}_{model._meta.model_name}" for model in admin.site._registry)


@pytest.fixture
def whole_case(patient):
    """One synthetic case with one record of every kind."""
    PreviousDiagnosisFactory(patient=patient, diagnosis_detail="synthetic scleritis")
    course = MedicationCourseFactory(patient=patient, stop_age_years="13.0", reason_stopped="msc_provider_instruction")
    administration = MscAdministrationFactory(product__patient=patient, reported_dose_millions_per_kg="2.5")
    flare = AdverseEventFactory(patient=patient, administration=administration, category="disease_flare")
    flare.preceding_withdrawals.add(course)
    AssessmentFactory(patient=patient, patient_global="7.5", physician_global="3")
    reviewer = UserFactory()
    patient.centre.members.add(reviewer)
    ReviewEvent.objects.create(patient=patient, action=ReviewAction.SUBMITTED, user=reviewer)
    query = DataQuery.objects.create(patient=patient, question="Synthetic question: ANA titre?", raised_by=reviewer)
    query.messages.create(kind=QueryMessageKind.ANSWER, author=reviewer, text="Synthetic answer.")
    return patient


@pytest.mark.parametrize("name", REGISTERED)
def test_changelist_answers(admin_client, whole_case, name):
    response = admin_client.get(reverse(f"admin:{name}_changelist"))
    assert response.status_code == 200


@pytest.mark.parametrize("name", REGISTERED)
def test_changelist_search_by_text_answers(admin_client, whole_case, name):
    response = admin_client.get(reverse(f"admin:{name}_changelist"), {"q": whole_case.study_id})
    assert response.status_code == 200


# The audit trail of signatures is written by the review workflow only, the account history by
# registry.accounts.changes, log-in attempts by axes.
READ_ONLY = {
    "cases_reviewevent",
    "registry_accountchange",
    "axes_accessattempt",
    "axes_accessfailurelog",
    "axes_accesslog",
}


@pytest.mark.parametrize("name", [n for n in REGISTERED if n not in READ_ONLY])
def test_add_page_answers(admin_client, db, name):
    assert admin_client.get(reverse(f"admin:{name}_add")).status_code == 200


def test_patient_page_shows_the_whole_case(admin_client, whole_case):
    response = admin_client.get(reverse("admin:cases_patient_change", args=[whole_case.pk]))
    assert response.status_code == 200
    for prefix in ("previous_diagnoses", "medications", "products", "adverse_events", "assessments"):
        assert f'name="{prefix}-TOTAL_FORMS"' in response.content.decode(), prefix
    assert "synthetic scleritis" in response.content.decode()


def test_product_page_shows_its_administrations(admin_client, whole_case):
    product = whole_case.products.get()
    response = admin_client.get(reverse("admin:cases_mscproduct_change", args=[product.pk]))
    assert response.status_code == 200
    assert 'name="administrations-TOTAL_FORMS" value="1"' in response.content.decode()


def test_search_by_study_id_finds_the_case_records(admin_client, whole_case):
    response = admin_client.get(reverse("admin:cases_adverseevent_changelist"), {"q": whole_case.study_id})
    assert response.context["cl"].result_count == 1


def test_centre_page_answers(admin_client, whole_case):
    response = admin_client.get(reverse("admin:registry_centre_change", args=[whole_case.centre.pk]))
    assert response.status_code == 200


def test_funding_sources_cannot_be_deleted(admin_client, db):
    response = admin_client.get(reverse("admin:cases_fundingsource_delete", args=["savings"]))
    assert response.status_code == 403


def test_changelist_query_count_does_not_grow_with_rows(admin_client, whole_case, django_assert_max_num_queries):
    for _ in range(5):
        other = PatientFactory(centre=whole_case.centre)
        MscAdministrationFactory(product__patient=other)
        AdverseEventFactory(patient=other)
    for name in [n for n in REGISTERED if n.startswith(("cases_", "registry_"))]:  # our own admin pages
        # 16: the page's own queries plus session, user, two-factor policy and the session save.
        with django_assert_max_num_queries(16, info=name):
            admin_client.get(reverse(f"admin:{name}_changelist"))


def test_review_events_cannot_be_added_changed_or_deleted_in_the_admin(admin_client, whole_case):
    event = whole_case.review_events.get()
    assert admin_client.get(reverse("admin:cases_reviewevent_add")).status_code == 403
    assert admin_client.get(reverse("admin:cases_reviewevent_delete", args=[event.pk])).status_code == 403
    response = admin_client.post(reverse("admin:cases_reviewevent_change", args=[event.pk]), {"action": "verified"})
    assert response.status_code == 403
    event.refresh_from_db()
    assert event.action == ReviewAction.SUBMITTED


def delete_provider_from_admin(admin_client, provider):
    url = reverse("admin:cases_mscprovider_delete", args=[provider.pk])
    page = admin_client.get(url).content.decode()
    admin_client.post(url, {"post": "yes"})
    return page, MscProvider.objects.filter(pk=provider.pk).exists()


def test_provider_a_product_names_cannot_be_deleted_from_the_admin(admin_client, db):
    product = MscProductFactory(label="synthetic adipose MSC")
    page, kept = delete_provider_from_admin(admin_client, product.provider)
    assert kept
    assert "Cannot delete MSC provider" in page and "synthetic adipose MSC" in page


def test_provider_named_only_in_the_history_of_products_cannot_be_deleted_from_the_admin(admin_client, db):
    deleted = MscProductFactory(label="synthetic deleted product")
    provider = deleted.provider
    reassigned = MscProductFactory(label="synthetic reassigned product", provider=provider)
    deleted.delete()  # a draft's record
    reassigned.provider = MscProviderFactory()
    reassigned.save()
    page, kept = delete_provider_from_admin(admin_client, provider)
    assert kept
    assert "Cannot delete MSC provider" in page
    assert "synthetic deleted product" in page and "synthetic reassigned product" in page
    with pytest.raises(ProtectedError, match="the records of 2 MSC product"):
        provider.delete()


def test_provider_no_record_ever_named_can_be_deleted_from_the_admin(admin_client, db):
    _, kept = delete_provider_from_admin(admin_client, MscProviderFactory())
    assert not kept
