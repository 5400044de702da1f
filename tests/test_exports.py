"""The audit workbook and its CSV and JSON siblings: de-identified by default, formula-safe,
logged, scoped to the user's centres, and written in a fixed number of queries."""

import io
import json
import zipfile

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from cases.models import ExportLog, MedicationCourse
from cases.spreadsheets import ExportOptions, ExportRefused, export_registry
from cases.spreadsheets.columns import csv_safe, csv_unescape
from tests.factories import (
    AdverseEventFactory,
    AssessmentFactory,
    MedicationCourseFactory,
    MscAdministrationFactory,
    MscProductFactory,
    PatientFactory,
)


def xlsx(user, **options):
    target = io.BytesIO()
    export_registry(target, "xlsx", ExportOptions(user=user, **options))
    return openpyxl.load_workbook(io.BytesIO(target.getvalue()))


def rows(workbook, name):
    return [list(r) for r in workbook[name].iter_rows(values_only=True)]


def records(workbook, name):
    header, *body = rows(workbook, name)
    return [dict(zip(header, r, strict=True)) for r in body]


def make_cases(centre, n):
    for i in range(n):
        patient = PatientFactory(centre=centre, study_id=f"SYN-Q-{i:03d}")
        product = MscProductFactory(patient=patient)
        given = MscAdministrationFactory(product=product)
        MedicationCourseFactory(patient=patient)
        AdverseEventFactory(patient=patient, administration=given)
        AssessmentFactory(patient=patient)


def test_workbook_has_every_sheet(case_a, reviewer):
    workbook = xlsx(reviewer)
    assert workbook.sheetnames == [
        "Patients",
        "Previous diagnoses",
        "Medications",
        "MSC providers",
        "MSC products",
        "MSC administrations",
        "Adverse events",
        "Assessments",
        "Consent",
        "Vital status",
        "Visits",
        "Checklist statements",
        "Data queries",
        "Data dictionary",
        "Audit log",
        "Summary table",
        "Safety rates",
        "About",
    ]
    summary = rows(workbook, "Summary table")
    assert summary[0][0] == "Patient ID" and [row[0] for row in summary[1:]] == [case_a.study_id]
    about = dict(rows(workbook, "About")[1:])
    assert about["Exported by"] == "reviewer-a"
    assert about["Rows: Patients"] == 1
    assert about["Variant"] == "De-identified"


def test_deidentified_has_no_dates_and_no_free_text(case_a, reviewer):
    case_a.family_history = "Grandmother Jane Doe, SLE"
    case_a.save()
    workbook = xlsx(reviewer)
    for name in workbook.sheetnames[:10]:
        header = rows(workbook, name)[0]
        assert not [h for h in header if h.endswith(" date")], name
        assert "Family history" not in header and "Note" not in header and "Source passage" not in header
    text = "".join(str(v) for ws in workbook.worksheets for r in ws.iter_rows(values_only=True) for v in r)
    assert "Jane Doe" not in text
    administration = records(workbook, "MSC administrations")[0]
    assert administration["Time: days from first MSC (derived)"] == 0
    assert administration["Time: age (years, derived)"] == 13


def test_identifiable_export_is_for_registry_admins_only(case_a, reviewer, registry_admin, client):
    with pytest.raises(ExportRefused):
        xlsx(reviewer, identifiable=True)
    with pytest.raises(ExportRefused):
        xlsx(reviewer, include_free_text=True)
    header = rows(xlsx(registry_admin, identifiable=True, include_free_text=True), "Patients")[0]
    assert "Family history" in header
    client.force_login(reviewer)
    response = client.get(reverse("cases:export"), {"format": "xlsx", "variant": "identifiable"})
    assert response.status_code == 403
    with pytest.raises(CommandError, match="registry admins"):
        call_command("export_registry", "--output", "/tmp/never.xlsx", "--user", "reviewer-a", "--identifiable")


def test_formula_like_text_is_never_a_formula(case_a, registry_admin):
    course = MedicationCourse.objects.get(patient=case_a)
    course.note = '=HYPERLINK("http://evil.example","click")'
    course.frequency = "@SUM(1+1)"
    course.save()
    workbook = xlsx(registry_admin, include_free_text=True)
    cells = [c for r in workbook["Medications"].iter_rows() for c in r]
    assert all(c.data_type != "f" for c in cells)
    values = [c.value for c in cells]
    assert '=HYPERLINK("http://evil.example","click")' in values
    assert "@SUM(1+1)" in values
    # ANA qualifier labels are "=" and ">": strings, not formulas.
    assert all(c.data_type != "f" for r in workbook["Patients"].iter_rows() for c in r)


def test_csv_cells_that_could_run_are_escaped_and_restored():
    for value in ["=1+1", "+1", "-x", "@a", "\tx", "\rx", "\0x", "'=x", "'plain"]:
        assert csv_safe(value).startswith("'")
        assert csv_unescape(csv_safe(value)) == value
    assert csv_safe("-5") == "-5"  # a plain number is not a formula
    assert csv_safe("ok") == "ok"


def test_csv_zip_and_json(case_a, reviewer):
    target = io.BytesIO()
    export_registry(target, "csv", ExportOptions(user=reviewer))
    names = zipfile.ZipFile(io.BytesIO(target.getvalue())).namelist()
    assert "Patients.csv" in names and "Data dictionary.csv" in names
    target = io.BytesIO()
    export_registry(target, "json", ExportOptions(user=reviewer))
    data = json.loads(target.getvalue())
    assert data["Patients"][0]["Study ID"] == "SYN-A-0001"


def test_every_export_is_logged(case_a, reviewer, client):
    xlsx(reviewer)
    client.force_login(reviewer)
    response = client.get(reverse("cases:export"), {"format": "csv", "diagnosis": "sle"})
    assert response.status_code == 200
    b"".join(response.streaming_content)
    logs = list(ExportLog.objects.order_by("at", "id"))
    assert [(log.channel, log.format, log.variant) for log in logs] == [
        ("web", "xlsx", "deidentified"),
        ("web", "csv", "deidentified"),
    ]
    assert logs[1].filters == {"diagnosis": "sle"}
    assert logs[1].row_counts["Patients"] == 1


def test_export_is_scoped_to_the_users_centres(case_a, other_clinician, reviewer):
    PatientFactory(study_id="SYN-ELSEWHERE")
    patients = records(xlsx(reviewer), "Patients")
    assert [p["Study ID"] for p in patients] == ["SYN-A-0001"]


def test_web_export_uses_the_case_list_filters(case_a, centre_a, reviewer, client):
    PatientFactory(centre=centre_a, study_id="SYN-A-JIA", diagnosis="jia")
    client.force_login(reviewer)
    response = client.get(reverse("cases:export"), {"format": "xlsx", "diagnosis": "jia"})
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert [p["Study ID"] for p in records(workbook, "Patients")] == ["SYN-A-JIA"]


def test_clinicians_may_not_export(case_a, clinician, client):
    client.force_login(clinician)
    assert client.get(reverse("cases:export"), {"format": "xlsx"}).status_code == 403


def test_dictionary_describes_every_exported_column(case_a, registry_admin):
    workbook = xlsx(registry_admin, identifiable=True, include_free_text=True)
    described = {(r[0], r[1]) for r in rows(workbook, "Data dictionary")[1:]}
    for name in workbook.sheetnames[:10]:
        for header in rows(workbook, name)[0]:
            assert (name, header) in described
    cells = next(r for r in rows(workbook, "Data dictionary") if r[1] == "Cells (x10^6)")
    assert cells[4] == "x10^6" and cells[5] == "greater than 0"
    route = next(r for r in rows(workbook, "Data dictionary") if r[0] == "MSC administrations" and r[1] == "Route")
    assert "Intraosseous" in route[5]


def test_audit_log_holds_the_history_of_exported_records(case_a, reviewer):
    log = records(xlsx(reviewer), "Audit log")
    assert {(r["Sheet"], r["Action"]) for r in log} >= {("Patients", "Created"), ("MSC administrations", "Created")}


@pytest.mark.parametrize("fmt", ["xlsx", "csv", "json"])
def test_export_runs_a_fixed_number_of_queries(centre_a, reviewer, fmt, django_assert_max_num_queries):
    # The derived Safety rates sheet reads the cases' records once: 9 queries, whatever the count; the Visits
    # sheet and its audit history add one each.
    budget = 47
    make_cases(centre_a, 1)
    with django_assert_max_num_queries(budget):
        export_registry(io.BytesIO(), fmt, ExportOptions(user=reviewer))
    for i in range(49):
        patient = PatientFactory(centre=centre_a, study_id=f"SYN-Q-MORE-{i:03d}")
        given = MscAdministrationFactory(product=MscProductFactory(patient=patient))
        AdverseEventFactory(patient=patient, administration=given)
    with django_assert_max_num_queries(budget):
        export_registry(io.BytesIO(), fmt, ExportOptions(user=reviewer))


def test_published_series_workbook_lets_an_auditor_find_each_administration(db, registry_admin):
    call_command("load_published_series", verbosity=0)
    workbook = xlsx(registry_admin)
    administrations = records(workbook, "MSC administrations")
    assert len(administrations) == 15
    for a in administrations:
        assert a["Study ID"].startswith("WONG2021-") and a["Route"] and a["Number"]
        assert "Cells (x10^6)" in a and "Dose (x10^6 cells/kg, computed)" in a and "Reported dose (x10^6 cells/kg)" in a
    first = next(a for a in administrations if a["Study ID"] == "WONG2021-1" and a["Number"] == 1)
    assert (first["Route"], first["Cells (x10^6)"], first["Reported dose (x10^6 cells/kg)"]) == ("Intranasal", 100, 1.8)
    events = records(workbook, "Adverse events")
    assert len(events) == 7 and all(e["Description"] and e["Category"] for e in events)


def test_cli_export_writes_and_logs(case_a, reviewer, tmp_path):
    output = tmp_path / "registry.xlsx"
    call_command("export_registry", "--output", str(output), "--user", "reviewer-a", "--centre", "SYN-A")
    assert openpyxl.load_workbook(output)["Patients"].max_row == 2
    log = ExportLog.objects.get()
    assert (log.channel, log.filters) == ("cli", {"centre": ["SYN-A"]})
