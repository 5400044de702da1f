"""Which records a checklist statement covers.

An explicit 'unknown' answers an item for the records the case held when it was stated. It is kept
with the list of those records (kind, id and revision: `ChecklistStatement.covers`); once a record
of the item is added, edited or withdrawn, the 'unknown' no longer stands and the item asks again,
so a record entered later is never silenced by an answer given before it existed.
"""

from ..models import ChecklistItem

#: The records each item reads, from a CaseRecords.
ITEM_RECORDS = {
    ChecklistItem.ADMINISTRATIONS: lambda r: [*r.products, *r.administrations],
    ChecklistItem.ADVERSE_EVENTS: lambda r: r.events,
    ChecklistItem.STOPPED_THERAPIES: lambda r: r.courses,
    ChecklistItem.FLARES: lambda r: [*(e for e in r.events if e.is_flare), *r.courses],
    ChecklistItem.PROVIDER_COMMUNICATION: lambda r: r.administrations,
    ChecklistItem.CONFOUNDERS: lambda r: r.courses,
    ChecklistItem.COST: lambda r: r.administrations,
    ChecklistItem.OUTCOME_SOURCES: lambda r: r.assessments,
}
#: Items that read only a few fields of an administration: an edit of its dose or time leaves
#: their answers standing. Every other item covers whole records (their revision).
ITEM_FIELDS = {
    ChecklistItem.PROVIDER_COMMUNICATION: ("team_informed_before",),
    ChecklistItem.COST: ("cost_amount", "cost_currency", "paid_by"),
}


def record_key(record, fields=None):
    if fields:
        return f"{record._meta.model_name}:{record.pk}=" + "|".join(str(getattr(record, f)) for f in fields)
    return f"{record._meta.model_name}:{record.pk}.{record.version}"


def signature(records, item):
    """The item's records as a statement covers them ('kind:id.revision', or 'kind:id=values' of
    the fields the item reads), sorted, space-separated."""
    keys = {record_key(r, ITEM_FIELDS.get(item)) for r in ITEM_RECORDS[item](records)}
    return " ".join(sorted(keys))


def still_covers(statement, records):
    """Whether the statement was made about the records the item holds now."""
    return statement.covers == signature(records, statement.item)


def current_signature(patient_pk, item):
    """The signature of a saved case's records for the item, read from the database."""
    from ..case_records import records_of
    from ..models import Patient

    return signature(records_of(Patient.objects.filter(pk=patient_pk))[0], item)
