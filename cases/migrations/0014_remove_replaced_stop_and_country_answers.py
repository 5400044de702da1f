"""The answers the previous migration replaced leave the tables: "team knew of the stop" (now knew
before the stop / learned afterwards) and the product's country of administration (now on each
administration).

A migration of its own because PostgreSQL refuses to alter a table in the transaction that wrote
rows to it while their deferred checks are pending (the history rows the data migration adds).
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("cases", "0013_team_knowledge_of_stops_and_country_per_administration")]

    operations = [
        migrations.RemoveField(
            model_name="historicalmedicationcourse",
            name="team_knew_of_stop",
        ),
        migrations.RemoveField(
            model_name="historicalmscproduct",
            name="administration_country",
        ),
        migrations.RemoveField(
            model_name="medicationcourse",
            name="team_knew_of_stop",
        ),
        migrations.RemoveField(
            model_name="mscproduct",
            name="administration_country",
        ),
    ]
