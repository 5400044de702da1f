"""The safety-reporting checklist of a case (Wong et al. 2021, discussion).

A case is complete when, for each of the eight items, it states a value or an explicit
"none"/"unknown" (a ChecklistStatement). Silence is never read as "none": a field left at a
default that means "not stated" (a product's phenotype "Unknown", an event's attribution "Not
assessed") counts as missing, while "Unknown" chosen in a field that starts blank (who decided a
stop, whether the provider talked to the team) is an explicit answer.

`checklist(records)` reads only a case's prefetched records (a cases.case_records.CaseRecords), so
it runs for any number of cases in a fixed number of queries.
"""

from dataclasses import dataclass, field

from django.urls import reverse

from ..case_records import records_of
from ..models import ChecklistItem, Patient, Statement
from . import checklist_items as items
from .statements import still_covers


@dataclass
class ItemResult:
    item: str
    label: str
    complete: bool
    missing: list = field(default_factory=list)
    link: str = ""
    link_text: str = ""
    statement: object = None  # the ChecklistStatement, if any
    statement_url: str = ""  # the form that records 'none' or 'unknown' for the item

    @property
    def missing_text(self):
        return "; ".join(self.missing)


@dataclass
class Checklist:
    patient: object
    items: list

    @property
    def complete_count(self):
        return sum(1 for i in self.items if i.complete)

    @property
    def total(self):
        return len(self.items)

    @property
    def is_complete(self):
        return self.complete_count == self.total

    @property
    def missing(self):
        return [i for i in self.items if not i.complete]

    def __str__(self):
        return f"{self.complete_count}/{self.total}"


def statement_url(patient, item):
    return reverse("cases:checklist-statement", args=[patient.pk]) + f"?item={item}"


def _has_records(item, records):
    """Whether the case holds records that a 'none' statement for the item would contradict."""
    courses = records.courses
    if item == ChecklistItem.ADMINISTRATIONS:
        return bool(records.administrations)
    if item == ChecklistItem.ADVERSE_EVENTS:
        return bool(records.events)
    if item == ChecklistItem.STOPPED_THERAPIES:
        return any(c.was_stopped for c in courses)
    if item == ChecklistItem.FLARES:
        return bool(items.unlinked_flares_after_stops(records))
    if item == ChecklistItem.CONFOUNDERS:
        return any(c.is_confounder or (items.is_concomitant(c) and items.is_systemic(c)) for c in courses)
    return False


def checklist(records):
    """The eight items of one case, from its records (a CaseRecords).

    A 'none' stands unless the records contradict it; an 'unknown' stands while the item's records
    are those it was stated about (cases.quality.statements), and is asked again once they change."""
    patient, statements = records.patient, records.statements
    found = {
        ChecklistItem.ADMINISTRATIONS: lambda: items.administrations(records),
        ChecklistItem.ADVERSE_EVENTS: lambda: items.adverse_events(records),
        ChecklistItem.STOPPED_THERAPIES: lambda: items.stopped_therapies(records),
        ChecklistItem.FLARES: lambda: items.flares(records, statements),
        ChecklistItem.PROVIDER_COMMUNICATION: lambda: items.provider_communication(records),
        ChecklistItem.CONFOUNDERS: lambda: items.confounders(records),
        ChecklistItem.COST: lambda: items.cost(records),
        ChecklistItem.OUTCOME_SOURCES: lambda: items.outcome_sources(records),
    }
    results = []
    for item in ChecklistItem:
        missing, link, link_text = found[item]()
        statement = statements.get(item.value)
        if statement is None:
            pass
        elif statement.statement == Statement.NONE:
            if _has_records(item, records):
                missing = [f"stated 'none', but the case records {item.label.lower()}: correct one or the other"]
                link, link_text = statement_url(patient, item.value), "Change the statement"
            else:
                missing, link, link_text = [], "", ""
        elif not missing or still_covers(statement, records):
            missing, link, link_text = [], "", ""
        else:
            missing = [*missing, "'unknown' was stated before these records changed: check them, then state it again"]
        results.append(
            ItemResult(
                item.value,
                item.label,
                not missing,
                missing,
                link,
                link_text,
                statement,
                statement_url(patient, item.value),
            )
        )
    return Checklist(patient, results)


def checklists(queryset):
    """{patient pk: Checklist} for every case of the queryset, in a fixed number of queries."""
    return {records.patient.pk: checklist(records) for records in records_of(queryset)}


def missing_for_submission(patient):
    """The items that stop a case from being submitted, in plain words."""
    result = checklists(Patient.objects.filter(pk=patient.pk))[patient.pk]
    return [f"{i.label}: {i.missing_text}" for i in result.missing]
