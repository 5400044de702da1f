"""A case's consent records: who consented to what, on which form, and any withdrawal."""

from crispy_forms.layout import Fieldset, Layout

from ..models import Consent
from .base import PatientRecordForm, source


class ConsentForm(PatientRecordForm):
    class Meta:
        model = Consent
        fields = [
            "version",
            "kind",
            "date",
            "form_version",
            "covers_registry_data",
            "covers_sharing",
            "covers_contact",
            "consent_withdrawn_on",
            "withdrawal_scope",
            "note",
            "abstracted_from",
            "source_passage",
        ]

    def layout(self):
        return Layout(
            Fieldset("Consent", "kind", "date", "form_version", "note"),
            Fieldset("What it covers", "covers_registry_data", "covers_sharing", "covers_contact"),
            Fieldset("Withdrawal of consent", "consent_withdrawn_on", "withdrawal_scope"),
            source(),
        )
