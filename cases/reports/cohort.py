"""The cohort page's numbers: how many cases by diagnosis, cell source and route, the adverse events
by grade and seriousness, stopped therapies the team did not know of beforehand (and the cases where
whether it knew is not recorded, shown as unknown rather than as known), flares after a withdrawal,
and what the treatment cost."""

import statistics
from collections import Counter
from decimal import Decimal

from django.db.models import QuerySet

from ..case_records import cohort_follow_up, records_of
from ..models import MscRoute
from .summary import ROUTE_SHORT, short_diagnosis, source_text


def _counted(counter, labels=None):
    return [(labels(k) if labels else k, n) for k, n in counter.most_common()]


def cohort_numbers(cases):
    """The numbers the cohort page shows, for a queryset or a list of cases (or of their CaseRecords)."""
    if isinstance(cases, QuerySet):
        cases = cases.order_by("centre__code", "study_id")
    cases = records_of(cases)
    diagnoses, sources, routes = Counter(), Counter(), Counter()
    grades, seriousness = Counter(), Counter()
    stopped_unknown_to_team = stopped_team_knowledge_unknown = flares_after_withdrawal = 0
    costs = []
    for records in cases:
        p, admins = records.patient, records.administrations
        diagnoses[short_diagnosis(p)] += 1
        for text in {*source_text(records).split("; ")} - {""}:
            sources[text] += 1
        for route in {a.route for a in admins}:
            routes[ROUTE_SHORT.get(route, MscRoute(route).label)] += 1
        for e in records.events:
            grades[f"grade {e.ctcae_grade}" if e.ctcae_grade else "not graded"] += 1
            seriousness["serious" if e.is_serious else "not serious"] += 1
        stopped = [c for c in records.courses if c.was_stopped]
        if any(c.team_knew_before_stop == "no" for c in stopped):
            stopped_unknown_to_team += 1
        elif any(c.team_knew_before_stop != "yes" for c in stopped):
            stopped_team_knowledge_unknown += 1
        flares_after_withdrawal += sum(1 for e in records.events if e.is_flare and e.preceding_withdrawals.all())
        cost = p.total_cost_amount
        if cost is None:
            known = [a.cost_amount for a in admins if a.cost_amount is not None]
            cost = sum(known, Decimal(0)) if known else None
        if cost is not None:
            costs.append(cost)
    n = len(cases)
    return {
        "case_count": n,
        "by_diagnosis": _counted(diagnoses),
        "by_source": _counted(sources),
        "by_route": _counted(routes),
        "events_by_grade": _counted(grades),
        "events_by_seriousness": _counted(seriousness),
        "stopped_without_team": stopped_unknown_to_team,
        "stopped_without_team_share": (stopped_unknown_to_team / n) if n else None,
        "stopped_team_knowledge_unknown": stopped_team_knowledge_unknown,
        "flares_after_withdrawal": flares_after_withdrawal,
        "cost_known": len(costs),
        "cost_median": statistics.median(costs) if costs else None,
        "cost_min": min(costs) if costs else None,
        "cost_max": max(costs) if costs else None,
        "follow_up": cohort_follow_up(cases),
    }
