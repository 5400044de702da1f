"""The age at the first MSC is read in one place (Patient.age_at_first_msc): from the first
administration, from the case, or from another record's age and its time from the first MSC. The
case page and the Summary Table show the same value."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from cases.forms import PatientForm
from cases.reports.summary import HEADERS, summary_table
from tests.factories import AssessmentFactory, MscAdministrationFactory, MscProductFactory, PatientFactory
from tests.test_constraints import post_data

AGE_AT_MSC = HEADERS.index("Age at MSC (years)")


def first_msc(patient, **timing):
    """The first administration, with no age unless one is given."""
    return MscAdministrationFactory(product=MscProductFactory(patient=patient), **({"age_years": None} | timing))


def summary_cell(patient):
    return summary_table([patient])[1][0][AGE_AT_MSC]


def test_the_first_administrations_age_comes_first(patient):
    first_msc(patient, age_years=Decimal("14.0"), days_from_first_msc=0)
    patient.age_at_first_msc_years = Decimal("15.0")
    patient.save()
    age = patient.age_at_first_msc
    assert age.years == Decimal("14.0") and age.source == "recorded on the first MSC administration"
    assert summary_cell(patient) == "14"


def test_the_age_stated_on_the_case_when_the_administration_has_none(patient):
    first_msc(patient, days_from_first_msc=0)
    AssessmentFactory(patient=patient, age_years=Decimal("16.0"), days_from_first_msc=730)
    patient.age_at_first_msc_years = Decimal("13.5")
    patient.save()
    assert patient.age_at_first_msc.years == Decimal("13.5")
    assert patient.age_at_first_msc.source == "stated on the case"
    assert summary_cell(patient) == "13.5"


def test_derived_from_an_assessments_age_and_its_time_from_the_first_msc(patient):
    first_msc(patient, days_from_first_msc=0)
    AssessmentFactory(
        patient=patient, timepoint="follow_up", age_years=Decimal("16.0"), days_from_first_msc=730, offset_unit="months"
    )
    age = patient.age_at_first_msc
    assert age.years == Decimal("14.0")
    assert age.source == "derived from the assessment 'Latest follow-up': age 16, month 24 after first MSC"
    assert summary_cell(patient) == "14"


def test_derived_from_an_assessments_age_and_date_against_the_first_administrations_date(patient):
    first_msc(patient, date=date(2020, 3, 1))
    AssessmentFactory(patient=patient, age_years=Decimal("11.0"), date=date(2019, 3, 1))  # 366 days before
    assert patient.age_at_first_msc.years == Decimal("12.0")
    assert summary_cell(patient) == "12"


def test_derived_from_a_later_administrations_age(patient):
    product = MscProductFactory(patient=patient)
    MscAdministrationFactory(product=product, sequence=1, age_years=None, days_from_first_msc=0)
    MscAdministrationFactory(product=product, sequence=2, age_years=Decimal("10.0"), days_from_first_msc=365)
    age = patient.age_at_first_msc
    assert age.years == Decimal("9.0")
    assert age.source.startswith("derived from MSC administration #2: age 10")


def test_the_record_nearest_the_first_msc_with_an_exact_time_is_used(patient):
    first_msc(patient, days_from_first_msc=0)
    AssessmentFactory(patient=patient, age_years=Decimal("20.0"), days_from_first_msc=3650)
    AssessmentFactory(patient=patient, age_years=Decimal("12.0"), days_from_first_msc=-30, timing_estimated=True)
    AssessmentFactory(patient=patient, age_years=Decimal("11.0"), days_from_first_msc=-365)
    assert patient.age_at_first_msc.years == Decimal("12.0")


def test_nothing_to_derive_it_from_leaves_it_blank_and_the_case_page_asks_for_it(client, clinician, case_a):
    administration = case_a.products.get().administrations.get()
    administration.age_years = None
    administration.save()
    for assessment in case_a.assessments.all():
        assessment.age_years = None
        assessment.save()
    assert case_a.age_at_first_msc is None
    assert summary_cell(case_a) == ""
    client.force_login(clinician)
    page = client.get(reverse("cases:patient-detail", args=[case_a.pk])).content.decode()
    assert "not recorded: give it on the case" in page


def test_the_case_page_shows_the_age_at_first_msc_and_where_it_comes_from(client, clinician, case_a):
    administration = case_a.products.get().administrations.get()
    administration.age_years, administration.days_from_first_msc = None, 0
    administration.save()
    AssessmentFactory(patient=case_a, timepoint="follow_up", age_years=Decimal("15.0"), days_from_first_msc=365)
    client.force_login(clinician)
    page = client.get(reverse("cases:patient-detail", args=[case_a.pk])).content.decode()
    assert "Age at first MSC" in page
    assert "14.0" in page
    assert "derived from the assessment &#x27;Latest follow-up&#x27;: age 15" in page


def test_the_case_form_asks_for_the_age_at_first_msc_and_keeps_it_in_range(centre):
    case = PatientFactory.build(centre=centre, age_at_first_msc_years=Decimal("9.5"))
    form = PatientForm(data=post_data(PatientForm, case), centre=centre)
    assert form.is_valid(), form.errors
    assert form.save().age_at_first_msc_years == Decimal("9.5")

    case = PatientFactory.build(centre=centre, study_id="SYN-AGE-31", age_at_first_msc_years=Decimal("31"))
    form = PatientForm(data=post_data(PatientForm, case), centre=centre)
    assert not form.is_valid()
    assert form.errors["age_at_first_msc_years"] == ["Age at first MSC must be between 0 and 30."]


def test_the_database_refuses_an_age_at_first_msc_out_of_range(centre):
    with pytest.raises(IntegrityError), transaction.atomic():
        PatientFactory(centre=centre, age_at_first_msc_years=Decimal("31"))
