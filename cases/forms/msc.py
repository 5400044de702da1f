"""The MSC records: providers, products (with a new provider added in place) and administrations."""

from crispy_forms.layout import HTML, Div, Fieldset, Layout
from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction

from ..models import (
    MscAdministration,
    MscProduct,
    MscProvider,
)
from .base import ClinicalForm, PatientRecordForm, source, timing_fields


class MscProviderForm(ClinicalForm):
    class Meta:
        model = MscProvider
        fields = ["version", "name", "country", "kind", "note", "abstracted_from", "source_passage"]

    def layout(self):
        return Layout(Fieldset("Provider", "name", "country", "kind", "note"), source())


class MscProductForm(PatientRecordForm):
    """A product; its provider is chosen from the list or, when it is not there, added here: the new
    provider is saved with the product, in one transaction, or not at all."""

    new_provider_name = forms.CharField(
        label="New provider's name",
        required=False,
        max_length=MscProvider._meta.get_field("name").max_length,
        help_text="Only if the provider is not in the list: it is added for every case.",
    )
    new_provider_country = MscProvider._meta.get_field("country").formfield(
        label="New provider's country", required=False, help_text="Unknown if the source does not say."
    )
    new_provider_kind = MscProvider._meta.get_field("kind").formfield(label="New provider's kind", required=False)

    NEW_PROVIDER_FIELDS = {"name": "new_provider_name", "country": "new_provider_country", "kind": "new_provider_kind"}

    class Meta:
        model = MscProduct
        fields = [
            "version",
            "label",
            "provider",
            "tissue_source",
            "donor_type",
            "harvest_procedure",
            "preparation_country",
            "passage_number",
            "certificate_of_analysis",
            "viability_percent",
            "isct_phenotype_confirmed",
            "sterility_tested",
            "storage",
            "regulatory_status",
            "provider_claims",
            "abstracted_from",
            "source_passage",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].help_text = "Not in the list? Add it below."
        self.new_provider = None

    def layout(self):
        return Layout(
            Fieldset(
                "Product",
                "label",
                "provider",
                Div(
                    HTML('<p class="form-text mb-2">Or add a provider that is not in the list:</p>'),
                    *self.NEW_PROVIDER_FIELDS.values(),
                    css_class="border-start ps-3 mb-3",
                    css_id="new-provider",
                ),
                "regulatory_status",
                "provider_claims",
            ),
            Fieldset(
                "Origin",
                "tissue_source",
                "donor_type",
                "harvest_procedure",
                "preparation_country",
            ),
            Fieldset(
                "Characterisation",
                "certificate_of_analysis",
                "passage_number",
                "viability_percent",
                "isct_phenotype_confirmed",
                "sterility_tested",
                "storage",
            ),
            source(),
        )

    def clean(self):
        cleaned_data = super().clean()
        name, country = cleaned_data.get("new_provider_name"), cleaned_data.get("new_provider_country")
        if not name and not country and not self.has_error("new_provider_name"):
            return cleaned_data
        if cleaned_data.get("provider"):
            self.add_error(
                "new_provider_name", "Choose a provider from the list or add a new one, not both: clear one of them."
            )
            return cleaned_data
        if not name and not self.has_error("new_provider_name"):
            self.add_error("new_provider_name", "Give the new provider's name.")
        if not country:
            self.add_error("new_provider_country", "Give the new provider's country (Unknown if not stated).")
        if name and country:
            provider = MscProvider(
                name=name,
                country=country,
                kind=cleaned_data.get("new_provider_kind") or MscProvider._meta.get_field("kind").default,
                abstracted_from=cleaned_data.get("abstracted_from") or self.instance.abstracted_from,
                source_passage=cleaned_data.get("source_passage", ""),
                created_by=self.user,
            )
            try:
                provider.full_clean(exclude=["version"])
            except ValidationError as error:
                for field, messages in error.message_dict.items():
                    self.add_error(self.NEW_PROVIDER_FIELDS.get(field), messages)
            else:
                self.new_provider = provider
        return cleaned_data

    def save(self, commit=True):
        if self.new_provider is None:
            return super().save(commit)
        if not commit:
            raise ValueError("A product with a new provider is saved with it: save(commit=True).")
        with transaction.atomic():
            self.new_provider._change_reason = self.cleaned_data.get("change_reason") or "Added from an MSC product"
            self.new_provider.save()
            self.instance.provider = self.new_provider
            return super().save(commit)


class MscAdministrationForm(ClinicalForm):
    """Dose per kg is not entered: the model computes it from cells and weight (`dose_per_kg`)."""

    class Meta:
        model = MscAdministration
        fields = [
            "version",
            "product",
            "sequence",
            "route",
            "anatomical_site",
            *timing_fields(),
            "cells_millions",
            "volume_ml",
            "weight_kg",
            "reported_dose_millions_per_kg",
            "clinic_name",
            "country",
            "cost_amount",
            "cost_currency",
            "paid_by",
            "team_informed_before",
            "note",
            "abstracted_from",
            "source_passage",
        ]

    def __init__(self, *args, patient=None, **kwargs):
        # An administration reaches its case through its product: offer only this case's products.
        super().__init__(*args, **kwargs)
        if patient is None and self.instance.product_id:
            patient = self.instance.product.patient
        self.patient = patient
        products = MscProduct.objects.filter(patient=patient) if patient else MscProduct.objects.none()
        self.fields["product"].queryset = products

    def layout(self):
        return Layout(
            Fieldset("Administration", "product", "sequence", "route", "anatomical_site"),
            Fieldset("When", *timing_fields()),
            Fieldset(
                "Dose",
                "cells_millions",
                "volume_ml",
                "weight_kg",
                # Right under the fields it is computed from, so it is in view while they are typed.
                HTML('{% include "cases/includes/dose_preview.html" %}'),
                "reported_dose_millions_per_kg",
            ),
            Fieldset("Where", "clinic_name", "country", "team_informed_before"),
            Fieldset("Cost", "cost_amount", "cost_currency", "paid_by"),
            Fieldset("Notes", "note"),
            source(),
        )
