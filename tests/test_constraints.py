"""Every range and invariant of the clinical models is refused twice: by the form, with a message
next to the right field, and by the database, even when full_clean() is bypassed."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.forms.models import model_to_dict

from cases.forms import (
    AdverseEventForm,
    AssessmentForm,
    MedicationCourseForm,
    MscAdministrationForm,
    MscProductForm,
    MscProviderForm,
    PatientForm,
    PreviousDiagnosisForm,
)
from cases.models import MscAdministration, dose_per_kg
from tests.factories import (
    AdverseEventFactory,
    AssessmentFactory,
    CentreFactory,
    MedicationCourseFactory,
    MscAdministrationFactory,
    MscProductFactory,
    MscProviderFactory,
    PatientFactory,
    PreviousDiagnosisFactory,
    UserFactory,
)

FORMS = {
    "patient": PatientForm,
    "previous_diagnosis": PreviousDiagnosisForm,
    "medication": MedicationCourseForm,
    "product": MscProductForm,
    "administration": MscAdministrationForm,
    "adverse_event": AdverseEventForm,
    "assessment": AssessmentForm,
}


def build(kind, patient, **values):
    """An unsaved record of `kind` for `patient`, valid apart from `values`."""
    if kind == "patient":
        return PatientFactory.build(centre=patient.centre, **values)
    if kind == "product":
        return MscProductFactory.build(patient=patient, provider=MscProviderFactory(), **values)
    if kind == "administration":
        return MscAdministrationFactory.build(product=MscProductFactory(patient=patient), **values)
    factory = {
        "previous_diagnosis": PreviousDiagnosisFactory,
        "medication": MedicationCourseFactory,
        "adverse_event": AdverseEventFactory,
        "assessment": AssessmentFactory,
    }[kind]
    return factory.build(patient=patient, **values)


def post_data(form_class, instance):
    """What a browser would post for `instance` in `form_class`."""
    data = {}
    for name, value in model_to_dict(instance, fields=form_class._meta.fields).items():
        if name == "version":  # the signed revision number of the hidden field
            data[name] = form_class.base_fields["version"].prepare_value(value).value
        elif value is None or value is False:
            continue  # an empty input, an unticked box
        elif value is True:
            data[name] = "on"
        elif isinstance(value, list):
            data[name] = [obj.pk for obj in value]
        else:
            data[name] = str(value)
    return data


def make_form(kind, patient, **values):
    instance = build(kind, patient, **values)
    form_class = FORMS[kind]
    context = {"centre": patient.centre} if kind == "patient" else {"patient": patient}
    return form_class(data=post_data(form_class, instance), **context)


def assert_saves(instance):
    instance.save()
    assert instance.pk is not None


def assert_refused_by_database(instance):
    with pytest.raises(IntegrityError), transaction.atomic():
        instance.save()


# (kind, invalid values, field the error belongs to, words of the message)
INVALID = [
    # Assessment scores and laboratory values
    ("assessment", {"patient_global": Decimal("11")}, "patient_global", "between 0 and 10"),
    ("assessment", {"patient_global": Decimal("-1")}, "patient_global", "between 0 and 10"),
    ("assessment", {"physician_global": Decimal("10.1")}, "physician_global", "between 0 and 10"),
    ("assessment", {"physician_global": Decimal("-0.5")}, "physician_global", "between 0 and 10"),
    ("assessment", {"sledai2k": 106}, "sledai2k", "between 0 and 105"),
    ("assessment", {"sledai2k": -1}, "sledai2k", "between 0 and 105"),
    ("assessment", {"jadas": Decimal("101.5"), "jadas_variant": "jadas71"}, "jadas", "between 0 and 101"),
    ("assessment", {"jadas": Decimal("-1"), "jadas_variant": "jadas71"}, "jadas", "between 0 and 101"),
    ("assessment", {"mrss": Decimal("52")}, "mrss", "between 0 and 51"),
    ("assessment", {"mrss": Decimal("-1")}, "mrss", "between 0 and 51"),
    ("assessment", {"esr_mm_per_h": 201}, "esr_mm_per_h", "between 0 and 200"),
    ("assessment", {"esr_mm_per_h": -1}, "esr_mm_per_h", "between 0 and 200"),
    ("assessment", {"crp_mg_per_l": Decimal("1000.1")}, "crp_mg_per_l", "between 0 and 1000"),
    ("assessment", {"crp_mg_per_l": Decimal("-0.1")}, "crp_mg_per_l", "between 0 and 1000"),
    ("assessment", {"bmi": Decimal("4.9")}, "bmi", "between 5 and 80"),
    ("assessment", {"bmi": Decimal("80.1")}, "bmi", "between 5 and 80"),
    ("assessment", {"dlco_percent_predicted": Decimal("200.1")}, "dlco_percent_predicted", "between 0 and 200"),
    ("assessment", {"dlco_percent_predicted": Decimal("-1")}, "dlco_percent_predicted", "between 0 and 200"),
    ("assessment", {"ana_titre": 160, "ana_titre_upper": 80}, "ana_titre_upper", "at least the lower"),
    ("assessment", {"ana_titre_upper": 80}, "ana_titre_upper", "at least the lower"),
    # Adverse events
    ("adverse_event", {"ctcae_grade": 0}, "ctcae_grade", "between 1 and 5"),
    ("adverse_event", {"ctcae_grade": 6}, "ctcae_grade", "between 1 and 5"),
    ("adverse_event", {"ctcae_grade": 5}, "ctcae_grade", "Grade 5 means death"),
    ("adverse_event", {"ctcae_grade": 5, "outcome": "fatal"}, "ctcae_grade", "Grade 5 means death"),
    ("adverse_event", {"ctcae_grade": 5, "resulted_in_death": True}, "ctcae_grade", "Grade 5 means death"),
    ("adverse_event", {"ctcae_grade": 3, "resulted_in_death": True}, "outcome", "must have the outcome 'fatal'"),
    ("adverse_event", {"seriousness": "serious"}, "seriousness", "names its ICH E2A criteria"),
    ("adverse_event", {"seriousness": "not_serious", "life_threatening": True}, "seriousness", "answer 'Serious'"),
    ("adverse_event", {"seriousness": "unknown", "medically_important": True}, "seriousness", "answer 'Serious'"),
    # MSC products
    ("product", {"viability_percent": Decimal("100.01")}, "viability_percent", "between 0 and 100"),
    ("product", {"viability_percent": Decimal("-1")}, "viability_percent", "between 0 and 100"),
    ("product", {"passage_number": 51}, "passage_number", "between 0 and 50"),
    ("product", {"passage_number": -1}, "passage_number", "between 0 and 50"),
    # MSC administrations
    ("administration", {"cells_millions": Decimal("0")}, "cells_millions", "greater than 0"),
    ("administration", {"cells_millions": Decimal("-5")}, "cells_millions", "greater than 0"),
    ("administration", {"weight_kg": Decimal("0.5")}, "weight_kg", "between 1 and 250"),
    ("administration", {"weight_kg": Decimal("0")}, "weight_kg", "between 1 and 250"),
    ("administration", {"weight_kg": Decimal("250.01")}, "weight_kg", "between 1 and 250"),
    ("administration", {"reported_dose_millions_per_kg": Decimal("0")}, "reported_dose_millions_per_kg", "than 0"),
    ("administration", {"reported_dose_millions_per_kg": Decimal("-1")}, "reported_dose_millions_per_kg", "than 0"),
    ("administration", {"cost_amount": Decimal("-1"), "cost_currency": "USD"}, "cost_amount", "cannot be negative"),
    ("administration", {"cost_amount": Decimal("5000")}, "cost_currency", "currency"),
    ("administration", {"volume_ml": Decimal("0")}, "volume_ml", "greater than 0"),
    ("administration", {"volume_ml": Decimal("-2")}, "volume_ml", "greater than 0"),
    # Medication courses
    ("medication", {"start_date": "2019-05-01", "stop_date": "2019-04-30"}, "stop_date", "before the start date"),
    (
        "medication",
        {"start_age_years": Decimal("12"), "stop_age_years": Decimal("11.9")},
        "stop_age_years",
        "start age",
    ),
    (
        "medication",
        {"start_days_from_first_msc": -30, "stop_days_from_first_msc": -31},
        "stop_days_from_first_msc",
        "before the start day",
    ),
    ("medication", {"is_ongoing": True, "stop_age_years": Decimal("13")}, "is_ongoing", "ongoing course cannot"),
    ("medication", {"is_ongoing": True, "stop_date": "2020-01-01"}, "is_ongoing", "ongoing course cannot"),
    ("medication", {"is_ongoing": True, "stop_days_from_first_msc": 10}, "is_ongoing", "ongoing course cannot"),
    ("medication", {"is_ongoing": True, "reason_stopped": "inefficacy"}, "is_ongoing", "ongoing course cannot"),
    ("medication", {"dose": Decimal("0"), "dose_unit": "mg"}, "dose", "greater than 0"),
    ("medication", {"dose": Decimal("-10"), "dose_unit": "mg"}, "dose", "greater than 0"),
    # The case
    (
        "patient",
        {"age_at_onset_years": Decimal("21.1"), "age_at_diagnosis_years": None},
        "age_at_onset_years",
        "0 and 21",
    ),
    ("patient", {"age_at_onset_years": Decimal("-1")}, "age_at_onset_years", "between 0 and 21"),
    (
        "patient",
        {"age_at_onset_years": Decimal("10"), "age_at_diagnosis_years": Decimal("9.9")},
        "age_at_diagnosis_years",
        "before age at onset",
    ),  # noqa: E501
    ("patient", {"age_at_diagnosis_years": Decimal("30.1")}, "age_at_diagnosis_years", "between 0 and 30"),
    ("patient", {"age_at_last_follow_up_years": Decimal("31")}, "age_at_last_follow_up_years", "between 0 and 30"),
    ("patient", {"diagnosis": "sle", "jia_category": "systemic"}, "jia_category", "only applies to a diagnosis of JIA"),
    (
        "patient",
        {"total_cost_amount": Decimal("-1"), "total_cost_currency": "USD"},
        "total_cost_amount",
        "cannot be negative",
    ),
    ("patient", {"total_cost_amount": Decimal("10"), "total_cost_currency": ""}, "total_cost_currency", "currency"),
    ("patient", {"ana_titre": 200000}, "ana_titre", "between 1 and 100000"),
    ("assessment", {"ck_u_per_l": 600000}, "ck_u_per_l", "between 0 and 500000"),
    ("assessment", {"days_from_first_msc": 40000}, "days_from_first_msc", "between -36525 and 36525"),
    ("patient", {"ana_titre": 0}, "ana_titre", "ANA titre must be between 1"),
    # Timings: ages 0-30 on every kind of timed record
    ("previous_diagnosis", {"age_years": Decimal("30.1")}, "age_years", "between 0 and 30"),
    ("previous_diagnosis", {"age_years": Decimal("-1")}, "age_years", "between 0 and 30"),
    ("administration", {"age_years": Decimal("31")}, "age_years", "between 0 and 30"),
    ("administration", {"age_years": Decimal("-1")}, "age_years", "between 0 and 30"),
    ("medication", {"start_age_years": Decimal("31")}, "start_age_years", "between 0 and 30"),
    ("medication", {"start_age_years": None, "stop_age_years": Decimal("-1")}, "stop_age_years", "between 0 and 30"),
    ("adverse_event", {"onset_age_years": Decimal("31")}, "onset_age_years", "between 0 and 30"),
    ("adverse_event", {"onset_age_years": Decimal("-1")}, "onset_age_years", "between 0 and 30"),
    ("assessment", {"age_years": Decimal("30.5")}, "age_years", "between 0 and 30"),
    ("assessment", {"age_years": Decimal("-0.1")}, "age_years", "between 0 and 30"),
]

# Values at the edges of each range, which must be accepted by both.
VALID = [
    ("assessment", {"patient_global": Decimal("0"), "physician_global": Decimal("10")}),
    ("assessment", {"patient_global": Decimal("10"), "physician_global": Decimal("0")}),
    ("assessment", {"sledai2k": 0, "mrss": Decimal("0"), "esr_mm_per_h": 0, "crp_mg_per_l": Decimal("0")}),
    ("assessment", {"sledai2k": 105, "mrss": Decimal("51"), "esr_mm_per_h": 200, "crp_mg_per_l": Decimal("1000")}),
    ("assessment", {"jadas": Decimal("0"), "jadas_variant": "jadas10"}),
    ("assessment", {"jadas": Decimal("101"), "jadas_variant": "jadas71"}),
    ("assessment", {"bmi": Decimal("5"), "dlco_percent_predicted": Decimal("0")}),
    ("assessment", {"bmi": Decimal("80"), "dlco_percent_predicted": Decimal("200")}),
    ("assessment", {"ana_titre": 160, "ana_titre_upper": 160}),
    ("assessment", {"ana_titre": 80, "ana_titre_upper": 160}),
    ("assessment", {"age_years": Decimal("0")}),
    ("assessment", {"age_years": Decimal("30")}),
    ("adverse_event", {"ctcae_grade": 1}),
    ("adverse_event", {"ctcae_grade": 4, "outcome": "recovered"}),
    ("adverse_event", {"ctcae_grade": 5, "outcome": "fatal", "resulted_in_death": True}),
    ("adverse_event", {"ctcae_grade": None, "outcome": "fatal", "resulted_in_death": True}),
    ("adverse_event", {"onset_age_years": Decimal("0"), "duration_days": 0}),
    ("adverse_event", {"seriousness": "unknown", "expectedness": "unknown", "attribution_to_withdrawal": "possible"}),
    ("product", {"viability_percent": Decimal("0"), "passage_number": 0}),
    ("product", {"viability_percent": Decimal("100"), "passage_number": 50}),
    ("administration", {"weight_kg": Decimal("1"), "cells_millions": Decimal("0.01")}),
    ("administration", {"weight_kg": Decimal("250"), "volume_ml": Decimal("0.01")}),
    ("administration", {"reported_dose_millions_per_kg": Decimal("0.001")}),
    ("administration", {"cost_amount": Decimal("0"), "cost_currency": "USD"}),
    ("administration", {"age_years": Decimal("30")}),
    ("medication", {"start_date": "2019-05-01", "stop_date": "2019-05-01", "reason_stopped": "inefficacy"}),
    ("medication", {"start_age_years": Decimal("12"), "stop_age_years": Decimal("12")}),
    ("medication", {"start_days_from_first_msc": -30, "stop_days_from_first_msc": -30}),
    ("medication", {"is_ongoing": True, "dose": Decimal("0.001"), "dose_unit": "mg"}),
    ("medication", {"start_age_years": Decimal("0"), "stop_age_years": Decimal("30")}),
    ("patient", {"age_at_onset_years": Decimal("0"), "age_at_diagnosis_years": Decimal("0")}),
    ("patient", {"age_at_onset_years": Decimal("21"), "age_at_diagnosis_years": Decimal("30")}),
    ("patient", {"diagnosis": "jia", "jia_category": "systemic"}),
    ("patient", {"total_cost_amount": Decimal("0"), "total_cost_currency": "USD"}),
    ("previous_diagnosis", {"age_years": Decimal("0")}),
    ("previous_diagnosis", {"age_years": Decimal("30")}),
]


def case_id(case):
    kind, values = case[0], case[1]
    return f"{kind}-" + ",".join(f"{k}={v}" for k, v in values.items())


@pytest.mark.parametrize(("kind", "values", "field", "message"), INVALID, ids=[case_id(c) for c in INVALID])
def test_form_refuses_with_message_on_the_field(patient, kind, values, field, message):
    form = make_form(kind, patient, **values)
    assert not form.is_valid()
    assert field in form.errors, form.errors
    assert any(message in error for error in form.errors[field]), form.errors[field]


@pytest.mark.parametrize(("kind", "values", "field", "message"), INVALID, ids=[case_id(c) for c in INVALID])
def test_database_refuses_without_full_clean(patient, kind, values, field, message):
    assert_refused_by_database(build(kind, patient, **values))


@pytest.mark.parametrize(("kind", "values"), VALID, ids=[case_id(c) for c in VALID])
def test_boundary_values_are_accepted_by_form_and_database(patient, kind, values):
    form = make_form(kind, patient, **values)
    assert form.is_valid(), form.errors
    assert_saves(form.save())
    assert_saves(build(kind, patient, **values))


# ---- Study ID -----------------------------------------------------------------------------------


def test_form_refuses_study_id_used_in_the_same_centre(patient):
    form = PatientForm(
        data=post_data(PatientForm, PatientFactory.build(study_id=patient.study_id)), centre=patient.centre
    )
    assert not form.is_valid()
    assert form.errors["study_id"] == ["This study ID is already used in this centre."]


def test_form_accepts_study_id_used_in_another_centre(patient):
    other = CentreFactory(code="SYN-OTHER")
    form = PatientForm(data=post_data(PatientForm, PatientFactory.build(study_id=patient.study_id)), centre=other)
    assert form.is_valid(), form.errors
    assert form.save().centre == other


def test_form_accepts_a_case_keeping_its_own_study_id(patient):
    form = PatientForm(data=post_data(PatientForm, patient), instance=patient)
    assert form.is_valid(), form.errors


def test_form_offers_only_the_users_centres_and_checks_the_study_id_in_the_chosen_one(patient):
    other = CentreFactory(code="SYN-OTHER")
    clinician = UserFactory(centres=[patient.centre])
    form = PatientForm(user=clinician)
    assert list(form.fields["centre"].queryset) == [patient.centre]
    assert form.fields["centre"].initial == patient.centre

    data = post_data(PatientForm, PatientFactory.build(study_id=patient.study_id))
    form = PatientForm(data={**data, "centre": patient.centre.pk}, user=clinician)
    assert form.errors["study_id"] == ["This study ID is already used in this centre."]
    form = PatientForm(data={**data, "centre": other.pk}, user=clinician)
    assert "centre" in form.errors


def test_form_refuses_empty_study_id(patient):
    form = PatientForm(data={**post_data(PatientForm, PatientFactory.build()), "study_id": "  "}, centre=patient.centre)
    assert not form.is_valid()
    assert form.errors["study_id"] == ["This field is required."]


def test_database_refuses_study_id_used_in_the_same_centre(patient):
    assert_refused_by_database(PatientFactory.build(centre=patient.centre, study_id=patient.study_id))


def test_database_refuses_empty_study_id(centre):
    assert_refused_by_database(PatientFactory.build(centre=centre, study_id=""))


# ---- Choices limited to the case ----------------------------------------------------------------


def test_administration_form_offers_only_this_cases_products(patient):
    own = MscProductFactory(patient=patient)
    MscProductFactory(patient=PatientFactory(centre=patient.centre))
    form = MscAdministrationForm(patient=patient)
    assert list(form.fields["product"].queryset) == [own]


def test_adverse_event_form_offers_only_this_cases_records(patient):
    own_administration = MscAdministrationFactory(product__patient=patient)
    own_course = MedicationCourseFactory(patient=patient)
    other = PatientFactory(centre=patient.centre)
    other_administration = MscAdministrationFactory(product__patient=other)
    MedicationCourseFactory(patient=other)
    form = AdverseEventForm(patient=patient)
    assert list(form.fields["administration"].queryset) == [own_administration]
    assert list(form.fields["preceding_withdrawals"].queryset) == [own_course]

    data = {**post_data(AdverseEventForm, AdverseEventFactory.build()), "administration": other_administration.pk}
    form = AdverseEventForm(data=data, patient=patient)
    assert not form.is_valid()
    assert "administration" in form.errors


def test_adverse_event_form_links_own_administration_and_withdrawals(patient):
    administration = MscAdministrationFactory(product__patient=patient)
    course = MedicationCourseFactory(patient=patient, reason_stopped="msc_provider_instruction")
    data = post_data(AdverseEventForm, AdverseEventFactory.build(category="disease_flare"))
    form = AdverseEventForm(
        data={**data, "administration": administration.pk, "preceding_withdrawals": [course.pk]}, patient=patient
    )
    assert form.is_valid(), form.errors
    event = form.save()
    assert event.patient == patient
    assert list(event.preceding_withdrawals.all()) == [course]


@pytest.mark.parametrize("form_class", [*FORMS.values(), MscProviderForm], ids=lambda f: f.__name__)
def test_layout_shows_every_field_and_leaves_the_form_tag_to_the_template(form_class):
    form = form_class()
    assert form.helper.form_tag is False
    shown = {pointer.name for pointer in form.helper.layout.get_field_names()}
    # The version is rendered as a hidden input (helper.render_hidden_fields), outside the layout.
    assert shown == set(form.fields) - {"version"}
    assert form.helper.render_hidden_fields and 'type="hidden" name="version"' in str(form["version"])


@pytest.mark.parametrize("form_class", [*FORMS.values()], ids=lambda f: f.__name__)
def test_dates_use_the_browsers_date_picker(form_class):
    form = form_class()
    for name, field in form.fields.items():
        if name.endswith("date"):
            assert 'type="date"' in str(form[name]), name
            assert field.widget.format == "%Y-%m-%d"


# ---- Dose per kg --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cells", "weight", "dose"),
    [
        (Decimal("100"), Decimal("50"), Decimal("2.000")),
        (Decimal("1"), Decimal("3"), Decimal("0.333")),
        (Decimal("2"), Decimal("3"), Decimal("0.667")),
        (Decimal("0.0125"), Decimal("10"), Decimal("0.001")),  # 0.00125 rounds half up
        (None, Decimal("50"), None),
        (Decimal("100"), None, None),
        (Decimal("100"), Decimal("0"), None),
    ],
)
def test_dose_per_kg(cells, weight, dose):
    assert dose_per_kg(cells, weight) == dose


def test_computed_dose_uses_cells_and_weight():
    administration = MscAdministration(cells_millions=Decimal("100"), weight_kg=Decimal("40"))
    assert administration.computed_dose_millions_per_kg == Decimal("2.500")
    assert administration.dose_millions_per_kg == Decimal("2.500")


def test_computed_dose_wins_over_the_reported_one():
    administration = MscAdministration(
        cells_millions=Decimal("100"), weight_kg=Decimal("40"), reported_dose_millions_per_kg=Decimal("3")
    )
    assert administration.dose_millions_per_kg == Decimal("2.500")


@pytest.mark.parametrize("missing", ["cells_millions", "weight_kg"])
def test_dose_falls_back_to_the_reported_dose(missing):
    values = {"cells_millions": Decimal("100"), "weight_kg": Decimal("40"), missing: None}
    administration = MscAdministration(reported_dose_millions_per_kg=Decimal("1.5"), **values)
    assert administration.computed_dose_millions_per_kg is None
    assert administration.dose_millions_per_kg == Decimal("1.5")


def test_dose_is_none_when_nothing_is_known():
    assert MscAdministration().dose_millions_per_kg is None


@pytest.mark.parametrize(
    ("cells", "reported", "disagrees"),
    [
        (Decimal("100"), Decimal("2"), False),  # computed 2.000, equal
        (Decimal("110"), Decimal("2"), False),  # computed 2.200, exactly 10 % above
        (Decimal("90"), Decimal("2"), False),  # computed 1.800, exactly 10 % below
        (Decimal("110.1"), Decimal("2"), True),  # computed 2.202, over 10 % above
        (Decimal("89.9"), Decimal("2"), True),  # computed 1.798, over 10 % below
        (Decimal("100"), None, False),  # nothing to disagree with
        (None, Decimal("2"), False),
    ],
)
def test_dose_disagrees_beyond_ten_percent(cells, reported, disagrees):
    administration = MscAdministration(
        cells_millions=cells, weight_kg=Decimal("50"), reported_dose_millions_per_kg=reported
    )
    assert administration.dose_disagrees is disagrees


def test_administration_form_saves_and_the_model_computes_the_dose(patient):
    product = MscProductFactory(patient=patient)
    data = post_data(MscAdministrationForm, MscAdministrationFactory.build(product=product))
    data.update(cells_millions="120", weight_kg="40", reported_dose_millions_per_kg="2")
    form = MscAdministrationForm(data=data, patient=patient)
    assert form.is_valid(), form.errors
    administration = form.save()
    assert administration.dose_millions_per_kg == Decimal("3.000")
    assert administration.dose_disagrees is True


def test_a_new_adverse_event_must_answer_its_seriousness(patient):
    form = make_form("adverse_event", patient, seriousness="")
    assert not form.is_valid()
    assert "seriousness" in form.errors
