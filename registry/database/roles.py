"""The application's own PostgreSQL role: it may add to the audit history, never rewrite it.

The owner of the tables runs the migrations, and an owner can TRUNCATE a table, disable or drop its
triggers and alter it: the append-only triggers on the history tables (cases.audit) do not stop
it. So the application connects as another role, which owns nothing and holds only what the pages
need: read and write on ordinary tables, SELECT and INSERT on every audit-history table (the tables
of django-simple-history's models, found from the models), SELECT on django_migrations, and the
use of the sequences. `grant_app_role` sets this up; it is run by the owner after every migrate
(a new table has no grants until then), by `manage.py setup_database_roles` or, when
REGISTRY_APP_DATABASE_ROLE is set, by migrate itself.
"""

import re
from dataclasses import dataclass

from django.apps import apps as global_apps
from django.db import transaction
from simple_history.models import HistoricalChanges

READ_WRITE = "SELECT, INSERT, UPDATE, DELETE"
APPEND_ONLY = "SELECT, INSERT"
READ_ONLY = "SELECT"
#: Tables the application reads and never writes: the record of applied migrations.
READ_ONLY_TABLES = {"django_migrations"}
ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
#: Where a newly created application role takes its log-in password from (NOLOGIN when unset).
PASSWORD_VARIABLE = "REGISTRY_APP_DATABASE_PASSWORD"


class DatabaseRoleError(RuntimeError):
    """The application role cannot be set up safely; the message says why."""


@dataclass
class Grants:
    role: str
    created: bool
    read_write: list[str]
    append_only: list[str]
    read_only: list[str]


def audit_history_tables(apps=global_apps):
    """Every table of a django-simple-history model (the history of many-to-many links included), and
    of every other append-only history (a model with `append_only_history = True`, e.g. account changes)."""
    return sorted(
        m._meta.db_table
        for m in apps.get_models()
        if issubclass(m, HistoricalChanges) or getattr(m, "append_only_history", False)
    )


def _quoted(connection, tables):
    return ", ".join(connection.ops.quote_name(t) for t in tables)


def _ensure_role(cursor, role, password):
    cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [role])
    row = cursor.fetchone()
    if row is not None:
        if row[0]:
            raise DatabaseRoleError(f"Role {role} is a superuser: the application role must hold no such power.")
        return False
    if password:
        cursor.execute(f"CREATE ROLE {role} LOGIN PASSWORD %s", [password])
    else:
        cursor.execute(f"CREATE ROLE {role} NOLOGIN")
    return True


def _refuse_unsafe(cursor, role, owner, schema):
    cursor.execute("SELECT pg_has_role(%s, current_user, 'MEMBER')", [role])
    if cursor.fetchone()[0]:
        raise DatabaseRoleError(
            f"Role {role} is a member of {owner}, so it could act as the owner: revoke that membership first."
        )
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s AND tableowner = %s", [schema, role])
    owned = [name for (name,) in cursor.fetchall()]
    if owned:
        raise DatabaseRoleError(
            f"Role {role} owns tables ({', '.join(owned)}): give them to the owner of the schema "
            f"(ALTER TABLE ... OWNER TO {owner}) so that the application cannot alter them."
        )


def grant_app_role(connection, role, password=None):
    """Create `role` if missing (LOGIN with `password`, else NOLOGIN) and give it exactly the
    application's privileges on every table and sequence of the current schema. Idempotent: each run
    first revokes what the role held, so a table that became a history table loses UPDATE too."""
    if connection.vendor != "postgresql":
        raise DatabaseRoleError("Database roles are set up on PostgreSQL only.")
    if not ROLE_NAME.match(role):
        raise DatabaseRoleError(f"{role!r} is not a plain role name (lower-case letters, digits and _).")
    history = set(audit_history_tables())
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute("SELECT current_user, current_database(), current_schema()")
        owner, database, schema = cursor.fetchone()
        if role == owner:
            raise DatabaseRoleError(
                f"Run this as the owner of the tables, not as the application role {role} (connected as {owner})."
            )
        created = _ensure_role(cursor, role, password)
        _refuse_unsafe(cursor, role, owner, schema)
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY tablename", [schema])
        tables = [name for (name,) in cursor.fetchall()]
        grants = Grants(
            role=role,
            created=created,
            read_write=[t for t in tables if t not in history and t not in READ_ONLY_TABLES],
            append_only=[t for t in tables if t in history],
            read_only=[t for t in tables if t in READ_ONLY_TABLES],
        )
        quote = connection.ops.quote_name
        cursor.execute(f"GRANT CONNECT ON DATABASE {quote(database)} TO {role}")
        cursor.execute(f"GRANT USAGE ON SCHEMA {quote(schema)} TO {role}")
        cursor.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA {quote(schema)} FROM {role}")
        cursor.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {quote(schema)} FROM {role}")
        for privileges, names in (
            (READ_WRITE, grants.read_write),
            (APPEND_ONLY, grants.append_only),
            (READ_ONLY, grants.read_only),
        ):
            if names:
                cursor.execute(f"GRANT {privileges} ON TABLE {_quoted(connection, names)} TO {role}")
        # nextval() for new ids; setval() (UPDATE) is not needed by the application.
        cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {quote(schema)} TO {role}")
    return grants
