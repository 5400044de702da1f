"""A case with all its records, fetched for many cases at once in a fixed number of queries.

The checklist, the data-quality rules, the summary table and the figures all read the same
records; `with_records(queryset)` prefetches them once, and the helpers below read only what was
prefetched, so none of those modules runs a query per case.
"""

from django.db.models import Prefetch

from . import timing
from .models import AdverseEvent, MscAdministration, MscProduct


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


def administrations(patient):
    """The case's administrations in sequence order, from the prefetched products."""
    found = [a for product in patient.products.all() for a in product.administrations.all()]
    return sorted(found, key=lambda a: (a.sequence, a.pk or 0))


def anchor(patient):
    """The first MSC administration's time: every other time is read against it."""
    return timing.first_msc(administrations(patient))


def days(record, patient_anchor, prefix=""):
    return timing.days_from_first_msc(timing.Moment.of(record, prefix), patient_anchor)


def age(record, patient_anchor, prefix=""):
    return timing.age_at(timing.Moment.of(record, prefix), patient_anchor)
