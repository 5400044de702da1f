"""The data-quality rules about scores, safety reporting, doses, eligibility, cost and who knew.

They register with `rule(...)` like those of cases.quality.rules, which imports this module so that
RULES always holds both; each takes a case's CaseRecords and yields (record or None, message).
Every rule says in its explanation what it leaves alone, so a reviewer knows why it is silent.
"""

from decimal import Decimal

from ..models import EventCategory, JadasVariant, MscRoute, Outcome, StopDecidedBy, YesNoUnknown
from ..models.common import Currency, plain_number
from ..models.msc import dose_per_kg_text
from .rules import rule

# Consolaro et al., Arthritis Rheum 2009;61:658-666: JADAS-71 0-101, JADAS-27 0-57, JADAS-10 0-40
# (physician global 0-10 + parent/patient global 0-10 + active joints counted in 71, 27 or 10 joints
# + ESR normalised to 0-10). The clinical JADAS-10 drops the ESR (McErlane et al., Ann Rheum Dis
# 2013;72:1983-1988, "JADAS3"); its 30 is the sum of the three remaining components' maxima.
JADAS_MAXIMUM = {
    JadasVariant.JADAS71: Decimal(101),
    JadasVariant.JADAS27: Decimal(57),
    JadasVariant.JADAS10: Decimal(40),
    JadasVariant.CJADAS10: Decimal(30),
}

# Systemic MSC is dosed per kg; local injections (joint, bone, lymph node, nose...) in total cells.
SYSTEMIC_ROUTES = {MscRoute.INTRAVENOUS}
IMPLAUSIBLE_SYSTEMIC_DOSE = Decimal(10)  # x10^6 cells/kg

PEDIATRIC_AGE_LIMIT_YEARS = Decimal(18)

RESOLVED_OUTCOMES = {Outcome.RECOVERED, Outcome.SEQUELAE}

# A total is compared with the administrations' costs to the cent, but rounding is allowed for:
# 1 % (at least one unit) for a stated total, 10 % for one marked as an estimate.
COST_TOLERANCE = Decimal("0.01")
ESTIMATED_COST_TOLERANCE = Decimal("0.10")


@rule(
    "jadas_above_maximum",
    "JADAS above its variant's maximum",
    "A JADAS score is above the highest value its variant can reach: JADAS-71 101, JADAS-27 57, "
    "JADAS-10 40 (Consolaro et al. 2009), clinical JADAS-10 30 (no ESR). The variant or the score is "
    "wrong. A score whose variant the source does not give is not checked beyond the form's 0-101.",
)
def jadas_above_maximum(case):
    for a in case.assessments:
        maximum = JADAS_MAXIMUM.get(a.jadas_variant)
        if a.jadas is not None and maximum is not None and a.jadas > maximum:
            yield (
                a,
                f"{a}: {a.get_jadas_variant_display()} {plain_number(a.jadas)}, above its maximum {maximum}",
            )


@rule(
    "grade_contradicts_seriousness",
    "CTCAE grade and seriousness disagree",
    "A grade 4 (life-threatening) event is not marked life-threatening; a grade 1 (mild, no "
    "intervention indicated) event required hospitalisation; or an event that resulted in death is "
    "graded below 5. Severity (CTCAE) and seriousness (ICH E2A) are different questions, but these "
    "answers exclude each other. Disease flares and ungraded events are not checked: flares are "
    "graded on the disease's own scale, not CTCAE.",
)
def grade_contradicts_seriousness(case):
    for e in case.events:
        if e.category == EventCategory.DISEASE_FLARE or e.ctcae_grade is None:
            continue
        what = f"'{e.description[:60]}'"
        if e.ctcae_grade == 4 and not e.life_threatening:
            yield e, f"{what}: grade 4 (life-threatening) but not marked life-threatening"
        if e.ctcae_grade == 1 and e.required_hospitalisation:
            yield e, f"{what}: grade 1 (mild) but required hospitalisation"
        if e.resulted_in_death and e.ctcae_grade < 5:
            yield e, f"{what}: resulted in death but graded {e.ctcae_grade}, not 5"


@rule(
    "implausible_systemic_dose",
    "Intravenous dose above 10 × 10^6 cells/kg",
    "An intravenous administration's dose per kg, as reported or as cells ÷ weight, is above 10 × "
    "10^6 cells/kg: more than published MSC infusions give, so the cells, the weight or the unit "
    "(10^6 against 10^8 or total cells) is probably wrong. Local injections are dosed in total "
    "cells and are not checked; nor are doses the records do not state (see dose_implied).",
)
def implausible_systemic_dose(case):
    for a in case.administrations:
        if a.route not in SYSTEMIC_ROUTES:
            continue
        doses = [d for d in (a.reported_dose_millions_per_kg, a.computed_dose_millions_per_kg) if d is not None]
        if doses and max(doses) > IMPLAUSIBLE_SYSTEMIC_DOSE:
            yield (
                a,
                f"#{a.sequence} ({a.get_route_display().lower()}): {dose_per_kg_text(max(doses))} × 10^6 cells/kg, "
                f"above {IMPLAUSIBLE_SYSTEMIC_DOSE}",
            )


@rule(
    "adult_at_first_msc",
    "Age at first MSC 18 or more",
    "The registry records children: the first MSC was given at 18 or older (from the first "
    "administration's age, the age stated on the case, or another record's age and time). Either "
    "the age is wrong or the case does not belong here. A case whose age at first MSC cannot be "
    "worked out is not checked; the ages at onset and at later visits may be 18 or more.",
)
def adult_at_first_msc(case):
    age = case.patient.age_at_first_msc
    if age is not None and age.years >= PEDIATRIC_AGE_LIMIT_YEARS:
        yield None, f"first MSC at age {plain_number(age.years)} ({age.source}), not a child"


@rule(
    "recovered_without_duration",
    "Recovered without a resolution time",
    "An event's outcome is recovered (with or without sequelae) but its duration, the time to "
    "resolution, is blank. Give it, estimated if need be; acknowledge when the source says only "
    "'transient'. Events still recovering, not recovered, fatal or of unknown outcome are not checked.",
)
def recovered_without_duration(case):
    for e in case.events:
        if e.outcome in RESOLVED_OUTCOMES and e.duration_days is None:
            yield e, f"'{e.description[:60]}': {e.get_outcome_display().lower()}, but no duration"


@rule(
    "total_cost_below_administrations",
    "Total cost below the administrations' costs",
    "The case's total cost is less than the costs of its administrations added up (those in the "
    "total's currency), beyond rounding: 1 %, or 10 % for an estimated total. A total above the sum "
    "is not flagged (it includes travel and whatever the administrations do not), nor are costs in "
    "another currency or in 'Other' (two 'Other' amounts may be different currencies).",
)
def total_cost_below_administrations(case):
    p = case.patient
    if p.total_cost_amount is None or p.total_cost_currency in ("", Currency.OTHER):
        return
    priced = [a for a in case.administrations if a.cost_amount is not None]
    same = [a.cost_amount for a in priced if a.cost_currency == p.total_cost_currency]
    if not same:
        return
    total = sum(same)
    tolerance = max(Decimal(1), (ESTIMATED_COST_TOLERANCE if p.total_cost_estimated else COST_TOLERANCE) * total)
    if p.total_cost_amount < total - tolerance:
        others = len(priced) - len(same)
        skipped = f" ({others} cost(s) in another currency not compared)" if others else ""
        yield (
            None,
            f"total {plain_number(p.total_cost_amount)} {p.total_cost_currency}, but the {len(same)} "
            f"administration cost(s) add up to {plain_number(total)} {p.total_cost_currency}{skipped}",
        )


def _team_knew_of_stop(course):
    """Whether the rheumatology team knew of the stop before it happened. Learning of it afterwards
    (from the family) fits a provider who never communicated, so it does not count."""
    return course.team_knew_before_stop == YesNoUnknown.YES


@rule(
    "stop_known_without_provider_contact",
    "Team knew of a stop while the provider never communicated",
    "A stopped therapy is recorded as known to the rheumatology team before the stop while the case says "
    "the MSC provider never communicated with the team. Either answer may be wrong; if the family "
    "told the team, acknowledge it and say so. Stops the rheumatology team decided itself are not "
    "checked (it knew without the provider), nor cases where the provider's communication is unknown.",
)
def stop_known_without_provider_contact(case):
    if case.patient.provider_communicated_with_team != YesNoUnknown.NO:
        return
    for c in case.courses:
        if c.was_stopped and c.stop_decided_by != StopDecidedBy.RHEUMATOLOGY_TEAM and _team_knew_of_stop(c):
            decided = f", decided by {c.get_stop_decided_by_display().lower()}" if c.stop_decided_by else ""
            yield c, f"{c}: stop known to the team{decided}, but the provider never communicated with the team"


def serious_events_after_msc(case):
    """The recorded events that meet an ICH E2A seriousness criterion, flares included, except those
    known to have begun before the first MSC (an event whose onset cannot be placed may be after it)."""
    serious = [(e, case.days(e, "onset")) for e in case.events if e.is_serious]
    return [e for e, day in serious if day is None or day >= 0]


@rule(
    "serious_events_contradicted",
    "Case says no serious adverse event, but one is recorded",
    "The case answers 'no' to 'any serious adverse event after MSC', while an event recorded after MSC "
    "meets an ICH E2A seriousness criterion (death, life-threatening, hospitalisation, disability, "
    "congenital anomaly, medically important): the answer or the event's criteria are wrong. Events known "
    "to have begun before the first MSC are not checked, nor are answers 'yes' or 'unknown': a 'yes' "
    "without a serious event recorded may be an event not entered yet, and is not flagged.",
)
def serious_events_contradicted(case):
    if case.patient.serious_adverse_events != YesNoUnknown.NO:
        return
    for e in serious_events_after_msc(case):
        yield e, f"'{e.description[:60]}': serious, but the case says no serious adverse event occurred after MSC"
