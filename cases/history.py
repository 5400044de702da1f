"""Reading the audit trail (django-simple-history) in plain words.

`case_history` gathers every change to a case and its records, newest first, with one query per
kind of record; `edit_conflict` tells a user whose form is out of date what changed meanwhile.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth import get_user_model

from .models import (
    AdverseEvent,
    Assessment,
    Consent,
    DataQuery,
    DataQueryMessage,
    FollowUpStatus,
    MedicationCourse,
    MscAdministration,
    MscProduct,
    Patient,
    PreviousDiagnosis,
    ReviewEvent,
    Visit,
)

#: What django-simple-history's history_type codes mean: the case history page and the export's
#: Audit log sheet both say it in these words.
ACTIONS = {"+": "Created", "~": "Changed", "-": "Deleted"}
SKIPPED = {"id", "version", "history_id", "history_date", "history_change_reason", "history_type", "history_user"}


@dataclass
class Change:
    label: str
    old: str
    new: str


@dataclass
class Entry:
    at: datetime
    user: str
    record_type: str
    record: str
    action: str
    reason: str
    changes: list[Change] = field(default_factory=list)


def _tracked_fields(model):
    return [f for f in model._meta.concrete_fields if f.attname not in SKIPPED and f.name not in SKIPPED]


def _display(model_field, value, usernames):
    if value is None or value == "":
        return "(empty)"
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if model_field.is_relation:
        if model_field.related_model is get_user_model():
            return usernames.get(value, f"user #{value}")
        return f"{model_field.related_model._meta.verbose_name} #{value}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _label(row, model):
    if model is DataQuery:
        return row.question[:80]
    if model is DataQueryMessage:
        return f"{row.get_kind_display()} on query #{row.query_id}"
    if model is ReviewEvent:
        return row.get_action_display()
    return str(row.instance)


def _entries(rows, model, usernames):
    """Pairwise differences between consecutive history rows of each record."""
    fields = _tracked_fields(model)
    previous = {}
    for row in rows:  # ordered by record, then time
        before = previous.get(row.id)
        changes = []
        if row.history_type == "~" and before is not None:
            for f in fields:
                old, new = getattr(before, f.attname), getattr(row, f.attname)
                if old != new:
                    changes.append(
                        Change(
                            str(f.verbose_name).capitalize(),
                            _display(f, old, usernames),
                            _display(f, new, usernames),
                        )
                    )
        elif row.history_type == "+":
            changes = [
                Change(str(f.verbose_name).capitalize(), "", _display(f, getattr(row, f.attname), usernames))
                for f in fields
                if getattr(row, f.attname) not in (None, "", False)
            ]
        previous[row.id] = row
        yield Entry(
            at=row.history_date,
            user=row.history_user.get_username() if row.history_user_id else "system",
            record_type=str(model._meta.verbose_name).capitalize(),
            record=_label(row, model),
            action=ACTIONS[row.history_type].lower(),
            reason=row.history_change_reason or "",
            changes=changes,
        )


def case_history(patient):
    """Every recorded change to the case and its records, newest first (a fixed number of queries)."""

    def rows(model, **lookup):
        return list(
            model.history.filter(**lookup).select_related("history_user").order_by("id", "history_date", "history_id")
        )

    per_model = {
        Patient: rows(Patient, id=patient.pk),
        PreviousDiagnosis: rows(PreviousDiagnosis, patient_id=patient.pk),
        MedicationCourse: rows(MedicationCourse, patient_id=patient.pk),
        MscProduct: rows(MscProduct, patient_id=patient.pk),
        AdverseEvent: rows(AdverseEvent, patient_id=patient.pk),
        Assessment: rows(Assessment, patient_id=patient.pk),
        Consent: rows(Consent, patient_id=patient.pk),
        FollowUpStatus: rows(FollowUpStatus, patient_id=patient.pk),
        Visit: rows(Visit, patient_id=patient.pk),
        DataQuery: rows(DataQuery, patient_id=patient.pk),
        ReviewEvent: rows(ReviewEvent, patient_id=patient.pk),
    }
    per_model[MscAdministration] = rows(MscAdministration, product_id__in={r.id for r in per_model[MscProduct]})
    per_model[DataQueryMessage] = rows(DataQueryMessage, query_id__in={r.id for r in per_model[DataQuery]})
    user_ids = {
        getattr(row, f.attname)
        for model, model_rows in per_model.items()
        for f in _tracked_fields(model)
        if f.is_relation and f.related_model is get_user_model()
        for row in model_rows
    } - {None}
    usernames = dict(get_user_model().objects.filter(pk__in=user_ids).values_list("pk", "username"))
    entries = [entry for model, model_rows in per_model.items() for entry in _entries(model_rows, model, usernames)]
    return sorted(entries, key=lambda e: e.at, reverse=True)


def edit_conflict(instance, submitted_version):
    """'' when the form was made from the current version; otherwise what changed since, in words."""
    model = type(instance)
    current = model._base_manager.filter(pk=instance.pk).values_list("version", flat=True).first()
    if current is None or current == submitted_version:
        return ""
    rows = list(
        model.history.filter(id=instance.pk).select_related("history_user").order_by("id", "history_date", "history_id")
    )
    newer = [
        entry
        for entry, row in zip(_entries(rows, model, {}), rows, strict=True)
        if row.version is not None and row.version > submitted_version
    ]
    described = "; ".join(
        f"{e.user} at {e.at:%Y-%m-%d %H:%M} changed "
        + (", ".join(f"{c.label} from {c.old} to {c.new}" for c in e.changes) or "nothing visible")
        for e in newer
    )
    return (
        "Someone else saved this record while you were editing it, so your changes were not saved. "
        f"Changed meanwhile: {described or 'the record'}. Open the record again to see its current values."
    )
