"""Import speed without lost rigour: a sheet's records are matched, and its rows checked against
the model's check constraints, without a query per row or per constraint; the answers stay the
database's."""

import itertools
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.models import AdverseEvent, MedicationCourse, Patient, PreviousDiagnosis
from cases.spreadsheets import import_file
from cases.spreadsheets.constraints import validate_constraints
from tests.factories import AdverseEventFactory, MedicationCourseFactory

HEADER = "Centre,Study ID,Current diagnosis,Sex,Age at onset (years),Total cost to the family,Total cost currency,"
HEADER += "Funding sources\n"


def patients_csv(count):
    """Cases of centre A, a third with a cost, half with funding sources."""
    rows = []
    for n in range(count):
        cost = "" if n % 3 else f"{n}00,USD"
        funding = "Savings; Loan" if n % 2 else ""
        rows.append(
            f"SYN-A,SYN-SPEED-{n:03d},Juvenile idiopathic arthritis (JIA),Female,{n % 15}.5,{cost or ','},{funding}\n"
        )
    return HEADER + "".join(rows)


def queries(csv, user, dry_run=False):
    """The queries an import makes, savepoints left out (one per row, by design: a database error
    in one row must not hide the problems of the next ones)."""
    with CaptureQueriesContext(connection) as captured:
        report = import_file("Patients.csv", csv.encode(), user, dry_run=dry_run)
    assert report.ok, report.problems
    sql = [q["sql"] for q in captured.captured_queries]
    return report, [q for q in sql if not q.startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]


def test_reimporting_an_unchanged_sheet_costs_the_same_queries_for_2_or_40_rows(centre_a, registry_admin):
    assert import_file("Patients.csv", patients_csv(40).encode(), registry_admin, dry_run=False).saved
    two, two_sql = queries(patients_csv(2), registry_admin)
    forty, forty_sql = queries(patients_csv(40), registry_admin)
    assert two.sheets[0].unchanged == 2 and forty.sheets[0].unchanged == 40
    assert len(forty_sql) == len(two_sql), "a query per row crept back into matching or comparing"


def test_new_rows_cost_a_fixed_number_of_queries_and_none_per_check_constraint(centre_a, registry_admin):
    _, one_sql = queries(patients_csv(1), registry_admin, dry_run=True)
    report, many_sql = queries(patients_csv(31), registry_admin, dry_run=True)
    assert report.sheets[0].new == 31
    assert not [q for q in many_sql if '"_check"' in q], "check constraints are evaluated in Python"
    # Each new row: the centre's foreign key and the unique (centre, study ID) check, the insert,
    # its history row and its funding sources (with their history), as save() and set() make them.
    assert (len(many_sql) - len(one_sql)) / 30 <= 7


def test_two_rows_with_one_key_are_still_two_cases_and_the_second_is_refused(centre_a, registry_admin):
    csv = HEADER + "SYN-A,SYN-TWICE,Vasculitis,Female,4,,,\nSYN-A,SYN-TWICE,Vasculitis,Male,5,,,\n"
    report = import_file("Patients.csv", csv.encode(), registry_admin, dry_run=False)
    assert report.problems == ["Patients, row 3: This study ID is already used in this centre."]
    assert not Patient.objects.filter(study_id="SYN-TWICE").exists()


def test_records_with_a_blank_key_value_are_matched_on_reimport(case_a, registry_admin):
    csv = (
        "Centre,Study ID,Diagnosis,Diagnosis detail,Age at time (years)\n"
        "SYN-A,SYN-A-0001,Vasculitis,,\n"
        "SYN-A,SYN-A-0001,Vasculitis,,5\n"
        "SYN-A,SYN-A-0001,Vasculitis,,\n"
    )
    first = import_file("previous.csv", csv.encode(), registry_admin, dry_run=False, sheet="Previous diagnoses")
    assert first.saved and first.sheets[0].new == 3
    again = import_file("previous.csv", csv.encode(), registry_admin, dry_run=False, sheet="Previous diagnoses")
    assert again.sheets[0].unchanged == 3 and again.sheets[0].new == 0
    assert PreviousDiagnosis.objects.filter(patient=case_a, diagnosis="vasculitis").count() == 3


def errors_of(check, instance):
    try:
        check(instance)
    except ValidationError as error:
        return error.message_dict
    return {}


def same_answers(instances):
    for instance in instances:
        ours = errors_of(lambda i: validate_constraints(i, set()), instance)
        assert ours == errors_of(lambda i: i.validate_constraints(), instance), vars(instance)


PATIENT_VALUES = {
    "age_at_onset_years": [None, Decimal("0"), Decimal("21"), Decimal("21.1"), Decimal("-0.5")],
    "age_at_diagnosis_years": [None, Decimal("4.5"), Decimal("30"), Decimal("31")],
    "diagnosis": ["jia", "sle"],
    "jia_category": ["", "systemic"],
    "total_cost_amount": [None, Decimal("0"), Decimal("-1"), Decimal("12000.50")],
    "total_cost_currency": ["", "USD"],
    "ana_titre": [None, 0, 1, 100000, 100001],
    "study_id": ["", "SYN-1"],
}


@pytest.mark.parametrize("withdrawn", [False, True])
def test_patient_check_constraints_answer_as_the_database_does(centre_a, withdrawn):
    names = list(PATIENT_VALUES)
    instances = []
    for n, values in enumerate(itertools.product(*PATIENT_VALUES.values())):
        if n % 7:  # a sample of the 6,400 combinations, every value of each field included
            continue
        instance = Patient(centre=centre_a, **dict(zip(names, values, strict=True)))
        if withdrawn:
            instance.withdrawn_at = timezone.now()
        instances.append(instance)
    same_answers(instances)


def test_stop_before_start_and_event_rules_answer_as_the_database_does(patient):
    day = date(2020, 1, 1)
    courses = []
    for start, stop in itertools.product([None, day, day + timedelta(1)], repeat=2):
        for start_age, stop_age in itertools.product([None, Decimal("5"), Decimal("5.5")], repeat=2):
            courses.append(
                MedicationCourseFactory.build(
                    patient=patient,
                    start_date=start,
                    stop_date=stop,
                    start_age_years=start_age,
                    stop_age_years=stop_age,
                )
            )
    same_answers(courses)
    events = []
    for grade, outcome, death in itertools.product([None, 3, 5], ["fatal", "recovered", ""], [True, False]):
        events.append(
            AdverseEventFactory.build(patient=patient, ctcae_grade=grade, outcome=outcome, resulted_in_death=death)
        )
    same_answers(events)
    assert MedicationCourse._meta.constraints and AdverseEvent._meta.constraints
