"""On PostgreSQL, make the audit history append-only in the database itself (see
cases.audit.protect_history_tables; later history tables are covered after each migrate)."""

from django.db import migrations

from cases.audit import history_tables, protect_history_tables


def protect(apps, schema_editor):
    protect_history_tables(schema_editor.connection, history_tables(apps))


def unprotect(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in history_tables(apps):
        schema_editor.execute(f'DROP TRIGGER IF EXISTS "{table}_append_only" ON "{table}"')


class Migration(migrations.Migration):
    dependencies = [("cases", "0005_audit_trail_versions_withdrawals")]
    operations = [migrations.RunPython(protect, unprotect)]
