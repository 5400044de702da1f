"""Seed the short vocabulary of how families paid for MSC (the paper: savings, a sold car,
a re-mortgaged home)."""

from django.db import migrations

from cases.models.patient import seed_funding_sources


def seed(apps, schema_editor):
    seed_funding_sources(apps)


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
