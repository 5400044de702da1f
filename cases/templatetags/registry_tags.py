"""Template helpers for showing clinical records."""

from django import template

from ..models.msc import dose_per_kg_text
from ..timing import Moment, describe

register = template.Library()


@register.filter
def when(record, prefix=""):
    """`{{ course|when:"start" }}` reads a record's timing as a clinician would say it."""
    return describe(Moment.of(record, prefix))


@register.filter
def dose(value):
    """`{{ administration.computed_dose_millions_per_kg|dose }}`: one decimal, as the paper writes doses."""
    return dose_per_kg_text(value)


@register.filter
def yesno_unknown(value):
    return {"yes": "Yes", "no": "No", "unknown": "Unknown", "": "Not recorded"}.get(value, value)


@register.simple_tag
def record_url(kind, action, patient, record=None):
    from django.urls import reverse

    args = [patient.pk] if record is None else [patient.pk, record.pk]
    return reverse(f"cases:{kind}-{action}", args=args)


@register.filter
def query_key(record):
    """The key QueryForm uses to name a record: 'cases.mscadministration:12'."""
    return f"{record._meta.label_lower}:{record.pk}"
