"""Backup and restore on PostgreSQL: pg_dump the registry, restore it into a new database, and
prove every clinical table and every audit-history table is identical (row counts and a checksum
of the rows in primary-key order), and that the history is still append-only after the restore.
"""

import os
import shutil
import subprocess
import uuid

import psycopg
import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import connection

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="backup-and-restore test needs PostgreSQL (set DATABASE_URL) and its pg_dump/pg_restore",
)


def client_env(db):
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return env


def client_args(db):
    return ["-h", db.get("HOST") or "127.0.0.1", "-p", str(db.get("PORT") or 5432), "-U", db.get("USER") or "postgres"]


def registry_tables():
    """Every table of the registry's own apps, with its primary key column (history tables included)."""
    tables = {}
    for label in ("cases", "registry"):
        for model in apps.get_app_config(label).get_models(include_auto_created=True):
            tables[model._meta.db_table] = model._meta.pk.column
    return tables


def fingerprint(conn_kwargs, tables):
    fingerprints = {}
    with psycopg.connect(**conn_kwargs) as conn:
        for table, pk in tables.items():
            rows = f"string_agg(t::text, E'\\n' ORDER BY t.\"{pk}\")"
            row = conn.execute(f"SELECT count(*), md5(coalesce({rows}, '')) FROM \"{table}\" t").fetchone()
            fingerprints[table] = row
    return fingerprints


def connect_kwargs(db, name):
    return {
        "host": db.get("HOST") or "127.0.0.1",
        "port": db.get("PORT") or 5432,
        "user": db.get("USER") or "postgres",
        "password": db.get("PASSWORD") or None,
        "dbname": name,
        "autocommit": True,
    }


@pytest.mark.skipif(not shutil.which("pg_dump"), reason="pg_dump is not installed")
def test_dump_and_restore_gives_identical_records_and_history(transactional_db, tmp_path):
    call_command("load_published_series", verbosity=0)  # committed: transactional_db
    db = settings.DATABASES["default"]
    tables = registry_tables()
    assert any(t.startswith("cases_historical") for t in tables)
    before = fingerprint(connect_kwargs(db, db["NAME"]), tables)
    assert before["cases_patient"][0] == 3 and before["cases_historicalpatient"][0] >= 3

    dump = tmp_path / "registry.dump"
    subprocess.run(
        ["pg_dump", *client_args(db), "--format=custom", "--no-owner", f"--file={dump}", db["NAME"]],
        env=client_env(db),
        check=True,
    )
    restored = f"bench_h_restore_{uuid.uuid4().hex[:10]}"
    admin = connect_kwargs(db, "postgres")
    with psycopg.connect(**admin) as conn:
        conn.execute(f'CREATE DATABASE "{restored}"')
    try:
        subprocess.run(
            ["pg_restore", *client_args(db), "--no-owner", "--exit-on-error", f"--dbname={restored}", str(dump)],
            env=client_env(db),
            check=True,
        )
        after = fingerprint(connect_kwargs(db, restored), tables)
        assert after == before
        with psycopg.connect(**connect_kwargs(db, restored)) as conn:
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                conn.execute("DELETE FROM cases_historicalpatient")
    finally:
        with psycopg.connect(**admin) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{restored}" WITH (FORCE)')
