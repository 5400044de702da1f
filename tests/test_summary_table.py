"""The paper's Summary Table regenerated from the records of the published series, compared cell by
cell with the paper's own table (Wong et al. 2021, end of case 3). Where they differ, the difference
is one that fixtures/README.md documents ('Disagreements between the case text and the Summary
Table'): the fixture records the case text, the table says otherwise."""

import csv
import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases.models import Patient
from cases.reports.summary import HEADERS, summary_table, summary_table_rows
from synthetic.generator import generate

FIXTURE_DIR = Path(__file__).resolve().parent.parent / "fixtures"
README = (FIXTURE_DIR / "README.md").read_text(encoding="utf-8")

# The paper's Summary Table as printed (10^6 written as in the fixture's passages; 'JDAS' as printed).
PAPER = {
    "WONG2021-1": [
        "WONG2021-1",
        "SLE",
        "9",
        "14",
        "16",
        "Autologous Adipose tissue",
        "3.3 × 10^6/kg/dose",
        "IV ×3, intranasal ×1, lymph node ×1",
        "8/10",
        "2/10",
        "SLEDAI-2 K 6",
        "SLEDAI-2 K 0",
    ],
    "WONG2021-2": [
        "WONG2021-2",
        "MCTD",
        "15",
        "17",
        "19",
        "Allogeneic Wharton’s Jelly",
        "1.2 × 10^6/kg/dose",
        "IV ×2, IA × 3",
        "10/10",
        "2/10",
        "SLEDAI-2 K 9",
        "SLEDAI-2 K 1",
    ],
    "WONG2021-3": [
        "WONG2021-3",
        "JIA",
        "11",
        "16",
        "18",
        "Allogeneic Umbilical Cord",
        "1.8 × 10^6/kg/dose",
        "IV ×4",
        "6/10",
        "1/10",
        "JDAS 11",
        "JDAS 6",
    ],
}

# Every cell where the records (case text) and the paper's table differ: (case, column) -> the
# README's disagreement number and the words of that row that say what the table has.
DOCUMENTED = {
    ("WONG2021-1", "Age at follow-up (years)"): (2, ["age at follow-up", "16", "At 17 years old"]),
    ("WONG2021-1", "MSC dose"): (3, ["dose", "3.3 × 10^6/kg/dose", "1.8 × 10^6 cells/kg/dose", "60.5"]),
    ("WONG2021-2", "MSC dose"): (13, ["dose", "1.2 × 10^6/kg/dose", "per-kg not given"]),
    ("WONG2021-1", "MSC route"): (4, ["IV ×3, intranasal ×1, lymph node ×1", "four IV"]),
    ("WONG2021-1", "PGA after"): (5, ["PGA after MSC", "2/10", "8/10 to 1/10"]),
    ("WONG2021-2", "PGA before"): (10, ["PGA before", "10/10", "7/10"]),
    ("WONG2021-2", "MSC route"): (12, ["IV ×2, IA × 3", "intraosseous"]),
    ("WONG2021-3", "Disease activity before"): (16, ["JDAS 11", "JADAS"]),
    ("WONG2021-3", "Disease activity after"): (16, ["JDAS 6", "JADAS"]),
    ("WONG2021-3", "MSC dose"): (17, ["1.8 × 10^6/kg/dose", "**1.9**"]),
}


def normal(cell):
    """Compare as a reader would: case, spaces and the kind of apostrophe do not matter."""
    return re.sub(r"\s+", "", cell.replace("’", "'")).lower()


def readme_row(number):
    rows = [line for line in README.splitlines() if line.startswith(f"| {number} |")]
    assert len(rows) == 1, f"fixtures/README.md has no disagreement {number}"
    return rows[0]


@pytest.fixture
def published_series(db, settings):
    settings.FIXTURE_DIRS = [*getattr(settings, "FIXTURE_DIRS", []), FIXTURE_DIR]
    call_command("load_published_series", stdout=StringIO())
    return Patient.objects.filter(centre__code="WONG2021")


def test_generated_table_matches_the_paper_or_a_documented_difference(published_series):
    headers, rows = summary_table(published_series)
    assert headers == HEADERS
    assert [row[0] for row in rows] == list(PAPER)
    undocumented, documented_and_equal = [], []
    for row in rows:
        for column, ours, paper in zip(headers, row, PAPER[row[0]], strict=True):
            documented = DOCUMENTED.get((row[0], column))
            if normal(ours) == normal(paper):
                if documented:
                    documented_and_equal.append((row[0], column))
                continue
            if documented is None:
                undocumented.append((row[0], column, ours, paper))
                continue
            number, words = documented
            text = readme_row(number)
            assert all(w in text for w in words), (number, words)
    assert undocumented == []
    assert documented_and_equal == []  # each documented difference is a real one


def test_generated_values_of_the_documented_differences(published_series):
    rows = {row[0]: dict(zip(HEADERS, row, strict=True)) for row in summary_table(published_series)[1]}
    assert rows["WONG2021-1"]["MSC route"] == "IV ×4, intranasal ×1, lymph node ×1"
    assert rows["WONG2021-1"]["Age at follow-up (years)"] == "17"
    assert rows["WONG2021-1"]["PGA after"] == "1/10"
    assert rows["WONG2021-2"]["MSC route"] == "IV ×2, intraosseous ×3"
    assert rows["WONG2021-2"]["PGA before"] == "7/10"
    assert rows["WONG2021-3"]["MSC dose"] == "1.8, 1.9 × 10^6/kg/dose"


def test_a_dose_per_kg_says_which_administrations_it_covers(published_series):
    rows = {row[0]: dict(zip(HEADERS, row, strict=True)) for row in summary_table(published_series)[1]}
    # Case 1's 1.8 is the intranasal and lymph node injections' dose; the four infusions have none per kg.
    assert rows["WONG2021-1"]["MSC dose"] == "1.8 × 10^6/kg/dose (intranasal, lymph node; IV per kg not stated)"
    assert rows["WONG2021-2"]["MSC dose"] == "1.2 × 10^6/kg/dose (IV; intraosseous per kg not stated)"
    assert rows["WONG2021-3"]["Disease activity before"] == "JADAS 11"


def test_summary_table_command_csv_and_markdown(published_series):
    out = StringIO()
    call_command("summary_table", "--format", "csv", "--centre", "WONG2021", stdout=out)
    rows = list(csv.reader(StringIO(out.getvalue())))
    assert rows[0] == HEADERS and len(rows) == 4
    out = StringIO()
    call_command("summary_table", "--format", "md", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("| Patient ID |") and len(lines) == 5
    assert "| WONG2021-3 | JIA | 11 | 16 | 18 |" in out.getvalue()


def test_summary_table_page_follows_the_case_list_filters(client, registry_admin, published_series):
    client.force_login(registry_admin)
    page = client.get(reverse("cases:summary-table")).content.decode()
    assert all(study_id in page for study_id in PAPER)
    page = client.get(reverse("cases:summary-table") + "?diagnosis=jia").content.decode()
    assert "WONG2021-3" in page and "WONG2021-1" not in page


def test_summary_table_takes_a_list_of_cases(published_series):
    headers, rows = summary_table(list(published_series.filter(study_id="WONG2021-2")))
    assert [r[0] for r in rows] == ["WONG2021-2"]


def test_large_tables_are_built_in_batches_with_the_same_rows_in_the_same_order(published_series):
    generate(7, seed=11, centre_code="SYN-SUMMARY")
    cases = Patient.objects.all()
    _, whole = summary_table(cases)
    assert len(whole) == 10
    assert list(summary_table_rows(cases, batch_size=3)) == whole
    with CaptureQueriesContext(connection) as one_batch:
        list(summary_table_rows(cases, batch_size=10))
    with CaptureQueriesContext(connection) as four_batches:
        list(summary_table_rows(cases, batch_size=3))
    # One query for the order of the cases, then the same few queries for every batch.
    assert len(four_batches) - 1 == 4 * (len(one_batch) - 1)
