"""The paper's Summary Table regenerated from the records, and the cohort numbers.

`summary_table(cases)` returns (headers, rows) for a queryset or a list of cases (or of their
CaseRecords); exports, the web page and `manage.py summary_table` all call it. Every value is read from the records
(text over table, as the fixture is abstracted), so where the paper's table says otherwise the
difference is one fixtures/README.md documents.
"""

from collections import Counter

from django.db.models import Prefetch, QuerySet

from .. import timing
from ..case_records import CaseRecords, records_of
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


def source_text(records):
    """'Allogeneic umbilical cord': the products that were given (all products if none was), each text once."""
    products = [p for p in records.products if p.administrations.all()] or records.products
    parts = []
    for p in products:
        text = f"{DONOR_SHORT[p.donor_type]} {TISSUE_SHORT[p.tissue_source]}"
        if text not in parts:
            parts.append(text)
    return "; ".join(parts)


def _routes(admins):
    return ", ".join(dict.fromkeys(ROUTE_SHORT.get(a.route, MscRoute(a.route).label.lower()) for a in admins))


def dose_text(admins):
    """'1.8, 1.9 × 10^6/kg/dose': each distinct dose once, as the paper's Summary Table writes them.
    When some administrations have no dose per kg, the text says which routes the doses cover and
    which have none, so a dose of the local injections is never read as the dose of the infusions."""
    with_dose = [a for a in admins if a.dose_millions_per_kg is not None]
    doses = sorted({a.dose_millions_per_kg for a in with_dose})
    shown = list(dict.fromkeys(dose_per_kg_text(d) for d in doses))
    if not shown:
        return ""
    text = ", ".join(shown) + " × 10^6/kg/dose"
    without = [a for a in admins if a.dose_millions_per_kg is None]
    if without:
        text += f" ({_routes(with_dose)}; {_routes(without)} per kg not stated)"
    return text


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


def timed_assessments(records):
    """The case's assessments in time order, each with its side of the first MSC (-1, +1 or 0).
    Placed in time once per case: a summary row reads them for up to seven measures."""
    placed = [(a, records.days(a)) for a in records.assessments]
    placed.sort(key=lambda pair: _sort_key(*pair))
    return [(a, _when(a, offset)) for a, offset in placed]


def before_after(records, field, timed=None):
    """(latest value before MSC, latest value after MSC) of one assessment field."""
    found = {-1: None, 1: None}
    for a, side in timed_assessments(records) if timed is None else timed:
        value = getattr(a, field)
        if value is not None and side:
            found[side] = value
    return found[-1], found[1]


def disease_activity(records, timed=None):
    """The measure of the baseline (SLEDAI-2K, JADAS or mRSS) before and after, with its name."""
    timed = timed_assessments(records) if timed is None else timed
    for field, name in MEASURES:
        before, after = before_after(records, field, timed)
        if before is not None:
            return name, before, after
    for field, name in MEASURES:
        before, after = before_after(records, field, timed)
        if after is not None:
            return name, before, after
    return "", None, None


def summary_row(records):
    """One case's row of the Summary Table, from its records (a CaseRecords)."""
    patient, admins = records.patient, records.administrations
    timed = timed_assessments(records)
    pga_before, pga_after = before_after(records, "patient_global", timed)
    measure, activity_before, activity_after = disease_activity(records, timed)
    age_at_msc = patient.age_at_first_msc
    return [
        patient.study_id,
        short_diagnosis(patient),
        _number(patient.age_at_onset_years),
        _number(age_at_msc.years if age_at_msc else None),
        _number(patient.age_at_last_follow_up_years),
        source_text(records),
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


def summary_table(cases):
    """(headers, rows) of the paper's Summary Table for these cases, one row per case."""
    if isinstance(cases, QuerySet):
        return list(HEADERS), list(summary_table_rows(cases))
    return list(HEADERS), [summary_row(records) for records in records_of(cases, summary_prefetches())]


def summary_table_rows(cases, batch_size=1000):
    """The Summary Table's rows for a queryset of any size, in the table's order, `batch_size` cases
    at a time: the records of every case at once would grow memory with the registry, a batch keeps it bounded."""
    pks = list(cases.order_by("centre__code", "study_id").values_list("pk", flat=True))
    for start in range(0, len(pks), batch_size):
        batch = pks[start : start + batch_size]
        order = {pk: i for i, pk in enumerate(batch)}
        cases_in_batch = Patient.objects.filter(pk__in=batch).only(*SUMMARY_PATIENT_FIELDS)
        fetched = cases_in_batch.prefetch_related(*summary_prefetches())
        yield from (summary_row(CaseRecords(p)) for p in sorted(fetched, key=lambda p: order[p.pk]))


def as_markdown(headers, rows):
    def cell(value):
        return str(value).replace("|", "\\|")

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"
