"""Reading an upload safely, from memory: {sheet name: rows} from an XLSX workbook (sheets named as
in the audit workbook: Patients, Medications, ...), a CSV of one sheet, or a ZIP of CSVs as the CSV
export writes them, or a clear message refusing the file.

The upload limit bounds the file, not what it unpacks to: an XLSX workbook and a ZIP of CSVs are
ZIP archives, which can inflate a thousandfold. So every archive is inflated once, in chunks and
with byte limits, before any parser sees it (`inspect_archive`): the number of files, each part's
and the total unpacked size, the compression ratio and, in a workbook's XML, the length of every
cell, whatever the archive's headers declare. A file past a limit is refused with a message.
"""

import csv
import io
import zipfile
import zlib
from datetime import datetime

from django.conf import settings

from .columns import csv_unescape
from .resources import IMPORT_ORDER
from .sheets import SHEETS_BY_NAME

MAX_BYTES = getattr(settings, "REGISTRY_IMPORT_MAX_BYTES", 10 * 1024 * 1024)
MAX_ROWS = getattr(settings, "REGISTRY_IMPORT_MAX_ROWS", 100_000)
MAX_COLUMNS = 200
IGNORED_SHEETS = {"Data dictionary", "Audit log", "Summary table", "Safety rates", "About", "Data queries"}
#: What an XLSX workbook may unpack to, in all and per part: parsing takes about twice the unpacked
#: size in memory, so an import of any file stays within a few hundred megabytes.
MAX_INFLATED_BYTES = getattr(settings, "REGISTRY_IMPORT_MAX_INFLATED_BYTES", 64 * 1024 * 1024)
MAX_PART_BYTES = getattr(settings, "REGISTRY_IMPORT_MAX_PART_BYTES", 32 * 1024 * 1024)
#: Files in an archive: a workbook of every registry sheet has a few dozen.
MAX_ENTRIES = 500
#: Unpacked to packed size of a part past its first megabyte: registry sheets pack about 5 to 20 to 1,
#: a decompression bomb about 1000 to 1.
MAX_RATIO = 200
RATIO_FROM_BYTES = 1024 * 1024
#: The most characters a spreadsheet cell holds (Excel's limit).
MAX_CELL_CHARACTERS = 32_767
INFLATE_CHUNK = 1024 * 1024


class ImportRefused(Exception):
    """A file that cannot be imported at all; the message says why, for the user."""


# ---- Unpacking archives ---------------------------------------------------------------------------


def megabytes(size):
    return f"{size / (1024 * 1024):g} MB"


#: In XML, a declaration of entities, which could expand without limit: a workbook never has one.
DOCTYPES = tuple("<!DOCTYPE".encode(codec) for codec in ("utf-8", "utf-16-le", "utf-16-be"))
#: Bytes of XML between two angle brackets that may hold one cell's text: each character may take up
#: to twelve bytes as a character reference (&#x0010FFFF;).
MAX_XML_RUN = MAX_CELL_CHARACTERS * 12


class XmlScanner:
    """Checks a part's XML as it is inflated, in constant memory: no document type declaration and no
    text (or tag) longer than a cell may be, whatever the chunk boundaries."""

    def __init__(self, part):
        self.part, self.run, self.tail = part, 0, b""

    def feed(self, chunk):
        window = self.tail + chunk
        if any(doctype in window for doctype in DOCTYPES):
            raise ImportRefused(
                f"The workbook's part {self.part} declares XML entities, which a spreadsheet never does: "
                "the file is damaged or hostile."
            )
        self.tail = chunk[-24:]
        pieces = chunk.replace(b">", b"<").split(b"<")  # the text and tags between angle brackets
        longest = self.run = self.run + len(pieces[0])  # continues the previous chunk's last piece
        if len(pieces) > 1:
            longest = max(longest, *map(len, pieces[1:]))
            self.run = len(pieces[-1])
        if longest > MAX_XML_RUN:
            raise ImportRefused(
                f"The workbook holds a cell longer than {MAX_CELL_CHARACTERS:,} characters, the most a "
                f"spreadsheet cell can hold (in its part {self.part})."
            )


def inspect_archive(data, unreadable, limit, part_limit, keep=None):
    """Inflate every part of a ZIP archive in chunks, within the limits, before any parser sees it.

    Sizes and ratios are measured as each part is inflated, never taken from the archive's headers,
    so an archive cannot pass by declaring small sizes; inflating stops at the first limit passed.
    `keep(info)` says which parts' bytes are returned, {file name: bytes}; the others are inflated,
    checked and dropped. `unreadable` is the message for a damaged archive."""
    # Every file of an archive has a central directory entry, which starts with this signature:
    # counting them bounds the entries before zipfile reads them all into objects.
    entries = data.count(b"PK\x01\x02")
    if entries > MAX_ENTRIES:
        raise ImportRefused(
            f"The file holds {entries:,} packed files, more than the {MAX_ENTRIES} a registry workbook or "
            "export has: it is not a registry spreadsheet."
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = [info for info in archive.infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError):
        raise ImportRefused(unreadable) from None
    too_large = (
        f"The file unpacks to more than {megabytes(limit)} (at most {megabytes(part_limit)} per sheet): "
        "split it into smaller files."
    )
    kept, total = {}, 0
    for info in infos:
        wanted = keep is not None and keep(info)
        part = bytearray() if wanted else None
        scanner = XmlScanner(info.filename) if info.filename.endswith((".xml", ".rels")) else None
        size = 0
        try:
            with archive.open(info) as stream:
                while chunk := stream.read(INFLATE_CHUNK):
                    size += len(chunk)
                    total += len(chunk)
                    if size > part_limit or total > limit:
                        raise ImportRefused(too_large)
                    if size > RATIO_FROM_BYTES and size > MAX_RATIO * max(info.compress_size, 1):
                        raise ImportRefused(
                            f"The part {info.filename} is packed more than {MAX_RATIO} to 1, as no spreadsheet "
                            "is: the file is damaged or hostile."
                        )
                    if scanner is not None:
                        scanner.feed(chunk)
                    if part is not None:
                        part += chunk
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, NotImplementedError, ValueError):
            raise ImportRefused(unreadable) from None  # damaged, encrypted or an unknown compression
        if part is not None:
            kept[info.filename] = bytes(part)
    return kept


def limits():
    """The limits of an upload, in words for the import page."""
    return (
        f"A file may be up to {megabytes(MAX_BYTES)}; a workbook may unpack to {megabytes(MAX_INFLATED_BYTES)} "
        f"(a ZIP of CSV files to {megabytes(MAX_BYTES)}), and a cell may hold {MAX_CELL_CHARACTERS:,} characters."
    )


def column_label(rows, c):
    """A column's header, for messages; its number when the header row is not read yet."""
    return rows[0][c] if rows and c < len(rows[0]) and rows[0][c] else f"column {c + 1}"


def too_long(name, r, column, length):
    return ImportRefused(
        f"{name}, row {r}, {column}: the cell holds {length:,} characters, more than the {MAX_CELL_CHARACTERS:,} "
        "a spreadsheet cell can hold."
    )


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

    unreadable = "This file is not a readable Excel (.xlsx) workbook."
    if data[:4] != b"PK\x03\x04":
        raise ImportRefused(unreadable)
    inspect_archive(data, unreadable, MAX_INFLATED_BYTES, MAX_PART_BYTES)
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
                        raise ImportRefused(
                            f"{name}, row {r}, {column_label(rows, c)}: formula cells are refused; "
                            "paste the values instead."
                        )
                    text = cell_text(cell.value)
                    if len(text) > MAX_CELL_CHARACTERS:
                        raise too_long(name, r, column_label(rows, c), len(text))
                    values.append(text)
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
    rows = []
    try:
        for r, row in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
            if r > MAX_ROWS + 1:
                raise ImportRefused(f"{name}: more than {MAX_ROWS} rows; split the file.")
            row = row[:MAX_COLUMNS]
            if row and max(map(len, row)) > MAX_CELL_CHARACTERS:
                c = next(c for c, value in enumerate(row) if len(value) > MAX_CELL_CHARACTERS)
                raise too_long(name, r, column_label(rows, c), len(row[c]))
            rows.append([csv_unescape(value) for value in row])
    except csv.Error as error:
        if "field larger than field limit" in str(error):
            raise ImportRefused(
                f"{name}, row {len(rows) + 1}: a cell holds more than {MAX_CELL_CHARACTERS:,} characters, the most "
                "a spreadsheet cell can hold."
            ) from None
        raise ImportRefused(f"{name}: not a readable CSV file ({error}).") from None
    return rows


def sheet_name(filename):
    return filename.rsplit("/", 1)[-1].removesuffix(".csv")


def read_csv_zip(data):
    """{sheet name: rows} from a ZIP of CSV files, which may unpack to no more than a CSV file may be."""

    def registry_sheet(info):
        name = sheet_name(info.filename)
        if name in IGNORED_SHEETS:
            return False
        if name not in SHEETS_BY_NAME:
            raise ImportRefused(f"'{info.filename}' is not a registry sheet ({', '.join(IMPORT_ORDER)}).")
        return True

    parts = inspect_archive(data, "This file is not a readable ZIP of CSV files.", MAX_BYTES, MAX_BYTES, registry_sheet)
    sheets = {}
    for filename in list(parts):
        sheets[sheet_name(filename)] = read_csv(parts.pop(filename), sheet_name(filename))
    return sheets


def read_upload(filename, data, sheet=None):
    """{sheet name: [header row, data rows...]} from an upload's bytes, or ImportRefused."""
    if not data:
        raise ImportRefused("The file is empty.")
    if len(data) > MAX_BYTES:
        raise ImportRefused(f"The file is larger than the limit of {MAX_BYTES // (1024 * 1024)} MB.")
    lower = filename.lower()
    if data[:4] == b"PK\x03\x04" and not lower.endswith(".xlsx"):
        return read_csv_zip(data)
    if lower.endswith(".xlsx") or data[:4] == b"PK\x03\x04":
        return read_xlsx(data, sheet)
    if lower.endswith(".csv") or sheet:
        name = sheet or filename.rsplit("/", 1)[-1][:-4]
        if name not in SHEETS_BY_NAME:
            raise ImportRefused(f"Say which sheet this CSV file holds ({', '.join(IMPORT_ORDER)}).")
        return {name: read_csv(data, name)}
    raise ImportRefused("This file is not a spreadsheet: upload an .xlsx workbook, a .csv file or a .zip of CSVs.")


def read_uploaded_file(upload):
    """The bytes of an uploaded file, which is then closed: a temporary file on disk is deleted."""
    try:
        if upload.size is not None and upload.size > MAX_BYTES:
            raise ImportRefused(f"The file is larger than the limit of {MAX_BYTES // (1024 * 1024)} MB.")
        return upload.read(MAX_BYTES + 1)
    finally:
        upload.close()  # TemporaryUploadedFile deletes its file on close
