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
from ..kinds import RECORD_KINDS
from ..models import (
    Attribution,
    ChecklistItem,
    EventCategory,
    Outcome,
    Patient,
    Statement,
    TissueSource,
    YesNoUnknown,
)
from ..models.msc import DonorType

# Each score of an assessment and the field that says who observed it.
SCORE_SOURCES = [
    ("patient_global", "patient global", "patient_global_source"),
    ("physician_global", "physician global", "physician_global_source"),
    ("sledai2k", "SLEDAI-2K", "sledai2k_source"),
    ("jadas", "JADAS", "jadas_source"),
    ("mrss", "mRSS", "mrss_source"),
    ("esr_mm_per_h", "ESR", "esr_source"),
    ("esr_normal", "ESR", "esr_source"),
    ("crp_mg_per_l", "CRP", "crp_source"),
    ("ck_u_per_l", "CK", "ck_source"),
    ("ana_titre", "ANA", "ana_source"),
    ("dlco_percent_predicted", "DLCO", "dlco_source"),
    ("bmi", "BMI", "bmi_source"),
    ("imaging_findings", "imaging", "imaging_source"),
]


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


def _administration_gaps(a):
    """What an administration's own form still has to say."""
    gaps = []
    if a.cells_millions is None:
        gaps.append("cells")
    if a.dose_millions_per_kg is None:
        gaps.append("dose per kg (or weight)")
    if not a.country:
        gaps.append("country")
    return gaps


def _product_gaps(product):
    """What the product's form still has to say: the facts of the cells, shared by its administrations."""
    gaps = []
    if product.tissue_source == TissueSource.UNKNOWN:
        gaps.append("cell source")
    if product.donor_type == DonorType.UNKNOWN:
        gaps.append("donor type")
    if product.provider_id is None:
        gaps.append("provider")
    if product.passage_number is None:
        gaps.append("passage")
    if product.viability_percent is None:
        gaps.append("viability")
    if product.isct_phenotype_confirmed == YesNoUnknown.UNKNOWN:
        gaps.append("phenotype")
    if product.sterility_tested == YesNoUnknown.UNKNOWN:
        gaps.append("sterility")
    return gaps


def _administrations(patient, admins):
    """Each gap is named on the record that holds it, and the link opens the form where the first
    gap is filled in: an administration's, or its product's."""
    if not admins:
        return (
            ["no MSC administration recorded"],
            RECORD_KINDS["administration"].url("create", patient),
            "Add an MSC administration",
        )
    missing, link, link_text, products_seen = [], "", "", set()
    for a in admins:
        gaps = _administration_gaps(a)
        if gaps:
            missing.append(f"administration #{a.sequence}: {', '.join(gaps)}")
            if not link:
                link, link_text = a.get_edit_url(), f"Complete administration #{a.sequence}"
        product = a.product
        if product.pk in products_seen:
            continue
        products_seen.add(product.pk)
        gaps = _product_gaps(product)
        if gaps:
            missing.append(f"product {product.label} (administration #{a.sequence}): {', '.join(gaps)}")
            if not link:
                link, link_text = product.get_edit_url(), f"Complete product {product.label}"
    return missing, link, link_text


def _adverse_events(patient, events):
    missing, first = [], None
    for e in events:
        gaps = []
        if e.ctcae_grade is None:
            gaps.append("grade")
        if e.attribution == Attribution.NOT_ASSESSED:
            gaps.append("attribution")
        if e.outcome == Outcome.UNKNOWN:
            gaps.append("outcome")
        if gaps:
            missing.append(f"{e.description[:40]}: {', '.join(gaps)}")
            first = first or e
    if not events:
        return (
            ["no adverse event recorded, and no statement that none occurred during a stated follow-up"],
            RECORD_KINDS["adverse-event"].url("create", patient),
            "Add an adverse event",
        )
    if first is not None:
        return missing, first.get_edit_url(), "Complete the adverse event"
    return [], "", ""


def _stopped(patient, courses):
    stopped = [c for c in courses if c.was_stopped]
    if not stopped:
        return ["no stopped therapy recorded"], RECORD_KINDS["medication"].url("create", patient), "Add a medication"
    missing, first = [], None
    for c in stopped:
        gaps = []
        if not c.stop_decided_by:
            gaps.append("who decided")
        if not c.team_knew_before_stop:
            gaps.append("whether the team knew beforehand")
        if gaps:
            missing.append(f"{c}: {', '.join(gaps)}")
            first = first or c
    if first is not None:
        return missing, first.get_edit_url(), "Complete the stopped medication"
    return [], "", ""


def _flares(patient, events, courses, statements):
    if any(e.category == EventCategory.DISEASE_FLARE for e in events):
        return [], "", ""
    stopped = statements.get(ChecklistItem.STOPPED_THERAPIES)
    if stopped is not None and stopped.statement == Statement.NONE and not any(c.was_stopped for c in courses):
        return [], "", ""  # nothing was stopped, so no flare can follow a stop
    return (
        ["no disease flare recorded, and no statement that none occurred"],
        RECORD_KINDS["adverse-event"].url("create", patient),
        "Add a flare",
    )


def _communication(patient):
    if patient.provider_communicated_with_team:
        return [], "", ""
    return (
        ["whether the MSC provider communicated with the team"],
        patient.get_edit_url(),
        "Edit case details",
    )


def _confounders(patient, courses):
    if any(c.is_confounder for c in courses):
        return [], "", ""
    return (
        ["no concomitant treatment marked as a possible confounder, and no statement that there was none"],
        RECORD_KINDS["medication"].url("create", patient),
        "Add a medication",
    )


def _cost(patient, admins):
    gaps = []
    if patient.total_cost_amount is None and not any(a.cost_amount is not None for a in admins):
        gaps.append("the cost to the family")
    if not patient.paid_out_of_pocket and not patient.funding_sources.all():
        gaps.append("how it was paid")
    if gaps:
        return gaps, patient.get_edit_url(), "Edit case details"
    return [], "", ""


def _outcome_sources(patient, assessments):
    missing, first, scored = [], None, False
    for a in assessments:
        gaps = []
        for name, label, source in SCORE_SOURCES:
            value = getattr(a, name)
            if value is None or value == "":
                continue
            scored = True
            if not getattr(a, source) and label not in gaps:
                gaps.append(label)
        if gaps:
            missing.append(f"{a.get_timepoint_display()} assessment: who observed {', '.join(gaps)}")
            first = first or a
    if not scored:
        return (
            ["no outcome (assessment) recorded"],
            RECORD_KINDS["assessment"].url("create", patient),
            "Add an assessment",
        )
    if first is not None:
        return missing, first.get_edit_url(), "Complete the assessment"
    return [], "", ""


def _has_records(item, admins, events, courses):
    """Whether the case holds records that a 'none' statement for the item would contradict."""
    return {
        ChecklistItem.ADMINISTRATIONS: bool(admins),
        ChecklistItem.ADVERSE_EVENTS: bool(events),
        ChecklistItem.STOPPED_THERAPIES: any(c.was_stopped for c in courses),
        ChecklistItem.FLARES: any(e.category == EventCategory.DISEASE_FLARE for e in events),
        ChecklistItem.CONFOUNDERS: any(c.is_confounder for c in courses),
    }.get(item, False)


def checklist(records):
    """The eight items of one case, from its records (a CaseRecords)."""
    patient, admins, events, courses = records.patient, records.administrations, records.events, records.courses
    statements = records.statements
    found = {
        ChecklistItem.ADMINISTRATIONS: lambda: _administrations(patient, admins),
        ChecklistItem.ADVERSE_EVENTS: lambda: _adverse_events(patient, events),
        ChecklistItem.STOPPED_THERAPIES: lambda: _stopped(patient, courses),
        ChecklistItem.FLARES: lambda: _flares(patient, events, courses, statements),
        ChecklistItem.PROVIDER_COMMUNICATION: lambda: _communication(patient),
        ChecklistItem.CONFOUNDERS: lambda: _confounders(patient, courses),
        ChecklistItem.COST: lambda: _cost(patient, admins),
        ChecklistItem.OUTCOME_SOURCES: lambda: _outcome_sources(patient, records.assessments),
    }
    items = []
    for item in ChecklistItem:
        missing, link, link_text = found[item]()
        statement = statements.get(item.value)
        if statement is not None:
            if statement.statement == Statement.NONE and _has_records(item, admins, events, courses):
                missing = [f"stated 'none', but the case records {item.label.lower()}: correct one or the other"]
                link, link_text = statement_url(patient, item.value), "Change the statement"
            else:
                missing, link, link_text = [], "", ""
        items.append(
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
    return Checklist(patient, items)


def checklists(queryset):
    """{patient pk: Checklist} for every case of the queryset, in a fixed number of queries."""
    return {records.patient.pk: checklist(records) for records in records_of(queryset)}


def missing_for_submission(patient):
    """The items that stop a case from being submitted, in plain words."""
    result = checklists(Patient.objects.filter(pk=patient.pk))[patient.pk]
    return [f"{i.label}: {i.missing_text}" for i in result.missing]
