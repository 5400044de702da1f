"""Append-only tables in the database itself: a PostgreSQL trigger refuses UPDATE and DELETE.

Used for the clinical audit history (cases.audit) and the account-change history
(registry.models.AccountChange): "changes shall not obscure previously recorded information"
should not rest on application code alone.
"""

APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION registry_history_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'The audit history is append-only: % on % is refused.', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def protect_history_tables(connection, tables):
    """On PostgreSQL, refuse UPDATE and DELETE on `tables`, whoever connects.

    TRUNCATE stays with the database owner (test flushes, disaster recovery). Run by the
    migrations that create such tables and after every migrate, so a table added later is covered.
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


def unprotect_history_tables(connection, tables):
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f'DROP TRIGGER IF EXISTS "{table}_append_only" ON "{table}"')
