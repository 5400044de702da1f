"""Safety over time: event rates per 100 patient-years with exact Poisson 95 % intervals, and the time from
stopping a therapy to the next flare, for a list of cases (a queryset or CaseRecords from `records_of`).

What counts. Every adverse event of the registry (flares included, since a flare is recorded as one)
whose onset falls from the first MSC to the end of follow-up (last contact or death, from
CaseRecords.follow_up_days, never recomputed here). An event whose onset cannot be placed in time is
not counted but reported per event type as "time unknown"; an event placed before the first MSC or after
the last contact is counted as "outside follow-up". A case whose follow-up is unknown (no first MSC or
no time of last contact) adds neither events nor time and is reported as such.

Event types: all adverse events; serious ones (ICH E2A criteria, read by `_is_serious` only); disease
flares; infections; and the events of special interest that EventCategory has: infusion reaction, local
pain at the injection site, thromboembolism, ectopic tissue formation, malignancy and macrophage
activation syndrome.

Strata, one value per case so each case's time counts once: provider and product source (tissue) of the
product of the case's first MSC administration, and that administration's route. A case later given
another product or route stays in the stratum of its first MSC, because the first exposure is what its
whole follow-up is read against.

Intervals are Garwood's exact Poisson interval computed with scipy.stats.chi2 (lower chi2(2.5 %, 2k)/2,
upper chi2(97.5 %, 2k + 2)/2, over the patient-years; the lower bound is 0 when there is no event).
"""

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Prefetch
from scipy.stats import chi2

from ..case_records import products_with_administrations, records_of
from ..models import AdverseEvent, EventCategory
from ..models.common import DAYS_PER_YEAR
from ..quality.checklist_items import stopped_around_msc

SPECIAL_INTEREST = [
    EventCategory.INFUSION_REACTION,
    EventCategory.LOCAL_PAIN,
    EventCategory.THROMBOEMBOLISM,
    EventCategory.ECTOPIC_TISSUE,
    EventCategory.MALIGNANCY,
    EventCategory.MAS,
]


#: What the rates read: the timed records (for the last contact), the vital statuses, the products with
#: their provider and administrations, and the events with the withdrawals they followed.
SAFETY_PREFETCHES = [
    "previous_diagnoses",
    "medications",
    "assessments",
    "follow_up_statuses",
    Prefetch("adverse_events", queryset=AdverseEvent.objects.prefetch_related("preceding_withdrawals")),
    products_with_administrations(with_provider=True),
]


def _is_serious(event):
    """Serious by the ICH E2A criteria: the one place the rates read seriousness from."""
    return event.is_serious


def _of_category(category):
    return lambda event: event.category == category


EVENT_TYPES = [
    ("All adverse events", lambda event: True),
    ("Serious adverse events", _is_serious),
    ("Disease flares", _of_category(EventCategory.DISEASE_FLARE)),
    ("Infections", _of_category(EventCategory.INFECTION)),
    *[(f"Special interest: {c.label}", _of_category(c)) for c in SPECIAL_INTEREST],
]


def poisson_interval(events, patient_years, level=0.95):
    """The exact (Garwood) interval of a Poisson rate, per 100 patient-years."""
    tail = (1 - level) / 2
    lower = chi2.ppf(tail, 2 * events) / 2 if events else 0.0
    upper = chi2.ppf(1 - tail, 2 * events + 2) / 2
    return 100 * lower / patient_years, 100 * upper / patient_years


@dataclass(frozen=True)
class Rate:
    event_type: str
    events: int
    patient_years: float
    unknown_time: int = 0
    outside_follow_up: int = 0

    @property
    def per_100(self):
        return 100 * self.events / self.patient_years if self.patient_years else None

    @property
    def interval(self):
        return poisson_interval(self.events, self.patient_years) if self.patient_years else (None, None)


@dataclass
class Group:
    """The rates of a set of cases: the whole cohort or one stratum."""

    dimension: str
    label: str
    cases: int = 0
    cases_unknown: int = 0
    days: int = 0
    rates: list = field(default_factory=list)

    @property
    def patient_years(self):
        return float(self.days / DAYS_PER_YEAR)


def _placed(records):
    """Each event of a case with its day from the first MSC: 'in', 'outside' or 'unknown'."""
    start = records.anchor.days_from_first_msc or 0
    end = start + records.follow_up_days
    for event in records.events:
        day = records.days(event, "onset")
        yield event, "unknown" if day is None else "in" if start <= day <= end else "outside"


def _group(dimension, label, cases):
    group = Group(dimension, label)
    counts = defaultdict(lambda: defaultdict(int))
    for records in cases:
        if records.follow_up_days is None:
            group.cases_unknown += 1
            continue
        group.cases += 1
        group.days += records.follow_up_days
        for event, where in _placed(records):
            for name, test in EVENT_TYPES:
                if test(event):
                    counts[name][where] += 1
    group.rates = [
        Rate(name, counts[name]["in"], group.patient_years, counts[name]["unknown"], counts[name]["outside"])
        for name, _ in EVENT_TYPES
    ]
    return group


def first_administration(records):
    """The case's first MSC administration (the one CaseRecords anchors its times on)."""
    admins = records.administrations
    return min(admins, key=lambda a: (a.sequence, a.days_from_first_msc or 0)) if admins else None


def _provider(first):
    provider = first.product.provider if first else None
    return provider.name if provider else "Provider not recorded"


STRATA = [
    ("Provider", _provider),
    ("Product source", lambda first: first.product.get_tissue_source_display() if first else "No MSC recorded"),
    ("Route", lambda first: first.get_route_display() if first else "No MSC recorded"),
]


def safety_rates(cases):
    """The cohort's rates and the same rates per provider, product source and route (strata sorted by label)."""
    cases = records_of(cases, SAFETY_PREFETCHES)
    strata = []
    for dimension, label_of in STRATA:
        grouped = defaultdict(list)
        for records in cases:
            grouped[label_of(first_administration(records))].append(records)
        strata += [_group(dimension, label, grouped[label]) for label in sorted(grouped)]
    return {"cohort": _group("Cohort", "All selected cases", cases), "strata": strata}


@dataclass(frozen=True)
class Withdrawal:
    """One stopped therapy: the days to the first flare that followed it, or to the end of follow-up."""

    patient: object
    course: object
    days: int
    flared: bool


def withdrawals_to_flare(cases):
    """Each therapy stopped around MSC (cases.quality.checklist_items.stopped_around_msc) with the days
    from its stop to the first flare recorded as following that withdrawal, censored at the end of
    follow-up; and how many such stops cannot be placed (stop time, flare onset or follow-up unknown)."""
    found, unknown = [], 0
    for records in records_of(cases, SAFETY_PREFETCHES):
        for course in records.courses:
            if not stopped_around_msc(records, course):
                continue
            stop = records.days(course, "stop")
            flares = [e for e in records.events if e.is_flare and course in e.preceding_withdrawals.all()]
            onsets = [records.days(e, "onset") for e in flares]
            if stop is None or None in onsets:
                unknown += 1
                continue
            after = [day - stop for day in onsets if day >= stop]
            if after:
                found.append(Withdrawal(records.patient, course, min(after), True))
            elif records.follow_up_days is None:
                unknown += 1
            else:
                end = (records.anchor.days_from_first_msc or 0) + records.follow_up_days
                found.append(Withdrawal(records.patient, course, max(end - stop, 0), False))
    return found, unknown


def kaplan_meier(observations):
    """The product-limit estimate of flare-free survival: [(day, probability)] starting at (0, 1.0),
    one step per day with a flare; `observations` are (days, flared) pairs, a censored one counting as
    at risk up to and including its day."""
    steps, survival = [(0, 1.0)], 1.0
    for day in sorted({d for d, flared in observations if flared}):
        at_risk = sum(1 for d, _ in observations if d >= day)
        flares = sum(1 for d, flared in observations if d == day and flared)
        survival *= 1 - flares / at_risk
        steps.append((day, survival))
    return steps


def time_to_flare(cases):
    """Median and range of the observed days from stop to flare, the Kaplan-Meier curve and the counts."""
    withdrawals, unknown = withdrawals_to_flare(cases)
    observed = [w.days for w in withdrawals if w.flared]
    return {
        "withdrawals": withdrawals,
        "stops": len(withdrawals),
        "flares": len(observed),
        "censored": len(withdrawals) - len(observed),
        "unknown": unknown,
        "median_days": statistics.median(observed) if observed else None,
        "min_days": min(observed) if observed else None,
        "max_days": max(observed) if observed else None,
        "curve": kaplan_meier([(w.days, w.flared) for w in withdrawals]),
        "censored_days": sorted(w.days for w in withdrawals if not w.flared),
    }


RATE_HEADERS = [
    "Group",
    "Stratum",
    "Event type",
    "Cases",
    "Cases with follow-up unknown",
    "Patient-years",
    "Events",
    "Rate per 100 patient-years",
    "95% CI lower",
    "95% CI upper",
    "Events with time unknown",
    "Events outside follow-up",
]

#: The data dictionary's words for each column of RATE_HEADERS: (type, unit, meaning).
RATE_DICTIONARY = [
    ("text", "", "Cohort (all exported cases) or the stratum's dimension: provider, product source or route."),
    ("text", "", "The stratum, by the first MSC administration of each case (its product's provider and tissue)."),
    ("text", "", "All adverse events, serious (ICH E2A criteria), disease flares, infections, special interest."),
    ("integer", "cases", "Cases with a known follow-up in the group."),
    ("integer", "cases", "Cases without a first MSC or a time of last contact: they add no events nor time."),
    ("decimal", "patient-years", "Days from first MSC to last contact or death, summed, over 365.25."),
    ("integer", "events", "Events with onset from the first MSC to the end of follow-up."),
    ("decimal", "per 100 patient-years", "Events over patient-years, times 100."),
    ("decimal", "per 100 patient-years", "Exact Poisson (Garwood) 95 % interval, lower bound (0 with no event)."),
    ("decimal", "per 100 patient-years", "Exact Poisson (Garwood) 95 % interval, upper bound."),
    ("integer", "events", "Events whose onset cannot be placed in time: not counted in the rate."),
    ("integer", "events", "Events placed before the first MSC or after the last contact: not counted."),
]


def _round(value):
    """Two decimals as a Decimal (a number cell in the workbook); blank when there is no patient-time."""
    return "" if value is None else Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def rate_rows(report):
    """The rates as rows (RATE_HEADERS), the cohort first, then each stratum: for the command and the workbook."""
    for group in [report["cohort"], *report["strata"]]:
        for rate in group.rates:
            lower, upper = rate.interval
            yield [
                group.dimension,
                group.label,
                rate.event_type,
                group.cases,
                group.cases_unknown,
                _round(group.patient_years),
                rate.events,
                _round(rate.per_100),
                _round(lower),
                _round(upper),
                rate.unknown_time,
                rate.outside_follow_up,
            ]
