"""The case itself: its centre, diagnosis, serology, decision, cost and source."""

from crispy_forms.layout import Fieldset, Layout
from django import forms
from django.core.exceptions import ValidationError

from registry.models import Centre
from registry.roles import sees_all_centres

from ..models import (
    Patient,
)
from .base import ClinicalForm, source


class PatientForm(ClinicalForm):
    """The case itself, in the centre the view fixes (`centre=`) or that the user picks (`user=`)."""

    class Meta:
        model = Patient
        fields = [
            "version",
            "centre",
            "study_id",
            "sex",
            "diagnosis",
            "diagnosis_detail",
            "jia_category",
            "classification_criteria",
            "criteria_items",
            "age_at_onset_years",
            "age_at_diagnosis_years",
            "age_at_first_msc_years",
            "age_at_last_follow_up_years",
            "family_history",
            "ana_titre",
            "ana_titre_comparator",
            "ana_pattern",
            "anti_dsdna",
            "anti_ena",
            "anti_rnp",
            "rheumatoid_factor",
            "anti_ccp",
            "hla_b27",
            "msc_decision",
            "team_knew_before_msc",
            "team_counselled_against",
            "provider_communicated_with_team",
            "conventional_therapy_refused_after_msc",
            "communication_notes",
            "serious_adverse_events",
            "total_cost_amount",
            "total_cost_currency",
            "total_cost_estimated",
            "paid_out_of_pocket",
            "funding_sources",
            "cost_notes",
            "abstracted_from",
            "source_passage",
        ]
        widgets = {"funding_sources": forms.CheckboxSelectMultiple}

    def __init__(self, *args, centre=None, user=None, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        if centre is not None:
            self.instance.centre = centre
        if centre is not None or (user is None and self.instance.centre_id):
            del self.fields["centre"]  # fixed by the view, or kept as it is
        else:
            centres = Centre.objects.none()
            if user is not None:
                centres = Centre.objects.all() if sees_all_centres(user) else user.centres.all()
            self.fields["centre"].queryset = centres
            if not self.instance.centre_id and len(centres) == 1:
                self.fields["centre"].initial = centres[0]
        self.helper.layout = self.layout()

    def layout(self):
        return Layout(
            Fieldset("Case", *[name for name in ("centre", "study_id", "sex") if name in self.fields]),
            Fieldset(
                "Diagnosis",
                "diagnosis",
                "diagnosis_detail",
                "jia_category",
                "classification_criteria",
                "criteria_items",
                "family_history",
            ),
            Fieldset(
                "Ages",
                "age_at_onset_years",
                "age_at_diagnosis_years",
                "age_at_first_msc_years",
                "age_at_last_follow_up_years",
            ),
            Fieldset(
                "Serology at diagnosis",
                "ana_titre",
                "ana_titre_comparator",
                "ana_pattern",
                "anti_dsdna",
                "anti_ena",
                "anti_rnp",
                "rheumatoid_factor",
                "anti_ccp",
                "hla_b27",
            ),
            Fieldset(
                "Decision and communication",
                "msc_decision",
                "team_knew_before_msc",
                "team_counselled_against",
                "provider_communicated_with_team",
                "conventional_therapy_refused_after_msc",
                "communication_notes",
            ),
            Fieldset("Safety after MSC", "serious_adverse_events"),
            Fieldset(
                "Cost to the family",
                "total_cost_amount",
                "total_cost_currency",
                "total_cost_estimated",
                "paid_out_of_pocket",
                "funding_sources",
                "cost_notes",
            ),
            source(),
        )

    def clean_study_id(self):
        # Checked here rather than left to the unique constraint, which Django skips when the centre
        # is not a form field and otherwise reports away from the field.
        study_id = self.cleaned_data["study_id"]
        centre = self.cleaned_data.get("centre") or (self.instance.centre if self.instance.centre_id else None)
        if centre is not None:
            clash = Patient.objects.filter(centre=centre, study_id=study_id).exclude(pk=self.instance.pk)
            if clash.exists():
                raise ValidationError("This study ID is already used in this centre.", code="unique")
        return study_id
