"""The registry's forms: data entry of the case (`case`) and its records (`msc`, `records`, on the shared
machinery of `base`), the review workflow (`review`) and the checklist and data-quality review (`quality`).

`cases.kinds.RecordKind.form_name` names a record form in this namespace."""

from .case import PatientForm
from .consent import ConsentForm
from .follow_up import FollowUpStatusForm, VisitForm
from .msc import MscAdministrationForm, MscProductForm, MscProviderForm
from .records import AdverseEventForm, AssessmentForm, MedicationCourseForm, PreviousDiagnosisForm

__all__ = [
    "AdverseEventForm",
    "AssessmentForm",
    "ConsentForm",
    "FollowUpStatusForm",
    "MedicationCourseForm",
    "MscAdministrationForm",
    "MscProductForm",
    "MscProviderForm",
    "PatientForm",
    "PreviousDiagnosisForm",
    "VisitForm",
]
