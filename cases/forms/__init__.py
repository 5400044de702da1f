"""The registry's forms: the clinical records' data entry (`records`), the review workflow (`review`)
and the checklist and data-quality review (`quality`).

`cases.kinds.RecordKind.form_name` names a record form in this namespace."""

from .records import (
    AdverseEventForm,
    AssessmentForm,
    MedicationCourseForm,
    MscAdministrationForm,
    MscProductForm,
    MscProviderForm,
    PatientForm,
    PreviousDiagnosisForm,
)

__all__ = [
    "AdverseEventForm",
    "AssessmentForm",
    "MedicationCourseForm",
    "MscAdministrationForm",
    "MscProductForm",
    "MscProviderForm",
    "PatientForm",
    "PreviousDiagnosisForm",
]
