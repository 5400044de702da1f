"""One case with all its records, read once: the view of a case that the case page, the checklist,
the data-quality rules, the Summary Table and the figures share.

`with_records(queryset)` prefetches the records of many cases in a fixed number of queries;
`CaseRecords(patient)` then reads only what was prefetched (administrations in order, the first
MSC that every other time is read against, days and ages from it), each list once, so none of
those readers runs a query per case nor sorts the same records again.
"""

from functools import cached_property

from django.db.models import Prefetch, QuerySet

from . import timing
from .models import AdverseEvent, MscAdministration, MscProduct, Patient


def record_prefetches():
    """The lookups a case page or a cohort computation needs (each is one query, whatever the count)."""
    return [
        "funding_sources",
        "previous_diagnoses",
        "medications",
        "assessments",
        "checklist_statements",
        "acknowledgements",
        Prefetch(
            "products",
            queryset=MscProduct.objects.select_related("provider").prefetch_related(
                Prefetch("administrations", queryset=MscAdministration.objects.order_by("sequence", "id"))
            ),
        ),
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
