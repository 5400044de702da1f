"""Safe, all-or-nothing spreadsheet imports: read an upload from memory, refuse hostile files with a
clear message, dry-run it, and save every row of every sheet in one transaction, or none.

A file is an XLSX workbook (sheets named as in the audit workbook: Patients, Medications, ...), a
CSV of one sheet, or a ZIP of CSVs as the CSV export writes them. Sheets are imported in dependency
order (patients first), so one file can create a case and its records. The dry run and the real
import are the same code: the dry run's transaction is always rolled back.
"""

import csv
import io
import zipfile
from dataclasses import dataclass, field
from datetime import datetime

import tablib
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction

from .exports import SHEETS_BY_NAME, csv_unescape
from .resources import IMPORT_ORDER, RESOURCES

MAX_BYTES = getattr(settings, "REGISTRY_IMPORT_MAX_BYTES", 10 * 1024 * 1024)
MAX_ROWS = getattr(settings, "REGISTRY_IMPORT_MAX_ROWS", 100_000)
MAX_COLUMNS = 200
IGNORED_SHEETS = {"Data dictionary", "Audit log", "Summary table", "About", "Data queries"}


class ImportRefused(Exception):
    """A file that cannot be imported at all; the message says why, for the user."""


@dataclass
class SheetResult:
    name: str
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    rows: int = 0


@dataclass
class ImportReport:
    filename: str
    sheets: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    saved: bool = False

    @property
    def ok(self):
        return not self.problems

    def summary(self):
        parts = [f"{s.name}: {s.new} new, {s.changed} changed, {s.unchanged} unchanged" for s in self.sheets]
        return "; ".join(parts) or "nothing to import"


# ---- Reading ------------------------------------------------------------------------------------


def cell_text(value):
    """An XLSX cell as the text the widgets read: numbers without a spurious '.0', ISO dates."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(" ")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def read_xlsx(data, default_sheet):
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:
        raise ImportRefused("This file is not a readable Excel (.xlsx) workbook.") from None
    sheets = {}
    try:
        worksheets = workbook.worksheets
        for worksheet in worksheets:
            name = worksheet.title
            if name in IGNORED_SHEETS:
                continue
            if name not in SHEETS_BY_NAME:
                if len(worksheets) == 1 and default_sheet:
                    name = default_sheet
                else:
                    known = ", ".join(IMPORT_ORDER)
                    raise ImportRefused(f"Sheet '{worksheet.title}' is not a registry sheet ({known}).")
            rows = []
            for r, row in enumerate(worksheet.iter_rows(), start=1):
                if r > MAX_ROWS + 1:
                    raise ImportRefused(f"{name}: more than {MAX_ROWS} rows; split the file.")
                values = []
                for c, cell in enumerate(row):
                    if c >= MAX_COLUMNS:
                        break
                    if getattr(cell, "data_type", None) == "f":
                        column = rows[0][c] if rows and c < len(rows[0]) else f"column {c + 1}"
                        raise ImportRefused(
                            f"{name}, row {r}, {column}: formula cells are refused; paste the values instead."
                        )
                    values.append(cell_text(cell.value))
                rows.append(values)
            sheets[name] = rows
    finally:
        workbook.close()
    return sheets


def read_csv(data, name):
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRefused(f"{name}: the CSV file is not UTF-8 text; save it as 'CSV UTF-8'.") from None
    if "\0" in text:
        raise ImportRefused(f"{name}: the file holds binary data (NUL characters): it is not a CSV file.")
    try:
        rows = []
        for r, row in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
            if r > MAX_ROWS + 1:
                raise ImportRefused(f"{name}: more than {MAX_ROWS} rows; split the file.")
            rows.append([csv_unescape(value) for value in row[:MAX_COLUMNS]])
    except csv.Error as error:
        raise ImportRefused(f"{name}: not a readable CSV file ({error}).") from None
    return rows


def read_upload(filename, data, sheet=None):
    """{sheet name: [header row, data rows...]} from an upload's bytes, or ImportRefused."""
    if not data:
        raise ImportRefused("The file is empty.")
    if len(data) > MAX_BYTES:
        raise ImportRefused(f"The file is larger than the limit of {MAX_BYTES // (1024 * 1024)} MB.")
    lower = filename.lower()
    if data[:4] == b"PK\x03\x04" and not lower.endswith(".xlsx"):
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile:
            raise ImportRefused("This file is not a readable ZIP of CSV files.") from None
        sheets = {}
        total = 0
        for info in archive.infolist():
            name = info.filename.rsplit("/", 1)[-1].removesuffix(".csv")
            if info.is_dir() or name in IGNORED_SHEETS:
                continue
            if name not in SHEETS_BY_NAME:
                raise ImportRefused(f"'{info.filename}' is not a registry sheet ({', '.join(IMPORT_ORDER)}).")
            total += info.file_size
            if total > MAX_BYTES:
                raise ImportRefused(f"The unpacked files are larger than the limit of {MAX_BYTES // (1024 * 1024)} MB.")
            sheets[name] = read_csv(archive.read(info), name)
        return sheets
    if lower.endswith(".xlsx") or data[:4] == b"PK\x03\x04":
        return read_xlsx(data, sheet)
    if lower.endswith(".csv") or sheet:
        name = sheet or filename.rsplit("/", 1)[-1][:-4]
        if name not in SHEETS_BY_NAME:
            raise ImportRefused(f"Say which sheet this CSV file holds ({', '.join(IMPORT_ORDER)}).")
        return {name: read_csv(data, name)}
    raise ImportRefused("This file is not a spreadsheet: upload an .xlsx workbook, a .csv file or a .zip of CSVs.")


def check_headers(name, rows):
    """Refuse unknown, duplicate or missing key columns before any row is read."""
    sheet = SHEETS_BY_NAME[name]
    if not sheet.importable:
        raise ImportRefused(f"{name} cannot be imported.")
    if not rows or not any(v.strip() for v in rows[0]):
        raise ImportRefused(f"{name}: the sheet is empty (no header row).")
    headers = [h.strip() for h in rows[0]]
    while headers and not headers[-1]:
        headers.pop()
    known = {c.header for c in sheet.columns}
    unknown = [h for h in headers if h not in known]
    if unknown:
        raise ImportRefused(f"{name}: unknown column{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}.")
    duplicates = sorted({h for h in headers if headers.count(h) > 1})
    if duplicates:
        raise ImportRefused(f"{name}: column {', '.join(map(repr, duplicates))} appears twice.")
    missing = [h for h in sheet.key if h not in headers]
    for needed in ("Product",) if sheet.name == "MSC administrations" else ():
        if needed not in headers:
            missing.append(needed)
    if missing:
        raise ImportRefused(f"{name}: missing column{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))}.")
    return headers


def dataset_for(name, rows):
    headers = check_headers(name, rows)
    dataset = tablib.Dataset(headers=headers)
    for row in rows[1:]:
        row = (list(row) + [""] * len(headers))[: len(headers)]
        if any(str(v).strip() for v in row):
            dataset.append(row)
    return dataset


# ---- Importing ----------------------------------------------------------------------------------


def describe_errors(name, resource, number, error):
    """'Sheet, row N, Column: reason' for each message of a row's ValidationError."""
    by_attribute = {}
    for f in resource.fields.values():
        if f.attribute and not f.readonly:
            by_attribute.setdefault(f.attribute, f.column_name)
    row_label = f"{name}, row {number + 1}"  # the header is row 1
    problems = []
    error_dict = error.error_dict if hasattr(error, "error_dict") else {NON_FIELD_ERRORS: error.error_list}
    for attribute, errors in error_dict.items():
        column = by_attribute.get(attribute, "" if attribute == NON_FIELD_ERRORS else attribute)
        for e in errors:
            for message in ValidationError(e).messages:
                problems.append(f"{row_label}, {column}: {message}" if column else f"{row_label}: {message}")
    return problems


def run_import(sheets, user, filename, dry_run=True):
    """Import every sheet in one transaction; roll it all back on a dry run or on any problem."""
    report = ImportReport(filename=filename)
    if not user.has_perm("cases.import_registry"):
        raise ImportRefused("You may not import spreadsheets.")
    datasets = []
    for name in IMPORT_ORDER:
        if name in sheets:
            datasets.append((name, dataset_for(name, sheets[name])))
    if not datasets or not any(len(d) for _, d in datasets):
        raise ImportRefused("The file holds no rows to import.")
    with transaction.atomic():
        for name, dataset in datasets:
            resource = RESOURCES[name](user=user, filename=filename)
            result = resource.import_data(
                dataset, dry_run=False, use_transactions=True, rollback_on_validation_errors=True, raise_errors=False
            )
            counts = SheetResult(name, rows=len(dataset))
            for row_result in result.rows:
                kind = row_result.import_type
                if kind == "new":
                    counts.new += 1
                elif kind == "update":
                    counts.changed += 1
                elif kind == "skip":
                    counts.unchanged += 1
            report.sheets.append(counts)
            for error in result.base_errors:
                report.problems.append(f"{name}: {error.error}")
            for invalid in result.invalid_rows:
                report.problems.extend(describe_errors(name, resource, invalid.number, invalid.error))
            for number, errors in result.row_errors():
                for error in errors:
                    report.problems.append(f"{name}, row {number + 1}: {error.error}")
        if dry_run or report.problems:
            transaction.set_rollback(True)
        else:
            report.saved = True
    return report


def import_file(filename, data, user, dry_run=True, sheet=None):
    """Read and import an upload: an ImportReport, or ImportRefused for a file refused outright."""
    return run_import(read_upload(filename, data, sheet), user, filename, dry_run=dry_run)


def read_uploaded_file(upload):
    """The bytes of an uploaded file, which is then closed: a temporary file on disk is deleted."""
    try:
        if upload.size is not None and upload.size > MAX_BYTES:
            raise ImportRefused(f"The file is larger than the limit of {MAX_BYTES // (1024 * 1024)} MB.")
        return upload.read(MAX_BYTES + 1)
    finally:
        upload.close()  # TemporaryUploadedFile deletes its file on close
