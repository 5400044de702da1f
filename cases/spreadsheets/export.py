"""The audit workbook: column definitions shared with the import-export resources, and the fast
writers (XLSX, zipped CSV, JSON) that stream one flat query per sheet into the file.

A sheet is a list of `Column`s derived from the model's fields, so the headers, the vocabulary
labels, the Data dictionary and the import resources (cases.resources) can never drift apart.
django-import-export's own `Resource.export()` builds the whole file in memory and queries per
row; here each sheet is one `.values_list()` query iterated in chunks and written as it goes.

De-identified by default: no date columns, no free-text (TextField) columns, and every time shown
as the recorded age / offset plus the age and days / months from the first MSC administration
derived by cases.timing. The identifiable variant (dates, free text) is for registry admins only.
"""

import csv
import io
import json
import re
import tomllib
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from operator import itemgetter
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connection, models
from django.db.models import Count
from django.utils import timezone
from django.utils.text import capfirst
from django_countries.fields import CountryField

from ..models import (
    AdverseEvent,
    Assessment,
    ChecklistStatement,
    DataQuery,
    ExportFormat,
    ExportLog,
    ExportVariant,
    MedicationCourse,
    MscAdministration,
    MscProduct,
    MscProvider,
    Patient,
    PreviousDiagnosis,
    dose_per_kg,
)
from ..models.common import StrictlyPositiveValidator, plain_number
from ..timing import Moment, age_at, days_from_first_msc, first_msc, months_from_first_msc

CHUNK_SIZE = 2000
#: Characters that make a spreadsheet program read a cell as a formula (or hide part of it).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\0")
PLAIN_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def registry_version():
    try:
        with open(Path(settings.BASE_DIR) / "pyproject.toml", "rb") as f:
            return tomllib.load(f)["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


def can_export_identifiable(user):
    """Identifiable exports (dates, free text) are for registry admins only (their role's permission)."""
    return user.is_active and user.has_perm("cases.export_identifiable")


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


# ---- Sheets --------------------------------------------------------------------------------------


@dataclass
class Sheet:
    name: str
    model: type
    columns: list
    key: list  # headers of the natural key, in order
    patient_path: str | None  # lookup from the model to its Patient ("" for Patient itself)
    timings: dict = field(default_factory=dict)  # prefix -> (date, age, days) paths
    importable: bool = True
    order_by: tuple = ()

    def column(self, header):
        return next(c for c in self.columns if c.header == header)


def case_keys(patient_path):
    p = f"{patient_path}__" if patient_path else ""
    return [
        key_column("Centre", f"{p}centre__code", "Code of the centre that entered the case."),
        key_column("Study ID", f"{p}study_id", "The case's registry number, unique within the centre."),
    ]


def with_timings(model, columns, *timings):
    """Insert the derived time columns after each timing's recorded columns."""
    derived_map = {}
    for prefix, label in timings:
        derived, paths = timing_columns(prefix, label)
        derived_map[prefix] = paths
        p = f"{prefix}_" if prefix else ""
        estimated = f"{p}estimated" if prefix else "timing_estimated"
        index = next(i for i, c in enumerate(columns) if c.path == estimated) + 1
        columns[index:index] = derived
    return derived_map


def build_sheets():
    patient = Sheet(
        "Patients",
        Patient,
        [*case_keys(""), *model_columns(Patient, skip=("study_id",))],
        key=["Centre", "Study ID"],
        patient_path="",
        order_by=("centre__code", "study_id"),
    )
    patient.columns.append(
        Column(
            header="Funding sources",
            path="funding_sources",
            kind="multi",
            attribute="funding_sources",
            meaning="How the family paid, all that apply, separated by '; '.",
        )
    )
    for c in patient.columns:
        if c.path == "review_status":
            c.attribute = None  # status changes go through the review workflow and its signatures

    previous = Sheet(
        "Previous diagnoses",
        PreviousDiagnosis,
        [*case_keys("patient"), *model_columns(PreviousDiagnosis, skip=("patient",))],
        key=["Centre", "Study ID", "Diagnosis", "Diagnosis detail", "Age at time (years)"],
        patient_path="patient",
        order_by=("patient__centre__code", "patient__study_id", "age_years", "diagnosis", "diagnosis_detail", "id"),
    )
    previous.timings = with_timings(PreviousDiagnosis, previous.columns, ("", "time"))

    medications = Sheet(
        "Medications",
        MedicationCourse,
        [
            *case_keys("patient"),
            *model_columns(MedicationCourse, skip=("patient",), first=("drug", "drug_detail", "relation_to_msc")),
        ],
        key=[
            "Centre",
            "Study ID",
            "Drug",
            "Drug detail",
            "Relation to MSC",
            "Age at start (years)",
            "Start: days from first MSC",
        ],
        patient_path="patient",
        order_by=(
            "patient__centre__code",
            "patient__study_id",
            "start_age_years",
            "start_days_from_first_msc",
            "drug",
            "drug_detail",
            "relation_to_msc",
            "id",
        ),
    )
    medications.timings = with_timings(MedicationCourse, medications.columns, ("start", "start"), ("stop", "stop"))

    providers = Sheet(
        "MSC providers",
        MscProvider,
        model_columns(MscProvider),
        key=["Name", "Country"],
        patient_path=None,
        order_by=("name", "country"),
    )

    products = Sheet(
        "MSC products",
        MscProduct,
        [
            *case_keys("patient"),
            *model_columns(MscProduct, skip=("patient",), first=("label",)),
            Column(
                header="Provider",
                path="provider__name",
                attribute="provider",
                meaning="Name of the MSC provider (see the MSC providers sheet).",
            ),
            Column(
                header="Provider country",
                path="provider__country",
                meaning="Country code of the MSC provider (with its name, the provider's key).",
            ),
        ],
        key=["Centre", "Study ID", "Label"],
        patient_path="patient",
        order_by=("patient__centre__code", "patient__study_id", "label", "id"),
    )

    administrations = Sheet(
        "MSC administrations",
        MscAdministration,
        [
            *case_keys("product__patient"),
            *model_columns(MscAdministration, skip=("product",), first=("sequence",)),
            Column(
                header="Product",
                path="product__label",
                attribute="product",
                meaning="Label of the MSC product given (see the MSC products sheet).",
            ),
        ],
        key=["Centre", "Study ID", "Number"],
        patient_path="product__patient",
        order_by=("product__patient__centre__code", "product__patient__study_id", "sequence", "id"),
    )
    administrations.timings = with_timings(MscAdministration, administrations.columns, ("", "time"))
    dose = Column(
        header="Dose (x10^6 cells/kg, computed)",
        path="",
        kind="decimal",
        unit="x10^6 cells/kg",
        derived_from="dose",
        meaning="Cells (x10^6) divided by the patient's weight (kg), to three decimals; blank when either "
        "is unknown. Compare with the reported dose.",
    )
    index = next(i for i, c in enumerate(administrations.columns) if c.path == "reported_dose_millions_per_kg")
    administrations.columns.insert(index, dose)

    events = Sheet(
        "Adverse events",
        AdverseEvent,
        [
            *case_keys("patient"),
            *model_columns(AdverseEvent, skip=("patient", "administration"), first=("description", "category")),
            Column(
                header="After administration number",
                path="administration__sequence",
                kind="integer",
                attribute="administration",
                meaning="Number of the MSC administration the event followed, if any.",
            ),
            Column(
                header="Preceding withdrawals",
                path="preceding_withdrawals",
                kind="multi",
                attribute="preceding_withdrawals",
                meaning="For a flare: the medications whose withdrawal preceded it, by drug, separated by '; '.",
            ),
        ],
        key=["Centre", "Study ID", "Description", "Category", "Age at onset (years)", "Onset: days from first MSC"],
        patient_path="patient",
        order_by=(
            "patient__centre__code",
            "patient__study_id",
            "onset_age_years",
            "onset_days_from_first_msc",
            "description",
            "category",
            "id",
        ),
    )
    events.timings = with_timings(AdverseEvent, events.columns, ("onset", "onset"))

    assessments = Sheet(
        "Assessments",
        Assessment,
        [*case_keys("patient"), *model_columns(Assessment, skip=("patient",), first=("timepoint",))],
        key=["Centre", "Study ID", "Timepoint", "Age at time (years)", "Time: days from first MSC"],
        patient_path="patient",
        order_by=("patient__centre__code", "patient__study_id", "days_from_first_msc", "age_years", "timepoint", "id"),
    )
    assessments.timings = with_timings(Assessment, assessments.columns, ("", "time"))

    statement_fields = {f.name: f for f in ChecklistStatement._meta.concrete_fields}
    statements = Sheet(
        "Checklist statements",
        ChecklistStatement,
        [
            *case_keys("patient"),
            column_for(statement_fields["item"], header="Checklist item"),
            column_for(statement_fields["statement"]),
            column_for(statement_fields["follow_up_months"]),
            column_for(statement_fields["note"]),
        ],
        key=["Centre", "Study ID", "Checklist item"],
        patient_path="patient",
        order_by=("patient__centre__code", "patient__study_id", "item", "id"),
    )
    statements.columns[2].meaning = "The safety-reporting checklist item the statement answers."
    statements.columns[
        3
    ].meaning = "An explicit answer where the case records nothing for the item, so silence is never read as 'none'."

    query_fields = {f.name: f for f in DataQuery._meta.concrete_fields}
    queries = Sheet(
        "Data queries",
        DataQuery,
        [
            *case_keys("patient"),
            column_for(query_fields["record_label"], attribute=False),
            column_for(query_fields["question"], attribute=False),
            column_for(query_fields["status"], attribute=False),
            key_column("Raised by", "raised_by__username", "The reviewer who raised the query."),
            column_for(query_fields["raised_at"], header="Raised at", attribute=False),
            Column(header="Messages", path="message_count", kind="integer", meaning="Answers and notes so far."),
        ],
        key=[],
        patient_path="patient",
        importable=False,
        order_by=("patient__centre__code", "patient__study_id", "raised_at", "id"),
    )
    queries.columns[5].kind = "text"  # a timestamp of the review, not a clinical date
    queries.columns[5].identifying = False
    sheets = [patient, previous, medications, providers, products, administrations, events, assessments, statements]
    for sheet in sheets:
        headers = [c.header for c in sheet.columns]
        assert len(headers) == len(set(headers)), f"duplicate headers in {sheet.name}"
        assert set(sheet.key) <= set(headers), f"unknown key column in {sheet.name}"
    return [*sheets, queries]


SHEETS = build_sheets()
SHEETS_BY_NAME = {sheet.name: sheet for sheet in SHEETS}
IMPORTABLE = [sheet for sheet in SHEETS if sheet.importable]


def sheet_for(model):
    return next(sheet for sheet in SHEETS if sheet.model is model)


# ---- Rows ----------------------------------------------------------------------------------------


@dataclass
class ExportOptions:
    user: object
    patients: object = None  # a Patient queryset (already filtered); None = all visible cases
    identifiable: bool = False
    include_free_text: bool = False
    filters: dict = field(default_factory=dict)
    channel: str = "web"

    def __post_init__(self):
        if self.patients is None:
            self.patients = Patient.objects.visible_to(self.user)

    @property
    def variant(self):
        return ExportVariant.IDENTIFIABLE if self.identifiable else ExportVariant.DEIDENTIFIED


def included_columns(sheet, options):
    return [
        c
        for c in sheet.columns
        if (options.identifiable or not c.identifying) and (options.include_free_text or not c.free_text)
    ]


def sheet_queryset(sheet, options):
    patient_ids = options.patients.order_by().values("pk")
    if sheet.model is MscProvider:
        return MscProvider.objects.filter(products__patient__in=patient_ids).distinct()
    queryset = sheet.model.objects.visible_to(options.user)
    if sheet.patient_path == "":
        return queryset.filter(pk__in=patient_ids)
    return queryset.filter(**{f"{sheet.patient_path}__in": patient_ids})


def first_msc_anchors(options):
    """{patient id: the first MSC administration's Moment}, in one query."""
    rows = (
        MscAdministration.objects.visible_to(options.user)
        .filter(product__patient__in=options.patients.order_by().values("pk"))
        .values_list("product__patient_id", "sequence", "date", "age_years", "days_from_first_msc", "timing_precision")
    )
    per_patient = {}
    for patient_id, sequence, day, age, offset, precision in rows.iterator(chunk_size=CHUNK_SIZE):
        per_patient.setdefault(patient_id, []).append(
            SimpleNamespace(
                sequence=sequence,
                date=day,
                age_years=age,
                days_from_first_msc=offset,
                offset_unit="",  # the anchor's unit plays no part in what is derived from it
                timing_precision=precision,
                timing_estimated=False,
            )
        )
    return {pk: first_msc(items) for pk, items in per_patient.items()}


def multi_values(sheet, options):
    """The many-to-many columns, as '; '-joined labels per record, one query each."""
    if sheet.model is Patient:
        through = Patient.funding_sources.through.objects.filter(patient__in=options.patients.order_by().values("pk"))
        pairs = through.values_list("patient_id", "fundingsource__label").order_by("fundingsource__label")
        return {"funding_sources": _join(pairs)}
    if sheet.model is AdverseEvent:
        through = AdverseEvent.preceding_withdrawals.through.objects.filter(
            adverseevent__in=sheet_queryset(sheet, options).order_by().values("pk")
        )
        pairs = through.values_list("adverseevent_id", "medicationcourse__drug").order_by(
            "medicationcourse__drug", "medicationcourse_id"
        )
        drugs = dict(MedicationCourse._meta.get_field("drug").flatchoices)
        return {"preceding_withdrawals": _join((pk, drugs.get(drug, drug)) for pk, drug in pairs)}
    return {}


def _join(pairs):
    joined = {}
    for pk, label in pairs:
        joined.setdefault(pk, []).append(str(label))
    return {pk: "; ".join(labels) for pk, labels in joined.items()}


DERIVED = {"age": age_at, "days": days_from_first_msc, "months": months_from_first_msc}


def iter_rows(sheet, options, anchors, csv_ready=False):
    """The header row, then one list of cell values per record: one query, read in chunks.

    Each row is the query's tuple extended with the values computed in Python (many-to-many labels,
    dose, derived times: each moment read once per row), then every cell goes through its column's
    converter, chosen once per sheet. csv_ready: records as tuples of cells as the CSV export
    writes them (csv_cell() applied)."""
    columns = included_columns(sheet, options)
    yield [c.header for c in columns]
    queryset = sheet_queryset(sheet, options)
    if sheet.model is DataQuery:
        queryset = queryset.annotate(message_count=Count("messages"))
    multi = multi_values(sheet, options)
    timing_names = sorted({p for paths in sheet.timings.values() for p in paths})
    extra = ["cells_millions", "weight_kg"] if sheet.model is MscAdministration else []
    patient_id = f"{sheet.patient_path}__id" if sheet.patient_path else ("id" if sheet.patient_path == "" else None)
    wanted = ["id", *([patient_id] if patient_id else []), *timing_names, *extra]
    paths = [c.path for c in columns if c.path and c.kind != "multi"]
    lookups = list(dict.fromkeys([*paths, *wanted]))
    index = {path: i for i, path in enumerate(lookups)}
    id_index = index["id"]
    anchor_index = index[patient_id] if patient_id else None

    # What is computed per row, appended to the query's tuple at positions len(lookups) + n.
    multis = [(multi[c.path], c.path) for c in columns if c.kind == "multi"]
    moments = {prefix: [index[p] for p in paths] for prefix, paths in sheet.timings.items()}
    derived = [tuple(c.derived_from.split(":")) for c in columns if c.derived_from and c.derived_from != "dose"]
    dose = any(c.derived_from == "dose" for c in columns)
    computed = [path for _, path in multis] + [f"{what}:{prefix}" for what, prefix in derived]
    computed += ["dose"] if dose else []
    position = {name: len(lookups) + n for n, name in enumerate(computed)}
    wheres = []
    for column in columns:
        if column.kind == "multi":
            wheres.append(position[column.path])
        elif column.derived_from:
            wheres.append(position[column.derived_from])
        else:
            wheres.append(index[column.path])
    cells = itemgetter(*wheres) if len(wheres) > 1 else lambda values: (values[wheres[0]],)
    converters = [column.csv_converter() if csv_ready else column.to_cell for column in columns]
    cells_index = index.get("cells_millions"), index.get("weight_kg")

    for values in queryset.order_by(*sheet.order_by).values_list(*lookups).iterator(chunk_size=CHUNK_SIZE):
        more = [labels.get(values[id_index], "") for labels, _ in multis]
        if derived:
            anchor = anchors.get(values[anchor_index]) if anchor_index is not None else None
            read = {
                prefix: Moment(date=values[d], age_years=values[a], days_from_first_msc=values[o])
                for prefix, (d, a, o) in moments.items()
            }
            more += [DERIVED[what](read[prefix], anchor) for what, prefix in derived]
        if dose:
            more.append(dose_per_kg(values[cells_index[0]], values[cells_index[1]]))
        if more:
            values = (*values, *more)
        row = [convert(value) for convert, value in zip(converters, cells(values), strict=True)]
        yield tuple(row) if csv_ready else row


def dictionary_rows(options):
    yield ["Sheet", "Column", "Field", "Type", "Unit", "Allowed values or range", "Meaning", "Exported in"]
    for sheet in SHEETS:
        for c in included_columns(sheet, options):
            kind = {"multi": "list of labels"}.get(c.kind, c.kind)
            if c.derived_from:
                kind = f"{kind} (derived, export only)"
            elif not c.attribute and sheet.importable and c.header not in sheet.key:
                kind = f"{kind} (export only)"
            where = (
                "identifiable variant only"
                if c.identifying
                else "only when free text is asked for"
                if c.free_text
                else "every variant"
            )
            field_name = c.path or (c.derived_from or "")
            yield [sheet.name, c.header, field_name, kind, c.unit, c.allowed, c.meaning, where]


AUDIT_HEADERS = ["When", "Who", "Sheet", "Centre", "Study ID", "Record", "Action", "Reason"]
AUDIT_ACTIONS = {"+": "Created", "~": "Changed", "-": "Deleted"}


def audit_query(sheet, options, *extra):
    """The history rows of one sheet's exported records, oldest first, as a values_list() of
    when, who, record id, action, reason (and centre code, study ID for case records), *extra."""
    ids = sheet_queryset(sheet, options).order_by().values("pk")
    lookups = ["history_date", "history_user__username", "id", "history_type", "history_change_reason"]
    if sheet.patient_path is not None:
        p = f"{sheet.patient_path}__" if sheet.patient_path else ""
        lookups += [f"{p}centre__code", f"{p}study_id"]
    history = sheet.model.history.model
    return history.objects.filter(id__in=ids).order_by("history_date", "history_id").values_list(*lookups, *extra)


def audit_rows(options):
    """The history of the exported records: one query per history model."""
    yield AUDIT_HEADERS
    for sheet in SHEETS:
        yield from sheet_audit_rows(sheet, options)


def sheet_audit_rows(sheet, options):
    for when, who, pk, action, reason, *case in audit_query(sheet, options).iterator(chunk_size=CHUNK_SIZE):
        centre_code, study_id = case if case else ("", "")
        yield [
            timezone.localtime(when).strftime("%Y-%m-%d %H:%M:%S"),
            who or "",
            sheet.name,
            centre_code or "",
            study_id or "",
            f"{sheet.model._meta.verbose_name} {pk}",
            AUDIT_ACTIONS.get(action, action),
            reason or "",
        ]


#: A field that csv_safe would escape or csv.writer would quote (a regular expression that Python
#: and PostgreSQL read alike: the control characters are the characters themselves).
NEEDS_PYTHON = "^[-=+@\t\r']|[,\"\r\n]"


def audit_csv_lines(options):
    """`audit_rows` for the CSV export on PostgreSQL: the database formats each row and writes it
    as a CSV line (a str, where other rows are lists), one query per history model. A row with a
    field that csv_safe would escape or the CSV writer would quote (rare: a formula-like username,
    a comma in a reason) comes back as its fields, which Python writes as it writes `audit_rows`.
    tests/test_csv_export_speed.py holds the two equal, byte for byte."""
    yield AUDIT_HEADERS
    zone = timezone.get_current_timezone_name()
    for sheet in SHEETS:
        record = str(sheet.model._meta.verbose_name)
        if re.search(NEEDS_PYTHON, sheet.name) or re.search(NEEDS_PYTHON, record):
            yield from sheet_audit_rows(sheet, options)
            continue
        case = sheet.patient_path is not None
        sql, params = audit_query(sheet, options, "history_id").order_by().query.sql_with_params()
        names = "at, who, pk, action, reason, " + ("centre, study, " if case else "") + "history_id"
        plain = " AND ".join(f"{name} !~ %s" for name in ("who", "centre", "study", "action", "reason"))
        statement = f"""
            SELECT CASE WHEN plain THEN concat_ws(',', at, who, %s, centre, study, record, action, reason)
                   || E'\\r\\n' END,
                   CASE WHEN NOT plain THEN ARRAY[at, who, centre, study, record, action, reason] END
            FROM (
                SELECT *, {plain} AS plain FROM (
                    SELECT to_char(at AT TIME ZONE %s, 'YYYY-MM-DD HH24:MI:SS') AS at,
                           coalesce(who, '') AS who,
                           {"coalesce(centre, '')" if case else "''"} AS centre,
                           {"coalesce(study, '')" if case else "''"} AS study,
                           %s || ' ' || pk::text AS record,
                           CASE action WHEN '+' THEN 'Created' WHEN '~' THEN 'Changed' WHEN '-' THEN 'Deleted'
                                ELSE action END AS action,
                           coalesce(reason, '') AS reason,
                           t.at AS sort_at, history_id
                    FROM ({sql}) AS t({names})
                ) AS formatted
            ) AS checked
            ORDER BY sort_at, history_id"""
        with connection.chunked_cursor() as cursor:
            cursor.execute(statement, [sheet.name, *[NEEDS_PYTHON] * 5, zone, record, *params])
            while chunk := cursor.fetchmany(CHUNK_SIZE):
                for line, fields in chunk:
                    yield line if fields is None else [*fields[:2], sheet.name, *fields[2:]]


def about_rows(options, counts, started):
    yield ["Item", "Value"]
    yield ["Registry", "MSC registry"]
    yield ["Registry version", registry_version()]
    yield ["Exported by", options.user.get_username()]
    yield ["Exported at", timezone.localtime(started).strftime("%Y-%m-%d %H:%M:%S %Z")]
    yield ["Channel", options.channel]
    yield ["Variant", ExportVariant(options.variant).label]
    yield ["Free text included", "Yes" if options.include_free_text else "No"]
    yield ["Filters", json.dumps(options.filters, sort_keys=True) if options.filters else "none (every visible case)"]
    for name, count in counts.items():
        yield [f"Rows: {name}", count]


def summary_rows(options):
    """The paper's Summary Table for the exported cases (cases.reports), derived, never imported."""
    from ..reports import HEADERS, summary_table_rows

    yield list(HEADERS)
    yield from summary_table_rows(Patient.objects.visible_to(options.user).filter(pk__in=options.patients.values("pk")))


def iter_sheets(options, csv_lines=False):
    """(sheet name, row iterator) for every sheet in workbook order; About last, once counts are known.

    csv_lines: the CSV writer's fast path, where a row may also be a tuple of cells already made
    CSV-safe (the records of the data sheets) or a str, a line the database wrote (the Audit log,
    on PostgreSQL)."""
    anchors = first_msc_anchors(options)
    counts = {}

    def counted(name, rows):
        counts[name] = -1  # the header
        for row in rows:
            counts[name] += 1
            yield row

    for sheet in SHEETS:
        yield sheet.name, counted(sheet.name, iter_rows(sheet, options, anchors, csv_ready=csv_lines))
    yield "Data dictionary", dictionary_rows(options)
    # The database formats times in the current time zone by its IANA name: a ZoneInfo's key.
    fast = csv_lines and connection.vendor == "postgresql" and isinstance(timezone.get_current_timezone(), ZoneInfo)
    yield "Audit log", counted("Audit log", audit_csv_lines(options) if fast else audit_rows(options))
    yield "Summary table", counted("Summary table", summary_rows(options))
    yield "About", about_rows(options, counts, timezone.now())
    options.row_counts = counts


# ---- Writers -------------------------------------------------------------------------------------


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


def write_xlsx(target, options):
    import xlsxwriter

    workbook = xlsxwriter.Workbook(
        target, {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    bold = workbook.add_format({"bold": True})
    for name, rows in iter_sheets(options):
        worksheet = workbook.add_worksheet(name[:31])
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if r == 0:
                    worksheet.write_string(r, c, str(value), bold)
                elif isinstance(value, int | Decimal) and not isinstance(value, bool):
                    worksheet.write_number(r, c, float(value) if isinstance(value, Decimal) else value)
                elif value != "":
                    # Always a string cell: "=..." never becomes a formula.
                    worksheet.write_string(r, c, str(value))
            if r == 0:
                worksheet.freeze_panes(1, 0)
    workbook.close()


def write_csv_zip(target, options, fast=True):
    """One CSV per sheet, zipped. fast=False: every sheet written from Python rows (the reference
    the fast path is tested against)."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, rows in iter_sheets(options, csv_lines=fast):
            with archive.open(f"{name}.csv", "w") as raw:
                text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
                writer = csv.writer(text)
                for row in rows:
                    if row.__class__ is tuple:
                        writer.writerow(row)
                    elif row.__class__ is str:
                        text.write(row)
                    else:
                        writer.writerow([csv_cell(v) for v in row])
                text.flush()
                text.detach()


def write_json(target, options):
    """{"Sheet": [{"Header": value, ...}, ...], ...}, written record by record."""

    def emit(text):
        target.write(text.encode("utf-8"))

    emit("{")
    for i, (name, rows) in enumerate(iter_sheets(options)):
        emit(("," if i else "") + json.dumps(name) + ": [")
        headers = None
        for j, row in enumerate(rows):
            if headers is None:
                headers = row
                continue
            record = {h: (plain_number(v) if isinstance(v, Decimal) else v) for h, v in zip(headers, row, strict=True)}
            emit(("," if j > 1 else "") + json.dumps(record))
        emit("]")
    emit("}")


WRITERS = {ExportFormat.XLSX: write_xlsx, ExportFormat.CSV: write_csv_zip, ExportFormat.JSON: write_json}
CONTENT_TYPES = {
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ExportFormat.CSV: "application/zip",
    ExportFormat.JSON: "application/json",
}
EXTENSIONS = {ExportFormat.XLSX: "xlsx", ExportFormat.CSV: "zip", ExportFormat.JSON: "json"}


class ExportRefused(PermissionError):
    """An export the user may not take (message for the user)."""


def export_registry(target, fmt, options):
    """Write the export to `target` (a path or a binary file) and log it. Returns the ExportLog."""
    user = options.user
    if not user.has_perm("cases.export_registry"):
        raise ExportRefused("You may not export registry data.")
    if (options.identifiable or options.include_free_text) and not can_export_identifiable(user):
        raise ExportRefused("Only registry admins may export identifiable data (dates or free text).")
    fmt = ExportFormat(fmt)
    if isinstance(target, str | Path) and fmt != ExportFormat.XLSX:
        with open(target, "wb") as f:
            WRITERS[fmt](f, options)
    else:
        WRITERS[fmt](target if not isinstance(target, Path) else str(target), options)
    variant = options.variant
    filters = dict(options.filters)
    if options.include_free_text:
        filters["include_free_text"] = True
    return ExportLog.objects.create(
        user=user,
        channel=options.channel,
        format=fmt,
        variant=variant,
        filters=filters,
        row_counts=options.row_counts,
    )
