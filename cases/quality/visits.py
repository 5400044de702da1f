"""The data-quality rule on scheduled visits: a visit done outside its scheduled window.

It reads the visit's time in days from the first MSC (its offset, or its date or age read against the
first MSC's) and the window of its scheduled visit. A visit whose time cannot be placed against the
first MSC is not flagged: its distance from the target is unknown, not wrong. Missed visits and
placeholders for visits not yet due have no time to check.
"""

from ..models import VisitStatus
from .rules import rule


def days_outside_window(case, visit):
    """Days before (negative) or after (positive) the window of a done visit; None when inside or unknown."""
    if visit.status != VisitStatus.DONE:
        return None
    days = case.days(visit, "visit")
    if days is None:
        return None
    start, end = visit.definition.window()
    if days < start:
        return days - start
    if days > end:
        return days - end
    return None


@rule(
    "visit_outside_window",
    "Visit outside its window",
    "A visit marked done took place before its scheduled window opened or after it closed (the window "
    "around the target time from the first MSC, set in the visit schedule). Check the visit's time, or "
    "whether it belongs to another scheduled visit.",
)
def visit_outside_window(case):
    for visit in case.visits:
        outside = days_outside_window(case, visit)
        if outside is not None:
            start, end = visit.definition.window()
            side = "before the window opens" if outside < 0 else "after the window closes"
            yield (
                visit,
                f"{visit.definition.label}: day {case.days(visit, 'visit')} from first MSC, {abs(outside)} days "
                f"{side} (days {start} to {end})",
            )
