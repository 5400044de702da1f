"""On PostgreSQL, make the audit history append-only in the database itself.

"Changes shall not obscure previously recorded information" should not rest on application code
alone: a trigger refuses UPDATE and DELETE on every history table, whoever connects. (TRUNCATE is
left to the database owner, for test-database flushes and disaster recovery.) SQLite, the
development default, has no such guard.
"""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION registry_history_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'The audit history is append-only: % on % is refused.', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def history_tables(apps):
    return [
        model._meta.db_table
        for model in apps.get_app_config("cases").get_models()
        if model.__name__.startswith("Historical")
    ]


def protect(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION, params=None)  # the % are PL/pgSQL, not placeholders
    for table in history_tables(apps):
        schema_editor.execute(
            f'CREATE TRIGGER "{table}_append_only" BEFORE UPDATE OR DELETE ON "{table}" '
            "FOR EACH ROW EXECUTE FUNCTION registry_history_append_only()"
        )


def unprotect(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in history_tables(apps):
        schema_editor.execute(f'DROP TRIGGER IF EXISTS "{table}_append_only" ON "{table}"')
    schema_editor.execute("DROP FUNCTION IF EXISTS registry_history_append_only()")


class Migration(migrations.Migration):
    dependencies = [("cases", "0005_audit_trail_versions_withdrawals")]
    operations = [migrations.RunPython(protect, unprotect)]
