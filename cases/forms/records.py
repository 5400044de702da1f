"""The other records of a case: previous diagnoses, medications, adverse events and assessments."""

from crispy_forms.layout import Fieldset, Layout
from django import forms

from ..models import (
    AdverseEvent,
    Assessment,
    MedicationCourse,
    MscAdministration,
    PreviousDiagnosis,
)
from .base import PatientRecordForm, source, timing_fields


class PreviousDiagnosisForm(PatientRecordForm):
    class Meta:
        model = PreviousDiagnosis
        fields = [
            "version",
            "diagnosis",
            "diagnosis_detail",
            "note",
            *timing_fields(),
            "abstracted_from",
            "source_passage",
        ]

    def layout(self):
        return Layout(
            Fieldset("Diagnosis", "diagnosis", "diagnosis_detail", "note"),
            Fieldset("When", *timing_fields()),
            source(),
        )


class MedicationCourseForm(PatientRecordForm):
    class Meta:
        model = MedicationCourse
        fields = [
            "version",
            "drug",
            "drug_detail",
            "drug_class",
            "route",
            "dose",
            "dose_unit",
            "frequency",
            "relation_to_msc",
            "is_confounder",
            *timing_fields("start"),
            "is_ongoing",
            *timing_fields("stop"),
            "reason_stopped",
            "stop_decided_by",
            "team_knew_before_stop",
            "team_learned_after_stop",
            *timing_fields("learned"),
            "note",
            "abstracted_from",
            "source_passage",
        ]

    def layout(self):
        return Layout(
            Fieldset("Drug or therapy", "drug", "drug_detail", "drug_class", "relation_to_msc", "is_confounder"),
            Fieldset("Dose", "route", "dose", "dose_unit", "frequency"),
            Fieldset("Start", *timing_fields("start")),
            Fieldset(
                "Stop",
                "is_ongoing",
                *timing_fields("stop"),
                "reason_stopped",
                "stop_decided_by",
            ),
            Fieldset(
                "The rheumatology team and the stop",
                "team_knew_before_stop",
                "team_learned_after_stop",
                *timing_fields("learned"),
            ),
            Fieldset("Notes", "note"),
            source(),
        )


class AdverseEventForm(PatientRecordForm):
    class Meta:
        model = AdverseEvent
        fields = [
            "version",
            "description",
            "category",
            "administration",
            "preceding_withdrawals",
            *timing_fields("onset"),
            "ctcae_grade",
            "flare_severity",
            "seriousness",
            "resulted_in_death",
            "life_threatening",
            "required_hospitalisation",
            "persistent_disability",
            "congenital_anomaly",
            "medically_important",
            "attribution",
            "attribution_to_withdrawal",
            "attributed_by",
            "attribution_note",
            "expectedness",
            "expectedness_reference",
            "action_taken",
            "outcome",
            "duration_days",
            "treatment",
            "reported_by",
            "abstracted_from",
            "source_passage",
        ]
        widgets = {"preceding_withdrawals": forms.CheckboxSelectMultiple}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        administrations = MscAdministration.objects.all()
        medications = MedicationCourse.objects.all()
        if self.patient is None:
            administrations, medications = administrations.none(), medications.none()
        else:
            administrations = administrations.filter(product__patient=self.patient)
            medications = medications.filter(patient=self.patient)
        self.fields["administration"].queryset = administrations
        self.fields["preceding_withdrawals"].queryset = medications
        # Blank is allowed in the database only for events recorded before the question was asked.
        self.fields["seriousness"].required = True

    def layout(self):
        return Layout(
            Fieldset("Event", "description", "category", "administration", "reported_by"),
            Fieldset("Onset", *timing_fields("onset")),
            Fieldset(
                "Severity",
                "ctcae_grade",
                "seriousness",
                "resulted_in_death",
                "life_threatening",
                "required_hospitalisation",
                "persistent_disability",
                "congenital_anomaly",
                "medically_important",
            ),
            Fieldset(
                "Attribution and expectedness",
                "attribution",
                "attribution_to_withdrawal",
                "attributed_by",
                "attribution_note",
                "expectedness",
                "expectedness_reference",
            ),
            Fieldset("Course", "action_taken", "outcome", "duration_days", "treatment"),
            Fieldset("For a flare", "flare_severity", "preceding_withdrawals"),
            source(),
        )


class AssessmentForm(PatientRecordForm):
    class Meta:
        model = Assessment
        fields = [
            "version",
            "timepoint",
            *timing_fields(),
            "patient_global",
            "patient_global_source",
            "physician_global",
            "physician_global_source",
            "sledai2k",
            "sledai2k_source",
            "jadas",
            "jadas_variant",
            "jadas_source",
            "mrss",
            "mrss_source",
            "esr_mm_per_h",
            "esr_normal",
            "esr_source",
            "crp_mg_per_l",
            "crp_source",
            "ck_u_per_l",
            "ck_source",
            "ana_titre",
            "ana_titre_comparator",
            "ana_titre_upper",
            "ana_pattern",
            "ana_source",
            "dlco_percent_predicted",
            "dlco_source",
            "bmi",
            "bmi_source",
            "imaging_findings",
            "imaging_source",
            "clinical_findings",
            "abstracted_from",
            "source_passage",
        ]

    def layout(self):
        return Layout(
            Fieldset("When", "timepoint", *timing_fields()),
            Fieldset(
                "Global assessments",
                "patient_global",
                "patient_global_source",
                "physician_global",
                "physician_global_source",
            ),
            Fieldset(
                "Disease activity scores",
                "sledai2k",
                "sledai2k_source",
                "jadas",
                "jadas_variant",
                "jadas_source",
                "mrss",
                "mrss_source",
            ),
            Fieldset(
                "Laboratory",
                "esr_mm_per_h",
                "esr_normal",
                "esr_source",
                "crp_mg_per_l",
                "crp_source",
                "ck_u_per_l",
                "ck_source",
            ),
            Fieldset("ANA", "ana_titre", "ana_titre_comparator", "ana_titre_upper", "ana_pattern", "ana_source"),
            Fieldset(
                "Lung, growth and imaging",
                "dlco_percent_predicted",
                "dlco_source",
                "bmi",
                "bmi_source",
                "imaging_findings",
                "imaging_source",
            ),
            Fieldset("Clinical findings", "clinical_findings"),
            source(),
        )
