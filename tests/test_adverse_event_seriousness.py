"""Existing adverse events get an explicit seriousness only where their criteria say so: never 'not serious'."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from cases.models import AdverseEvent

BEFORE_SERIOUSNESS = [("cases", "0018_serious_adverse_events_answer")]


@pytest.fixture
def before_seriousness(transactional_db):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE_SERIOUSNESS)
    yield executor.loader.project_state(BEFORE_SERIOUSNESS).apps
    call_command("flush", verbosity=0, interactive=False)
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_events_with_a_criterion_become_serious_and_the_others_stay_unanswered(before_seriousness):
    centre = before_seriousness.get_model("registry", "Centre").objects.create(
        code="SYN-S", name="Synthetic", country="XX"
    )
    patient = before_seriousness.get_model("cases", "Patient").objects.create(
        centre=centre, study_id="SYN-S-1", abstracted_from="synthetic"
    )
    old = before_seriousness.get_model("cases", "AdverseEvent")
    old.objects.create(patient=patient, description="hospitalised", category="infection", required_hospitalisation=True)
    old.objects.create(patient=patient, description="no criterion", category="infection")

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    answers = dict(AdverseEvent.objects.values_list("description", "seriousness"))
    assert answers == {"hospitalised": "serious", "no criterion": ""}
    assert AdverseEvent.objects.get(description="hospitalised").history.latest().history_change_reason
