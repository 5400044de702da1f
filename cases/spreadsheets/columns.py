"""The columns of the audit workbook's sheets, and the cells they write.

A sheet is a list of `Column`s derived from the model's fields, so the headers, the vocabulary
labels, the Data dictionary and the import resources can never drift apart. A cell written to a
file never starts like a formula: `csv_safe` escapes it and `csv_unescape` reads it back exactly.
"""

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import partial

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.text import capfirst
from django_countries.fields import CountryField

from ..models.common import StrictlyPositiveValidator, plain_number

#: Characters that make a spreadsheet program read a cell as a formula (or hide part of it).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\0")
PLAIN_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


# ---- Cells ---------------------------------------------------------------------------------------


def text_of(value):
    return plain_number(value) if isinstance(value, Decimal) else str(value)


def csv_cell(value, to_cell=None):
    """csv_safe(text_of(value)), after a column's `to_cell` when given: a cell as the CSV export
    writes it. An int is left to csv.writer, which writes str(value) as text_of would."""
    if to_cell is not None:
        value = to_cell(value)
    return value if value.__class__ is int else csv_safe(text_of(value))


def csv_safe(value):
    """A leading apostrophe stops a spreadsheet program running a cell as a formula; a value that
    already starts with one gets another, so `csv_unescape` restores every value exactly."""
    if isinstance(value, str) and value and (value[0] in FORMULA_START or value[0] == "'"):
        if not PLAIN_NUMBER.match(value):
            return "'" + value
    return value


def csv_unescape(value):
    if isinstance(value, str) and len(value) > 1 and value[0] == "'":
        if value[1] in FORMULA_START or value[1] == "'":
            return value[1:]
    return value


# ---- Columns -------------------------------------------------------------------------------------


@dataclass
class Column:
    """One column of a sheet: its header, where its value comes from and how it is written.

    `path` is the `values_list()` lookup from the sheet's model; `attribute` the model field an
    import sets (None: export only, e.g. keys of the parent and derived times)."""

    header: str
    path: str
    kind: str = "text"  # text, choice, integer, decimal, boolean, date, multi, country (its ISO code)
    model_field: models.Field | None = None
    attribute: str | None = None
    choices: dict = field(default_factory=dict)
    identifying: bool = False  # dates: identifiable variant only
    free_text: bool = False  # may hold identifiers: only when asked for
    meaning: str = ""
    unit: str = ""
    allowed: str = ""
    derived_from: str | None = None  # "age:<prefix>", "days:<prefix>", "months:<prefix>"

    def to_cell(self, value):
        """The value as written: labels for codes, Yes/No, plain numbers, ISO dates."""
        if value is None or value == "":
            return ""
        if self.kind == "choice":
            return self.choices.get(value, value)
        if self.kind == "boolean":
            return "Yes" if value else "No"
        if isinstance(value, Decimal):
            return value  # a number cell in XLSX, plain_number() text in CSV and JSON
        if isinstance(value, datetime):
            return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if timezone.is_aware(value) else str(value)
        if isinstance(value, date):
            return value.isoformat()
        return value if isinstance(value, int | str) else str(value)

    def csv_converter(self):
        """`to_cell()` then `csv_cell()`: the cell as the CSV export writes it, with a vocabulary's
        labels made CSV-safe once per column rather than once per cell."""
        if self.kind == "choice":
            return CsvLabels({code: csv_cell(label) for code, label in self.choices.items()}, self.to_cell).__getitem__
        if self.kind == "boolean":
            return self.to_cell  # "", "Yes" or "No": nothing to escape
        return csv_fast_path(self.kind, partial(csv_cell, to_cell=self.to_cell))


ESCAPED_START = frozenset((*FORMULA_START, "'"))


def csv_fast_path(kind, convert):
    """`convert` (to_cell then csv_cell), with the common value of a column of this kind answered
    without it: at 10,000 cases the CSV export converts about 3.9 million cells. The answer is the
    same: a str that csv_safe leaves alone, an int (csv.writer writes str(value)), plain_number
    text (never escaped: it matches PLAIN_NUMBER), an ISO date. tests/test_csv_export_speed.py
    compares the bytes with the plain Python path."""
    if kind in ("text", "multi", "country"):

        def text(value):
            if value.__class__ is str and value and value[0] not in ESCAPED_START:
                return value
            return convert(value)

        return text
    if kind == "integer":
        return lambda value: value if value.__class__ is int else convert(value)
    if kind == "decimal":
        return lambda value: plain_number(value) if value.__class__ is Decimal and value.is_finite() else convert(value)
    if kind == "date":
        return lambda value: value.isoformat() if value.__class__ is date else convert(value)
    return convert


class CsvLabels(dict):
    """code -> its label as the CSV export writes it; any other value through the converter."""

    def __init__(self, labels, convert):
        super().__init__(labels)
        self[None] = self[""] = ""  # to_cell's blanks
        self.convert = convert

    def __missing__(self, value):
        return csv_cell(self.convert(value))


def kind_of(model_field):
    if isinstance(model_field, CountryField):
        return "country"
    if model_field.choices:
        return "choice"
    if isinstance(model_field, models.BooleanField):
        return "boolean"
    if isinstance(model_field, models.DecimalField):
        return "decimal"
    if isinstance(model_field, models.IntegerField):
        return "integer"
    if isinstance(model_field, models.DateField):
        return "date"
    return "text"


UNIT = re.compile(r"\(([^)]*)\)\s*$")


def describe_range(model_field):
    low = high = None
    strictly = False
    for validator in model_field.validators:
        if isinstance(validator, MinValueValidator):
            low = validator.limit_value
        elif isinstance(validator, MaxValueValidator):
            high = validator.limit_value
        elif isinstance(validator, StrictlyPositiveValidator):
            low, strictly = 0, True
    if low is not None and high is not None:
        return f"{low} to {high}"
    if low is not None:
        return f"greater than {low}" if strictly else f"{low} or more"
    return ""


def column_for(model_field, path=None, header=None, attribute=True):
    kind = kind_of(model_field)
    choices = {str(code): str(label) for code, label in model_field.flatchoices} if model_field.choices else {}
    if kind == "choice":
        allowed = "; ".join(choices.values())
    elif kind == "boolean":
        allowed = "Yes; No" + ("; blank = not known" if model_field.null else "")
    elif kind == "date":
        allowed = "YYYY-MM-DD"
    elif kind == "country":
        allowed = "ISO 3166-1 alpha-2 code, e.g. MX" + ("; XX = unknown" if "XX" in model_field.countries else "")
    else:
        allowed = describe_range(model_field)
    verbose = str(model_field.verbose_name)
    unit = UNIT.search(verbose)
    return Column(
        header=header or capfirst(verbose),
        path=path or model_field.name,
        kind=kind,
        model_field=model_field,
        attribute=model_field.name if attribute else None,
        choices=choices,
        identifying=kind == "date",
        free_text=isinstance(model_field, models.TextField),
        meaning=str(model_field.help_text),
        unit=unit.group(1) if unit and kind in ("integer", "decimal") else "",
        allowed=allowed,
    )


def key_column(header, path, meaning):
    return Column(header=header, path=path, meaning=meaning, allowed="")


#: Fields never exported: database bookkeeping, withdrawal (withdrawn records are not exported),
#: the parent link (replaced by natural-key columns) and who entered the case.
SKIPPED = {"id", "version", "withdrawn_at", "withdrawn_by", "withdrawal_reason", "created_by"}


def model_columns(model, skip=(), first=()):
    columns = []
    fields = [f for f in model._meta.concrete_fields if f.name not in SKIPPED and f.name not in skip]
    fields.sort(key=lambda f: (f.name not in first, first.index(f.name) if f.name in first else 0))
    for model_field in fields:
        if model_field.is_relation:
            continue
        columns.append(column_for(model_field))
        if isinstance(model_field, CountryField):
            columns.append(country_name_column(model_field))
    return columns


def country_name_column(model_field):
    """The name of a country column's code, written beside it for a reader (the code is imported)."""
    verbose = str(model_field.verbose_name)
    return Column(
        header=f"{capfirst(verbose)} (name)",
        path=model_field.name,
        kind="choice",
        choices={code: str(name) for code, name in model_field.countries},
        meaning=f"Name of the {verbose}, from its code (read on import only when the code is blank).",
    )


def timing_columns(prefix, label):
    """The times derived from the first MSC administration, written next to the recorded ones."""
    p = f"{prefix}_" if prefix else ""
    return [
        Column(
            header=f"{capfirst(label)}: age (years, derived)",
            path="",
            kind="decimal",
            unit="years",
            derived_from=f"age:{prefix}",
            meaning=f"Age at {label}: as recorded, or derived from the first MSC administration's age and offset.",
        ),
        Column(
            header=f"{capfirst(label)}: days from first MSC (derived)",
            path="",
            kind="integer",
            unit="days",
            derived_from=f"days:{prefix}",
            meaning=f"{capfirst(label)}, in days after the first MSC administration (negative = before), "
            "as recorded or derived from dates or ages.",
        ),
        Column(
            header=f"{capfirst(label)}: months from first MSC (derived)",
            path="",
            kind="decimal",
            unit="months",
            derived_from=f"months:{prefix}",
            meaning=f"{capfirst(label)}, in months (30.4375 days) after the first MSC administration.",
        ),
    ], [f"{p}date", f"{p}age_years", f"{p}days_from_first_msc"]
