"""The Audit log sheet: the history of every exported record, oldest first, one query per history
model. On PostgreSQL the CSV export lets the database write the lines (`audit_csv_lines`)."""

import re

from django.db import connection
from django.utils import timezone

from ..history import ACTIONS
from .rows import CHUNK_SIZE, sheet_queryset
from .sheets import SHEETS

AUDIT_HEADERS = ["When", "Who", "Sheet", "Centre", "Study ID", "Record", "Action", "Reason"]


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
            ACTIONS.get(action, action),
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
                           CASE action {" ".join(["WHEN %s THEN %s"] * len(ACTIONS))} ELSE action END AS action,
                           coalesce(reason, '') AS reason,
                           t.at AS sort_at, history_id
                    FROM ({sql}) AS t({names})
                ) AS formatted
            ) AS checked
            ORDER BY sort_at, history_id"""
        with connection.chunked_cursor() as cursor:
            actions = [word for pair in ACTIONS.items() for word in pair]
            cursor.execute(statement, [sheet.name, *[NEEDS_PYTHON] * 5, zone, record, *actions, *params])
            while chunk := cursor.fetchmany(CHUNK_SIZE):
                for line, fields in chunk:
                    yield line if fields is None else [*fields[:2], sheet.name, *fields[2:]]
