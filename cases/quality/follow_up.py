"""The data-quality rule on follow-up: a case still followed whose last contact is more than a year old.

It reads the last contact as CaseRecords.last_contact derives it (the vital status's stated contact,
else the latest record) and counts to today. A case whose last contact has no calendar date (only
ages or offsets from a first MSC without a date) is not flagged: its age is unknown, not old.
"""

from django.utils import timezone

from .rules import rule

OVERDUE_AFTER_DAYS = 365


def overdue_days(case, today=None):
    """Days since the last contact of a case still followed, when more than a year; else None."""
    if not case.follow_up_open:
        return None
    days = case.days_without_contact(today or timezone.localdate())
    return days if days is not None and days > OVERDUE_AFTER_DAYS else None


@rule(
    "last_contact_over_a_year",
    "Last contact more than a year ago",
    "The case is still followed (no death, transfer, loss to follow-up or withdrawn consent recorded) and "
    "its last contact, stated on the vital status or taken from the latest dated record, is more than a "
    "year old. Record a newer contact or what became of the patient.",
)
def last_contact_over_a_year(case):
    days = overdue_days(case)
    if days is not None:
        contact = case.last_contact
        yield case.vital_status, f"last contact {contact.date.isoformat()} ({contact.source}), {days} days ago"
