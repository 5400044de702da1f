"""Existing countries converted to ISO codes and providers' names normalised, then a provider made
unique by normalised name and country.

Countries are converted by `registry.countries.stored_country_code`: a code in upper or lower
case is kept (upper-cased), an English name is looked up, XX (unknown) is kept, blank stays blank
where it is allowed. Anything else, such as "Pa" (maybe "Panama" cut to two letters), and providers
that are duplicates once names are normalised, stop the migration with the list of records to
correct first: no country is guessed. Each converted record gets a row in its audit history.
"""

from django.db import migrations, models
from django.utils import timezone

from registry.countries import NotACountry, stored_country_code

REASON = "Country converted to an ISO 3166 code"

#: (model, field, label for the error list, blank allowed)
COUNTRY_FIELDS = [
    ("MscProvider", "country", "MSC provider", False),
    ("MscProduct", "preparation_country", "MSC product", True),
    ("MscProduct", "administration_country", "MSC product", True),
    ("MscAdministration", "country", "MSC administration", True),
]


def converted(value, blank_allowed):
    """The ISO code (or XX, unknown) for a stored value, or raises NotACountry."""
    code = stored_country_code(value, allow_unknown=True)
    if not code and not blank_allowed:
        raise NotACountry("no country: choose one, or Unknown")
    return code


def record_change(apps, record, when):
    history = apps.get_model("cases", f"Historical{record.__class__.__name__}")
    values = {f.attname: getattr(record, f.attname) for f in record._meta.concrete_fields}
    history.objects.create(
        **values, history_date=when, history_type="~", history_change_reason=REASON, history_user=None
    )


def convert(apps, schema_editor):
    from cases.models.msc import normalised  # a pure function of the name

    problems, changed = [], {}
    for model_name, field, label, blank_allowed in COUNTRY_FIELDS:
        model = apps.get_model("cases", model_name)
        for pk, value in model.objects.values_list("pk", field).order_by("pk"):
            try:
                code = converted(value, blank_allowed)
            except NotACountry as error:
                problems.append(f"{label} {pk}, {field.replace('_', ' ')} '{value}': {error}")
                continue
            if code != value:
                changed.setdefault((model_name, pk), {})[field] = code

    provider_model = apps.get_model("cases", "MscProvider")
    seen = {}
    for provider in provider_model.objects.order_by("pk"):
        country = changed.get(("MscProvider", provider.pk), {}).get("country", provider.country)
        key = (normalised(provider.name), country)
        if key in seen:
            problems.append(
                f"MSC providers {seen[key].pk} ('{seen[key].name}') and {provider.pk} ('{provider.name}') are the "
                f"same provider in {country}: merge them (point the products at one, delete the other)"
            )
        seen.setdefault(key, provider)
        if provider.normalised_name != key[0]:
            changed.setdefault(("MscProvider", provider.pk), {})["normalised_name"] = key[0]

    if problems:
        raise RuntimeError(
            "These values cannot be converted without guessing. Correct them in the admin with the previous "
            "version of the registry, then migrate again:\n- " + "\n- ".join(problems)
        )

    when = timezone.now()
    for (model_name, pk), values in changed.items():
        model = apps.get_model("cases", model_name)
        model.objects.filter(pk=pk).update(**values)
        countries_changed = set(values) - {"normalised_name"}
        if countries_changed:
            record_change(apps, model.objects.get(pk=pk), when)


class Migration(migrations.Migration):
    dependencies = [("cases", "0011_provider_from_product_form_and_iso_countries")]

    operations = [
        migrations.RunPython(convert, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="mscprovider",
            constraint=models.UniqueConstraint(
                fields=("normalised_name", "country"),
                name="provider_unique_name_per_country",
                violation_error_message="A provider with this name already exists in this country.",
            ),
        ),
    ]
