"""What the audit workbook holds, sheet by sheet, in order: the data sheets, the Data dictionary,
the Audit log, the Summary table, the Safety rates and About (written last, once the rows are counted)."""

import json
import tomllib
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.utils import timezone

from ..models import ExportVariant, Patient
from .audit import audit_csv_lines, audit_rows
from .rows import first_msc_anchors, included_columns, iter_rows
from .sheets import SHEETS


def registry_version():
    try:
        with open(Path(settings.BASE_DIR) / "pyproject.toml", "rb") as f:
            return tomllib.load(f)["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


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
    from ..reports.safety import RATE_DICTIONARY, RATE_HEADERS

    for header, (kind, unit, meaning) in zip(RATE_HEADERS, RATE_DICTIONARY, strict=True):
        yield ["Safety rates", header, "", f"{kind} (derived, export only)", unit, "", meaning, "every variant"]


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
    yield [
        "Cases left out: consent withdrawn",
        f"{getattr(options, 'consent_withdrawn_count', 0)} (a case whose family or patient withdrew consent to "
        "sharing its data enters no export made from the withdrawal date on; its records and audit history are kept)",
    ]
    for name, count in counts.items():
        yield [f"Rows: {name}", count]


def summary_rows(options):
    """The paper's Summary Table for the exported cases (cases.reports.summary), derived, never imported."""
    from ..reports.summary import HEADERS, summary_table_rows

    yield list(HEADERS)
    yield from summary_table_rows(Patient.objects.visible_to(options.user).filter(pk__in=options.patients.values("pk")))


def safety_rows(options):
    """Event rates per 100 patient-years for the exported cases (cases.reports.safety), derived, never imported."""
    from ..reports.safety import RATE_HEADERS, rate_rows, safety_rates

    yield list(RATE_HEADERS)
    cases = Patient.objects.visible_to(options.user).filter(pk__in=options.patients.values("pk"))
    yield from rate_rows(safety_rates(cases.order_by("centre__code", "study_id")))


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
    yield "Safety rates", counted("Safety rates", safety_rows(options))
    yield "About", about_rows(options, counts, timezone.now())
    options.row_counts = counts
