"""Imports: a dry run first, every problem as 'Sheet, row N, Column: reason', all rows or none,
re-imports change nothing, the audit trail names the importer, and hostile files are refused."""

import io

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from cases.models import MscAdministration, Patient
from cases.spreadsheets import ImportRefused, import_file

PATIENTS = "Centre,Study ID,Current diagnosis,Sex,Age at onset (years)\n"
ADMINS = "Centre,Study ID,Number,Product,Route,Cells (x10^6),Patient weight (kg)\n"


def snapshot():
    return {
        model.__name__: sorted(model.all_objects.values_list("pk", "version")) for model in (Patient, MscAdministration)
    } | {"history": Patient.history.count() + MscAdministration.history.count()}


def xlsx_bytes(sheets):
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, table in sheets.items():
        worksheet = workbook.create_sheet(name)
        for row in table:
            worksheet.append(row)
    target = io.BytesIO()
    workbook.save(target)
    return target.getvalue()


def test_dry_run_previews_and_saves_nothing(centre_a, registry_admin):
    csv = PATIENTS + "SYN-A,SYN-NEW-1,Systemic lupus erythematosus (SLE),Female,10\n"
    report = import_file("Patients.csv", csv.encode(), registry_admin, dry_run=True)
    assert report.ok and not report.saved
    assert report.sheets[0].new == 1
    assert not Patient.objects.filter(study_id="SYN-NEW-1").exists()


def test_import_saves_under_the_importing_user_with_the_file_name(centre_a, registry_admin):
    csv = PATIENTS + "SYN-A,SYN-NEW-1,Juvenile idiopathic arthritis (JIA),Male,4.5\n"
    report = import_file("Patients.csv", csv.encode(), registry_admin, dry_run=False)
    assert report.saved
    patient = Patient.objects.get(study_id="SYN-NEW-1")
    assert patient.diagnosis == "jia" and patient.created_by == registry_admin
    record = patient.history.get()
    assert record.history_user == registry_admin
    assert record.history_change_reason == "Imported from Patients.csv"
    again = import_file("Patients.csv", csv.encode(), registry_admin, dry_run=False)
    assert again.sheets[0].unchanged == 1 and patient.history.count() == 1


def test_one_bad_row_saves_no_row(case_a, registry_admin):
    before = snapshot()
    csv = (
        ADMINS
        + "SYN-A,SYN-A-0001,1,{label},Intravenous,120,50\n"
        + "SYN-A,SYN-A-0001,2,{label},Intravenous,0,50\n"
        + "SYN-A,SYN-A-0001,3,{label},Intraosseous,10,50\n"
    ).format(label=case_a.products.get().label)
    report = import_file("admin.csv", csv.encode(), registry_admin, dry_run=False, sheet="MSC administrations")
    assert report.problems == ["MSC administrations, row 3, Cells (x10^6): Cells must be greater than 0."]
    assert not report.saved
    assert snapshot() == before


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            PATIENTS + "SYN-A,SYN-X,Lupus-ish,Female,10\n",
            "row 2, Current diagnosis: 'Lupus-ish' is not an allowed value",
        ),
        (PATIENTS + "SYN-A,SYN-X,Vasculitis,Female,ten\n", "row 2, Age at onset (years): 'ten' is not a number."),
        (PATIENTS + "SYN-A,SYN-X,Vasculitis,Female,40\n", "row 2, Age at onset (years): Age at onset must be between"),
        (PATIENTS + "SYN-B,SYN-X,Vasculitis,Female,4\n", "row 2, Centre: 'SYN-B' is not a centre you belong to."),
        (PATIENTS + "SYN-A,,Vasculitis,Female,4\n", "row 2, Study ID:"),
    ],
)
def test_bad_values_are_reported_by_row_and_column(centre_a, centre_b, reviewer, registry_admin, content, expected):
    registry_admin.centres.set([centre_a])
    registry_admin.groups.first().permissions.remove(
        *registry_admin.groups.first().permissions.filter(codename="see_all_centres")
    )
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.get(pk=registry_admin.pk)
    before = snapshot()
    report = import_file("Patients.csv", content.encode(), admin, dry_run=False)
    assert any(p.startswith("Patients, " + expected) for p in report.problems), report.problems
    assert snapshot() == before


FORMULA_BOOK = xlsx_bytes({"Patients": [["Centre", "Study ID", "Current diagnosis"], ["SYN-A", "=1+1", "Vasculitis"]]})


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.csv", b"", "The file is empty."),
        ("Patients.csv", "Centre,Study ID,Current diagnosis\nSYN-A,é,x\n".encode("latin-1"), "not UTF-8"),
        ("notes.txt", b"just some words", "not a spreadsheet"),
        ("fake.xlsx", b"PK\x03\x04 not really a zip", "not a readable Excel"),
        ("book.xlsx", FORMULA_BOOK, "Patients, row 2, Study ID: formula cells are refused"),
        ("Patients.csv", b"Centre,Study ID,Diagnosis colour\nSYN-A,X,red\n", "unknown column 'Diagnosis colour'"),
        ("Patients.csv", b"Centre,Current diagnosis\nSYN-A,Vasculitis\n", "missing column 'Study ID'"),
        ("Patients.csv", b"Centre,Study ID\n", "no rows to import"),
        ("Patients.csv", b"\n", "the sheet is empty"),
        ("Patients.csv", b"Centre,Study ID\x00\n", "NUL"),
        ("Patients.csv", b"Centre,Study ID\n" + b"SYN-A,X\n" * (2 * 1024 * 1024), "larger than the limit"),
    ],
)
def test_hostile_files_are_refused_and_change_nothing(case_a, registry_admin, name, data, message):
    before = snapshot()
    with pytest.raises(ImportRefused, match=message):
        import_file(name, data, registry_admin, dry_run=False)
    assert snapshot() == before


def test_only_users_with_the_import_permission_may_import(centre_a, reviewer):
    with pytest.raises(ImportRefused, match="may not import"):
        import_file("Patients.csv", (PATIENTS + "SYN-A,X,Vasculitis,Female,4\n").encode(), reviewer, dry_run=False)


def test_verified_cases_are_not_changed_by_an_import(case_a, registry_admin):
    case_a.review_status = "verified"
    case_a.save()
    csv = PATIENTS + "SYN-A,SYN-A-0001,Vasculitis,Female,4\n"
    report = import_file("Patients.csv", csv.encode(), registry_admin, dry_run=False)
    assert "locked" in report.problems[0]
    assert Patient.objects.get(pk=case_a.pk).diagnosis == "sle"


def test_cli_prints_each_problem_and_fails(case_a, registry_admin, tmp_path, capsys):
    path = tmp_path / "admin.csv"
    path.write_text(ADMINS + f"SYN-A,SYN-A-0001,1,{case_a.products.get().label},Sideways,1,50\n")
    with pytest.raises(CommandError, match="nothing was saved"):
        call_command(
            "import_registry", "--file", str(path), "--user", "registry-admin", "--sheet", "MSC administrations"
        )
    assert "MSC administrations, row 2, Route: 'Sideways' is not an allowed value" in capsys.readouterr().err
    path.write_text(PATIENTS + "SYN-A,SYN-CLI,Vasculitis,Female,4\n")
    call_command("import_registry", "--file", str(path), "--user", "registry-admin", "--sheet", "Patients")
    assert Patient.objects.filter(study_id="SYN-CLI").exists()


def test_web_upload_preview_then_confirm(centre_a, registry_admin, client, tmp_path):
    client.force_login(registry_admin)
    upload = io.BytesIO((PATIENTS + "SYN-A,SYN-WEB,Vasculitis,Female,4\n").encode())
    upload.name = "Patients.csv"
    response = client.post(reverse("cases:import"), {"file": upload})
    assert response.status_code == 200 and b"Save all rows" in response.content
    assert not Patient.objects.filter(study_id="SYN-WEB").exists()
    digest = client.session["cases_import_upload"]["sha256"]
    response = client.post(reverse("cases:import-confirm"), {"sha256": digest})
    assert response.status_code == 302
    assert Patient.objects.filter(study_id="SYN-WEB").exists()
    assert "cases_import_upload" not in client.session


def test_web_refuses_a_hostile_file_with_a_message(centre_a, registry_admin, client):
    client.force_login(registry_admin)
    upload = io.BytesIO(b"\x00\x01binary")
    upload.name = "x.bin"
    response = client.post(reverse("cases:import"), {"file": upload})
    assert response.status_code == 400 and b"not a spreadsheet" in response.content


STATEMENTS = "Centre,Study ID,Checklist item,Statement,Follow-up (months)\n"


def test_checklist_statements_are_imported_by_case_and_item(case_a, registry_admin):
    from cases.models import ChecklistItem, ChecklistStatement

    label = ChecklistItem.OUTCOME_SOURCES.label
    csv = STATEMENTS + f'SYN-A,SYN-A-0001,"{label}",Unknown,\n'
    csv += "SYN-A,SYN-A-0001,adverse_events,None,12\n"
    report = import_file("Checklist statements.csv", csv.encode(), registry_admin, dry_run=False)
    assert report.saved, report.problems
    saved = ChecklistStatement.objects.filter(patient=case_a, stated_by=registry_admin)
    assert sorted(saved.values_list("item", "statement", "follow_up_months")) == [
        ("adverse_events", "none", 12),
        ("outcome_sources", "unknown", None),
    ]
    reason = saved.get(item="outcome_sources").history.get().history_change_reason
    assert reason == "Imported from Checklist statements.csv"
    again = import_file("Checklist statements.csv", csv.encode(), registry_admin, dry_run=False)
    assert again.sheets[0].unchanged == 2


def test_a_statement_of_no_adverse_events_without_follow_up_is_refused_by_row(case_a, registry_admin):
    csv = STATEMENTS + "SYN-A,SYN-A-0001,adverse_events,None,\n"
    report = import_file("Checklist statements.csv", csv.encode(), registry_admin, dry_run=False)
    assert report.problems == [
        "Checklist statements, row 2: Say over how many months of follow-up no adverse event occurred."
    ]
    assert not case_a.checklist_statements.filter(item="adverse_events").exists()


def test_checklist_statements_of_a_verified_case_are_not_imported(case_a, registry_admin):
    case_a.review_status = "verified"
    case_a.save()
    csv = STATEMENTS + "SYN-A,SYN-A-0001,outcome_sources,Unknown,\n"
    report = import_file("Checklist statements.csv", csv.encode(), registry_admin, dry_run=False)
    assert "locked" in report.problems[0]
    assert not case_a.checklist_statements.filter(item="outcome_sources").exists()


def test_checklist_statements_of_a_case_in_another_centre_are_refused(case_a, centre_b, registry_admin):
    registry_admin.centres.set([centre_b])
    registry_admin.groups.first().permissions.remove(
        *registry_admin.groups.first().permissions.filter(codename="see_all_centres")
    )
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.get(pk=registry_admin.pk)
    csv = STATEMENTS + "SYN-A,SYN-A-0001,outcome_sources,Unknown,\n"
    report = import_file("Checklist statements.csv", csv.encode(), admin, dry_run=False)
    assert report.problems
    assert report.problems[0].startswith("Checklist statements, row 2, Study ID: No case SYN-A-0001")
    assert not case_a.checklist_statements.filter(item="outcome_sources").exists()


EVENTS = (
    "Centre,Study ID,Description,Category,Reported by,Age at onset (years),Onset: days from first MSC,Seriousness\n"
)


def test_an_imported_event_must_answer_its_seriousness(case_a, registry_admin):
    csv = EVENTS + "SYN-A,SYN-A-0001,synthetic rash,other,family,,3,\n"
    report = import_file("Adverse events.csv", csv.encode(), registry_admin, dry_run=False)
    assert any("Seriousness" in p and "serious, not serious or unknown" in p for p in report.problems), report.problems
    answered = EVENTS + "SYN-A,SYN-A-0001,synthetic rash,other,family,,3,Not serious\n"
    report = import_file("Adverse events.csv", answered.encode(), registry_admin, dry_run=False)
    assert not report.problems
    assert case_a.adverse_events.get(description="synthetic rash").seriousness == "not_serious"
