"""One case with all its records, read once: the view of a case that the case page, the checklist,
the data-quality rules, the Summary Table and the figures share.

`with_records(queryset)` prefetches the records of many cases in a fixed number of queries;
`CaseRecords(patient)` then reads only what was prefetched (administrations in order, the first
MSC that every other time is read against, days and ages from it), each list once, so none of
those readers runs a query per case nor sorts the same records again.
"""

from dataclasses import dataclass
from datetime import date as Date
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property

from django.db.models import Prefetch, QuerySet

from . import timing
from .models import AdverseEvent, MscAdministration, MscProduct, Patient, Visit, VitalStatus
from .models.common import DAYS_PER_YEAR

#: Statuses that end follow-up: such a case is not overdue for contact.
CLOSED_STATUSES = {VitalStatus.DIED, VitalStatus.CONSENT_WITHDRAWN, VitalStatus.TRANSFERRED, VitalStatus.LOST}


@dataclass(frozen=True)
class LastContact:
    """When a case was last seen (or died), and how that is known."""

    moment: timing.Moment
    days: int | None  # from the first MSC administration
    date: Date | None  # a calendar date, only when the record or the first MSC gives one
    source: str  # in words: "stated on the vital status", "latest record: assessment ..."

    def __str__(self):
        return timing.describe(self.moment)


def patient_years(days):
    """Days of follow-up in years, to two decimals."""
    return (Decimal(days) / DAYS_PER_YEAR).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def cohort_follow_up(cases):
    """The cohort's follow-up: total patient-years over the cases whose follow-up is known, and how many
    cases that covers and leaves out (a case without a first MSC or a time of last contact)."""
    known = [c.follow_up_days for c in cases if c.follow_up_days is not None]
    total = (sum(Decimal(d) for d in known) / DAYS_PER_YEAR).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return {"patient_years": total, "cases_known": len(known), "cases_unknown": len(cases) - len(known)}


def products_with_administrations(with_provider=False):
    """The case's products, each with its administrations in sequence order (the order every reader
    of a case's administrations relies on)."""
    products = MscProduct.objects.select_related("provider") if with_provider else MscProduct.objects
    administrations = MscAdministration.objects.order_by("sequence", "id")
    return Prefetch(
        "products", queryset=products.prefetch_related(Prefetch("administrations", queryset=administrations))
    )


def record_prefetches():
    """The lookups a case page or a cohort computation needs (each is one query, whatever the count)."""
    return [
        "funding_sources",
        "previous_diagnoses",
        "medications",
        "assessments",
        "checklist_statements",
        "acknowledgements",
        "follow_up_statuses",
        Prefetch("visits", queryset=Visit.objects.select_related("definition")),
        products_with_administrations(with_provider=True),
        Prefetch(
            "adverse_events",
            queryset=AdverseEvent.objects.select_related("administration").prefetch_related("preceding_withdrawals"),
        ),
    ]


def with_records(queryset, prefetches=None):
    """The cases with their records; `prefetches` narrows them to what a caller reads."""
    return queryset.select_related("centre").prefetch_related(
        *(record_prefetches() if prefetches is None else prefetches)
    )


def records_of(cases, prefetches=None):
    """A CaseRecords for each case, in order, in a fixed number of queries: of a queryset (fetched
    here), of cases already fetched with_records, of cases without their records (fetched again,
    once for all), or CaseRecords already built (kept)."""
    if isinstance(cases, QuerySet):
        return [CaseRecords(patient) for patient in with_records(cases, prefetches)]
    cases = list(cases)
    if cases and isinstance(cases[0], CaseRecords):
        return cases
    if cases and not hasattr(cases[0], "_prefetched_objects_cache"):
        order = {patient.pk: i for i, patient in enumerate(cases)}
        fetched = with_records(Patient.objects.filter(pk__in=order), prefetches)
        cases = sorted(fetched, key=lambda patient: order[patient.pk])
    return [CaseRecords(patient) for patient in cases]


def records_by_centre(cases, prefetches):
    """CaseRecords in centre and study-ID order: of a queryset (fetched here with `prefetches`), or
    records already built in that order (kept), so two lists of one page can share one fetch."""
    if isinstance(cases, QuerySet):
        return records_of(cases.order_by("centre__code", "study_id"), prefetches)
    return list(cases)


class CaseRecords:
    """The records of one case prefetched by with_records, each read on first use and kept.

    Reading is lazy so that a caller that prefetched only some relations (the Summary Table reads
    products and assessments) never touches the others."""

    def __init__(self, patient):
        self.patient = patient

    def __repr__(self):
        return f"<CaseRecords {self.patient.study_id}>"

    @cached_property
    def products(self):
        return list(self.patient.products.all())

    @cached_property
    def administrations(self):
        """The case's administrations in sequence order, from the prefetched products."""
        found = [a for product in self.products for a in product.administrations.all()]
        return sorted(found, key=lambda a: (a.sequence, a.pk or 0))

    @cached_property
    def anchor(self):
        """The first MSC administration's time: every other time is read against it."""
        return timing.first_msc(self.administrations)

    @cached_property
    def events(self):
        return list(self.patient.adverse_events.all())

    @cached_property
    def courses(self):
        return list(self.patient.medications.all())

    @cached_property
    def assessments(self):
        return list(self.patient.assessments.all())

    @cached_property
    def visits(self):
        return list(self.patient.visits.all())

    @cached_property
    def diagnoses(self):
        return list(self.patient.previous_diagnoses.all())

    @cached_property
    def statements(self):
        """{checklist item: ChecklistStatement}."""
        return {s.item: s for s in self.patient.checklist_statements.all()}

    @cached_property
    def acknowledgements(self):
        """{(rule code, record key): DiscrepancyAcknowledgement}."""
        return {(a.rule, a.record_key): a for a in self.patient.acknowledgements.all()}

    @cached_property
    def statuses(self):
        """The vital statuses of the case, oldest first: by time of contact, a status without one read
        as of the latest record (so after the timed ones), then in the order they were entered."""

        def key(status):
            days = self.days(status, "contact")
            return (days is None, days or 0, status.pk or 0)

        return sorted(self.patient.follow_up_statuses.all(), key=key)

    @cached_property
    def vital_status(self):
        """The case's current vital status (the latest), or None when none is recorded."""
        return self.statuses[-1] if self.statuses else None

    @cached_property
    def last_contact(self):
        """When the case was last seen: the death, or the contact stated on the current vital status,
        else derived from the latest timed record (and the age at last follow-up stated on the case).
        None when nothing gives a time."""
        status = self.vital_status
        if status is not None:
            for prefix, what in (("death", "death"), ("contact", "last contact")):
                moment = timing.Moment.of(status, prefix)
                if moment.is_known and (prefix == "contact" or status.died):
                    return self._contact(moment, f"{what} stated on the vital status")
        candidates = [(record, prefix) for record, prefix in self.timed()]
        found = []
        for record, prefix in candidates:
            moment = timing.Moment.of(record, prefix)
            if moment.is_known:
                label = f"latest record: {record._meta.verbose_name} {record}"
                found.append((self.days(record, prefix), moment.date, label, moment))
        stated_age = self.patient.age_at_last_follow_up_years
        if stated_age is not None:
            moment = timing.Moment(age_years=stated_age, precision="year")
            found.append((timing.days_from_first_msc(moment, self.anchor), None, "age at last follow-up", moment))
        with_days = [item for item in found if item[0] is not None]
        if with_days:
            _, _, label, moment = max(with_days, key=lambda item: item[0])
            return self._contact(moment, label)
        dated = [item for item in found if item[1] is not None]
        if dated:
            _, _, label, moment = max(dated, key=lambda item: item[1])
            return self._contact(moment, label)
        return None

    def _contact(self, moment, source):
        days = timing.days_from_first_msc(moment, self.anchor)
        when = moment.date
        if when is None and days is not None and self.anchor is not None and self.anchor.date is not None:
            when = self.anchor.date + timedelta(days=days - (self.anchor.days_from_first_msc or 0))
        return LastContact(moment, days, when, source)

    @cached_property
    def follow_up_days(self):
        """Days from the first MSC administration to the last contact or death; None when unknown."""
        contact = self.last_contact
        if self.anchor is None or contact is None or contact.days is None:
            return None
        return max(contact.days - (self.anchor.days_from_first_msc or 0), 0)

    @property
    def follow_up_years(self):
        """Follow-up in years (two decimals), None when unknown."""
        return None if self.follow_up_days is None else patient_years(self.follow_up_days)

    @property
    def follow_up_open(self):
        """Whether the case is still followed (no vital status ending follow-up)."""
        return self.vital_status is None or self.vital_status.status not in CLOSED_STATUSES

    def days_without_contact(self, today):
        """Days since the last contact, counted to `today`; None when its date is unknown (offsets
        from a first MSC without a date give no date, and the registry does not guess one)."""
        contact = self.last_contact
        if contact is None or contact.date is None:
            return None
        return (today - contact.date).days

    def days(self, record, prefix=""):
        """Days from the first MSC to the record's time (its `prefix`_ fields), or None if unknown."""
        return timing.days_from_first_msc(timing.Moment.of(record, prefix), self.anchor)

    def age(self, record, prefix=""):
        """The patient's age at the record's time, or None if unknown."""
        return timing.age_at(timing.Moment.of(record, prefix), self.anchor)

    def timed(self):
        """Every (record, prefix) that carries a time."""
        for record in [*self.administrations, *self.assessments, *self.diagnoses]:
            yield record, ""
        for event in self.events:
            yield event, "onset"
        for course in self.courses:
            yield course, "start"
            yield course, "stop"
