"""A time from the first MSC is entered as days, weeks or months, stored in days, and shown back in
the unit it was given in: '4 months' reads 'month 4', never '3.9 months'."""

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.operations import RunPython
from django.urls import reverse

from cases.forms import AdverseEventForm, AssessmentForm, MedicationCourseForm
from cases.models import Assessment, MscAdministration, Patient
from cases.spreadsheets import import_file
from cases.templatetags.registry_tags import when
from cases.timing import Moment, amount_in, days_in, describe
from tests.factories import AssessmentFactory, MscAdministrationFactory, MscProductFactory
from tests.test_constraints import post_data
from tests.test_spreadsheet_round_trip import sheets_of, workbook


def assessment_form(patient, instance=None, **entered):
    """The assessment form as a browser posts it, with `entered` typed into the time fields."""
    instance = instance or AssessmentFactory.build(patient=patient, age_years=None)
    data = post_data(AssessmentForm, instance) | {k: str(v) for k, v in entered.items()}
    return AssessmentForm(data=data, instance=instance, patient=patient)


# ---- Reading back ------------------------------------------------------------------------------------


def test_a_time_reads_back_in_the_unit_it_was_given_in():
    assert describe(Moment(days_from_first_msc=122, offset_unit="months")) == "month 4 after first MSC"
    assert describe(Moment(days_from_first_msc=14, offset_unit="weeks")) == "week 2 after first MSC"
    assert describe(Moment(days_from_first_msc=120, offset_unit="days")) == "day 120 after first MSC"
    assert describe(Moment(days_from_first_msc=-61, offset_unit="months")) == "month 2 before first MSC"
    assert describe(Moment(days_from_first_msc=122, offset_unit="months", estimated=True)) == (
        "~month 4 after first MSC"
    )
    assert describe(Moment(days_from_first_msc=0, offset_unit="months")) == "day of first MSC"


def test_every_whole_or_one_decimal_month_and_every_whole_week_reads_back_as_given():
    for tenths in range(-2400, 2401):
        months = Decimal(tenths) / 10
        assert amount_in(days_in(months, "months"), "months") == months
    for weeks in range(-520, 521):
        assert amount_in(days_in(weeks, "weeks"), "weeks") == weeks


def test_months_are_converted_with_the_registry_month():
    assert days_in(4, "months") == 122  # 4 x 30.4375 = 121.75
    assert days_in(Decimal("4.5"), "months") == 137
    assert days_in(2, "weeks") == 14


# ---- Entering -----------------------------------------------------------------------------------------


def test_four_months_entered_are_stored_in_days_and_shown_back_as_month_4(patient):
    form = assessment_form(patient, days_from_first_msc=4, offset_unit="months")
    assert form.is_valid(), form.errors
    saved = form.save()
    saved.refresh_from_db()
    assert (saved.days_from_first_msc, saved.offset_unit) == (122, "months")
    assert when(saved) == "month 4 after first MSC"
    assert saved.timing_precision == "month"  # left 'unknown': a time in months is known to the month

    edit = AssessmentForm(instance=saved, patient=patient)
    assert edit.initial["days_from_first_msc"] == "4"
    assert edit.initial["offset_unit"] == "months"
    again = assessment_form(patient, instance=saved, days_from_first_msc="4", offset_unit="months")
    assert again.is_valid(), again.errors
    assert again.save().days_from_first_msc == 122


def test_a_precision_the_clinician_chose_is_kept(patient):
    form = assessment_form(patient, days_from_first_msc=3, offset_unit="weeks", timing_precision="day")
    assert form.is_valid(), form.errors
    saved = form.save()
    assert (saved.days_from_first_msc, saved.offset_unit, saved.timing_precision) == (21, "weeks", "day")


def test_each_timing_of_a_record_keeps_its_own_unit(patient):
    from tests.factories import MedicationCourseFactory

    course = MedicationCourseFactory.build(patient=patient, start_age_years=None)
    data = post_data(MedicationCourseForm, course) | {
        "start_days_from_first_msc": "-6",
        "start_offset_unit": "months",
        "stop_days_from_first_msc": "2",
        "stop_offset_unit": "weeks",
    }
    form = MedicationCourseForm(data=data, instance=course, patient=patient)
    assert form.is_valid(), form.errors
    saved = form.save()
    assert when(saved, "start") == "month 6 before first MSC"
    assert when(saved, "stop") == "week 2 after first MSC"


def test_a_time_without_a_number_keeps_no_unit(patient):
    form = assessment_form(patient, age_years="12.5", offset_unit="months")
    assert form.is_valid(), form.errors
    saved = form.save()
    assert (saved.days_from_first_msc, saved.offset_unit) == (None, "")


@pytest.mark.parametrize(
    ("entered", "message"),
    [
        ({"days_from_first_msc": "2.5", "offset_unit": "weeks"}, "Give whole weeks; only months may have a decimal."),
        ({"days_from_first_msc": "10.5", "offset_unit": "days"}, "Give whole days; only months may have a decimal."),
        ({"days_from_first_msc": "1300", "offset_unit": "months"}, "within 100 years of it"),
        ({"days_from_first_msc": "4.25", "offset_unit": "months"}, "no more than 1 decimal place"),
        ({"days_from_first_msc": "4", "offset_unit": "fortnights"}, "Select a valid choice"),
    ],
)
def test_a_time_that_cannot_be_stored_is_refused_next_to_the_field(patient, entered, message):
    form = assessment_form(patient, **entered)
    assert not form.is_valid()
    field = "offset_unit" if "fortnights" in entered.values() else "days_from_first_msc"
    assert any(message in error for error in form.errors[field]), form.errors


def test_the_onset_of_an_adverse_event_is_entered_in_weeks(patient):
    from tests.factories import AdverseEventFactory

    event = AdverseEventFactory.build(patient=patient)
    data = post_data(AdverseEventForm, event) | {"onset_days_from_first_msc": "5", "onset_offset_unit": "weeks"}
    form = AdverseEventForm(data=data, instance=event, patient=patient)
    assert form.is_valid(), form.errors
    assert when(form.save(), "onset") == "week 5 after first MSC"


def test_the_case_page_shows_a_time_as_entered(client, case_a, clinician):
    client.force_login(clinician)
    form = assessment_form(case_a, days_from_first_msc=4, offset_unit="months")
    assert form.is_valid(), form.errors
    form.save()
    page = client.get(reverse("cases:patient-detail", args=[case_a.pk])).content.decode()
    assert "month 4 after first MSC" in page
    assert "3.9 months" not in page


# ---- Stored ------------------------------------------------------------------------------------------


def test_an_offset_saved_without_a_unit_was_given_in_days(patient):
    assessment = AssessmentFactory(patient=patient, days_from_first_msc=35)
    assert assessment.offset_unit == "days"
    assessment.days_from_first_msc = None
    assessment.save()
    assert assessment.offset_unit == ""


def test_the_database_refuses_a_unit_without_an_offset_and_an_offset_without_a_unit(patient):
    assessment = AssessmentFactory(patient=patient, days_from_first_msc=None)
    table = connection.ops.quote_name(Assessment._meta.db_table)

    def write(days, unit):
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET days_from_first_msc = %s, offset_unit = %s WHERE id = %s",
                [days, unit, assessment.pk],
            )

    with pytest.raises(IntegrityError), transaction.atomic():
        write(None, "months")
    with pytest.raises(IntegrityError), transaction.atomic():
        write(122, "")
    write(122, "months")


def test_the_published_series_reads_in_the_papers_own_units(db):
    call_command("load_published_series", verbosity=0)
    case_1 = Patient.objects.get(study_id="WONG2021-1")
    second_course = MscAdministration.objects.get(product__patient=case_1, sequence=6)
    assert when(second_course) == "~month 9 after first MSC"  # 'one further intravenous transfusion ... 9 months later'
    herxheimer = case_1.centre.patients.get(study_id="WONG2021-3").adverse_events.get(onset_days_from_first_msc=35)
    assert when(herxheimer, "onset") == "~week 5 after first MSC"  # 'a migratory arthritis flare 5 weeks post-...'


def days_migration():
    """(the migration that gives existing times their unit, the one before it), found by its code so
    that renumbering the migrations does not break the test."""
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(connection)
    for key, migration in loader.disk_migrations.items():
        if any(
            isinstance(op, RunPython) and op.code.__name__ == "offsets_were_given_in_days"
            for op in migration.operations
        ):
            parent = next(dep for dep in migration.dependencies if dep[0] == "cases")
            return key, parent
    raise AssertionError("no migration gives existing times their unit")


@pytest.mark.django_db(transaction=True)
def test_times_recorded_before_units_existed_read_in_days_after_the_migration():
    target, parent = days_migration()
    executor = MigrationExecutor(connection)
    executor.migrate([parent])
    old = executor.loader.project_state([parent]).apps
    centre = old.get_model("registry", "Centre").objects.create(code="SYN-MIG", name="Synthetic", country="XX")
    patient = old.get_model("cases", "Patient").objects.create(centre=centre, study_id="SYN-MIG-1", diagnosis="sle")
    old.get_model("cases", "Assessment").objects.create(patient=patient, timepoint="after_msc", days_from_first_msc=120)
    old.get_model("cases", "Assessment").objects.create(patient=patient, timepoint="before_msc", age_years=12)
    executor = MigrationExecutor(connection)
    executor.migrate([target])
    new = executor.loader.project_state([target]).apps
    units = dict(new.get_model("cases", "Assessment").objects.values_list("timepoint", "offset_unit"))
    assert units == {"after_msc": "days", "before_msc": ""}
    call_command("migrate", verbosity=0)


# ---- Exported and imported ---------------------------------------------------------------------------


def test_the_unit_is_exported_and_imported_back(patient, registry_admin):
    MscAdministrationFactory(product=MscProductFactory(patient=patient), days_from_first_msc=0)
    AssessmentFactory(
        patient=patient, timepoint="after_msc", age_years=None, days_from_first_msc=122, offset_unit="months"
    )
    sheets = sheets_of(workbook(registry_admin))
    dictionary = {(row[0], row[1]): row for row in sheets["Data dictionary"]}
    assert dictionary["Assessments", "Time: unit of time from first MSC"][5] == "Days; Weeks; Months"
    assert dictionary["Medications", "Stop: unit of time from first MSC"][2] == "stop_offset_unit"
    assert dictionary["Patients", "Age at first MSC (years)"][4] == "years"
    sheet = sheets["Assessments"]
    header, row = sheet[0], sheet[1]
    assert row[header.index("Time: unit of time from first MSC")] == "Months"
    assert row[header.index("Time: days from first MSC")] == 122

    for assessment in Assessment.objects.all():
        assessment.delete()
    report = import_file("registry.xlsx", workbook_of({"Assessments": sheet}), registry_admin, dry_run=False)
    assert report.ok, report.problems
    assert when(Assessment.objects.get()) == "month 4 after first MSC"


def test_an_imported_time_without_a_unit_column_is_in_days_and_a_unit_alone_is_dropped(patient, registry_admin):
    header = "Centre,Study ID,Timepoint,Age at time (years),Time: days from first MSC"
    csv = f"{header}\n{patient.centre.code},{patient.study_id},After MSC,,120\n"
    report = import_file("Assessments.csv", csv.encode(), registry_admin, dry_run=False, sheet="Assessments")
    assert report.ok, report.problems
    assert when(Assessment.objects.get()) == "day 120 after first MSC"

    row = f"{patient.centre.code},{patient.study_id},Latest follow-up,,,Months"
    csv = f"{header},Time: unit of time from first MSC\n{row}\n"
    report = import_file("Assessments.csv", csv.encode(), registry_admin, dry_run=False, sheet="Assessments")
    assert report.ok, report.problems
    assert Assessment.objects.get(timepoint="follow_up").offset_unit == ""


def workbook_of(sheets):
    from tests.test_imports import xlsx_bytes

    return xlsx_bytes(sheets)
