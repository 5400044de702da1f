"""Every country is an ISO 3166-1 code chosen from a searchable select: a typed name can no longer be
cut to two letters and saved as another country; existing values are converted without guessing;
exports write the code and the name, imports read either."""

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django_countries.fields import CountryField

from cases.forms import MscAdministrationForm, MscProductForm, MscProviderForm
from cases.models import MscAdministration, MscProduct
from cases.spreadsheets import ExportOptions, import_file
from cases.spreadsheets.rows import iter_rows
from cases.spreadsheets.sheets import sheet_for
from registry.countries import NotACountry, country_code, stored_country_code
from tests.factories import MscProductFactory


def country_fields():
    return [
        (model, field)
        for app in ("cases", "registry")
        for model in apps.get_app_config(app).get_models()
        for field in model._meta.concrete_fields
        if "country" in field.name and not model.__name__.startswith("Historical")
    ]


def test_every_country_field_holds_an_iso_code():
    found = {f"{model.__name__}.{field.name}": isinstance(field, CountryField) for model, field in country_fields()}
    assert found == {
        "Centre.country": True,
        "MscProvider.country": True,
        "MscProduct.preparation_country": True,
        "MscAdministration.country": True,
    }


@pytest.mark.parametrize(
    ("form_class", "name"),
    [
        (MscProviderForm, "country"),
        (MscProductForm, "preparation_country"),
        (MscProductForm, "new_provider_country"),
        (MscAdministrationForm, "country"),
    ],
)
def test_country_is_chosen_from_a_searchable_select_of_names(form_class, name):
    html = str(form_class()[name])
    assert html.startswith("<select") and "data-searchable-select" in html
    assert '<option value="PA">Panama</option>' in html
    assert '<option value="XX">Unknown</option>' in html


def test_a_typed_name_is_refused_not_cut_to_another_country(case_a):
    product = case_a.products.get()
    data = {"product": product.pk, "sequence": "2", "route": "intravenous", "timing_precision": "unknown"}
    data |= {"paid_by": "unknown", "team_informed_before": "unknown", "abstracted_from": "synthetic"}
    form = MscAdministrationForm(data={**data, "country": "Panama"}, patient=case_a)
    assert not form.is_valid()
    assert form.errors["country"] == ["Select a valid choice. Panama is not one of the available choices."]
    form = MscAdministrationForm(data={**data, "country": "PA"}, patient=case_a)
    assert form.is_valid(), form.errors
    assert form.save().country.name == "Panama"


@pytest.mark.parametrize(
    ("typed", "code"),
    [("MX", "MX"), ("mx", "MX"), ("Mexico", "MX"), ("  panama ", "PA"), ("United States of America", "US"), ("", "")],
)
def test_a_country_is_read_from_its_code_or_its_english_name(typed, code):
    assert country_code(typed) == code


def test_unknown_is_a_country_only_where_allowed():
    assert country_code("xx", allow_unknown=True) == "XX"
    assert country_code("Unknown", allow_unknown=True) == "XX"
    with pytest.raises(NotACountry, match="'XX' is not a country"):
        country_code("XX")


@pytest.mark.parametrize("stored", ["Pa", "Me", "Ar"])
def test_a_stored_pair_that_may_be_a_cut_name_is_not_guessed(stored):
    with pytest.raises(NotACountry, match="may be a country name cut to two letters"):
        stored_country_code(stored)


def export_row(sheet_model, user, header):
    sheet = sheet_for(sheet_model)
    rows = iter_rows(sheet, ExportOptions(user=user), anchors={})
    headers = next(rows)
    return [dict(zip(headers, row, strict=True))[header] for row in rows]


def test_export_writes_the_code_and_the_name(case_a, registry_admin):
    MscProductFactory(patient=case_a, label="Synthetic adipose MSC", preparation_country="MX")
    codes = export_row(MscProduct, registry_admin, "Country of preparation")
    names = export_row(MscProduct, registry_admin, "Country of preparation (name)")
    assert ("MX", "Mexico") in zip(codes, names, strict=True)
    assert export_row(MscAdministration, registry_admin, "Country (name)") == ["Unknown"]


ADMINS = "Centre,Study ID,Number,Product,Route,Country,Country (name)\n"


@pytest.mark.parametrize(
    ("code", "name", "saved"),
    [("mx", "", "MX"), ("", "Mexico", "MX"), ("Mexico", "", "MX"), ("MX", "Mexico", "MX"), ("", "", "")],
)
def test_import_reads_the_code_or_the_name(case_a, registry_admin, code, name, saved):
    label = case_a.products.get().label
    csv = ADMINS + f"SYN-A,SYN-A-0001,1,{label},Intravenous,{code},{name}\n"
    report = import_file("admin.csv", csv.encode(), registry_admin, dry_run=False, sheet="MSC administrations")
    assert report.problems == []
    assert MscAdministration.objects.get(sequence=1).country == saved


@pytest.mark.parametrize(
    ("code", "name", "problem"),
    [
        ("Atlantis", "", "'Atlantis' is not a country: give its ISO 3166 code (e.g. MX) or its English name (Mexico)."),
        ("MX", "Panama", "The code 'MX' and the name 'Panama' are different countries."),
    ],
)
def test_import_refuses_what_is_not_a_country(case_a, registry_admin, code, name, problem):
    label = case_a.products.get().label
    csv = ADMINS + f"SYN-A,SYN-A-0001,1,{label},Intravenous,{code},{name}\n"
    report = import_file("admin.csv", csv.encode(), registry_admin, dry_run=False, sheet="MSC administrations")
    assert report.problems == [f"MSC administrations, row 2, Country: {problem}"]


# ---- Converting the values saved before -------------------------------------------------------------

#: The first migration of each conversion (schema, then values).
CONVERSIONS = [("cases", "0011_provider_from_product_form_and_iso_countries"), ("registry", "0005_centre_country_iso")]


@pytest.fixture
def before_conversion(transactional_db):
    """The database as it was before the conversions (their parent migrations); emptied and migrated
    forward again after the test."""
    executor = MigrationExecutor(connection)
    before = [
        parent
        for app, name in CONVERSIONS
        for parent in executor.loader.get_migration(app, name).dependencies
        if parent[0] == app
    ]
    executor.migrate(before)
    yield executor.loader.project_state(before).apps
    migrate_forward()  # the tables of later migrations must exist before flush empties every table
    call_command("flush", verbosity=0, interactive=False)


def old_records(old_apps, provider_country, administration_country, provider_names=("Synthetic clinic",)):
    centre = old_apps.get_model("registry", "Centre").objects.create(code="SYN-M", name="Synthetic", country="xx")
    patient = old_apps.get_model("cases", "Patient").objects.create(
        centre=centre, study_id="SYN-M-1", abstracted_from="synthetic"
    )
    providers = [
        old_apps.get_model("cases", "MscProvider").objects.create(name=name, country=provider_country)
        for name in provider_names
    ]
    product = old_apps.get_model("cases", "MscProduct").objects.create(
        patient=patient, label="p", provider=providers[0], preparation_country="us", administration_country="MX"
    )
    old_apps.get_model("cases", "MscAdministration").objects.create(
        product=product, sequence=1, route="intravenous", country=administration_country
    )


def migrate_forward():
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_conversion_keeps_codes_upper_cased_and_unknown(before_conversion):
    old_records(before_conversion, provider_country="xx", administration_country="")
    migrate_forward()
    product = MscProduct.objects.get()
    assert product.preparation_country == "US"
    assert product.provider.country == "XX" and product.provider.normalised_name == "synthetic clinic"
    assert product.patient.centre.country == "XX"
    administration = MscAdministration.objects.get()
    # The product's country of administration ("MX") now sits on its administration, which had none.
    assert administration.country == "MX"
    assert administration.history.get().history_change_reason == (
        "Country of administration moved from the MSC product to its administration"
    )
    assert product.history.get().history_change_reason == "Country converted to an ISO 3166 code"


@pytest.mark.django_db(transaction=True)
def test_conversion_stops_on_values_it_would_have_to_guess(before_conversion):
    old_records(
        before_conversion,
        provider_country="MX",
        administration_country="Pa",
        provider_names=("Synthetic Clínica", "synthetic clinica"),
    )
    with pytest.raises(RuntimeError) as refused:
        migrate_forward()
    message = str(refused.value)
    assert "MSC administration 1, country 'Pa': 'Pa' may be a country name cut to two letters" in message
    assert "('Synthetic Clínica') and 2 ('synthetic clinica') are the same provider in MX" in message
    # The administrator fixes the records (here: removes them) before migrating again.
    with connection.cursor() as cursor:
        for table in ("cases_mscadministration", "cases_mscproduct", "cases_mscprovider", "cases_patient"):
            cursor.execute(f"DELETE FROM {table}")
