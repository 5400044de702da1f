"""A tiny run of the benchmark (bench/run.py --smoke: 100 patients, 2 s per page, no file written),
so that the benchmark cannot rot. PostgreSQL only; the benchmark itself is `make bench`."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from bench.server import database_url

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the benchmark runs on PostgreSQL only (set DATABASE_URL); skipped on SQLite",
)


def test_benchmark_smoke_run(tmp_path):
    if not shutil.which("wrk"):
        if os.environ.get("CI") == "true":
            pytest.fail("wrk is missing: CI must run the benchmark smoke test (apt-get install wrk)")
        pytest.skip("wrk is not installed (apt-get install wrk)")
    admin_url = database_url({**settings.DATABASES["default"], "NAME": "postgres"})
    completed = subprocess.run(
        [sys.executable, "bench/run.py", "--smoke", "--database", f"bench_h_smoke_{os.getpid()}"],
        cwd=ROOT,
        env={**os.environ, "BENCH_ADMIN_URL": admin_url},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    out = completed.stdout
    for expected in ("## Machine", "## Exports and import", "| XLSX, audit workbook (ours) |", "| case page |"):
        assert expected in out
    assert "import of 100 patient rows, confirm" in out and "problems 0" in out
    by_sheet = next(line for line in out.splitlines() if line.startswith("CSV export, seconds by sheet"))
    assert "Patients " in by_sheet and "Audit log " in by_sheet and "Summary table " in by_sheet
    table = out.split("## Pages under load", 1)[1]
    for page in ("dashboard", "case list, unfiltered", "case list, filtered", "case page"):
        row = next(line for line in table.splitlines() if line.startswith(f"| {page} |"))
        assert row.split("|")[6].strip() == "0", row  # no errors
        working = row.split("|")[12].strip()  # users pausing between pages: req/s, latencies, 0 errors
        assert re.fullmatch(r"[\d.]+, \d+ / \d+ / \d+, 0 \(\d+%\)", working), row
