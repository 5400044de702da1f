"""The application's own database role can add to the audit history but never erase or rewrite it,
and the application works as that role (PostgreSQL: roles and privileges are the database's).

The role is created by `setup_database_roles` inside the test's transaction (so it is gone after
the test) and taken with SET ROLE, as the owner (or a superuser) running the tests.
"""

import uuid
from contextlib import contextmanager
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.core.management.sql import emit_post_migrate_signal
from django.db import ProgrammingError, connection, transaction
from django.urls import reverse

from cases.models import Patient
from registry.database.roles import audit_history_tables
from synthetic.generator import generate
from tests.factories import PatientFactory
from tests.test_audit_trail import form_data

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="database roles and privileges need PostgreSQL (set DATABASE_URL)"
)

#: What the owner of a table can do and the application must not, to any history table.
ERASING = {
    "truncate": 'TRUNCATE "{table}"',
    "disable its append-only trigger": 'ALTER TABLE "{table}" DISABLE TRIGGER "{table}_append_only"',
    "disable all its triggers": 'ALTER TABLE "{table}" DISABLE TRIGGER ALL',
    "drop its append-only trigger": 'DROP TRIGGER "{table}_append_only" ON "{table}"',
    "alter it": 'ALTER TABLE "{table}" ADD COLUMN rewritten text',
    "drop it": 'DROP TABLE "{table}"',
    "update a row": 'UPDATE "{table}" SET "{pk}" = "{pk}"',
    "delete a row": 'DELETE FROM "{table}"',
}


def execute(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else None


@pytest.fixture
def app_role(db):
    role = f"registry_app_test_{uuid.uuid4().hex[:12]}"
    call_command("setup_database_roles", app_role=role, stdout=StringIO())
    if not execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")[0][0]:
        execute(f"GRANT {role} TO CURRENT_USER")  # a non-superuser owner may only SET ROLE to its members
    return role


@contextmanager
def acting_as(role):
    execute(f"SET ROLE {role}")
    try:
        yield
    finally:
        execute("RESET ROLE")


def refusal(sql):
    """The database's error for `sql`, run in a savepoint so the test's transaction goes on."""
    with pytest.raises(ProgrammingError) as error, transaction.atomic():
        execute(sql)
    return error.value.__cause__


def test_application_role_cannot_erase_alter_or_rewrite_any_history_table(app_role):
    PatientFactory()  # history rows to protect
    tables = audit_history_tables()
    primary_key = {model._meta.db_table: model._meta.pk.column for model in apps.get_models()}
    assert {"cases_historicalpatient", "cases_historicalpatient_funding_sources", "registry_accountchange"} <= set(
        tables
    )
    with acting_as(app_role):
        for table in tables:
            for what, sql in ERASING.items():
                error = refusal(sql.format(table=table, pk=primary_key[table]))
                assert error.sqlstate == "42501", (table, what, error)  # insufficient_privilege
                # refused for want of privilege, before the append-only trigger is reached
                assert "append-only" not in str(error), (table, what)
    assert execute('SELECT count(*) FROM "cases_historicalpatient"')[0][0] == 1


def test_application_role_can_add_to_and_read_the_history(app_role):
    with acting_as(app_role):
        patient = PatientFactory(family_history="")
        patient.family_history = "Maternal cousin with SLE (synthetic)."
        patient.save()
        assert [h.history_type for h in patient.history.order_by("history_date")] == ["+", "~"]


def test_application_works_as_its_own_role(app_role, client, clinician, case_a):
    with acting_as(app_role):
        client.force_login(clinician)  # writes the session
        assert client.get(reverse("cases:patient-detail", args=[case_a.pk])).status_code == 200
        course = case_a.medications.get()
        url = reverse("cases:medication-update", args=[case_a.pk, course.pk])
        assert client.post(url, {**form_data(client, url), "frequency": "weekly"}).status_code == 302
        diagnosis = case_a.previous_diagnoses.get()
        delete_url = reverse("cases:diagnosis-delete", args=[case_a.pk, diagnosis.pk])
        assert client.post(delete_url).status_code == 302
        assert execute("SELECT count(*) FROM django_migrations")[0][0] > 0
        assert refusal("DELETE FROM django_migrations").sqlstate == "42501"
        generated = generate(2, seed=4, centre_code="SYN-APP-ROLE")  # COPY and ids drawn from sequences
    course.refresh_from_db()
    assert course.frequency == "weekly"
    assert [h.history_type for h in course.history.order_by("history_date")] == ["+", "~"]
    assert [h.history_type for h in diagnosis.history.order_by("history_date")] == ["+", "-"]
    assert Patient.history.filter(centre=generated.centre).count() == 2


def test_setting_up_roles_twice_changes_nothing(app_role):
    out = StringIO()
    call_command("setup_database_roles", app_role=app_role, stdout=out)
    assert "Created" not in out.getvalue()
    assert f"SELECT and INSERT only on {len(audit_history_tables())} audit-history tables" in out.getvalue()
    with acting_as(app_role):
        assert refusal('TRUNCATE "cases_historicalpatient"').sqlstate == "42501"
        Patient.objects.count()


def test_the_owner_cannot_be_made_the_application_role(db):
    owner = execute("SELECT current_user")[0][0]
    with pytest.raises(CommandError, match="not as the application role"):
        call_command("setup_database_roles", app_role=owner, stdout=StringIO())


def test_migrate_gives_the_configured_application_role_its_privileges(db, settings):
    settings.REGISTRY_APP_DATABASE_ROLE = role = f"registry_app_test_{uuid.uuid4().hex[:12]}"
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    granted = execute(
        "SELECT privilege_type FROM information_schema.role_table_grants "
        "WHERE grantee = %s AND table_name = 'cases_historicalpatient' ORDER BY privilege_type",
        [role],
    )
    assert [p for (p,) in granted] == ["INSERT", "SELECT"]


def test_a_superuser_cannot_be_made_the_application_role(db):
    superuser = f"registry_super_test_{uuid.uuid4().hex[:12]}"
    execute(f"CREATE ROLE {superuser} SUPERUSER NOLOGIN")
    with pytest.raises(CommandError, match="is a superuser"):
        call_command("setup_database_roles", app_role=superuser, stdout=StringIO())
