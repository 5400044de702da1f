"""The audit trail's guard rails.

django-simple-history records a row for every save() and delete() through model signals. Three
QuerySet methods skip those signals: update(), bulk_update() and bulk_create(). Audited models
refuse them (AuditBypassError); bulk work goes through the `*_with_history` helpers below, which
write the history rows themselves, inside `history_writing_bulk()`.
"""

from contextlib import contextmanager
from contextvars import ContextVar

from simple_history import utils as history_utils

# The trigger that makes a table append-only on PostgreSQL is shared with the account history.
from registry.database.append_only import protect_history_tables  # noqa: F401

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


def history_tables(apps):
    return [m._meta.db_table for m in apps.get_app_config("cases").get_models() if m.__name__.startswith("Historical")]
