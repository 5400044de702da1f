"""Follow-up: the vital status of a case at a contact, and its scheduled visits."""

from crispy_forms.layout import Fieldset, Layout
from django import forms

from ..models import AdverseEvent, Assessment, FollowUpStatus, MedicationCourse, Visit, YesNoUnknown
from ..models.follow_up import SCREEN_FIELDS
from .base import PatientRecordForm, source, timing_fields


class FollowUpStatusForm(PatientRecordForm):
    class Meta:
        model = FollowUpStatus
        fields = [
            "version",
            "status",
            *timing_fields("contact"),
            "lost_reason",
            *timing_fields("death"),
            "cause_of_death",
            "death_relation_to_msc",
            "note",
            "abstracted_from",
            "source_passage",
        ]

    def layout(self):
        return Layout(
            Fieldset("Vital status", "status"),
            Fieldset("Last contact (leave blank to use the latest dated record)", *timing_fields("contact")),
            Fieldset("Lost to follow-up", "lost_reason"),
            Fieldset("Death", *timing_fields("death"), "cause_of_death", "death_relation_to_msc"),
            Fieldset("Notes", "note"),
            source(),
        )


class VisitForm(PatientRecordForm):
    """A scheduled visit. The screen's questions are required on a done visit and start with an empty
    choice, so that no answer is ever preset; a 'Yes' needs its adverse event linked."""

    class Meta:
        model = Visit
        fields = [
            "version",
            "definition",
            "status",
            *timing_fields("visit"),
            "weight_kg",
            "assessments",
            "courses_continuing",
            "courses_stopped_since_last",
            *SCREEN_FIELDS,
            "adverse_events",
            "note",
            "abstracted_from",
            "source_passage",
        ]
        widgets = {
            name: forms.CheckboxSelectMultiple
            for name in ("assessments", "courses_continuing", "courses_stopped_since_last", "adverse_events")
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, model in (
            ("assessments", Assessment),
            ("courses_continuing", MedicationCourse),
            ("courses_stopped_since_last", MedicationCourse),
            ("adverse_events", AdverseEvent),
        ):
            records = model.objects.all()
            self.fields[name].queryset = (
                records.none() if self.patient is None else records.filter(patient=self.patient)
            )
        for name in SCREEN_FIELDS:
            self.fields[name].choices = [("", "---------"), *YesNoUnknown.choices]

    def clean(self):
        cleaned_data = super().clean()
        definition = cleaned_data.get("definition")
        if definition is not None and self.patient is not None:
            others = Visit.objects.filter(patient=self.patient, definition=definition).exclude(pk=self.instance.pk)
            if others.exists():
                self.add_error("definition", "This case already has a record of this scheduled visit; edit that one.")
        said_yes = [name for name in SCREEN_FIELDS if cleaned_data.get(name) == YesNoUnknown.YES]
        if said_yes and not cleaned_data.get("adverse_events"):
            self.add_error(
                "adverse_events",
                "A 'Yes' in the screen needs its adverse-event record: use 'Add adverse event' on the case page, "
                "then link it here.",
            )
        return cleaned_data

    def layout(self):
        return Layout(
            Fieldset("Visit", "definition", "status", *timing_fields("visit"), "weight_kg"),
            Fieldset("Taken at the visit", "assessments"),
            Fieldset("Therapies at the visit", "courses_continuing", "courses_stopped_since_last"),
            Fieldset("Events of special interest since the last visit", *SCREEN_FIELDS, "adverse_events"),
            Fieldset("Notes", "note"),
            source(),
        )
