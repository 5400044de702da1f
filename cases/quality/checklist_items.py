"""What each safety-checklist item asks of a case's records (a cases.case_records.CaseRecords).

Each function returns (missing, link, link_text): what is still to be said, in plain words, and
the form where the first of it is filled in. cases.quality.checklist puts the eight together with
the case's explicit 'none'/'unknown' statements.
"""

from django.conf import settings

from ..kinds import RECORD_KINDS
from ..models import (
    Attribution,
    CertificateOfAnalysis,
    ChecklistItem,
    DrugClass,
    EventCategory,
    Outcome,
    RelationToMsc,
    Statement,
    Timepoint,
    TissueSource,
    YesNoUnknown,
)
from ..models.medication import MedicationRoute
from ..models.msc import DonorType

# Each score of an assessment, the measure it belongs to and the field that says who observed it.
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
LOCAL_MEDICATION_ROUTES = {
    MedicationRoute.INTRA_ARTICULAR,
    MedicationRoute.OCULAR,
    MedicationRoute.TOPICAL,
    MedicationRoute.NOT_APPLICABLE,
}
NOT_SYSTEMIC_CLASSES = {DrugClass.GLUCOCORTICOID_LOCAL, DrugClass.COMPLEMENTARY}
DONE = [], "", ""


def _team_knowledge_stated(course):
    """Whether the course says if the rheumatology team knew of its stop beforehand (yes, no or
    unknown): what the safety question turns on. Learning of it afterwards is optional detail."""
    return bool(course.team_knew_before_stop)


def stop_window_days():
    return settings.REGISTRY_STOP_WINDOW_DAYS_BEFORE_MSC


def stopped_around_msc(records, course):
    """A stop from the window before the first MSC onwards; a stop whose time cannot be placed counts
    (it may be in the window), a stop known to be earlier does not."""
    if not course.was_stopped:
        return False
    day = records.days(course, "stop")
    return day is None or day >= -stop_window_days()


def is_systemic(course):
    return course.route not in LOCAL_MEDICATION_ROUTES and course.drug_class not in NOT_SYSTEMIC_CLASSES


def is_concomitant(course):
    """Given alongside MSC: recorded as concomitant, or started before it and still ongoing."""
    return course.relation_to_msc == RelationToMsc.CONCOMITANT or (
        course.relation_to_msc == RelationToMsc.BEFORE and course.is_ongoing
    )


def _administration_gaps(a):
    """What an administration's own form still has to say."""
    gaps = []
    if a.cells_millions is None:
        gaps.append("cells")
    if a.dosed_per_kg and a.dose_millions_per_kg is None:
        gaps.append("dose per kg (or weight)")
    if not a.country:
        gaps.append("country")
    return gaps


def _product_gaps(product):
    """What the product's form still has to say: the facts of the cells, shared by its administrations.
    Passage, viability, phenotype and sterility are asked for only when a certificate of analysis
    was obtained: without one they are not known, and asking would only collect 'unknown'."""
    gaps = []
    if product.tissue_source == TissueSource.UNKNOWN:
        gaps.append("cell source")
    if product.donor_type == DonorType.UNKNOWN:
        gaps.append("donor type")
    if product.provider_id is None:
        gaps.append("provider")
    if not product.certificate_of_analysis:
        gaps.append("whether a certificate of analysis was obtained")
    elif product.certificate_of_analysis == CertificateOfAnalysis.YES:
        if product.passage_number is None:
            gaps.append("passage")
        if product.viability_percent is None:
            gaps.append("viability")
        if product.isct_phenotype_confirmed == YesNoUnknown.UNKNOWN:
            gaps.append("phenotype")
        if product.sterility_tested == YesNoUnknown.UNKNOWN:
            gaps.append("sterility")
    return gaps


def administrations(records):
    """Each gap is named on the record that holds it, and the link opens the form where the first
    gap is filled in: an administration's, or its product's."""
    patient, admins = records.patient, records.administrations
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


def adverse_events(records):
    """A flare is graded on the disease's own flare scale (its severity), an adverse event by CTCAE. Each
    event answers its seriousness: unticked ICH E2A criteria alone do not say 'not serious'. The
    case says whether any serious adverse event occurred: a list of mild events does not say 'none was serious'."""
    missing, first = [], None
    for e in records.events:
        gaps = [] if e.seriousness else ["seriousness (serious, not serious or unknown)"]
        if e.category == EventCategory.DISEASE_FLARE:
            if not e.flare_severity and e.ctcae_grade is None:
                gaps.append("flare severity")
        elif e.ctcae_grade is None:
            gaps.append("grade")
        if e.attribution == Attribution.NOT_ASSESSED:
            gaps.append("attribution")
        if e.outcome == Outcome.UNKNOWN:
            gaps.append("outcome")
        if gaps:
            missing.append(f"{e.description[:40]}: {', '.join(gaps)}")
            first = first or e
    link, link_text = "", ""
    if not records.events:
        missing.append("no adverse event recorded, and no statement that none occurred during a stated follow-up")
        link, link_text = RECORD_KINDS["adverse-event"].url("create", records.patient), "Add an adverse event"
    elif first is not None:
        link, link_text = first.get_edit_url(), "Complete the adverse event"
    if not records.patient.serious_adverse_events:
        missing.insert(0, "whether any serious adverse event occurred")
        link, link_text = records.patient.get_edit_url(), "Edit case details"
    return missing, link, link_text


def stopped_therapies(records):
    """Who decided a stop and whether the team knew, for stops around MSC; and, for every course,
    whether it was stopped or is ongoing (a course that says neither would drop out unseen)."""
    courses = records.courses
    missing, first = [], None
    for c in courses:
        gaps = []
        if not c.was_stopped and not c.is_ongoing:
            gaps.append("stopped or ongoing")
        elif stopped_around_msc(records, c):
            if not c.stop_decided_by:
                gaps.append("who decided")
            if not _team_knowledge_stated(c):
                gaps.append("whether the team knew beforehand")
        if gaps:
            missing.append(f"{c}: {', '.join(gaps)}")
            first = first or c
    if not any(c.was_stopped for c in courses):
        missing.insert(0, "no stopped therapy recorded")
        if first is None:
            return missing, RECORD_KINDS["medication"].url("create", records.patient), "Add a medication"
    if first is not None:
        return missing, first.get_edit_url(), "Complete the medication"
    return DONE


def unlinked_flares_after_stops(records):
    """Flares that began after a stop around MSC (both times known) without naming a stop they followed."""
    stops = [records.days(c, "stop") for c in records.courses if stopped_around_msc(records, c)]
    stops = [day for day in stops if day is not None]
    found = []
    for e in records.events:
        if not e.is_flare or e.preceding_withdrawals.all():
            continue
        onset = records.days(e, "onset")
        if onset is not None and any(onset > day for day in stops):
            found.append(e)
    return found


def flares(records, statements):
    """Every flare after a stop names the stop; every stop around MSC is followed up for a flare
    (a flare linked to it, or an explicit statement that none followed)."""
    courses, events = records.courses, records.events
    unlinked = unlinked_flares_after_stops(records)
    missing = [
        f"{e.description[:40]}: began after a stop; tick the medication(s) whose stop it followed" for e in unlinked
    ]
    linked = {c.pk for e in events if e.is_flare for c in e.preceding_withdrawals.all()}
    around = [c for c in courses if stopped_around_msc(records, c)]
    missing += [
        f"{c}: no flare recorded after the stop, and no statement that none followed"
        for c in around
        if c.pk not in linked
    ]
    if unlinked:
        return missing, unlinked[0].get_edit_url(), "Link the flare to the stop"
    if missing:
        return missing, RECORD_KINDS["adverse-event"].url("create", records.patient), "Add a flare"
    if around:
        return DONE
    if any(e.is_flare for e in events):
        return DONE
    stopped = statements.get(ChecklistItem.STOPPED_THERAPIES)
    if stopped is not None and stopped.statement == Statement.NONE and not any(c.was_stopped for c in courses):
        return DONE  # nothing was stopped, so no flare can follow a stop
    return (
        ["no disease flare recorded, and no statement that none occurred"],
        RECORD_KINDS["adverse-event"].url("create", records.patient),
        "Add a flare",
    )


def provider_communication(records):
    """The case's answers, and each administration's 'team informed before', read together."""
    patient = records.patient
    missing, link, link_text = [], "", ""
    if not patient.provider_communicated_with_team:
        missing.append("whether the MSC provider communicated with the team")
    first = records.administrations[0] if records.administrations else None
    informed = first.team_informed_before if first is not None else YesNoUnknown.UNKNOWN
    if not patient.team_knew_before_msc and informed == YesNoUnknown.UNKNOWN:
        missing.append("whether the team knew before MSC")
    if missing:
        link, link_text = patient.get_edit_url(), "Edit case details"
    knew = patient.team_knew_before_msc
    if knew and knew != YesNoUnknown.UNKNOWN and informed != YesNoUnknown.UNKNOWN and knew != informed:
        missing.append(
            f"the case says the team knew before MSC: {knew}, but administration #{first.sequence} says the "
            f"team was informed before it: {informed}: correct one or the other"
        )
        link, link_text = link or first.get_edit_url(), link_text or f"Edit administration #{first.sequence}"
    return missing, link, link_text


def confounders(records):
    """Every systemic therapy given alongside MSC may confound the response: each one is marked."""
    courses = records.courses
    unmarked = [c for c in courses if is_concomitant(c) and is_systemic(c) and not c.is_confounder]
    if unmarked:
        return (
            [f"{c}: given alongside MSC, not marked as a possible confounder" for c in unmarked],
            unmarked[0].get_edit_url(),
            "Complete the medication",
        )
    if any(c.is_confounder for c in courses):
        return DONE
    return (
        ["no concomitant treatment marked as a possible confounder, and no statement that there was none"],
        RECORD_KINDS["medication"].url("create", records.patient),
        "Add a medication",
    )


def cost(records):
    patient, gaps = records.patient, []
    if patient.total_cost_amount is None and not any(a.cost_amount is not None for a in records.administrations):
        gaps.append("the cost to the family")
    if not patient.paid_out_of_pocket and not patient.funding_sources.all():
        gaps.append("how it was paid")
    if gaps:
        return gaps, patient.get_edit_url(), "Edit case details"
    return DONE


def _measures(assessment):
    return {label for name, label, _ in SCORE_SOURCES if getattr(assessment, name) not in (None, "")}


def _before_and_after(records):
    """The measures with a baseline value and a value after MSC: the before/after claim."""
    before, after = set(), set()
    for a in records.assessments:
        day = records.days(a)
        if a.timepoint == Timepoint.BEFORE_MSC or (day is not None and day < 0 and a.timepoint == Timepoint.OTHER):
            before |= _measures(a)
        elif a.timepoint in (Timepoint.AFTER_MSC, Timepoint.FOLLOW_UP) or (day is not None and day > 0):
            after |= _measures(a)
    return before & after


def outcome_sources(records):
    missing, first, scored = [], None, False
    for a in records.assessments:
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
            RECORD_KINDS["assessment"].url("create", records.patient),
            "Add an assessment",
        )
    if not _before_and_after(records):
        missing.append("no measure with both a baseline (before MSC) and an after-MSC value")
    if first is not None:
        return missing, first.get_edit_url(), "Complete the assessment"
    if missing:
        return missing, RECORD_KINDS["assessment"].url("create", records.patient), "Add an assessment"
    return DONE
