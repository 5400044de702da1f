"""Overdue follow-up per centre, for the dashboard: the cases still followed whose last contact is more
than a year old, and how many cases have no dated last contact (their time since contact is unknown,
and the registry does not guess a date from ages or offsets)."""

from dataclasses import dataclass, field
from itertools import groupby

from ..case_records import products_with_administrations, records_by_centre
from ..quality.follow_up import overdue_days

#: What last contact is read from: the timed records and the vital statuses, nothing else.
CONTACT_PREFETCHES = [
    "previous_diagnoses",
    "medications",
    "assessments",
    "adverse_events",
    "follow_up_statuses",
    products_with_administrations(),
]


@dataclass
class CentreFollowUp:
    centre: object
    overdue: list = field(default_factory=list)  # (patient, last contact date, days since)
    unknown: int = 0  # cases still followed whose last contact has no date


def overdue_by_centre(cases, today):
    """Per centre (by code), the cases still followed with no contact for more than a year, oldest contact
    first, and the count whose time since contact is unknown; centres with neither are left out."""
    found = []
    records = records_by_centre(cases, CONTACT_PREFETCHES)
    for centre, group in groupby(records, key=lambda r: r.patient.centre):
        summary = CentreFollowUp(centre)
        for case in group:
            if not case.follow_up_open:
                continue
            days = case.days_without_contact(today)
            if days is None:
                summary.unknown += 1
            elif overdue_days(case, today) is not None:
                summary.overdue.append((case.patient, case.last_contact.date, days))
        summary.overdue.sort(key=lambda item: -item[2])
        if summary.overdue or summary.unknown:
            found.append(summary)
    return found
