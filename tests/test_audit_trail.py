"""The audit trail: every change recorded with who, when, before and after; nothing escapes it,
nothing rewrites it."""

import pytest
from django.contrib import admin
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from cases import workflow
from cases.audit import AuditBypassError, bulk_create_with_history, bulk_update_with_history
from cases.forms import MscProviderForm
from cases.kinds import RECORD_KINDS
from cases.models import MedicationCourse, MscProvider, Patient
from tests.factories import MedicationCourseFactory, PatientFactory


def form_data(client, url):
    """What the browser would post back unchanged: every input of the form as rendered."""
    response = client.get(url)
    form = response.context["form"]
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if name == "version":
            value = field.prepare_value(value).value
        if value is None or value is False:
            continue
        if value is True:
            value = "on"
        data[name] = [str(v) for v in value] if isinstance(value, list) else str(value)
    return data


def test_form_edit_is_recorded_with_user_and_values_before_and_after(client, clinician, case_a):
    course = case_a.medications.get()
    url = reverse("cases:medication-update", args=[case_a.pk, course.pk])
    client.force_login(clinician)
    data = {**form_data(client, url), "frequency": "weekly"}
    assert client.post(url, data).status_code == 302
    newest, before = course.history.all()[:2]
    assert newest.history_type == "~" and newest.history_user == clinician
    assert (before.frequency, newest.frequency) == ("", "weekly")


@pytest.mark.parametrize("slug", sorted(RECORD_KINDS))
def test_creating_and_deleting_each_kind_of_record_is_recorded(slug, client, clinician, case_a):
    kind = RECORD_KINDS[slug]
    record = kind.records_of(case_a, clinician).first()
    client.force_login(clinician)
    if slug in ("administration", "product"):  # records still pointing at it go first (PROTECT)
        case_a.adverse_events.get().delete()
    if slug == "product":
        record.administrations.get().delete()
    assert client.post(reverse(f"cases:{slug}-delete", args=[case_a.pk, record.pk])).status_code == 302
    rows = kind.model.history.filter(id=record.pk)
    assert [r.history_type for r in rows.order_by("history_date")] == ["+", "-"]
    assert rows.latest("history_date").history_user == clinician


def test_review_status_and_data_queries_are_recorded(clinician, reviewer, case_a):
    query = workflow.raise_query(case_a, reviewer, "ANA titre at baseline?")
    workflow.submit(case_a, clinician)
    assert case_a.history.first().review_status == "submitted"
    assert query.history.get().question == "ANA titre at baseline?"


def admin_form_data(provider):
    version = MscProviderForm.base_fields["version"].prepare_value(provider.version).value
    return {
        "name": provider.name,
        "country": provider.country,
        "kind": provider.kind,
        "version": version,
        "abstracted_from": provider.abstracted_from,
        "source_passage": "",
        "note": provider.note,
    }


def test_admin_change_is_recorded_under_the_admin(admin_client):
    provider = MscProvider.objects.create(name="Synthetic clinic", country="XX")
    url = reverse("admin:cases_mscprovider_change", args=[provider.pk])
    response = admin_client.post(url, {**admin_form_data(provider), "note": "Changed in the admin."})
    assert response.status_code == 302
    newest = provider.history.first()
    assert newest.note == "Changed in the admin." and newest.history_user.username == "admin"


@pytest.mark.parametrize(
    "write",
    [
        lambda: MedicationCourse.objects.all().update(frequency="daily"),
        lambda: MedicationCourse.objects.bulk_update(list(MedicationCourse.objects.all()), ["frequency"]),
        lambda: MedicationCourse.objects.bulk_create(
            [MedicationCourse(patient=Patient.objects.get(), drug="naproxen")]
        ),
        lambda: MedicationCourse.objects.all().delete(),
    ],
    ids=["update", "bulk_update", "bulk_create", "queryset_delete"],
)
def test_writes_that_skip_the_audit_trail_are_refused(write, patient):
    MedicationCourseFactory(patient=patient)
    with pytest.raises(AuditBypassError):
        write()
    assert MedicationCourse.objects.get().frequency == ""


def test_bulk_helpers_write_history_rows(patient):
    courses = bulk_create_with_history(
        [MedicationCourse(patient=patient, drug="naproxen", relation_to_msc="before") for _ in range(3)],
        MedicationCourse,
    )
    assert MedicationCourse.history.filter(history_type="+").count() == 3
    courses = list(MedicationCourse.objects.all())
    for course in courses:
        course.frequency = "daily"
    bulk_update_with_history(courses, MedicationCourse, ["frequency"])
    assert MedicationCourse.history.filter(history_type="~", frequency="daily").count() == len(courses)


def test_reverting_from_the_admin_history_is_refused_even_with_a_valid_form(admin_client, settings):
    assert settings.SIMPLE_HISTORY_REVERT_DISABLED is True
    provider = MscProvider.objects.create(name="Synthetic clinic", country="XX")
    provider.note = "second revision"
    provider.save()
    first = provider.history.earliest("history_date")
    url = reverse("admin:cases_mscprovider_simple_history", args=[provider.pk, first.history_id])
    assert admin_client.get(url).status_code == 200  # history can be read
    assert admin_client.post(url, {**admin_form_data(provider), "note": ""}).status_code == 403
    provider.refresh_from_db()
    assert provider.note == "second revision"


def test_history_tables_are_not_editable_in_the_admin():
    registered = {model._meta.label for model in admin.site._registry}
    assert not {label for label in registered if ".Historical" in label}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL only")
@pytest.mark.parametrize("statement", ["UPDATE {table} SET study_id = 'X'", "DELETE FROM {table}"])
def test_history_is_append_only_in_postgresql(statement, patient):
    table = Patient.history.model._meta.db_table
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement.format(table=table))
    assert Patient.history.filter(id=patient.pk).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL only")
def test_every_history_table_has_the_append_only_trigger(db):
    from django.apps import apps

    from cases.audit import history_tables

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT event_object_table FROM information_schema.triggers WHERE trigger_name LIKE '%%_append_only'"
        )
        protected = {row[0] for row in cursor.fetchall()}
    assert set(history_tables(apps)) <= protected


def test_change_to_a_submitted_case_needs_a_reason_kept_with_the_change(client, clinician, case_a):
    workflow.submit(case_a, clinician)
    course = case_a.medications.get()
    url = reverse("cases:medication-update", args=[case_a.pk, course.pk])
    client.force_login(clinician)
    data = {**form_data(client, url), "frequency": "weekly"}
    response = client.post(url, data)
    assert response.status_code == 200 and "change_reason" in response.context["form"].errors
    course.refresh_from_db()
    assert course.frequency == ""
    client.post(url, {**data, "change_reason": "Frequency found in the clinic letter."})
    assert course.history.first().history_change_reason == "Frequency found in the clinic letter."


def test_history_page_says_who_changed_which_field_from_what_to_what(client, clinician, reviewer, case_a):
    course = case_a.medications.get()
    url = reverse("cases:medication-update", args=[case_a.pk, course.pk])
    client.force_login(clinician)
    client.post(url, {**form_data(client, url), "frequency": "weekly"})
    client.force_login(reviewer)
    page = client.get(reverse("cases:patient-history", args=[case_a.pk])).content.decode()
    assert "clinician-a" in page and "Frequency: from “(empty)” to “weekly”" in page
    assert page.index("weekly") < page.index("Created")  # newest first
    assert 'method="post"' not in page.replace('action="/accounts/logout/"', "").split("</nav>", 1)[1]


def test_history_page_runs_a_fixed_number_of_queries(client, reviewer, case_a, django_assert_max_num_queries):
    for n in range(20):
        MedicationCourseFactory(patient=case_a, frequency=f"{n}")
    client.force_login(reviewer)
    url = reverse("cases:patient-history", args=[case_a.pk])
    client.get(url)
    with django_assert_max_num_queries(21):  # one query per kind of history, whatever the number of records
        assert client.get(url).status_code == 200


def test_loading_the_published_series_records_initial_history(db):
    from django.core.management import call_command

    call_command("load_published_series", verbosity=0)
    assert Patient.history.filter(history_type="+").count() == 3
    assert set(Patient.history.values_list("history_type", flat=True)) == {"+"}


def test_patient_factory_is_synthetic(patient):
    assert PatientFactory._meta.model is Patient and patient.abstracted_from == "synthetic"
