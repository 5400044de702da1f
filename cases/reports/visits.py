"""The follow-up visit schedule of a case, and the visits due or overdue per centre for the dashboard.

The one place that turns the schedule (VisitDefinition rows) and a case's first MSC into targets and
windows: for each scheduled visit, its window in days from the first MSC, the visit recorded for it if
any, and its state today. A window has calendar dates only when the first MSC has a date; without one
a visit not yet recorded is 'unknown', never guessed from ages or offsets.
"""

from dataclasses import dataclass, field
from datetime import date as Date
from datetime import timedelta
from itertools import groupby

from django.db.models import Prefetch

from ..case_records import products_with_administrations, records_by_centre
from ..models import Visit, VisitDefinition, VisitStatus
from .follow_up import CONTACT_PREFETCHES


class VisitState:
    DONE = "done"
    MISSED = "missed"
    UPCOMING = "upcoming"  # its window has not opened yet
    DUE = "due"  # today is inside its window
    OVERDUE = "overdue"  # its window has closed with no visit recorded as done or missed
    UNKNOWN = "unknown"  # no dated first MSC: its window has no calendar dates


#: What the dashboard reads: the first MSC, the vital statuses (a closed case is not due) and the visits.
SCHEDULE_PREFETCHES = [
    "follow_up_statuses",
    Prefetch("visits", queryset=Visit.objects.select_related("definition")),
    products_with_administrations(),
]


#: What the dashboard's two follow-up lists read (overdue contact, visits due), fetched once for both.
FOLLOW_UP_PREFETCHES = [*CONTACT_PREFETCHES, Prefetch("visits", queryset=Visit.objects.select_related("definition"))]


def followed_cases(cases):
    """The cases' records for overdue_by_centre and due_by_centre together, in one fetch."""
    return records_by_centre(cases, FOLLOW_UP_PREFETCHES)


@dataclass(frozen=True)
class ScheduledVisit:
    definition: VisitDefinition
    visit: Visit | None  # the visit recorded as done or missed for it
    opens: Date | None  # first and last day of the window, when the first MSC has a date
    closes: Date | None
    state: str

    @property
    def is_outstanding(self):
        return self.state in (VisitState.DUE, VisitState.OVERDUE)


def first_msc_date(case):
    """The calendar date of day 0 (the first MSC), or None when it has no date."""
    anchor = case.anchor
    if anchor is None or anchor.date is None:
        return None
    return anchor.date - timedelta(days=anchor.days_from_first_msc or 0)


def schedule(case, definitions, today):
    """[ScheduledVisit] of a CaseRecords for each definition, in schedule order, as of `today`.

    A visit recorded 'not yet due' is a placeholder: its scheduled visit is still to be done."""
    recorded = {v.definition_id: v for v in case.patient.visits.all() if v.status != VisitStatus.NOT_YET_DUE}
    day_zero = first_msc_date(case)
    found = []
    for definition in definitions:
        visit = recorded.get(definition.pk)
        opens = closes = None
        if day_zero is not None:
            start, end = definition.window()
            opens, closes = day_zero + timedelta(days=start), day_zero + timedelta(days=end)
        if visit is not None:
            state = VisitState.DONE if visit.status == VisitStatus.DONE else VisitState.MISSED
        elif day_zero is None:
            state = VisitState.UNKNOWN
        elif today < opens:
            state = VisitState.UPCOMING
        elif today <= closes:
            state = VisitState.DUE
        else:
            state = VisitState.OVERDUE
        found.append(ScheduledVisit(definition, visit, opens, closes, state))
    return found


@dataclass
class CentreVisits:
    centre: object
    outstanding: list = field(default_factory=list)  # (patient, ScheduledVisit)
    unknown: int = 0  # cases still followed whose first MSC has no date


def due_by_centre(cases, today):
    """Per centre (by code), the visits due or overdue today of the cases still followed, the most
    overdue first, and how many cases cannot be scheduled (no dated first MSC); others are left out."""
    definitions = list(VisitDefinition.objects.all())
    found = []
    records = records_by_centre(cases, SCHEDULE_PREFETCHES)
    for centre, group in groupby(records, key=lambda r: r.patient.centre):
        summary = CentreVisits(centre)
        for case in group:
            if not case.follow_up_open or not case.administrations:
                continue
            if first_msc_date(case) is None:
                summary.unknown += 1
                continue
            summary.outstanding += [(case.patient, s) for s in schedule(case, definitions, today) if s.is_outstanding]
        summary.outstanding.sort(key=lambda item: item[1].closes)
        if summary.outstanding or summary.unknown:
            found.append(summary)
    return found
