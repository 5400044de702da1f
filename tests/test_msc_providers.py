"""A provider missing from the list is added from the MSC product form, with the product or not at
all; the same provider twice (same name up to case, accents and spaces, same country) is refused
by the forms and by the database."""

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from cases.forms import MscProductForm, MscProviderForm
from cases.models import MscProduct, MscProvider
from cases.models.msc import normalised
from tests.factories import MscProviderFactory

PRODUCT = {"label": "Synthetic cord MSC", "tissue_source": "umbilical_cord", "donor_type": "allogeneic_unrelated"}
DEFAULTS = {
    "isct_phenotype_confirmed": "unknown",
    "sterility_tested": "unknown",
    "storage": "unknown",
    "regulatory_status": "unknown",
    "abstracted_from": "synthetic",
}
NEW_PROVIDER = {
    "new_provider_name": "Synthetic Clínica Nueva",
    "new_provider_country": "PA",
    "new_provider_kind": "commercial_clinic",
}


def product_form(patient, user=None, **values):
    return MscProductForm(data={**DEFAULTS, **PRODUCT, **values}, patient=patient, user=user)


@pytest.fixture
def listed(db):
    return MscProviderFactory(name="Synthetic Clínica Regenera", country="MX")


def test_normalised_name_ignores_case_accents_and_spaces():
    assert normalised("  Synthetic  CLÍNICA\tregenera ") == "synthetic clinica regenera"
    assert normalised("Straße") == normalised("STRASSE")


def test_clinician_adds_a_provider_with_the_product(case_a, clinician):
    form = product_form(case_a, clinician, **NEW_PROVIDER)
    assert form.is_valid(), form.errors
    product = form.save()
    provider = product.provider
    assert (provider.name, provider.country.name, provider.kind) == (
        "Synthetic Clínica Nueva",
        "Panama",
        "commercial_clinic",
    )
    assert provider.created_by == clinician
    assert provider.normalised_name == "synthetic clinica nueva"
    assert [h.history_type for h in provider.history.all()] == ["+"]


@pytest.mark.parametrize(
    "typed", ["synthetic clinica regenera", "SYNTHETIC  CLÍNICA REGENERA", " Synthetic Clínica\tRegenera"]
)
def test_new_provider_already_in_the_list_is_refused(case_a, clinician, listed, typed):
    form = product_form(case_a, clinician, new_provider_name=typed, new_provider_country="MX")
    assert not form.is_valid()
    assert form.errors["new_provider_name"] == [
        "A provider named Synthetic Clínica Regenera in Mexico already exists: choose it from the list."
    ]
    assert MscProvider.objects.count() == 2  # the listed one and case A's


def test_same_name_in_another_country_is_another_provider(case_a, clinician, listed):
    form = product_form(case_a, clinician, new_provider_name="Synthetic Clínica Regenera", new_provider_country="PA")
    assert form.is_valid(), form.errors
    assert form.save().provider.country == "PA"


def test_choosing_a_provider_and_adding_one_at_once_is_refused(case_a, clinician, listed):
    form = product_form(case_a, clinician, provider=listed.pk, **NEW_PROVIDER)
    assert not form.is_valid()
    assert form.errors["new_provider_name"] == [
        "Choose a provider from the list or add a new one, not both: clear one of them."
    ]


def test_new_provider_needs_a_name_and_a_country(case_a, clinician):
    form = product_form(case_a, clinician, new_provider_name="Synthetic Clinic Without Country")
    assert not form.is_valid()
    assert form.errors["new_provider_country"] == ["Give the new provider's country (Unknown if not stated)."]
    form = product_form(case_a, clinician, new_provider_country="MX")
    assert not form.is_valid()
    assert form.errors["new_provider_name"] == ["Give the new provider's name."]


def test_an_invalid_product_saves_no_new_provider(case_a, clinician):
    form = product_form(case_a, clinician, viability_percent="150", **NEW_PROVIDER)
    assert not form.is_valid()
    assert "viability_percent" in form.errors
    assert not MscProvider.objects.filter(name=NEW_PROVIDER["new_provider_name"]).exists()


def test_provider_form_refuses_a_duplicate(listed):
    form = MscProviderForm(
        data={"name": "SYNTHETIC CLINICA REGENERA", "country": "MX", "kind": "unknown", "abstracted_from": "synthetic"}
    )
    assert not form.is_valid()
    assert form.errors["name"] == [
        "A provider named Synthetic Clínica Regenera in Mexico already exists: choose it from the list."
    ]


def test_database_refuses_a_duplicate_provider(listed):
    with pytest.raises(IntegrityError), transaction.atomic():
        MscProvider.objects.create(name="synthetic  clinica REGENERA", country="MX")


def test_clinician_adds_a_product_with_a_new_provider_from_the_case(client, case_a, clinician):
    client.force_login(clinician)
    url = reverse("cases:product-create", args=[case_a.pk])
    response = client.post(url, {**DEFAULTS, **PRODUCT, **NEW_PROVIDER})
    assert response.status_code == 302, response.context["form"].errors
    provider = MscProvider.objects.get(name="Synthetic Clínica Nueva")
    assert MscProduct.objects.get(label=PRODUCT["label"]).provider == provider
    assert provider.created_by == clinician
    assert provider.history.get().history_user == clinician  # the audit trail names who added it


def test_a_refused_product_leaves_no_provider_behind(client, case_a, clinician):
    client.force_login(clinician)
    url = reverse("cases:product-create", args=[case_a.pk])
    response = client.post(url, {**DEFAULTS, **PRODUCT, **NEW_PROVIDER, "passage_number": "99"})
    assert response.status_code == 200
    assert "passage_number" in response.context["form"].errors
    assert not MscProvider.objects.filter(name="Synthetic Clínica Nueva").exists()
    assert not MscProduct.objects.filter(label=PRODUCT["label"]).exists()


def test_provider_added_in_the_admin_records_who_added_it(admin_client, django_user_model):
    response = admin_client.post(
        reverse("admin:cases_mscprovider_add"),
        {"name": "Synthetic Admin Clinic", "country": "DE", "kind": "unknown", "abstracted_from": "synthetic"},
    )
    assert response.status_code == 302
    provider = MscProvider.objects.get(name="Synthetic Admin Clinic")
    assert provider.created_by == django_user_model.objects.get(username="admin")
