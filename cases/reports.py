"""The paper's Summary Table regenerated from the records, and the cohort numbers (issue 6).

`summary_table(patients)` returns (headers, rows) for any iterable or queryset of cases; exports,
the web page and `manage.py summary_table` all call it. Every value is read from the records
(text over table, as the fixture is abstracted), so where the paper's table says otherwise the
difference is one fixtures/README.md documents.
"""

import statistics
from collections import Counter
from decimal import Decimal

from django.db.models import QuerySet

from .case_records import administrations, anchor, days, with_records
from .models import Diagnosis, DonorType, MscRoute, Patient, Timepoint, TissueSource
from .models.common import plain_number

HEADERS = [
    "Patient ID",
    "Diagnosis",
    "Age at onset (years)",
    "Age at MSC (years)",
    "Age at follow-up (years)",
    "MSC source",
    "MSC dose",
    "MSC route",
    "PGA before",
    "PGA after",
    "Disease activity before",
    "Disease activity after",
]

ROUTE_SHORT = {MscRoute.INTRAVENOUS: "IV", MscRoute.INTRA_ARTICULAR: "IA"}
DONOR_SHORT = {
    DonorType.AUTOLOGOUS: "Autologous",
    DonorType.ALLOGENEIC: "Allogeneic",
    DonorType.ALLOGENEIC_RELATED: "Allogeneic (related)",
    DonorType.ALLOGENEIC_UNRELATED: "Allogeneic (unrelated)",
    DonorType.UNKNOWN: "Donor unknown",
}
TISSUE_SHORT = {
    TissueSource.ADIPOSE: "adipose tissue",
    TissueSource.BONE_MARROW: "bone marrow",
    TissueSource.UMBILICAL_CORD: "umbilical cord",
    TissueSource.WHARTONS_JELLY: "Wharton's jelly",
    TissueSource.PLACENTA: "placenta",
    TissueSource.OTHER: "other tissue",
    TissueSource.UNKNOWN: "source unknown",
}
# Disease-activity measures in the order a diagnosis prefers them.
MEASURES = [("sledai2k", "SLEDAI-2K"), ("jadas", "JADAS"), ("mrss", "mRSS")]


def short_diagnosis(patient):
    """'SLE' from 'Systemic lupus erythematosus (SLE)'; the label itself when it has no abbreviation."""
    label = Diagnosis(patient.diagnosis).label
    if "(" in label:
        return label[label.rindex("(") + 1 : label.rindex(")")]
    return patient.diagnosis_detail or label


def _number(value):
    return "" if value is None else plain_number(value)


def source_text(patient):
    products = [p for p in patient.products.all() if p.administrations.all()] or list(patient.products.all())
    parts = []
    for p in products:
        text = f"{DONOR_SHORT[p.donor_type]} {TISSUE_SHORT[p.tissue_source]}"
        if text not in parts:
            parts.append(text)
    return "; ".join(parts)


def dose_text(admins):
    doses = []
    for a in admins:
        dose = a.dose_millions_per_kg
        if dose is not None and dose.normalize() not in doses:
            doses.append(dose.normalize())
    if not doses:
        return ""
    return ", ".join(plain_number(d) for d in sorted(doses)) + " × 10^6/kg/dose"


def route_text(admins):
    """'IV ×4, intranasal ×1, lymph node ×1': intravenous first, then local routes as first given."""
    counts = Counter(a.route for a in admins)
    order = sorted(counts, key=lambda r: (r != MscRoute.INTRAVENOUS, next(a.sequence for a in admins if a.route == r)))
    return ", ".join(f"{ROUTE_SHORT.get(r, MscRoute(r).label.lower())} ×{counts[r]}" for r in order)


def _when(assessment, first):
    """Before (-1), after (+1) or unknown (0), from the time if known, else the timepoint."""
    d = days(assessment, first)
    if d is not None:
        return -1 if d < 0 else (1 if d > 0 else (-1 if assessment.timepoint == Timepoint.BEFORE_MSC else 1))
    return {Timepoint.BEFORE_MSC: -1, Timepoint.AFTER_MSC: 1, Timepoint.FOLLOW_UP: 1}.get(assessment.timepoint, 0)


def _sort_key(assessment, first):
    d = days(assessment, first)
    follow_up = assessment.timepoint == Timepoint.FOLLOW_UP
    return (d is not None or follow_up, d if d is not None else (10**6 if follow_up else 0), assessment.pk or 0)


def before_after(patient, field):
    """(latest value before MSC, latest value after MSC) of one assessment field."""
    first = anchor(patient)
    found = {-1: None, 1: None}
    for a in sorted(patient.assessments.all(), key=lambda a: _sort_key(a, first)):
        value, side = getattr(a, field), _when(a, first)
        if value is not None and side:
            found[side] = value
    return found[-1], found[1]


def disease_activity(patient):
    """The measure of the baseline (SLEDAI-2K, JADAS or mRSS) before and after, with its name."""
    for field, name in MEASURES:
        before, after = before_after(patient, field)
        if before is not None:
            return name, before, after
    for field, name in MEASURES:
        before, after = before_after(patient, field)
        if after is not None:
            return name, before, after
    return "", None, None


def summary_row(patient):
    admins = administrations(patient)
    first = anchor(patient)
    pga_before, pga_after = before_after(patient, "patient_global")
    measure, activity_before, activity_after = disease_activity(patient)
    return [
        patient.study_id,
        short_diagnosis(patient),
        _number(patient.age_at_onset_years),
        _number(first.age_years if first else None),
        _number(patient.age_at_last_follow_up_years),
        source_text(patient),
        dose_text(admins),
        route_text(admins),
        f"{_number(pga_before)}/10" if pga_before is not None else "",
        f"{_number(pga_after)}/10" if pga_after is not None else "",
        f"{measure} {_number(activity_before)}" if activity_before is not None else "",
        f"{measure} {_number(activity_after)}" if activity_after is not None else "",
    ]


def _with_records(patients):
    if isinstance(patients, QuerySet):
        return list(with_records(patients.order_by("centre__code", "study_id")))
    patients = list(patients)
    if patients and not hasattr(patients[0], "_prefetched_objects_cache"):
        order = {p.pk: i for i, p in enumerate(patients)}
        patients = sorted(with_records(Patient.objects.filter(pk__in=order)), key=lambda p: order[p.pk])
    return patients


def summary_table(patients):
    """(headers, rows) of the paper's Summary Table for these cases, one row per case."""
    return list(HEADERS), [summary_row(p) for p in _with_records(patients)]


def as_markdown(headers, rows):
    def cell(value):
        return str(value).replace("|", "\\|")

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------------
# Cohort numbers
# ------------------------------------------------------------------------------------------------


def _counted(counter, labels=None):
    return [(labels(k) if labels else k, n) for k, n in counter.most_common()]


def cohort_numbers(patients):
    """The numbers the cohort page shows, for cases prefetched with with_records (or a queryset)."""
    patients = _with_records(patients)
    diagnoses, sources, routes = Counter(), Counter(), Counter()
    grades, seriousness = Counter(), Counter()
    stopped_unknown_to_team = flares_after_withdrawal = 0
    costs = []
    for p in patients:
        diagnoses[short_diagnosis(p)] += 1
        admins = administrations(p)
        for text in {*source_text(p).split("; ")} - {""}:
            sources[text] += 1
        for route in {a.route for a in admins}:
            routes[ROUTE_SHORT.get(route, MscRoute(route).label)] += 1
        for e in p.adverse_events.all():
            grades[f"grade {e.ctcae_grade}" if e.ctcae_grade else "not graded"] += 1
            seriousness["serious" if e.is_serious else "not serious"] += 1
        if any(c.was_stopped and c.team_knew_of_stop == "no" for c in p.medications.all()):
            stopped_unknown_to_team += 1
        flares_after_withdrawal += sum(
            1 for e in p.adverse_events.all() if e.is_flare and e.preceding_withdrawals.all()
        )
        cost = p.total_cost_amount
        if cost is None:
            known = [a.cost_amount for a in admins if a.cost_amount is not None]
            cost = sum(known, Decimal(0)) if known else None
        if cost is not None:
            costs.append(cost)
    n = len(patients)
    return {
        "case_count": n,
        "by_diagnosis": _counted(diagnoses),
        "by_source": _counted(sources),
        "by_route": _counted(routes),
        "events_by_grade": _counted(grades),
        "events_by_seriousness": _counted(seriousness),
        "stopped_without_team": stopped_unknown_to_team,
        "stopped_without_team_share": (stopped_unknown_to_team / n) if n else None,
        "flares_after_withdrawal": flares_after_withdrawal,
        "cost_known": len(costs),
        "cost_median": statistics.median(costs) if costs else None,
        "cost_min": min(costs) if costs else None,
        "cost_max": max(costs) if costs else None,
    }
