"""Country fields become ISO 3166-1 selects (django-countries); MSC providers get a normalised
name and who created them. The values are converted, and the new uniqueness rule added, in 0012 (on
PostgreSQL, the schema changes and the history rows the conversion writes need separate transactions).
"""

import django.db.models.deletion
import django_countries.fields
from django.conf import settings
from django.db import migrations, models

import registry.countries


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0010_export_identifiable_permission"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="mscprovider", name="provider_unique_name_country"),
        migrations.AddField(
            model_name="historicalmscprovider",
            name="created_by",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="historicalmscprovider",
            name="normalised_name",
            field=models.CharField(
                default="",
                editable=False,
                help_text="The name as duplicates are compared (`normalised`).",
                max_length=200,
            ),
        ),
        migrations.AddField(
            model_name="mscprovider",
            name="created_by",
            field=models.ForeignKey(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="mscprovider",
            name="normalised_name",
            field=models.CharField(
                default="",
                editable=False,
                help_text="The name as duplicates are compared (`normalised`).",
                max_length=200,
            ),
        ),
        migrations.AlterField(
            model_name="historicalmscadministration",
            name="country",
            field=django_countries.fields.CountryField(
                blank=True,
                countries=registry.countries.CountriesOrUnknown,
                help_text="Where it was given; Unknown if not stated.",
                max_length=2,
                verbose_name="country",
            ),
        ),
        migrations.AlterField(
            model_name="historicalmscproduct",
            name="administration_country",
            field=django_countries.fields.CountryField(
                blank=True,
                countries=registry.countries.CountriesOrUnknown,
                help_text="Unknown if the source does not say.",
                max_length=2,
                verbose_name="country of administration",
            ),
        ),
        migrations.AlterField(
            model_name="historicalmscproduct",
            name="preparation_country",
            field=django_countries.fields.CountryField(
                blank=True,
                countries=registry.countries.CountriesOrUnknown,
                help_text="Unknown if the source does not say.",
                max_length=2,
                verbose_name="country of preparation",
            ),
        ),
        migrations.AlterField(
            model_name="historicalmscprovider",
            name="country",
            field=django_countries.fields.CountryField(
                countries=registry.countries.CountriesOrUnknown,
                help_text="Where it is based; Unknown if not stated.",
                max_length=2,
            ),
        ),
        migrations.AlterField(
            model_name="mscadministration",
            name="country",
            field=django_countries.fields.CountryField(
                blank=True,
                countries=registry.countries.CountriesOrUnknown,
                help_text="Where it was given; Unknown if not stated.",
                max_length=2,
                verbose_name="country",
            ),
        ),
        migrations.AlterField(
            model_name="mscproduct",
            name="administration_country",
            field=django_countries.fields.CountryField(
                blank=True,
                countries=registry.countries.CountriesOrUnknown,
                help_text="Unknown if the source does not say.",
                max_length=2,
                verbose_name="country of administration",
            ),
        ),
        migrations.AlterField(
            model_name="mscproduct",
            name="preparation_country",
            field=django_countries.fields.CountryField(
                blank=True,
                countries=registry.countries.CountriesOrUnknown,
                help_text="Unknown if the source does not say.",
                max_length=2,
                verbose_name="country of preparation",
            ),
        ),
        migrations.AlterField(
            model_name="mscprovider",
            name="country",
            field=django_countries.fields.CountryField(
                countries=registry.countries.CountriesOrUnknown,
                help_text="Where it is based; Unknown if not stated.",
                max_length=2,
            ),
        ),
    ]
