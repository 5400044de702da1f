"""The file writers (XLSX, zipped CSV, JSON): each streams the workbook's sheets into the file as
their rows are read, never holding a whole sheet in memory."""

import csv
import io
import json
import zipfile
from decimal import Decimal

from ..models import ExportFormat
from ..models.common import plain_number
from .columns import csv_cell
from .workbook import iter_sheets


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
