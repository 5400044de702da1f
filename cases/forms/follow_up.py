"""The vital status of a case at a contact: alive, died, lost to follow-up, consent withdrawn, transferred."""

from crispy_forms.layout import Fieldset, Layout

from ..models import FollowUpStatus
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
