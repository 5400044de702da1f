"""Template helpers for showing clinical records."""

from django import template

from ..kinds import RECORD_KINDS, record_key
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
    """`{% record_url "product" "update" patient product %}`: a record page, from cases.kinds."""
    return RECORD_KINDS[kind].url(action, patient, record)


register.filter("query_key", record_key)
