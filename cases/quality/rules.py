"""The data-quality rules, in the spirit of REDCap's data-quality module.

Each rule has a code, a title and a plain explanation, and yields what it finds in one case's
records (a CaseRecords): the record, or None for the case itself, and a message. Registering a
rule is writing it here, or in cases.quality.safety_rules, under `@rule(...)`; docs/data-quality.md
lists the rules and a test keeps it in step with RULES. Running them and acknowledging what they
find is cases.quality.discrepancies.
"""

from dataclasses import dataclass
from decimal import Decimal

from ..models import Attribution, Timepoint
from ..models.common import DAYS_PER_YEAR, plain_number
from ..models.msc import DonorType, TissueSource, dose_per_kg_text

AGE_TOLERANCE_YEARS = Decimal("0.5")
ATTRIBUTED = {Attribution.POSSIBLE, Attribution.PROBABLE, Attribution.DEFINITE}
AFTER_MSC_TIMEPOINTS = {Timepoint.AFTER_MSC, Timepoint.FOLLOW_UP}


@dataclass(frozen=True)
class Rule:
    code: str
    title: str
    explanation: str
    check: object  # check(CaseRecords) -> iterable of (record or None, message)


RULES = []
RULES_BY_CODE = {}


def rule(code, title, explanation):
    def register(check):
        if code in RULES_BY_CODE:
            raise ValueError(f"Two data-quality rules are named {code}.")
        RULES_BY_CODE[code] = Rule(code, title, explanation, check)
        RULES.append(RULES_BY_CODE[code])
        return check

    return register


def _years(value):
    return plain_number(value.quantize(Decimal("0.1")))


@rule(
    "dose_disagrees",
    "Reported dose disagrees with cells and weight",
    "The dose per kg the source reports differs by more than 10 % from cells ÷ weight. One of the "
    "three numbers is wrong, or the weight is from another day.",
)
def dose_disagrees(case):
    for a in case.administrations:
        if a.dose_disagrees:
            yield (
                a,
                f"#{a.sequence}: reported {dose_per_kg_text(a.reported_dose_millions_per_kg)} × 10^6/kg, but "
                f"{plain_number(a.cells_millions)} × 10^6 cells / {plain_number(a.weight_kg)} kg = "
                f"{dose_per_kg_text(a.computed_dose_millions_per_kg)} × 10^6/kg",
            )


@rule(
    "dose_implied",
    "Dose per kg missing where another administration implies the weight",
    "An administration gives cells but no dose per kg and no weight, while another administration "
    "of the case reports a dose per kg for a number of cells, which implies the weight (cells ÷ "
    "dose). At that weight the missing dose would be as shown; check it against the source, which "
    "may report a different dose (e.g. a summary table). Local injections (into a joint, a bone or a "
    "lesion) are dosed in total cells, so no dose per kg is implied for them.",
)
def dose_implied(case):
    implied = [
        (a, a.cells_millions / a.reported_dose_millions_per_kg)
        for a in case.administrations
        if a.cells_millions is not None and a.reported_dose_millions_per_kg is not None and a.weight_kg is None
    ]
    if not implied:
        return
    for a in case.administrations:
        if a.cells_millions is None or a.dose_millions_per_kg is not None or not a.dosed_per_kg:
            continue
        source, weight = min(implied, key=lambda pair: abs(pair[0].sequence - a.sequence))
        yield (
            a,
            f"#{a.sequence}: {plain_number(a.cells_millions)} × 10^6 cells, no dose per kg; at the weight "
            f"implied by #{source.sequence} ({plain_number(source.cells_millions)} / "
            f"{dose_per_kg_text(source.reported_dose_millions_per_kg)} ≈ {_years(weight)} kg) it is ≈ "
            f"{dose_per_kg_text(a.cells_millions / weight)} × 10^6/kg",
        )


@rule(
    "stop_before_start",
    "Stop before start",
    "A medication's stop comes before its start once both are read on the same time axis (days from "
    "the first MSC, from a date, an age or an offset). The form only compares like with like.",
)
def stop_before_start(case):
    for c in case.courses:
        start, stop = case.days(c, "start"), case.days(c, "stop")
        if start is not None and stop is not None and stop < start:
            yield c, f"{c}: stops on day {stop} but starts on day {start} from the first MSC"


@rule(
    "attributed_event_before_msc",
    "Event attributed to MSC began before the first administration",
    "An adverse event attributed to MSC (possible, probable or definite) has an onset before the "
    "first MSC administration: either the attribution or the onset is wrong.",
)
def attributed_event_before_msc(case):
    for e in case.events:
        onset = case.days(e, "onset")
        if e.attribution in ATTRIBUTED and onset is not None and onset < 0:
            yield e, f"'{e.description[:60]}' ({e.get_attribution_display().lower()}) begins {-onset} days before MSC"


@rule(
    "no_follow_up",
    "No follow-up assessment after an administration",
    "No assessment is recorded after this MSC administration, so its effect (and any harm) is not "
    "documented. An 'after MSC' or 'latest follow-up' assessment without a time counts as following "
    "every administration: the source places it after MSC without saying when.",
)
def no_follow_up(case):
    if any(a.timepoint in AFTER_MSC_TIMEPOINTS and case.days(a) is None for a in case.assessments):
        return
    times = [d for d in (case.days(a) for a in case.assessments) if d is not None]
    for a in case.administrations:
        given = case.days(a)
        if given is not None and not any(t > given for t in times):
            yield a, f"#{a.sequence} (day {given}): no assessment after it"


@rule(
    "product_source_unknown",
    "Product without source or donor type",
    "An administered product does not say which tissue the cells came from or whether the donor was "
    "the patient (autologous) or someone else (allogeneic).",
)
def product_source_unknown(case):
    for p in case.products:
        if not p.administrations.all():
            continue
        gaps = [
            what
            for what, unknown in (
                ("cell source", p.tissue_source == TissueSource.UNKNOWN),
                ("donor type", p.donor_type == DonorType.UNKNOWN),
            )
            if unknown
        ]
        if gaps:
            yield p, f"{p.label}: {' and '.join(gaps)} unknown"


@rule(
    "age_offset_mismatch",
    "Age and time from first MSC contradict each other",
    "A record gives both an age and days from the first MSC, and the age differs by more than half "
    "a year from the age at the first MSC plus that offset.",
)
def age_offset_mismatch(case):
    first = case.anchor
    if first is None or first.age_years is None:
        return
    for record, prefix in case.timed():
        p = f"{prefix}_" if prefix else ""
        age, offset = getattr(record, f"{p}age_years"), getattr(record, f"{p}days_from_first_msc")
        if age is None or offset is None:
            continue
        expected = first.age_years + Decimal(offset - (first.days_from_first_msc or 0)) / DAYS_PER_YEAR
        if abs(age - expected) > AGE_TOLERANCE_YEARS:
            what = f"{prefix} " if prefix else ""
            yield (
                record,
                f"{record}: {what}age {plain_number(age)} but day {offset} after a first MSC at age "
                f"{plain_number(first.age_years)} gives {_years(expected)}",
            )


@rule(
    "ages_out_of_order",
    "Ages that contradict the course of the disease",
    "Age at onset after the age at diagnosis; a previous diagnosis or the first MSC before the "
    "onset; or an age at last follow-up younger than a recorded event (by more than half a year).",
)
def ages_out_of_order(case):
    p, first = case.patient, case.anchor
    onset, diagnosis, last = p.age_at_onset_years, p.age_at_diagnosis_years, p.age_at_last_follow_up_years
    if onset is not None and diagnosis is not None and onset > diagnosis:
        yield None, f"age at onset {plain_number(onset)} is after the age at diagnosis {plain_number(diagnosis)}"
    if onset is not None:
        for d in case.diagnoses:
            if d.age_years is not None and d.age_years < onset - AGE_TOLERANCE_YEARS:
                yield d, f"{d}: diagnosed at {plain_number(d.age_years)}, before the onset at {plain_number(onset)}"
        if first is not None and first.age_years is not None and first.age_years < onset:
            yield (
                case.administrations[0],
                f"first MSC at age {plain_number(first.age_years)}, before the onset at {plain_number(onset)}",
            )
    if last is not None:
        latest = None
        for record, prefix in case.timed():
            age = case.age(record, prefix)
            if age is not None and age > last + AGE_TOLERANCE_YEARS and (latest is None or age > latest[1]):
                latest = (record, age)
        if latest is not None:
            yield (
                None,
                f"age at last follow-up {plain_number(last)} is younger than {latest[0]} at age {_years(latest[1])}",
            )


@rule(
    "administrations_out_of_order",
    "Administration numbers and times disagree",
    "A later-numbered MSC administration is dated, aged or timed before an earlier-numbered one.",
)
def administrations_out_of_order(case):
    previous = None
    for a in case.administrations:
        when = case.days(a)
        if when is None:
            continue
        if previous is not None and when < previous[1]:
            yield a, f"#{a.sequence} on day {when} comes before #{previous[0].sequence} on day {previous[1]}"
        previous = (a, when)


@rule(
    "duplicate_administration",
    "The same administration entered twice",
    "Two administrations have the same product, route, cell count and time: probably one infusion entered twice.",
)
def duplicate_administration(case):
    seen = {}
    for a in case.administrations:
        when = (case.days(a), a.date, a.age_years)
        if all(v is None for v in when):
            continue
        key = (a.product_id, a.route, a.cells_millions, case.days(a))
        if key in seen:
            yield a, f"#{a.sequence} repeats #{seen[key].sequence} (same product, route, cells and time)"
        else:
            seen[key] = a


@rule(
    "time_unknown",
    "Administration or adverse event without a time",
    "An MSC administration or an adverse event has no date, age or days from the first MSC, so it "
    "cannot be placed on the timeline nor checked against the other records. Give an estimate "
    "(with its precision and the 'estimated' box) when the source only says 'within a week'.",
)
def time_unknown(case):
    for a in case.administrations:
        if case.days(a) is None and a.age_years is None and a.date is None:
            yield a, f"administration #{a.sequence}: no date, age or day from the first MSC"
    for e in case.events:
        if case.days(e, "onset") is None and e.onset_age_years is None and e.onset_date is None:
            yield e, f"'{e.description[:60]}': no onset date, age or day from the first MSC"


@rule(
    "event_before_its_administration",
    "Adverse event before the administration it followed",
    "An adverse event is linked to the MSC administration it followed, but its onset is before that administration.",
)
def event_before_its_administration(case):
    for e in case.events:
        if e.administration_id is None:
            continue
        onset, given = case.days(e, "onset"), case.days(e.administration)
        if onset is not None and given is not None and onset < given:
            yield (
                e,
                f"'{e.description[:60]}' begins on day {onset}, before administration "
                f"#{e.administration.sequence} (day {given})",
            )


# The rules about scores, safety reporting, doses, eligibility, cost and who knew live in their own
# module; importing it here registers them after the rules above, whichever module is imported first.
from . import safety_rules  # noqa: E402, F401
