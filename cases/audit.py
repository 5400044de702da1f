"""The audit trail's guard rails.

django-simple-history records a row for every save() and delete() through model signals. Three
QuerySet methods skip those signals: update(), bulk_update() and bulk_create(). Audited models
refuse them (AuditBypassError); bulk work goes through the `*_with_history` helpers below, which
write the history rows themselves, inside `history_writing_bulk()`.
"""

from contextlib import contextmanager
from contextvars import ContextVar

from simple_history import utils as history_utils

_bulk_allowed = ContextVar("history_writing_bulk", default=False)


class AuditBypassError(RuntimeError):
    """A write that would leave no trace in the audit trail."""


@contextmanager
def history_writing_bulk():
    token = _bulk_allowed.set(True)
    try:
        yield
    finally:
        _bulk_allowed.reset(token)


def refuse_unaudited(operation):
    if not _bulk_allowed.get():
        raise AuditBypassError(
            f"QuerySet.{operation}() on an audited model would leave no audit history: save or delete "
            "each object, or use cases.audit.bulk_create_with_history() / bulk_update_with_history()."
        )


def bulk_create_with_history(objs, model, **kwargs):
    with history_writing_bulk():
        return history_utils.bulk_create_with_history(objs, model, **kwargs)


def bulk_update_with_history(objs, model, fields, **kwargs):
    with history_writing_bulk():
        return history_utils.bulk_update_with_history(objs, model, fields, **kwargs)


APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION registry_history_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'The audit history is append-only: % on % is refused.', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def history_tables(apps):
    return [m._meta.db_table for m in apps.get_app_config("cases").get_models() if m.__name__.startswith("Historical")]


def protect_history_tables(connection, tables):
    """On PostgreSQL, refuse UPDATE and DELETE on the history tables, whoever connects.

    "Changes shall not obscure previously recorded information" should not rest on application
    code alone. TRUNCATE stays with the database owner (test flushes, disaster recovery). Run by
    migration 0006 and after every migrate, so a history table added later is covered too.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(APPEND_ONLY_FUNCTION)  # no params: the % are PL/pgSQL's
        for table in tables:
            cursor.execute(f'DROP TRIGGER IF EXISTS "{table}_append_only" ON "{table}"')
            cursor.execute(
                f'CREATE TRIGGER "{table}_append_only" BEFORE UPDATE OR DELETE ON "{table}" '
                "FOR EACH ROW EXECUTE FUNCTION registry_history_append_only()"
            )
