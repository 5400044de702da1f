"""One view of a case's records: the case page, the checklist, the data-quality rules, the Summary
Table and the figures read the same CaseRecords, built once per case from prefetched records; the
quality and report modules hand their findings back and never see a request."""

import ast
from decimal import Decimal as D
from pathlib import Path

from django.urls import reverse

from cases import case_records
from cases.case_records import CaseRecords, records_of
from cases.models import Patient
from cases.quality.checklist import checklist
from cases.quality.discrepancies import case_discrepancies, keys_of, new_discrepancies, new_discrepancies_text
from cases.reports.cohort import cohort_numbers
from cases.reports.figures import case_timeline, cohort_figure
from cases.reports.summary import summary_row
from tests.factories import AdverseEventFactory, MedicationCourseFactory, MscAdministrationFactory

CASES = Path(__file__).resolve().parent.parent / "cases"
DOMAIN_MODULES = [
    CASES / "case_records.py",
    CASES / "workflow.py",
    *sorted((CASES / "quality").glob("*.py")),
    *sorted((CASES / "reports").glob("*.py")),
]


def count_builds(monkeypatch):
    """The cases a CaseRecords is built for, one entry per build."""
    built, build = [], CaseRecords.__init__

    def counting(self, patient):
        built.append(patient.pk)
        build(self, patient)

    monkeypatch.setattr(case_records.CaseRecords, "__init__", counting)
    return built


def test_one_case_records_serves_checklist_rules_summary_and_figures_without_another_query(
    case_a, django_assert_num_queries
):
    AdverseEventFactory(patient=case_a, onset_days_from_first_msc=10)
    (records,) = records_of(Patient.objects.filter(pk=case_a.pk))
    with django_assert_num_queries(0):
        assert checklist(records).total == 8
        case_discrepancies(records)
        assert summary_row(records)[0] == case_a.study_id
        assert "case-timeline" in case_timeline(records)
        assert cohort_numbers([records])["case_count"] == 1
        assert "cohort-figure" in cohort_figure([records])


def test_case_records_reads_administrations_in_sequence_and_times_from_the_first_msc(case_a):
    product = case_a.products.get()
    first = product.administrations.get()
    first.sequence, first.days_from_first_msc, first.age_years = 2, 30, None
    first.save()
    MscAdministrationFactory(product=product, sequence=1, days_from_first_msc=0, age_years=D("12"))
    course = MedicationCourseFactory(patient=case_a, start_days_from_first_msc=-60, start_age_years=None)
    (records,) = records_of(Patient.objects.filter(pk=case_a.pk))
    assert [a.sequence for a in records.administrations] == [1, 2]
    assert records.anchor.age_years == D("12")
    assert records.days(records.administrations[1]) == 30
    assert records.days(course, "start") == -60


def test_case_page_builds_the_case_records_once(client, clinician, case_a, monkeypatch):
    client.force_login(clinician)
    built = count_builds(monkeypatch)
    response = client.get(reverse("cases:patient-detail", args=[case_a.pk]))
    assert response.status_code == 200
    assert built == [case_a.pk]


def test_cohort_page_builds_each_case_records_once_for_its_numbers_and_figure(client, reviewer, case_a, monkeypatch):
    client.force_login(reviewer)
    built = count_builds(monkeypatch)
    response = client.get(reverse("cases:cohort"))
    assert response.status_code == 200
    assert built == [case_a.pk]


def test_new_discrepancies_are_only_those_a_change_introduced(case_a):
    before = keys_of(case_a)
    assert new_discrepancies(case_a, before) == []
    administration = case_a.products.get().administrations.get()
    administration.reported_dose_millions_per_kg = D("3")  # no longer cells / weight
    administration.save()
    (new,) = new_discrepancies(case_a, before)
    assert new.rule.code == "dose_disagrees" and new.record == administration
    assert new_discrepancies(case_a, keys_of(case_a)) == []
    assert new_discrepancies_text([new]).startswith("Data-quality check found 1 new discrepancy: Reported dose")


def test_quality_report_and_workflow_modules_never_see_a_request_nor_send_messages():
    for path in DOMAIN_MODULES:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                imported = [f"{node.module}.{alias.name}" for alias in node.names]
                assert not any("django.contrib.messages" in name for name in imported), path
            if isinstance(node, ast.Import):
                assert not any(a.name.startswith("django.contrib.messages") for a in node.names), path
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                arguments = [a.arg for a in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]]
                assert "request" not in arguments, f"{path.name}: {node.name}({', '.join(arguments)})"
