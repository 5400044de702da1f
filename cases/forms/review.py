"""Small forms of the review workflow: the signature, the unlock reason, data queries."""

from django import forms

from ..models import SIGNATURE_MEANING, MscAdministration


class SubmitForm(forms.Form):
    """Submitting asks for nothing, unless the case has open data-quality discrepancies: then the
    person submitting ticks that they have seen them (workflow.submit refuses otherwise)."""

    open_discrepancies_confirmed = forms.BooleanField(
        label="I have seen the open data-quality discrepancies and submit the case with them",
        required=False,
        help_text="The reviewer will ask for each to be corrected, or acknowledge it with a reason.",
    )


class VerifyForm(forms.Form):
    password = forms.CharField(
        label="Your password",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=f"Re-entering your password signs the case: \u201c{SIGNATURE_MEANING}\u201d",
    )


class UnlockForm(forms.Form):
    reason = forms.CharField(
        label="Reason for unlocking",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Kept with the case; the reviewer's signature becomes void.",
    )


class AnswerForm(forms.Form):
    text = forms.CharField(label="Answer", widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)


class QueryNoteForm(forms.Form):
    text = forms.CharField(label="Note", widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=5000)


class QueryForm(forms.Form):
    """A question on the whole case or on one of its records."""

    record = forms.ChoiceField(label="About", required=False)
    question = forms.CharField(
        label="Question",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        help_text="e.g. 'ANA titre at baseline?'",
    )

    def __init__(self, *args, patient, **kwargs):
        super().__init__(*args, **kwargs)
        self.records = {}
        for related in ("previous_diagnoses", "medications", "products", "adverse_events", "assessments"):
            for record in getattr(patient, related).all():
                self.records[f"{record._meta.label_lower}:{record.pk}"] = record
        for record in MscAdministration.objects.filter(product__patient=patient).select_related("product"):
            self.records[f"{record._meta.label_lower}:{record.pk}"] = record
        self.fields["record"].choices = [("", "The case as a whole")] + [
            (key, f"{record._meta.verbose_name.capitalize()}: {record}") for key, record in self.records.items()
        ]

    def clean_record(self):
        key = self.cleaned_data["record"]
        if not key:
            return None
        if key not in self.records:
            raise forms.ValidationError("Choose a record of this case.")
        return self.records[key]


class RemovalForm(forms.Form):
    """Deleting a draft's record needs no reason; withdrawing a submitted one does."""

    reason = forms.CharField(
        label="Reason for withdrawal",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=1000,
        help_text="Kept in the audit trail; a registry admin can restore the record.",
    )

    def __init__(self, *args, withdrawal=True, **kwargs):
        super().__init__(*args, **kwargs)
        if not withdrawal:
            del self.fields["reason"]


class RestoreForm(forms.Form):
    reason = forms.CharField(label="Reason for restoring", widget=forms.Textarea(attrs={"rows": 2}), max_length=1000)
