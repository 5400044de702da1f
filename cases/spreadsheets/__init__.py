"""The audit workbook: the registry's data as sheets, written out (export) and read back (import).

columns    a column of a sheet, and the cells it writes (formula-safe)
sheets     every sheet: its records, columns, natural key and row order
rows       a data sheet's rows: one query, and a row plan made once per sheet
audit      the Audit log sheet
workbook   the sheets in workbook order, with the Data dictionary, Summary table, Safety rates and About
writers    XLSX, zipped CSV and JSON, streamed
export     who may export what, and the export log
widgets    import: a cell's text to a value and back, related records by natural key
constraints  import: check constraints evaluated without a query per row
resources  import: a django-import-export resource per sheet
uploads    import: reading an upload safely (archive and cell limits)
imports    import: every sheet in one all-or-nothing transaction, dry run first
"""

from .export import ExportOptions, ExportRefused, can_export_identifiable, export_registry
from .imports import ImportReport, import_file
from .resources import IMPORT_ORDER, resource_class
from .uploads import MAX_BYTES, ImportRefused, limits, read_uploaded_file
from .writers import CONTENT_TYPES, EXTENSIONS

__all__ = [
    "CONTENT_TYPES",
    "EXTENSIONS",
    "IMPORT_ORDER",
    "MAX_BYTES",
    "ExportOptions",
    "ExportRefused",
    "ImportRefused",
    "ImportReport",
    "can_export_identifiable",
    "export_registry",
    "import_file",
    "limits",
    "read_uploaded_file",
    "resource_class",
]
