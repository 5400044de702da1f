"""Seed the short vocabulary of how families paid for MSC (the paper: savings, a sold car,
a re-mortgaged home)."""

from django.db import migrations

FUNDING_SOURCES = [
    ("savings", "Savings"),
    ("sold_property_or_car", "Sold property or car"),
    ("remortgage", "Re-mortgaged home"),
    ("loan", "Loan"),
    ("crowdfunding", "Crowdfunding"),
    ("insurance", "Insurance"),
    ("out_of_pocket_unspecified", "Out of pocket, means not stated"),
]


def seed(apps, schema_editor):
    FundingSource = apps.get_model("cases", "FundingSource")
    for code, label in FUNDING_SOURCES:
        FundingSource.objects.update_or_create(code=code, defaults={"label": label})


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
