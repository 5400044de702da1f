"""Decompression bombs: a file under the upload limit that unpacks to hundreds of megabytes or more is
refused, with a message, before any parser sees it, and the import's peak memory stays low.

The bombs are made in a second each: a block of DEFLATE data is compressed once and repeated (after
a full flush a block refers to nothing before it), and the ZIP around it is written by hand.
"""

import io
import os
import random
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from cases.spreadsheets import uploads
from cases.spreadsheets.uploads import ImportRefused, read_upload

MB = 1024 * 1024
PEAK_MEMORY_LIMIT_MB = 300


def deflated(chunk, times):
    """Raw DEFLATE data that inflates to `chunk` repeated `times` times."""
    block = zlib.compressobj(9, zlib.DEFLATED, -15)
    once = block.compress(chunk) + block.flush(zlib.Z_FULL_FLUSH)
    return once * times + zlib.compressobj(9, zlib.DEFLATED, -15).flush()


STAMP = (0, 0x21)  # 00:00, 1 January 1980


def local_header(encoded, crc, packed, size):
    return struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, *STAMP, crc, packed, size, len(encoded), 0) + encoded


def central_entry(encoded, crc, packed, size, offset):
    fields = (20, 20, 0, 8, *STAMP, crc, packed, size, len(encoded), 0, 0, 0, 0, 0, offset)
    return struct.pack("<4s6H3L5H2L", b"PK\x01\x02", *fields) + encoded


def end_record(count, directory, start):
    return struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(directory), start, 0)


def zip_bytes(entries, declared_size=None):
    """A ZIP archive of (name, chunk, times) entries, each deflated. declared_size: the size every
    entry's headers declare instead of the true one (a lying header)."""
    out, central = io.BytesIO(), []
    for name, chunk, times in entries:
        crc = 0
        for _ in range(times):
            crc = zlib.crc32(chunk, crc)
        data, size, encoded = deflated(chunk, times), len(chunk) * times, name.encode()
        size = size if declared_size is None else declared_size
        central.append(central_entry(encoded, crc, len(data), size, out.tell()))
        out.write(local_header(encoded, crc, len(data), size) + data)
    directory, start = b"".join(central), out.tell()
    out.write(directory + end_record(len(central), directory, start))
    return out.getvalue()


MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOCUMENT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
WORKBOOK_PARTS = [
    (
        "[Content_Types].xml",
        b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        b'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        b'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/'
        b'workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        b'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
        b'officedocument.spreadsheetml.worksheet+xml"/></Types>',
        1,
    ),
    (
        "_rels/.rels",
        f'<Relationships xmlns="{RELATIONSHIPS}"><Relationship Id="rId1" Type="{DOCUMENT}/officeDocument" '
        'Target="xl/workbook.xml"/></Relationships>'.encode(),
        1,
    ),
    (
        "xl/workbook.xml",
        f'<workbook xmlns="{MAIN}" xmlns:r="{DOCUMENT}"><sheets><sheet name="Patients" sheetId="1" r:id="rId1"/>'
        "</sheets></workbook>".encode(),
        1,
    ),
    (
        "xl/_rels/workbook.xml.rels",
        f'<Relationships xmlns="{RELATIONSHIPS}"><Relationship Id="rId1" Type="{DOCUMENT}/worksheet" '
        'Target="worksheets/sheet1.xml"/></Relationships>'.encode(),
        1,
    ),
]


def cell(text):
    return f'<c t="inlineStr"><is><t>{text}</t></is></c>'.encode()


HEADER_ROW = b"<row>" + cell("Centre") + cell("Study ID") + cell("Current diagnosis") + b"</row>"
A_ROW = b"<row>" + cell("SYN-A") + cell("SYN-BOMB") + cell("Vasculitis") + b"</row>"


def workbook(rows, times=1, declared_size=None, before=b""):
    """An .xlsx of one Patients sheet: a header row, then `rows` (bytes of <row> elements) `times` times."""
    start = before + f'<worksheet xmlns="{MAIN}"><sheetData>'.encode() + HEADER_ROW
    sheet = [
        ("xl/worksheets/sheet1.xml", start, 1),
        ("xl/worksheets/sheet1.xml", rows, times),
        ("xl/worksheets/sheet1.xml", b"</sheetData></worksheet>", 1),
    ]
    return joined(WORKBOOK_PARTS, sheet, declared_size)


def joined(parts, sheet, declared_size=None):
    """The workbook's parts with one sheet whose XML is the concatenation of the `sheet` pieces:
    each piece is deflated apart, and the pieces' DEFLATE data are joined into one part."""
    pieces = [deflated(chunk, times)[:-2] for _, chunk, times in sheet]  # without each final empty block
    data = b"".join(pieces) + zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    crc = 0
    for _, chunk, times in sheet:
        for _ in range(times):
            crc = zlib.crc32(chunk, crc)
    size = sum(len(chunk) * times for _, chunk, times in sheet)
    return with_part(zip_bytes(parts), "xl/worksheets/sheet1.xml", data, crc, size, declared_size)


def with_part(archive, name, data, crc, size, declared_size=None):
    """The archive (as zip_bytes writes it) with one more part, given as its DEFLATE data."""
    count = archive.count(b"PK\x01\x02")
    end = archive.rindex(b"PK\x05\x06")
    directory_size, start = struct.unpack("<2L", archive[end + 12 : end + 20])
    directory, body = archive[start : start + directory_size], archive[:start]
    encoded, size = name.encode(), size if declared_size is None else declared_size
    directory += central_entry(encoded, crc, len(data), size, len(body))
    body += local_header(encoded, crc, len(data), size) + data
    return body + directory + end_record(count + 1, directory, len(body))


def huge_cell_workbook(**kwargs):
    """One inline-string cell of 200 MB."""
    return joined(
        WORKBOOK_PARTS,
        [
            ("xl/worksheets/sheet1.xml", f'<worksheet xmlns="{MAIN}"><sheetData>'.encode() + HEADER_ROW, 1),
            ("xl/worksheets/sheet1.xml", b'<row><c t="inlineStr"><is><t>', 1),
            ("xl/worksheets/sheet1.xml", b"A" * MB, 200),
            ("xl/worksheets/sheet1.xml", b"</t></is></c></row></sheetData></worksheet>", 1),
        ],
        **kwargs,
    )


LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;'
    b'&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
)

BOMBS = {
    "xlsx with one 200 MB cell": ("bomb.xlsx", huge_cell_workbook, "longer than 32,767 characters"),
    "xlsx unpacking to 1 GB": ("bomb.xlsx", lambda: workbook(A_ROW * 8_000, times=1_000), "unpacks to more than"),
    "xlsx whose header says 1 KB for 200 MB": (
        "bomb.xlsx",
        lambda: huge_cell_workbook(declared_size=1024),
        "not a readable Excel",
    ),
    "xlsx with 60,000 files": (
        "bomb.xlsx",
        lambda: zip_bytes([*WORKBOOK_PARTS, *[(f"{n:x}", b"", 1) for n in range(60_000)]]),
        "60,004 packed files",
    ),
    "zip of one CSV unpacking to 1 GB": (
        "bomb.zip",
        lambda: zip_bytes([("Patients.csv", b"Centre,Study ID\r\n" + b"SYN-A,SYN-BOMB\r\n" * 60_000, 1_100)]),
        "unpacks to more than 10 MB",
    ),
    "zip of CSVs unpacking to 180 MB in 200 files": (
        "bomb.zip",
        lambda: zip_bytes([(f"dir{n}/Patients.csv", b"SYN-A,SYN-BOMB\r\n" * 56_000, 1) for n in range(200)]),
        "unpacks to more than 10 MB",
    ),
}


#: The child reports its peak resident memory from /proc (VmHWM), which starts afresh at exec; the
#: rusage maximum would also count the parent's memory at the fork.
CHILD = """
import os, sys
import django
django.setup()
from cases.spreadsheets import ImportRefused, import_file

class Importer:
    def has_perm(self, permission):
        return True

path = sys.argv[1]
try:
    import_file(os.path.basename(path), open(path, "rb").read(), Importer(), dry_run=True)
    print("ACCEPTED")
except ImportRefused as refusal:
    print("REFUSED", refusal)
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
print(int(status["VmHWM"].split()[0]) // 1024)
"""


def import_in_a_process(path):
    """(outcome line, peak resident memory in MB) of an import of the file in a fresh process."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "registry.settings_test"}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    *outcome, peak = done.stdout.strip().splitlines()
    return "\n".join(outcome), int(peak)


@pytest.mark.parametrize("bomb", list(BOMBS))
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="peak memory is read from Linux's /proc")
def test_a_decompression_bomb_is_refused_within_the_memory_limit(bomb, tmp_path):
    name, make, message = BOMBS[bomb]
    path = tmp_path / name
    path.write_bytes(make())
    assert path.stat().st_size < uploads.MAX_BYTES
    outcome, peak = import_in_a_process(path)
    assert outcome.startswith("REFUSED") and message in outcome, outcome
    assert peak < PEAK_MEMORY_LIMIT_MB, f"{bomb}: peak {peak} MB"


def test_the_bombs_unpack_as_described():
    """The generator's archives are true ZIP files: Python's zipfile inflates them to the sizes claimed."""
    import zipfile

    archive = zipfile.ZipFile(io.BytesIO(workbook(A_ROW * 10, times=3)))
    sheet = archive.read("xl/worksheets/sheet1.xml")
    assert sheet.count(b"SYN-BOMB") == 30 and sheet.endswith(b"</worksheet>")
    archive = zipfile.ZipFile(io.BytesIO(huge_cell_workbook()))
    assert archive.getinfo("xl/worksheets/sheet1.xml").file_size > 200 * MB
    assert archive.testzip() is None


def test_a_cell_longer_than_a_spreadsheet_cell_is_refused_by_row_and_column():
    book = workbook(b"<row>" + cell("SYN-A") + cell("X" * 40_000) + b"</row>")
    with pytest.raises(ImportRefused, match="Patients, row 2, Study ID: the cell holds 40,000 characters"):
        read_upload("book.xlsx", book)
    csv = b"Centre,Study ID\nSYN-A," + b"X" * 40_000 + b"\n"
    with pytest.raises(ImportRefused, match="Patients, row 2, Study ID: the cell holds 40,000 characters"):
        read_upload("Patients.csv", csv)
    csv = b"Centre,Study ID\nSYN-A,ok\nSYN-A," + b"X" * 200_000 + b"\n"
    with pytest.raises(ImportRefused, match="Patients, row 3: a cell holds more than 32,767 characters"):
        read_upload("Patients.csv", csv)


def test_a_workbook_within_the_limits_is_read():
    book = workbook(A_ROW, times=3)
    assert read_upload("book.xlsx", book) == {
        "Patients": [["Centre", "Study ID", "Current diagnosis"], *[["SYN-A", "SYN-BOMB", "Vasculitis"]] * 3]
    }


def test_a_workbook_declaring_xml_entities_is_refused():
    with pytest.raises(ImportRefused, match="declares XML entities"):
        read_upload("laughs.xlsx", workbook(A_ROW, before=LAUGHS))


def test_a_part_packed_like_a_bomb_is_refused_before_the_size_limit():
    with pytest.raises(ImportRefused, match="packed more than 200 to 1"):
        read_upload("dense.xlsx", workbook(b"<row/>" * 100_000, times=30))


def test_the_unpacked_total_counts_every_part(monkeypatch):
    monkeypatch.setattr(uploads, "MAX_INFLATED_BYTES", 2 * MB)
    rows = random.Random(0).randbytes(MB)  # does not compress: no ratio alarm
    with pytest.raises(ImportRefused, match="unpacks to more than 2 MB"):
        read_upload("big.xlsx", zip_bytes([*WORKBOOK_PARTS, ("a.bin", rows, 1), ("b.bin", rows, 1)]))


def test_web_upload_of_a_bomb_shows_the_message_next_to_the_file_field(registry_admin, client):
    client.force_login(registry_admin)
    upload = io.BytesIO(huge_cell_workbook())
    upload.name = "bomb.xlsx"
    response = client.post(reverse("cases:import"), {"file": upload})
    assert response.status_code == 400
    page = response.content.decode()
    field = page.index('id="import-file"')
    message = page.index('id="import-file-error"')
    assert 'aria-describedby="import-file-error import-limits"' in page[field - 200 : message]
    assert "longer than 32,767 characters" in page[message : page.index("</div>", message)]
    assert "a workbook may unpack to 64 MB" in page


def test_the_xml_check_sees_across_the_chunks_it_is_given():
    scanner = uploads.XmlScanner("xl/worksheets/sheet1.xml")
    scanner.feed(b"<worksheet><!DOC")
    with pytest.raises(ImportRefused, match="declares XML entities"):
        scanner.feed(b"TYPE x []>")
    scanner = uploads.XmlScanner("xl/sharedStrings.xml")
    scanner.feed(b"<si><t>" + b"a" * uploads.MAX_XML_RUN + b"</t></si><si><t>")
    with pytest.raises(ImportRefused, match="longer than 32,767 characters"):
        for _ in range(uploads.MAX_XML_RUN // 1000 + 1):
            scanner.feed(b"b" * 1000)
