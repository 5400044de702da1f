"""Load the Wong et al. 2021 case series (fixtures/wong2021_case_series.json), once.

`make run` calls this on every start. It loads the fixture only while centre WONG2021 holds no cases,
so edits made through the site are never overwritten by a second run. The centre alone may already
exist (create_demo_users creates it for its accounts); its members are kept, as the fixture carries
none.
"""

import json
from collections import defaultdict
from pathlib import Path

from concurrency.api import disable_concurrency
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings

from cases.audit import history_writing_bulk
from cases.kinds import CASE_MODELS
from cases.models import (
    AdverseEvent,
    Assessment,
    ChecklistStatement,
    DiscrepancyAcknowledgement,
    FollowUpStatus,
    MedicationCourse,
    MscAdministration,
    MscProvider,
    Patient,
    PreviousDiagnosis,
)
from cases.quality.statements import current_signature
from registry.models import Centre

CENTRE_CODE = "WONG2021"
FIXTURE = Path(settings.BASE_DIR) / "fixtures" / "wong2021_case_series.json"


def fixture_primary_keys(path):
    """{model: {pk, ...}} for the fixture's records that carry an explicit integer pk."""
    keys = defaultdict(set)
    for record in json.loads(Path(path).read_text(encoding="utf-8")):
        if "pk" in record:
            keys[apps.get_model(record["model"])].add(record["pk"])
    return keys


def taken_primary_keys(path):
    """The fixture's explicit pks already used by other rows: loading would overwrite those rows."""
    clashes = {}
    for model, pks in fixture_primary_keys(path).items():
        taken = sorted(model._base_manager.filter(pk__in=pks).values_list("pk", flat=True))
        if taken:
            clashes[model._meta.label] = taken
    return clashes


#: What the loaded series' history starts with: the case, its records and what was stated about them.
AUDITED = (*CASE_MODELS, ChecklistStatement, DiscrepancyAcknowledgement)


def record_initial_history(centre):
    for model in AUDITED:
        records = list(model.objects.filter(**{model.objects.get_queryset().centre_path: centre}))
        model.history.bulk_history_create(
            records, default_change_reason="Loaded from the published series (fixtures/wong2021_case_series.json)."
        )
    providers = MscProvider.objects.filter(products__patient__centre=centre).distinct()
    MscProvider.history.bulk_history_create(list(providers), default_change_reason="Loaded from the published series.")


def cover_loaded_statements(centre):
    """The fixture's statements answer for the records loaded with them (loaddata skips the
    statement's own save, which records what it covers). Their history is written next, with it."""
    statements = list(ChecklistStatement.objects.filter(patient__centre=centre, covers=""))
    for statement in statements:
        statement.covers = current_signature(statement.patient_id, statement.item)
    with history_writing_bulk():
        ChecklistStatement.objects.bulk_update(statements, ["covers"])


class Command(BaseCommand):
    help = "Load the published Wong 2021 case series (centre WONG2021) unless its cases are already loaded."

    def add_arguments(self, parser):
        parser.add_argument("--fixture", default=str(FIXTURE), help="Path of the fixture (default: %(default)s).")

    def handle(self, *args, fixture, **options):
        patients = Patient.objects.filter(centre__code=CENTRE_CODE)
        if patients.exists():
            self.stdout.write(
                f"Published series already loaded: centre {CENTRE_CODE} holds {patients.count()} case(s). "
                "Nothing changed."
            )
            return
        if not Path(fixture).is_file():
            raise CommandError(f"Fixture not found: {fixture}")
        clashes = taken_primary_keys(fixture)
        if clashes:
            detail = "; ".join(f"{label} pk {', '.join(map(str, pks))}" for label, pks in clashes.items())
            raise CommandError(
                f"Not loading the published series: its records would overwrite existing rows ({detail}). "
                "Load it into a fresh database."
            )
        # Optimistic locking is switched off explicitly for the load (django-concurrency would
        # otherwise compare the fixture's revision with the row's), and loaddata's raw saves write
        # no history, so the audit trail gets one "created" row per record, with the reason.
        with transaction.atomic(), disable_concurrency():
            # m2m links would each write a bare "changed" row while loading; one "created" row per
            # record, written afterwards, tells the story.
            with override_settings(SIMPLE_HISTORY_ENABLED=False):
                call_command("loaddata", fixture, verbosity=0)
            centre = Centre.objects.get(code=CENTRE_CODE)
            cover_loaded_statements(centre)
            record_initial_history(centre)
        counts = {
            "cases": Patient.objects.filter(centre=centre).count(),
            "previous diagnoses": PreviousDiagnosis.objects.filter(patient__centre=centre).count(),
            "medication courses": MedicationCourse.objects.filter(patient__centre=centre).count(),
            "MSC administrations": MscAdministration.objects.filter(product__patient__centre=centre).count(),
            "adverse events": AdverseEvent.objects.filter(patient__centre=centre).count(),
            "assessments": Assessment.objects.filter(patient__centre=centre).count(),
            "vital statuses": FollowUpStatus.objects.filter(patient__centre=centre).count(),
        }
        summary = ", ".join(f"{n} {what}" for what, n in counts.items())
        self.stdout.write(self.style.SUCCESS(f"Loaded the published series into centre {centre}: {summary}."))
