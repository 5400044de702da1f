"""Forms of the checklist and the data-quality review: an explicit 'none'/'unknown' for a checklist
item, and a reviewer's acknowledgement of a discrepancy."""

from django import forms

from ..models import ChecklistItem, ChecklistStatement, Statement


class ChecklistStatementForm(forms.ModelForm):
    item = forms.ChoiceField(label="Checklist item", choices=ChecklistItem.choices)

    class Meta:
        model = ChecklistStatement
        fields = ["item", "statement", "follow_up_months", "note"]
        widgets = {"note": forms.Textarea(attrs={"rows": 3})}
        help_texts = {"note": "Where this comes from, e.g. the passage of the source that says so."}

    def clean(self):
        data = super().clean()
        if (
            data.get("item") == ChecklistItem.ADVERSE_EVENTS
            and data.get("statement") == Statement.NONE
            and data.get("follow_up_months") is None
        ):
            self.add_error("follow_up_months", "Say over how many months of follow-up no adverse event occurred.")
        return data

    def validate_unique(self):
        pass  # one statement per item: the view edits the existing one instead of adding a second


class AcknowledgementForm(forms.Form):
    rule = forms.CharField(widget=forms.HiddenInput, max_length=40)
    record = forms.CharField(widget=forms.HiddenInput, required=False, max_length=80)
    reason = forms.CharField(
        label="Why the discrepancy stands",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=5000,
        help_text="e.g. the passage of the source that explains it. Kept, with your name, in the audit trail.",
    )

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Give the reason.")
        return reason
