"""The paper's Summary Table regenerated from the records, and the cohort numbers.

`summary_table(patients)` returns (headers, rows) for any iterable or queryset of cases; exports,
the web page and `manage.py summary_table` all call it. Every value is read from the records
(text over table, as the fixture is abstracted), so where the paper's table says otherwise the
difference is one fixtures/README.md documents.
"""

import statistics
from collections import Counter
from decimal import Decimal

from django.db.models import Prefetch, QuerySet

from .. import timing
from ..case_records import administrations, anchor, days, with_records
from ..models import (
    Assessment,
    Diagnosis,
    DonorType,
    MscAdministration,
    MscProduct,
    MscRoute,
    Patient,
    Timepoint,
    TissueSource,
)
from ..models.common import plain_number
from ..models.msc import dose_per_kg_text

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
    """'1.8, 1.9 × 10^6/kg/dose': each distinct dose once, as the paper's Summary Table writes them."""
    doses = sorted({a.dose_millions_per_kg for a in admins if a.dose_millions_per_kg is not None})
    shown = list(dict.fromkeys(dose_per_kg_text(d) for d in doses))
    if not shown:
        return ""
    return ", ".join(shown) + " × 10^6/kg/dose"


def route_text(admins):
    """'IV ×4, intranasal ×1, lymph node ×1': intravenous first, then local routes as first given."""
    counts = Counter(a.route for a in admins)
    order = sorted(counts, key=lambda r: (r != MscRoute.INTRAVENOUS, next(a.sequence for a in admins if a.route == r)))
    return ", ".join(f"{ROUTE_SHORT.get(r, MscRoute(r).label.lower())} ×{counts[r]}" for r in order)


def _when(assessment, offset):
    """Before (-1), after (+1) or unknown (0), from the time if known, else the timepoint."""
    if offset is not None:
        return -1 if offset < 0 else (1 if offset > 0 else (-1 if assessment.timepoint == Timepoint.BEFORE_MSC else 1))
    return {Timepoint.BEFORE_MSC: -1, Timepoint.AFTER_MSC: 1, Timepoint.FOLLOW_UP: 1}.get(assessment.timepoint, 0)


def _sort_key(assessment, offset):
    follow_up = assessment.timepoint == Timepoint.FOLLOW_UP
    return (
        offset is not None or follow_up,
        offset if offset is not None else (10**6 if follow_up else 0),
        assessment.pk or 0,
    )


def timed_assessments(patient, first=None):
    """The case's assessments in time order, each with its side of the first MSC (-1, +1 or 0).
    Placed in time once per case: a summary row reads them for up to seven measures."""
    first = anchor(patient) if first is None else first
    placed = [(a, days(a, first)) for a in patient.assessments.all()]
    placed.sort(key=lambda pair: _sort_key(*pair))
    return [(a, _when(a, offset)) for a, offset in placed]


def before_after(patient, field, timed=None):
    """(latest value before MSC, latest value after MSC) of one assessment field."""
    found = {-1: None, 1: None}
    for a, side in timed_assessments(patient) if timed is None else timed:
        value = getattr(a, field)
        if value is not None and side:
            found[side] = value
    return found[-1], found[1]


def disease_activity(patient, timed=None):
    """The measure of the baseline (SLEDAI-2K, JADAS or mRSS) before and after, with its name."""
    timed = timed_assessments(patient) if timed is None else timed
    for field, name in MEASURES:
        before, after = before_after(patient, field, timed)
        if before is not None:
            return name, before, after
    for field, name in MEASURES:
        before, after = before_after(patient, field, timed)
        if after is not None:
            return name, before, after
    return "", None, None


def summary_row(patient):
    admins = administrations(patient)
    first = timing.first_msc(admins)
    timed = timed_assessments(patient, first)
    pga_before, pga_after = before_after(patient, "patient_global", timed)
    measure, activity_before, activity_after = disease_activity(patient, timed)
    age_at_msc = patient.age_at_first_msc
    return [
        patient.study_id,
        short_diagnosis(patient),
        _number(patient.age_at_onset_years),
        _number(age_at_msc.years if age_at_msc else None),
        _number(patient.age_at_last_follow_up_years),
        source_text(patient),
        dose_text(admins),
        route_text(admins),
        f"{_number(pga_before)}/10" if pga_before is not None else "",
        f"{_number(pga_after)}/10" if pga_after is not None else "",
        f"{measure} {_number(activity_before)}" if activity_before is not None else "",
        f"{measure} {_number(activity_after)}" if activity_after is not None else "",
    ]


SUMMARY_PATIENT_FIELDS = (
    "study_id",
    "diagnosis",
    "diagnosis_detail",
    "age_at_onset_years",
    "age_at_first_msc_years",
    "age_at_last_follow_up_years",
)


def summary_prefetches():
    """What a Summary Table row reads of a case: its products with their administrations, and its
    assessments, only the columns the row shows. Building model instances is most of the table's
    cost at 10,000 cases: an assessment has 44 columns and the row reads 12.
    The query-budget test fails if a row ever reads a column left out here."""
    administrations = MscAdministration._default_manager.only(
        "product_id",
        "sequence",
        "route",
        "cells_millions",
        "weight_kg",
        "reported_dose_millions_per_kg",
        *timing.Moment.fields(),
    ).order_by("sequence", "id")
    products = MscProduct._default_manager.only("patient_id", "donor_type", "tissue_source").prefetch_related(
        Prefetch("administrations", queryset=administrations)
    )
    assessments = Assessment._default_manager.only(
        "patient_id", "timepoint", *timing.Moment.fields(), *(field for field, _ in MEASURES), "patient_global"
    )
    return [Prefetch("products", queryset=products), Prefetch("assessments", queryset=assessments)]


def _with_records(patients, prefetches=None):
    if isinstance(patients, QuerySet):
        return list(with_records(patients.order_by("centre__code", "study_id"), prefetches))
    patients = list(patients)
    if patients and not hasattr(patients[0], "_prefetched_objects_cache"):
        order = {p.pk: i for i, p in enumerate(patients)}
        fetched = with_records(Patient.objects.filter(pk__in=order), prefetches)
        patients = sorted(fetched, key=lambda p: order[p.pk])
    return patients


def summary_table(patients):
    """(headers, rows) of the paper's Summary Table for these cases, one row per case."""
    if isinstance(patients, QuerySet):
        return list(HEADERS), list(summary_table_rows(patients))
    return list(HEADERS), [summary_row(p) for p in _with_records(patients, summary_prefetches())]


def summary_table_rows(cases, batch_size=1000):
    """The Summary Table's rows for a queryset of any size, in the table's order, `batch_size` cases
    at a time: the records of every case at once would grow memory with the registry, a batch keeps it bounded."""
    pks = list(cases.order_by("centre__code", "study_id").values_list("pk", flat=True))
    for start in range(0, len(pks), batch_size):
        batch = pks[start : start + batch_size]
        order = {pk: i for i, pk in enumerate(batch)}
        cases_in_batch = Patient.objects.filter(pk__in=batch).only(*SUMMARY_PATIENT_FIELDS)
        fetched = cases_in_batch.prefetch_related(*summary_prefetches())
        yield from (summary_row(p) for p in sorted(fetched, key=lambda p: order[p.pk]))


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
