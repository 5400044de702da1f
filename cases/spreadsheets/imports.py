"""All-or-nothing spreadsheet imports: dry-run an upload, and save every row of every sheet in one
transaction, or none.

Sheets are imported in dependency order (patients first), so one file can create a case and its
records. The dry run and the real import are the same code: the dry run's transaction is always
rolled back.
"""

from dataclasses import dataclass, field

import tablib
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction

from .resources import IMPORT_ORDER, RESOURCES
from .sheets import SHEETS_BY_NAME
from .uploads import ImportRefused, read_upload


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
