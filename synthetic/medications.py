"""Synthetic medication histories: conventional therapy before MSC, often stopped around it, restarted after a flare."""

from decimal import Decimal

from cases.models import MedicationCourse
from cases.models.medication import DEFAULT_CLASS

from .vocabulary import COMPLEMENTARY, DAYS_PER_YEAR, DRUGS, STOPPED_BEFORE, SYNTHETIC, THERAPY, WITHDRAWAL, dec3, pick


def draw_medications(generator, case, kind, diagnosed):
    """Courses before MSC; those running at MSC are often stopped around it. Returns the
    indices of the courses withdrawn around MSC."""
    rng = generator.rng
    pool = THERAPY.get(kind) or THERAPY[case.patient.diagnosis]
    if case.patient.diagnosis == "jia" and kind != "systemic":
        pool = THERAPY["jia"]
    chosen = [drug for drug, p in pool + COMPLEMENTARY if rng.random() < p]
    if not chosen:
        chosen = [pool[0][0]]
    disease_days = max(60, int((generator.msc_age - diagnosed) * DAYS_PER_YEAR))
    withdrawn = []
    for drug in chosen:
        route, low, high, unit, frequency = DRUGS[drug]
        start = -rng.randint(45, disease_days)
        course = MedicationCourse(
            patient=case.patient,
            drug=drug,
            drug_class=DEFAULT_CLASS.get(drug, "other"),
            route=route,
            dose=dec3(rng.uniform(low, high)) if unit != "session" else Decimal("1.000"),
            dose_unit=unit,
            frequency=frequency,
            start_days_from_first_msc=start,
            start_offset_unit="days",
            start_age_years=generator.age_at(start),
            start_precision=rng.choice(["month", "month", "year", "day"]),
            start_estimated=rng.random() < 0.3,
            abstracted_from=SYNTHETIC,
            version=1,
        )
        fate = rng.random()
        if drug in ("triamcinolone", "methylprednisolone", "rituximab", "cyclophosphamide", "hyperbaric_oxygen"):
            stop = min(-1, start + rng.randint(1, 180))
            stop_course(generator, course, stop, "course_completed", "rheumatology_team", KNEW, "before")
        elif fate < 0.3:  # stopped by the team well before MSC
            stop = rng.randint(start, -30)
            reason = pick(rng, STOPPED_BEFORE)
            stop_course(generator, course, stop, reason, "rheumatology_team", KNEW, "before")
        elif fate < 0.8:  # stopped around the first MSC, the paper's concern
            reason, decided, _ = pick(rng, WITHDRAWAL)
            stop = max(start, rng.randint(-60, 30))
            knew = pick(rng, [(LEARNED_AFTER, 55), (KNEW, 25), (NOT_KNOWN, 20)])
            stop_course(generator, course, stop, reason, decided, knew, "before" if stop < 0 else "concomitant")
            course.note = "Stopped on the MSC provider's advice." if decided == "msc_provider" else ""
            withdrawn.append(len(case.medications))
        else:  # continued through MSC
            course.relation_to_msc = "concomitant"
            course.is_ongoing = True
            course.is_confounder = DEFAULT_CLASS.get(drug) in ("bdmard", "gc_systemic", "tsdmard")
        case.medications.append(course)
    return withdrawn


#: (team knew before the stop, team learned of it afterwards)
KNEW, LEARNED_AFTER, NOT_KNOWN = ("yes", "no"), ("no", "yes"), ("unknown", "unknown")
#: A team that learns of a stop afterwards learns of it at the next visit, about four weeks after it or the MSC.
LEARNED_AFTER_DAYS = 28


def stop_course(generator, course, days, reason, decided_by, knew, relation):
    """Stop `course` `days` from the first MSC: who decided, why, and whether the team knew before
    the stop or learned of it afterwards (then at the next visit)."""
    course.stop_days_from_first_msc = days
    course.stop_offset_unit = "days"
    course.stop_age_years = generator.age_at(days)
    course.stop_precision = course.start_precision
    course.reason_stopped = reason
    course.stop_decided_by = decided_by
    course.team_knew_before_stop, course.team_learned_after_stop = knew
    if knew == LEARNED_AFTER:
        learned = max(days, 0) + LEARNED_AFTER_DAYS
        course.learned_days_from_first_msc = learned
        course.learned_offset_unit = "days"
        course.learned_age_years = generator.age_at(learned)
        course.learned_precision = "month"
        course.learned_estimated = True
    course.relation_to_msc = relation


def restarted_course(generator, case, stopped, start):
    """The course the team restarts `start` days from the first MSC, after a flare that followed its stop."""
    return MedicationCourse(
        patient=case.patient,
        drug=stopped.drug,
        drug_class=stopped.drug_class,
        route=stopped.route,
        dose=stopped.dose,
        dose_unit=stopped.dose_unit,
        frequency=stopped.frequency,
        relation_to_msc="after",
        is_ongoing=True,
        start_days_from_first_msc=start,
        start_offset_unit="days",
        start_age_years=generator.age_at(start),
        start_precision="month",
        note="Restarted after the flare.",
        abstracted_from=SYNTHETIC,
        version=1,
    )
