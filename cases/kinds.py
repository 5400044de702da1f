"""The kinds of record a clinician enters on a case page: the one list the rest of the registry asks.

URLs (`cases/urls.py`), the record pages, withdrawal and restore, the links of the checklist and the
data-quality rules, the roles' permissions and the synthetic generator all read RECORD_KINDS and the
model lists below; adding a kind of record means adding one line here (and its model and form).
"""

from dataclasses import dataclass
from importlib import import_module

from django.urls import reverse

from .models import (
    AdverseEvent,
    Assessment,
    Consent,
    FollowUpStatus,
    MedicationCourse,
    MscAdministration,
    MscProduct,
    MscProvider,
    Patient,
    PreviousDiagnosis,
    Visit,
)


@dataclass(frozen=True)
class RecordKind:
    """One kind of record entered from the case page: its model, form and how it reaches the case."""

    slug: str  # in URLs and page anchors: "adverse-event"
    model: type
    form_name: str  # the form's name in cases.forms (resolved when used: the forms import the models)

    @property
    def label(self):
        return self.model._meta.verbose_name

    @property
    def form_class(self):
        return getattr(import_module("cases.forms"), self.form_name)

    @property
    def case_path(self):
        """The lookup from a record to its case, as its queryset defines it: 'product__patient'."""
        return self.model.objects.get_queryset().case_path

    def records_of(self, patient, user):
        return self.model.objects.visible_to(user).filter(**{self.case_path: patient})

    def url(self, action, patient, record=None):
        """The page that adds ('create'), edits ('update') or removes ('delete') a record of this kind."""
        args = [patient.pk] if record is None else [patient.pk, record.pk]
        return reverse(f"cases:{self.slug}-{action}", args=args)

    def anchor(self, record):
        """The record's place on the case page (its row's id)."""
        return f"{self.slug}-{record.pk}"


RECORD_KINDS = {
    kind.slug: kind
    for kind in [
        RecordKind("diagnosis", PreviousDiagnosis, "PreviousDiagnosisForm"),
        RecordKind("medication", MedicationCourse, "MedicationCourseForm"),
        RecordKind("product", MscProduct, "MscProductForm"),
        RecordKind("administration", MscAdministration, "MscAdministrationForm"),
        RecordKind("adverse-event", AdverseEvent, "AdverseEventForm"),
        RecordKind("assessment", Assessment, "AssessmentForm"),
        RecordKind("consent", Consent, "ConsentForm"),
        RecordKind("vital-status", FollowUpStatus, "FollowUpStatusForm"),
        RecordKind("visit", Visit, "VisitForm"),
    ]
}

_BY_MODEL = {kind.model: kind for kind in RECORD_KINDS.values()}

#: The case and the records that belong to it: what is withdrawn and restored, and what the synthetic
#: generator writes, in the order a case's records depend on each other.
CASE_MODELS = (Patient, *(kind.model for kind in RECORD_KINDS.values()))

#: Everything clinicians enter: the case models and the MSC providers that products share.
CLINICAL_MODELS = (*CASE_MODELS, MscProvider)


def kind_of(record):
    """The RecordKind of a record (or model), None for the case itself and for shared records."""
    model = record if isinstance(record, type) else type(record)
    return _BY_MODEL.get(model)


def record_key(record):
    """How a discrepancy, an acknowledgement or a data query names a record: 'cases.mscadministration:12'."""
    return f"{record._meta.label_lower}:{record.pk}" if record is not None else ""


def edit_url(record):
    """The form that edits a case's record, or the case itself."""
    if isinstance(record, Patient):
        return reverse("cases:patient-update", args=[record.pk])
    return kind_of(record).url("update", record.case, record)
