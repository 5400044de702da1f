"""The CSV export's fast paths write exactly what the plain Python path writes: the per-column
converters and the CSV cell function cell for cell, the whole zip byte for byte (hostile values
included), with the Audit log written by the database on PostgreSQL."""

import io
import zipfile
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection

from bench.run import CLINICAL_TABLES, HISTORY_TABLES, LOOKUP_TABLES
from cases.models import DataQuery, MedicationCourse, Patient
from cases.spreadsheets import ExportOptions
from cases.spreadsheets.columns import csv_cell, csv_safe, text_of
from cases.spreadsheets.sheets import SHEETS
from cases.spreadsheets.workbook import iter_sheets
from cases.spreadsheets.writers import write_csv_zip
from synthetic.generator import generate
from tests.factories import CentreFactory, UserFactory
from tests.test_spreadsheet_round_trip import synthetic_cases

HOSTILE = [
    "=1+1",
    "+33 1 23",
    "-x",
    "-5",
    "-5.5\n",
    "@SUM(A1)",
    "'quoted",
    "\tindented",
    "\rreturn",
    'say "hi"',
    "a, b",
    "two\nlines",
    "crlf\r\nline",
    "Ünïcödé — ✓ 中文",
    " leading space",
    "",
]
SAMPLES = [
    None,
    "",
    "text",
    *HOSTILE,
    0,
    -3,
    12,
    True,
    False,
    Decimal("16.0"),
    Decimal("-0.50"),
    Decimal("1E+2"),
    Decimal("-1E+2"),
    Decimal("NaN"),
    Decimal("-Infinity"),
    date(2021, 3, 4),
    datetime(2021, 3, 4, 5, 6, 7, 891011, tzinfo=UTC),
    datetime(2021, 3, 4, 5, 6, 7),
    1.5,
]


def test_csv_cell_is_csv_safe_of_text_of():
    for value in SAMPLES:
        assert str(csv_cell(value)) == csv_safe(text_of(value)), repr(value)


def test_column_converters_are_to_cell_and_csv_cell():
    for sheet in SHEETS:
        for column in sheet.columns:
            convert = column.to_cell
            for value in [*SAMPLES, *column.choices, "not a code"]:
                assert repr(convert(value)) == repr(column.to_cell(value)), (column.header, value)
                assert str(column.csv_converter()(value)) == str(csv_cell(convert(value))), (column.header, value)


def test_copy_floor_reads_every_table_the_csv_export_reads():
    tables = set(CLINICAL_TABLES) | set(HISTORY_TABLES)
    for sheet in SHEETS:
        assert sheet.model._meta.db_table in tables
        assert sheet.model.history.model._meta.db_table in HISTORY_TABLES
        for m2m in sheet.model._meta.many_to_many:
            assert m2m.remote_field.through._meta.db_table in tables
            assert m2m.related_model._meta.db_table in tables | set(LOOKUP_TABLES)
    assert {"registry_centre", "auth_user"} <= set(LOOKUP_TABLES)


def csv_members(user, fast, **options):
    target = io.BytesIO()
    write_csv_zip(target, ExportOptions(user=user, **options), fast=fast)
    archive = zipfile.ZipFile(io.BytesIO(target.getvalue()))
    members = {name: archive.read(name) for name in archive.namelist()}
    # When the export was taken (to the second) is the one cell that may differ.
    members["About.csv"] = b"\n".join(line for line in members["About.csv"].split(b"\n") if b"Exported at" not in line)
    return members


@pytest.fixture
def hostile_registry(db, centre_a, registry_admin):
    """The published series, synthetic cases, and records whose text, usernames, centre codes,
    study IDs and change reasons start like formulas or hold quotes, commas and line breaks."""
    call_command("load_published_series", verbosity=0)
    synthetic_cases(centre_a)
    generate(25, seed=7, centre_code="SYN-SPEED")
    hostile_centre = CentreFactory(code="=HOSTILE,1")
    for n, text in enumerate(HOSTILE):
        author = UserFactory(username=f"{'+-@='[n % 4]}user{n}")
        patient = Patient(
            centre=hostile_centre if n % 2 else centre_a,
            study_id=text or f"-{n}",
            diagnosis="sle",
            family_history=text,
        )
        patient._history_user = author
        patient._change_reason = text
        patient.save()
        course = MedicationCourse(patient=patient, drug="other", drug_detail=text, frequency=text, note=text)
        course._history_user, course._change_reason = author, text
        course.save()
        DataQuery.objects.create(patient=patient, question=text or "?", record_label=text, raised_by=author)


@pytest.mark.parametrize("identifiable", [False, True])
def test_fast_csv_export_is_byte_for_byte_the_python_export(hostile_registry, registry_admin, identifiable):
    options = {"identifiable": identifiable, "include_free_text": identifiable}
    fast = csv_members(registry_admin, fast=True, **options)
    slow = csv_members(registry_admin, fast=False, **options)
    assert list(fast) == list(slow)
    for name in slow:
        assert fast[name] == slow[name], name
    audit = slow["Audit log.csv"].decode()
    for value in ("'=1+1", "'+user", "'=HOSTILE,1", "crlf\r\nline", '"say ""hi"""', "Ünïcödé"):
        assert value in audit, value  # the hostile values did reach the Audit log
    rows = {name: list(rows) for name, rows in iter_sheets(ExportOptions(user=registry_admin), csv_lines=True)}
    assert all(isinstance(row, tuple) for row in rows["Medications"][1:])  # the fused converters ran
    if connection.vendor == "postgresql":  # and the database wrote most of the Audit log
        written_by_database = [row for row in rows["Audit log"] if isinstance(row, str)]
        assert 100 < len(written_by_database) < len(rows["Audit log"]) - len(HOSTILE)
