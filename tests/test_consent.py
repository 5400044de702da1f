"""Consent: a case needs a consent basis to be submitted, a withdrawal of consent to sharing keeps the
case out of later exports (its history stays), and consent at 18 shows as due work."""

import io
import zipfile
from datetime import timedelta
from decimal import Decimal

import openpyxl
import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from cases import workflow
from cases.forms import ConsentForm
from cases.history import case_history
from cases.models import Consent, Patient
from cases.quality.consent import NO_BASIS, consent_at_majority_due
from cases.spreadsheets import ExportOptions, export_registry
from tests.factories import (
    AssessmentFactory,
    ConsentFactory,
    MscAdministrationFactory,
    MscProductFactory,
    PatientFactory,
)

TODAY = timezone.localdate()


def xlsx_sheets(user, **options):
    target = io.BytesIO()
    export_registry(target, "xlsx", ExportOptions(user=user, **options))
    workbook = openpyxl.load_workbook(io.BytesIO(target.getvalue()))
    return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in workbook.worksheets}


def csv_files(user, **options):
    target = io.BytesIO()
    export_registry(target, "csv", ExportOptions(user=user, **options))
    archive = zipfile.ZipFile(io.BytesIO(target.getvalue()))
    return {name: archive.read(name).decode("utf-8-sig") for name in archive.namelist()}


def withdraw_consent(case, scope, on=TODAY):
    consent = case.consents.get(kind="parental_permission")
    consent.consent_withdrawn_on, consent.withdrawal_scope = on, scope
    consent.full_clean()
    consent.save()
    return consent


def set_kind(case, kind):
    consent = case.consents.get()
    consent.kind = kind
    consent.save()


def test_case_without_consent_basis_cannot_be_submitted(case_a, clinician):
    case_a.consents.get().delete()
    with pytest.raises(workflow.WorkflowError, match="No consent basis is recorded"):
        workflow.submit(Patient.objects.get(pk=case_a.pk), clinician)
    assert Patient.objects.get(pk=case_a.pk).review_status == "draft"


def test_submit_page_says_why_a_case_without_consent_basis_was_not_submitted(client, case_a, clinician):
    case_a.consents.get().delete()
    client.force_login(clinician)
    response = client.post(reverse("cases:patient-submit", args=[case_a.pk]), follow=True)
    assert escape(NO_BASIS) in response.content.decode()
    assert Patient.objects.get(pk=case_a.pk).review_status == "draft"


def test_childs_assent_alone_is_not_a_consent_basis(case_a, clinician):
    set_kind(case_a, "child_assent")
    with pytest.raises(workflow.WorkflowError, match="No consent basis"):
        workflow.submit(Patient.objects.get(pk=case_a.pk), clinician)


def test_consent_withdrawn_for_all_use_is_no_longer_a_basis(case_a, clinician):
    withdraw_consent(case_a, "all")
    with pytest.raises(workflow.WorkflowError, match="No consent basis"):
        workflow.submit(Patient.objects.get(pk=case_a.pk), clinician)


def test_ethics_waiver_is_a_consent_basis(case_a, clinician):
    set_kind(case_a, "waiver")
    workflow.submit(Patient.objects.get(pk=case_a.pk), clinician)
    assert Patient.objects.get(pk=case_a.pk).review_status == "submitted"


def test_case_page_shows_consent_rows_and_the_missing_basis(client, case_a, clinician):
    client.force_login(clinician)
    consent = case_a.consents.get()
    page = client.get(case_a.get_absolute_url()).content.decode()
    assert f'id="consent-{consent.pk}"' in page and "The case has a consent basis." in page
    consent.delete()
    assert escape(NO_BASIS) in client.get(case_a.get_absolute_url()).content.decode()


def test_withdrawal_scope_without_its_date_is_refused_by_form_and_database(case_a):
    form = ConsentForm(
        data={"kind": "parental_permission", "covers_registry_data": "on", "withdrawal_scope": "all"},
        patient=case_a,
    )
    assert not form.is_valid()
    assert form.errors["consent_withdrawn_on"] == [
        "Give both the date consent was withdrawn and what the withdrawal covers."
    ]
    with transaction.atomic(), pytest.raises(IntegrityError):
        Consent.objects.create(patient=case_a, kind="parental_permission", withdrawal_scope="all")


def test_withdrawal_before_the_consent_and_a_consent_covering_nothing_are_refused(case_a):
    data = {"kind": "parental_permission", "date": "2024-05-01", "consent_withdrawn_on": "2024-04-01"}
    form = ConsentForm(data={**data, "withdrawal_scope": "contact"}, patient=case_a)
    assert not form.is_valid()
    assert form.errors["consent_withdrawn_on"] == ["Consent cannot be withdrawn before it was given."]
    form = ConsentForm(data={"kind": "parental_permission"}, patient=case_a)
    assert form.errors["covers_registry_data"] == ["Tick at least one thing the consent covers."]
    with transaction.atomic(), pytest.raises(IntegrityError):
        ConsentFactory(
            patient=case_a, date=TODAY, consent_withdrawn_on=TODAY - timedelta(days=1), withdrawal_scope="all"
        )
    with transaction.atomic(), pytest.raises(IntegrityError):
        ConsentFactory(patient=case_a, covers_registry_data=False, covers_sharing=False)


def test_withdrawal_of_consent_removes_the_case_from_later_exports(case_a, centre_a, reviewer):
    other = PatientFactory(centre=centre_a, study_id="SYN-A-0002")
    ConsentFactory(patient=other)
    before = xlsx_sheets(reviewer)
    assert {row[1] for row in before["Patients"][1:]} == {"SYN-A-0001", "SYN-A-0002"}

    withdraw_consent(case_a, "sharing")
    after = xlsx_sheets(reviewer)
    for name in ("Patients", "Medications", "Assessments", "Consent", "Summary table"):
        assert not any("SYN-A-0001" in row for row in after[name][1:]), name
    assert {row[1] for row in after["Patients"][1:]} == {"SYN-A-0002"}
    about = dict(after["About"][1:])
    assert about["Cases left out: consent withdrawn"].startswith("1 (")
    assert not any(row[3] == "SYN-A-0001" for row in after["Audit log"][1:] if len(row) > 3)

    files = csv_files(reviewer)
    assert "SYN-A-0002" in files["Patients.csv"] and "SYN-A-0001" not in files["Patients.csv"]
    assert "SYN-A-0001" not in files["Medications.csv"]
    assert "Cases left out: consent withdrawn,1 (" in files["About.csv"]
    # The case and its audit history stay in the registry.
    assert Patient.objects.filter(pk=case_a.pk).exists()
    assert any(entry.record_type == "Consent" and entry.action == "changed" for entry in case_history(case_a))


def test_withdrawal_of_contact_only_keeps_the_case_in_exports(case_a, reviewer):
    withdraw_consent(case_a, "contact")
    sheets = xlsx_sheets(reviewer)
    assert [row[1] for row in sheets["Patients"][1:]] == ["SYN-A-0001"]
    assert dict(sheets["About"][1:])["Cases left out: consent withdrawn"].startswith("0 (")


def test_consent_dates_are_exported_in_the_identifiable_variant_only(case_a, reviewer, registry_admin):
    withdraw_consent(case_a, "contact", on=TODAY - timedelta(days=3))
    header = xlsx_sheets(reviewer)["Consent"][0]
    assert "Date given" not in header and "Consent withdrawn on" not in header
    header, row = xlsx_sheets(registry_admin, identifiable=True)["Consent"]
    assert dict(zip(header, row, strict=True))["Consent withdrawn on"] == (TODAY - timedelta(days=3)).isoformat()


def test_consent_changes_read_in_plain_words_in_the_history(case_a):
    consent = withdraw_consent(case_a, "sharing")
    entry = next(e for e in case_history(case_a) if e.record_type == "Consent" and e.action == "changed")
    changes = {c.label: c.new for c in entry.changes}
    assert changes["What the withdrawal covers"] == "Sharing of de-identified data (no new exports)"
    assert changes["Consent withdrawn on"] == str(consent.consent_withdrawn_on)


def dated_case(centre, study_id, age, days_ago):
    """A case whose one administration has a date and the age on that date."""
    patient = PatientFactory(centre=centre, study_id=study_id)
    ConsentFactory(patient=patient)
    MscAdministrationFactory(
        product=MscProductFactory(patient=patient), date=TODAY - timedelta(days=days_ago), age_years=Decimal(age)
    )
    return patient


def test_consent_at_18_is_due_by_the_age_derived_from_dated_records(centre_a):
    adult = dated_case(centre_a, "SYN-ADULT", "17.5", 365)  # 18.5 today
    soon = dated_case(centre_a, "SYN-SOON", "17.0", 100)  # 17.3 today: 18 within a year
    dated_case(centre_a, "SYN-CHILD", "10.0", 30)
    consented = dated_case(centre_a, "SYN-CONSENTED", "17.9", 365)
    ConsentFactory(patient=consented, kind="consent_at_majority")
    undated = PatientFactory(centre=centre_a, study_id="SYN-UNDATED")
    AssessmentFactory(patient=undated, age_years=Decimal("17.9"))  # an age without a date: age today unknown

    due, unknown = consent_at_majority_due(Patient.objects.filter(centre=centre_a))
    assert [(d.patient, d.age_text, d.is_adult) for d in due] == [
        (adult, "18.5 years", True),
        (soon, "17.3 years", False),
    ]
    assert unknown == 1


def test_dashboard_lists_consent_at_18_as_due_work_and_says_unknown(client, centre_a, clinician):
    dated_case(centre_a, "SYN-ADULT", "17.5", 365)
    PatientFactory(centre=centre_a, study_id="SYN-UNDATED")
    client.force_login(clinician)
    page = client.get(reverse("cases:dashboard")).content.decode()
    assert "Due: consent at 18" in page
    assert "SYN-ADULT" in page and "age today 18.5 years (18 reached)" in page
    assert "age today unknown" in page


@pytest.mark.django_db
def test_each_published_case_has_the_journals_consent_for_publication():
    call_command("load_published_series", verbosity=0)
    for case in Patient.objects.filter(centre__code="WONG2021"):
        kinds = {c.kind: c for c in case.consents.all()}
        assert set(kinds) == {"publication_consent", "waiver"}
        assert "Verbal and written consent for publication was obtained" in kinds["publication_consent"].source_passage
        assert "waived the requirement of ethics and consent approval" in kinds["waiver"].source_passage
        assert kinds["publication_consent"].history.filter(history_type="+").exists()
