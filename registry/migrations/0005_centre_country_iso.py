"""A centre's country becomes an ISO 3166-1 select (django-countries).

Existing values are converted as in cases' migration 0011 (`registry.countries.stored_country_code`):
a code in any single case is kept upper-cased, an English name is looked up, XX (unknown) is kept.
Anything else stops the migration with the list of centres to correct first: no country is guessed.
"""

import django_countries.fields
from django.db import migrations

import registry.countries
from registry.countries import NotACountry, stored_country_code


def convert(apps, schema_editor):
    centre_model = apps.get_model("registry", "Centre")
    problems = []
    for centre in centre_model.objects.order_by("pk"):
        try:
            code = stored_country_code(centre.country, allow_unknown=True) or None
        except NotACountry as error:
            code, reason = None, str(error)
        else:
            reason = "no country: choose one"
        if code is None:
            problems.append(f"centre {centre.code}, country '{centre.country}': {reason}")
        elif code != centre.country:
            centre_model.objects.filter(pk=centre.pk).update(country=code)
    if problems:
        raise RuntimeError(
            "These countries cannot be converted without guessing. Correct them in the admin with the previous "
            "version of the registry, then migrate again:\n- " + "\n- ".join(problems)
        )


class Migration(migrations.Migration):
    dependencies = [("registry", "0004_account_history")]

    operations = [
        migrations.RunPython(convert, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="centre",
            name="country",
            field=django_countries.fields.CountryField(
                countries=registry.countries.CountriesOrUnknown,
                help_text="Unknown only for a synthetic centre.",
                max_length=2,
            ),
        ),
    ]
